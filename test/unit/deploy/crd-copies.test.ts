// deploy/crds/ and the chart's crds/ are copies of crds/ (kustomize and Helm cannot reach it).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { load } from 'js-yaml';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const yamlFiles = async (dir: string) => (await readdir(join(root, dir))).filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml').sort();

describe('copies of crds/ (run `node scripts/copy-crds.ts` after `npm run crds`)', () => {
  for (const dir of ['deploy/crds', 'helm/lab-image-operator/crds']) {
    it(`${dir}/ holds exactly the files of crds/, byte for byte`, async () => {
      const files = await yamlFiles('crds');
      expect(await yamlFiles(dir)).to.deep.equal(files);
      for (const file of files) expect(await readFile(join(root, dir, file), 'utf8'), file).to.equal(await readFile(join(root, 'crds', file), 'utf8'));
    });
  }

  it('deploy/crds/kustomization.yaml lists every CRD file', async () => {
    const kustomization = load(await readFile(join(root, 'deploy/crds/kustomization.yaml'), 'utf8')) as { resources: string[] };
    expect(kustomization.resources).to.deep.equal(await yamlFiles('crds'));
  });
});
