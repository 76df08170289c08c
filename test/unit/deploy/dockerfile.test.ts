// The container image's key properties, read from the Dockerfile (no Docker engine in CI).
import { readFile } from 'node:fs/promises';
import { expect } from 'chai';

const dockerfile = await readFile(new URL('../../../Dockerfile', import.meta.url), 'utf8');
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));
const stages = instructions.reduce<string[][]>((all, line) => (line.startsWith('FROM ') ? [...all, [line]] : (all.at(-1)?.push(line), all)), []);
const final = stages.at(-1)!;

describe('Dockerfile', () => {
  it('builds on Node.js 24 in every stage', () => {
    expect(stages.length).to.be.at.least(2);
    for (const stage of stages) expect(stage[0]).to.match(/^FROM node:24[.-]/);
  });

  it('compiles in a build stage and copies only dist/ into the final one', () => {
    expect(stages[0]!.some((line) => /^RUN npm ci\b/.test(line))).to.equal(true);
    expect(stages[0]!.some((line) => /^RUN npm run build\b/.test(line))).to.equal(true);
    expect(final.filter((line) => line.startsWith('COPY --from='))).to.deep.equal(['COPY --from=build /app/dist ./dist']);
  });

  it('installs production dependencies only, without running package scripts, in the final stage', () => {
    const install = final.find((line) => /^RUN npm ci\b/.test(line));
    expect(install).to.include('--omit=dev').and.include('--ignore-scripts');
  });

  it('runs as the non-root uid 65532', () => {
    expect(final.filter((line) => line.startsWith('USER '))).to.deep.equal(['USER 65532:65532']);
  });

  it('points HOME at /tmp, the only writable path under a read-only root filesystem', () => {
    expect(final.some((line) => /^ENV .*\bHOME=\/tmp\b/.test(line))).to.equal(true);
  });

  it('starts `labimage run`', () => {
    expect(final.at(-1)).to.equal('ENTRYPOINT ["node", "--max-semi-space-size=1", "--optimize-for-size", "dist/cli/main.js", "run"]');
  });
});
