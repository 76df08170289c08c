// The judges GitOps tools apply, run as the real programs on hand-made objects: kstatus built from
// sigs.k8s.io/cli-utils, and deploy/argocd/health.lua run as Argo CD runs it. docs/health.md is the
// table they are held to; the kustomize Component that installs the script in argocd-cm too.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { load } from 'js-yaml';
import { API_VERSION, IMAGE_EXPORT, RESOURCES, type ImageExport } from '../../../src/api/index.ts';
import { ObjectClient } from '../../../src/runtime/index.ts';
import { controlPlane, createTestNamespace, repoRoot } from '../harness.ts';
import { argoHealthScript, judge, judgeBinaries, kubectlWait } from './judges.ts';
import { runWithInput } from './with-input.ts';

const KINDS = ['LabAccount', 'GalleryAttachment', 'ImageExport', 'LabTemplate'];

function condition(type: string, status: string, reason: string, message = '') {
  return { type, status, reason, message, lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 2 };
}

function exportWith(status: object, metadata: object = {}) {
  return { apiVersion: 'labimages.io/v1alpha1', kind: 'ImageExport', metadata: { name: 'cs101-v1', namespace: 'labs', generation: 2, ...metadata }, spec: {}, status };
}

describe('health judges: kstatus (cli-utils) and deploy/argocd/health.lua (as Argo CD runs it)', function () {
  this.timeout(10 * 60_000); // the first run builds both with Go

  before(async () => {
    await judgeBinaries();
  });

  it('an object the operator has not seen (observedGeneration -1, the schema default) is in progress, not healthy', async () => {
    const [fresh] = await judge([exportWith({ observedGeneration: -1 })]);
    expect(fresh!.kstatus.status).to.equal('InProgress');
    expect(fresh!.argocd).to.deep.equal({ status: 'Progressing', message: 'Waiting for the operator to observe generation 2' });
  });

  it('a status that describes an older generation is in progress, even if it said Ready', async () => {
    const [stale] = await judge([exportWith({ observedGeneration: 1, conditions: [condition('Ready', 'True', 'Succeeded')] })]);
    expect([stale!.kstatus.status, stale!.argocd.status]).to.deep.equal(['InProgress', 'Progressing']);
  });

  it('Ready=True for the current generation is Current and Healthy', async () => {
    const [ready] = await judge([exportWith({ observedGeneration: 2, conditions: [condition('Ready', 'True', 'Succeeded', 'replicated to 2/2 regions')] })]);
    expect(ready!.kstatus.status).to.equal('Current');
    expect(ready!.argocd).to.deep.equal({ status: 'Healthy', message: 'Succeeded: replicated to 2/2 regions' });
  });

  it('Stalled=True is Failed and Degraded, with the message that says what to fix', async () => {
    const [stalled] = await judge([
      exportWith({
        observedGeneration: 2,
        conditions: [condition('Ready', 'False', 'SourceMissing', 'create VM vm1'), condition('Stalled', 'True', 'SourceMissing', 'create VM vm1')],
      }),
    ]);
    expect(stalled!.kstatus).to.deep.equal({ status: 'Failed', message: 'create VM vm1' });
    expect(stalled!.argocd).to.deep.equal({ status: 'Degraded', message: 'SourceMissing: create VM vm1' });
  });

  it('Reconciling=True is InProgress and Progressing, with or without Ready=False (a retried failure)', async () => {
    const [working, retrying] = await judge([
      exportWith({
        observedGeneration: 2,
        conditions: [condition('Ready', 'Unknown', 'Replicating', '1/2 regions'), condition('Reconciling', 'True', 'Replicating', 'northeurope 40%')],
      }),
      exportWith({
        observedGeneration: 2,
        conditions: [condition('Ready', 'False', 'InternalServerError', 'ARM answered 500; retrying'), condition('Reconciling', 'True', 'InternalServerError', 'ARM answered 500; retrying')],
      }),
    ]);
    expect(working!.kstatus).to.deep.equal({ status: 'InProgress', message: 'northeurope 40%' });
    expect(working!.argocd).to.deep.equal({ status: 'Progressing', message: 'Replicating: northeurope 40%' });
    expect([retrying!.kstatus.status, retrying!.argocd.status]).to.deep.equal(['InProgress', 'Progressing']);
  });

  it('an object being deleted is Terminating, and Progressing with what still blocks it', async () => {
    const deleting = { deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['labimages.io/image-export'] };
    const [blocked, going] = await judge([
      exportWith(
        { observedGeneration: 2, conditions: [condition('DeletionBlocked', 'True', 'InUse', 'Used by LabTemplate cs101'), condition('Reconciling', 'True', 'InUse', 'Used by LabTemplate cs101')] },
        deleting,
      ),
      exportWith({ observedGeneration: 2, conditions: [condition('Reconciling', 'True', 'Deleting', 'Deleting image version 1.0.0')] }, deleting),
    ]);
    expect(blocked!.kstatus.status).to.equal('Terminating');
    expect(blocked!.argocd).to.deep.equal({ status: 'Progressing', message: 'InUse: Used by LabTemplate cs101' });
    expect(going!.argocd).to.deep.equal({ status: 'Progressing', message: 'Deleting: Deleting image version 1.0.0' });
  });

  it('Ready=False with neither Reconciling nor Stalled reads as in progress to both: only Stalled makes it a failure (so PartiallySucceeded is Stalled)', async () => {
    const [partial] = await judge([exportWith({ observedGeneration: 2, conditions: [condition('Ready', 'False', 'RegionsFailed', 'westeurope failed')] })]);
    expect([partial!.kstatus.status, partial!.argocd.status]).to.deep.equal(['InProgress', 'Progressing']);
  });

  it('kubectl wait --for=condition=Ready returns only for Ready=True of the current generation (real API server)', async () => {
    const plane = controlPlane();
    await plane.installCrds();
    const namespace = await createTestNamespace(plane.kubeConfig, 'judges');
    const client = new ObjectClient(plane.restConfig);
    // Created objects have generation 1; each gets the status of one row of docs/health.md.
    const rows: Record<string, object> = {
      ready: { observedGeneration: 1, conditions: [{ ...condition('Ready', 'True', 'Succeeded'), observedGeneration: 1 }] },
      stalled: { observedGeneration: 1, conditions: [{ ...condition('Ready', 'False', 'SourceMissing'), observedGeneration: 1 }, { ...condition('Stalled', 'True', 'SourceMissing'), observedGeneration: 1 }] },
      working: { observedGeneration: 1, conditions: [{ ...condition('Ready', 'Unknown', 'Replicating'), observedGeneration: 1 }, { ...condition('Reconciling', 'True', 'Replicating'), observedGeneration: 1 }] },
      unseen: {},
      // Ready=True, but for generation 1 of an object now at generation 2.
      stale: { observedGeneration: 1, conditions: [{ ...condition('Ready', 'True', 'Succeeded'), observedGeneration: 1 }] },
    };
    const verdicts: Record<string, string> = {};
    for (const [name, status] of Object.entries(rows)) {
      await client.create<ImageExport>(RESOURCES[IMAGE_EXPORT.kind], {
        apiVersion: API_VERSION,
        kind: 'ImageExport',
        metadata: { name, namespace },
        spec: { labAccountRef: { name: 'cs-dept' }, source: { labTemplateRef: { name: 'cs101-template' } }, image: { name: 'ubuntu-cs101', osType: 'Linux' } },
      });
      if (Object.keys(status).length > 0) await client.mergePatchStatus(RESOURCES[IMAGE_EXPORT.kind], namespace, name, { status });
      if (name === 'stale') await client.mergePatch(RESOURCES[IMAGE_EXPORT.kind], namespace, name, { spec: { excludeFromLatest: true } });
      verdicts[name] = await kubectlWait(plane.kubeconfigPath, { kind: 'ImageExport', metadata: { name, namespace } });
    }
    expect(verdicts).to.deep.equal({ ready: 'returns', stalled: 'keeps waiting', working: 'keeps waiting', unseen: 'keeps waiting', stale: 'keeps waiting' });
  });

  it('the Lua runner is as strict as Argo CD: no string library for a script from argocd-cm', async () => {
    const { argocdLua } = await judgeBinaries();
    const dir = await mkdtemp(join(tmpdir(), 'labimages-lua-'));
    try {
      const script = join(dir, 'health.lua');
      await writeFile(script, 'return {status = string.format("%s", "Healthy")}\n');
      const error = await runWithInput(argocdLua, [script], JSON.stringify(exportWith({}))).then(
        () => undefined,
        (err: Error) => err,
      );
      expect(error?.message).to.include("attempt to index a non-table object(nil) with key 'format'");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
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
      const lua = await readFile(argoHealthScript, 'utf8');
      expect(configMap.metadata.name).to.equal('argocd-cm');
      expect(configMap.data.url).to.equal('https://argocd.example');
      for (const kind of KINDS) expect(configMap.data[`resource.customizations.health.labimages.io_${kind}`], kind).to.equal(lua);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
