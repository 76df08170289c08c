import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { load, loadAll } from 'js-yaml';
import { crdFileName, customResourceDefinitions, renderAllCrdsYaml, renderCrdYaml } from '../../../src/api/index.ts';

const crdsDir = fileURLToPath(new URL('../../../crds/', import.meta.url));

describe('crds/ (generated from src/api)', () => {
  const crds = customResourceDefinitions();

  for (const crd of crds) {
    it(`crds/${crdFileName(crd)} is what src/api renders, byte for byte (run \`npm run crds\` after changing src/api)`, async () => {
      const committed = await readFile(join(crdsDir, crdFileName(crd)), 'utf8');
      expect(committed).to.equal(renderCrdYaml(crd));
    });
  }

  it('holds no CRD file that src/api does not render', async () => {
    const files = (await readdir(crdsDir)).filter((file) => file.endsWith('.yaml')).sort();
    expect(files).to.deep.equal(crds.map(crdFileName).sort());
  });

  it('starts every file with a comment saying it is generated', async () => {
    for (const crd of crds) {
      const committed = await readFile(join(crdsDir, crdFileName(crd)), 'utf8');
      expect(committed.split('\n')[0]).to.match(/^# Generated from src\/api\/ by `npm run crds`/);
    }
  });

  it('renders YAML that reads back as the same objects (no lossy quoting of True/False, jsonPaths or regexes)', () => {
    for (const crd of crds) expect(load(renderCrdYaml(crd))).to.deep.equal(crd);
  });

  it('prints all four CRDs as one multi-document stream for `labimage crds`', () => {
    const docs = loadAll(renderAllCrdsYaml());
    expect(docs).to.deep.equal(crds);
  });
});
