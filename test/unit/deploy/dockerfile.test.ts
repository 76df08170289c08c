// The container image's key properties, read from the Dockerfile. The image itself is built and run
// as the chart runs it by test/integration/deploy/image.test.ts.
import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { dockerfileArgs } from '../../../hack/image/build.ts';

const dockerfile = await readFile(new URL('../../../Dockerfile', import.meta.url), 'utf8');
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));
const stages = instructions.reduce<string[][]>((all, line) => (line.startsWith('FROM ') ? [...all, [line]] : (all.at(-1)?.push(line), all)), []);
const stageNamed = (name: string) => stages.find((stage) => stage[0]!.endsWith(` AS ${name}`));
const final = stages.at(-1)!;

describe('Dockerfile', () => {
  it('pins the base by digest, and names the Node.js 24 release that digest holds', () => {
    const args = dockerfileArgs(dockerfile);
    expect(args.BASE_IMAGE).to.match(/^node:24-bookworm-slim@sha256:[0-9a-f]{64}$/);
    expect(args.NODE_VERSION).to.match(/^24\.\d+\.\d+$/);
    // The first stage checks the base holds that release (a stand-in passed as BASE_IMAGE too).
    expect(stages[0]).to.include('ARG NODE_VERSION');
    expect(stages[0]!.some((line) => line.startsWith('RUN ') && line.includes('node --version') && line.includes('${NODE_VERSION}'))).to.equal(true);
  });

  it('builds every stage on the base, an earlier stage, or nothing (the final one)', () => {
    const names: string[] = [];
    for (const [from] of stages) {
      const [, image, name] = /^FROM (\S+)(?: AS (\S+))?$/.exec(from!) ?? [];
      expect([...names, '${BASE_IMAGE}', 'scratch'], from).to.include(image);
      if (name) names.push(name);
    }
    expect(final[0]).to.equal('FROM scratch');
  });

  it('compiles in a build stage and installs production dependencies only, without package scripts, in another', () => {
    const build = stageNamed('build')!;
    expect(build.some((line) => /^RUN npm ci\b/.test(line))).to.equal(true);
    expect(build.some((line) => /^RUN npm run build\b/.test(line))).to.equal(true);
    const install = stageNamed('production-dependencies')!.find((line) => /^RUN npm ci\b/.test(line));
    expect(install).to.include('--omit=dev').and.include('--ignore-scripts');
  });

  it('has no shell and no npm in the final stage: nothing runs there, it only copies', () => {
    expect(final.filter((line) => line.startsWith('RUN '))).to.deep.equal([]);
    expect(final.filter((line) => line.startsWith('COPY '))).to.deep.equal([
      'COPY --from=runtime-files /runtime/ /',
      'COPY package.json ./',
      'COPY --from=production-dependencies /app/node_modules ./node_modules',
      'COPY --from=build /app/dist ./dist',
    ]);
  });

  it('runs as the non-root uid 65532', () => {
    expect(final.filter((line) => line.startsWith('USER '))).to.deep.equal(['USER 65532:65532']);
  });

  it('points HOME at /tmp, the only writable path under a read-only root filesystem', () => {
    expect(final.some((line) => /^ENV .*\bHOME=\/tmp\b/.test(line))).to.equal(true);
  });

  it('starts `labimage run`', () => {
    expect(final.at(-1)).to.equal('ENTRYPOINT ["node", "--max-semi-space-size=4", "--heap-growing-percent=20", "dist/cli/main.js", "run"]');
  });
});
