// What a user meets with kubectl: the examples apply, the category lists every kind, printer
// columns and `kubectl explain` show what the schema says.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadAll } from 'js-yaml';
import { controlPlane, repoRoot } from '../harness.ts';
import { API_VERSION, customResourceDefinitions } from '../../../src/api/index.ts';
import { kubectl } from './client.ts';

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

describe('kubectl and the examples (real API server)', function () {
  let kubeconfig: string;
  const examplesDir = join(repoRoot, 'examples');

  before(async function () {
    const plane = controlPlane();
    await plane.installCrds();
    kubeconfig = plane.kubeconfigPath;
  });

  it('serves the CRDs with every CEL rule, default and printer column of crds/', async () => {
    for (const crd of customResourceDefinitions()) {
      const served = JSON.parse(await kubectl(kubeconfig, 'get', 'crd', crd.metadata.name, '-o', 'json')) as {
        spec: { versions: { schema: unknown; additionalPrinterColumns: unknown }[] };
      };
      expect(served.spec.versions[0]!.schema).to.deep.equal(crd.spec.versions[0]!.schema);
      expect(served.spec.versions[0]!.additionalPrinterColumns).to.deep.equal(crd.spec.versions[0]!.additionalPrinterColumns);
    }
  });

  it('accepts every example with `kubectl apply -f examples/`', async () => {
    const files = (await readdir(examplesDir)).filter((f) => f.endsWith('.yaml')).sort();
    const manifests: Manifest[] = [];
    for (const file of files) manifests.push(...(loadAll(await readFile(join(examplesDir, file), 'utf8')) as Manifest[]));
    const out = await kubectl(kubeconfig, 'apply', '-f', examplesDir);
    for (const m of manifests) {
      const group = m.apiVersion.includes('/') ? `.${m.apiVersion.split('/')[0]}` : '';
      expect(out, `${m.kind} ${m.metadata.name}`).to.match(
        new RegExp(`^${m.kind.toLowerCase()}${group.replaceAll('.', '\\.')}/${m.metadata.name} (created|configured|unchanged)$`, 'm'),
      );
    }
    expect(manifests.filter((m) => m.apiVersion === API_VERSION).map((m) => m.kind)).to.include.members([
      'LabAccount',
      'GalleryAttachment',
      'ImageExport',
      'LabTemplate',
    ]);
  });

  it('lists all four kinds with `kubectl get labimages`', async () => {
    const names = (await kubectl(kubeconfig, 'get', 'labimages', '-n', 'labs', '-o', 'name')).trim().split('\n');
    for (const kind of ['labaccount', 'galleryattachment', 'imageexport', 'labtemplate']) {
      expect(names.some((n) => n.startsWith(`${kind}.labimages.io/`)), kind).to.equal(true);
    }
  });

  it('knows the short names', async () => {
    for (const [short, name] of [['lacct', 'cs-dept'], ['gattach', 'shared-images'], ['imgexp', 'cs101-v1'], ['labtmpl', 'cs101-template']] as const) {
      expect((await kubectl(kubeconfig, 'get', short, name, '-n', 'labs', '-o', 'name')).trim()).to.match(new RegExp(`/${name}$`));
    }
  });

  it('prints IMAGE, VERSION, PHASE, PROGRESS, REGIONS, READY, AGE for image exports', async () => {
    const header = (await kubectl(kubeconfig, 'get', 'imageexports', '-n', 'labs')).split('\n')[0]!;
    expect(header.trim().split(/\s+/)).to.deep.equal(['NAME', 'IMAGE', 'VERSION', 'PHASE', 'PROGRESS', 'REGIONS', 'READY', 'AGE']);
  });

  it('teaches the API with `kubectl explain imageexport.spec.replication`', async () => {
    const out = await kubectl(kubeconfig, 'explain', 'imageexport.spec.replication');
    expect(out).to.include('GROUP:      labimages.io');
    expect(out).to.include('Where and how the version replicates');
    expect(out).to.match(/regions\s+<\[\]string>/);
    expect(out).to.include('Regions to replicate image versions to');
    expect(out).to.match(/replicaCount\s+<integer>/);
    expect(out).to.include('Replicas per region, 1 to 10');
    expect(out).to.match(/storageAccountType\s+<string>/);
    expect(out).to.include('Standard_LRS');
  });
});
