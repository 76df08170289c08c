// deploy/argocd/health.lua run the way Argo CD runs health checks (gopher-lua, the object as the
// global `obj`), built from hack/argocd-lua like the other Go tools; and the kustomize Component
// that installs it in argocd-cm.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { load } from 'js-yaml';
import { findOrBuildGoBinaries } from '../../../src/controlplane/assets.ts';
import { repoRoot } from '../harness.ts';

const script = join(repoRoot, 'deploy', 'argocd', 'health.lua');
const KINDS = ['LabAccount', 'GalleryAttachment', 'ImageExport', 'LabTemplate'];

interface Health {
  status: string;
  message: string;
}

function assess(interpreter: string, obj: object): Promise<Health> {
  return new Promise((resolve, reject) => {
    const child = spawn(interpreter, [script], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as Health) : reject(new Error(`health.lua failed: ${err}`))));
    child.stdin.end(JSON.stringify(obj));
  });
}

function condition(type: string, status: string, reason: string, message = '') {
  return { type, status, reason, message, lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 2 };
}

function exportWith(status: object | undefined, generation = 2) {
  return { apiVersion: 'labimages.io/v1alpha1', kind: 'ImageExport', metadata: { name: 'cs101-v1', namespace: 'labs', generation }, spec: {}, ...(status ? { status } : {}) };
}

describe('Argo CD health check deploy/argocd/health.lua (gopher-lua, as Argo CD runs it)', function () {
  this.timeout(10 * 60_000); // the first run builds the interpreter with Go
  let lua: string;

  before(async function () {
    const { binaries } = await findOrBuildGoBinaries({
      moduleDir: join(repoRoot, 'hack', 'argocd-lua'),
      cacheFolder: 'argocd-lua',
      name: 'gopher-lua',
      keyFiles: ['go.mod', 'go.sum', 'main.go'],
      binaries: [{ file: 'argocd-lua', what: 'argocd-lua', args: ['.'] }],
      describe: 'the Argo CD Lua runner',
      log: (line) => console.log(line),
    });
    lua = binaries['argocd-lua'];
  });

  it('is Progressing for an object the operator has not seen (no status, or observedGeneration -1)', async () => {
    expect((await assess(lua, exportWith(undefined))).status).to.equal('Progressing');
    const fresh = await assess(lua, exportWith({ observedGeneration: -1 }));
    expect(fresh).to.deep.equal({ status: 'Progressing', message: 'Waiting for the operator to observe generation 2' });
  });

  it('is Progressing while status describes an older generation, even if it said Ready', async () => {
    const stale = await assess(lua, exportWith({ observedGeneration: 1, conditions: [condition('Ready', 'True', 'Succeeded')] }));
    expect(stale.status).to.equal('Progressing');
  });

  it('is Healthy when Ready=True for the current generation', async () => {
    const ready = await assess(lua, exportWith({ observedGeneration: 2, conditions: [condition('Ready', 'True', 'Succeeded', 'replicated to 2/2 regions')] }));
    expect(ready).to.deep.equal({ status: 'Healthy', message: 'Succeeded: replicated to 2/2 regions' });
  });

  it('is Degraded when Stalled=True, with the reason and message that say what to fix', async () => {
    const stalled = await assess(
      lua,
      exportWith({
        observedGeneration: 2,
        conditions: [condition('Ready', 'False', 'NoGalleryAttached', 'waiting'), condition('Stalled', 'True', 'NoGalleryAttached', 'attach a gallery to lab account cs-dept')],
      }),
    );
    expect(stalled).to.deep.equal({ status: 'Degraded', message: 'NoGalleryAttached: attach a gallery to lab account cs-dept' });
  });

  it('is Progressing while Reconciling, with the Reconciling message', async () => {
    const working = await assess(
      lua,
      exportWith({
        observedGeneration: 2,
        conditions: [condition('Ready', 'False', 'ReplicationInProgress', '1/2 regions'), condition('Reconciling', 'True', 'ReplicationInProgress', 'northeurope 40%')],
      }),
    );
    expect(working).to.deep.equal({ status: 'Progressing', message: 'ReplicationInProgress: northeurope 40%' });
  });

  it('the kustomize Component puts the script into argocd-cm for each of the four kinds', async () => {
    // An Argo CD installation as a user's kustomization has it: its own argocd-cm, plus our component.
    const dir = await mkdtemp(join(tmpdir(), 'labimages-argocd-'));
    try {
      await writeFile(join(dir, 'argocd-cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\n  namespace: argocd\ndata:\n  url: https://argocd.example\n');
      await writeFile(
        join(dir, 'kustomization.yaml'),
        `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - argocd-cm.yaml\ncomponents:\n  - ${relative(dir, join(repoRoot, 'deploy', 'argocd'))}\n`,
      );
      const { stdout } = await promisify(execFile)('kubectl', ['kustomize', dir]);
      const configMap = load(stdout) as { metadata: { name: string }; data: Record<string, string> };
      const lua = await readFile(script, 'utf8');
      expect(configMap.metadata.name).to.equal('argocd-cm');
      expect(configMap.data.url).to.equal('https://argocd.example');
      for (const kind of KINDS) expect(configMap.data[`resource.customizations.health.labimages.io_${kind}`], kind).to.equal(lua);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
