// Writes crds/<plural>.labimages.io.yaml and docs/api.md from src/api/ (`npm run crds`). The unit
// tests fail when the committed files differ from what this writes.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { crdFileName, customResourceDefinitions, renderCrdYaml } from '../src/api/index.ts';
import { renderApiReference } from './api-reference.ts';

const dir = join(import.meta.dirname, '..', 'crds');
await mkdir(dir, { recursive: true });
const crds = customResourceDefinitions();
const wanted = new Set(crds.map(crdFileName));
// A kind that was removed or renamed must not leave its old CRD file behind.
for (const file of await readdir(dir)) {
  if (file.endsWith('.yaml') && !wanted.has(file)) await rm(join(dir, file));
}
for (const crd of crds) {
  await writeFile(join(dir, crdFileName(crd)), renderCrdYaml(crd));
  console.log(`wrote crds/${crdFileName(crd)}`);
}

const reference = join(import.meta.dirname, '..', 'docs', 'api.md');
await mkdir(dirname(reference), { recursive: true });
await writeFile(reference, renderApiReference());
console.log('wrote docs/api.md');
