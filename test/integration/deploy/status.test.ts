// `labimage status` as a user runs it, against the real API server: objects created by the test,
// their status written through the status subresource as the operator would.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { API_VERSION, GROUP, IMAGE_EXPORT, LAB_TEMPLATE, VERSION, type ImageExport, type LabTemplate } from '../../../src/api/index.ts';
import { ObjectClient } from '../../../src/runtime/index.ts';
import type { StatusDocument } from '../../../src/cli/status-view.ts';
import { controlPlane, createTestNamespace, repoRoot } from '../harness.ts';

const run = promisify(execFile);
const exportsResource = { group: GROUP, version: VERSION, plural: IMAGE_EXPORT.plural, kind: IMAGE_EXPORT.kind };
const templatesResource = { group: GROUP, version: VERSION, plural: LAB_TEMPLATE.plural, kind: LAB_TEMPLATE.kind };
const now = '2026-01-01T00:00:00Z';

describe('labimage status (real API server)', function () {
  let namespace: string;
  let other: string;

  function labimage(...args: string[]) {
    return run(process.execPath, [join(repoRoot, 'src', 'cli', 'main.ts'), ...args, '--kubeconfig', controlPlane().kubeconfigPath]);
  }

  async function createExport(client: ObjectClient, ns: string, name: string, status: object): Promise<void> {
    await client.create<ImageExport>(exportsResource, {
      apiVersion: API_VERSION,
      kind: 'ImageExport',
      metadata: { name, namespace: ns },
      spec: { labAccountRef: { name: 'cs-dept' }, source: { labTemplateRef: { name: 'cs101-template' } }, image: { name: 'ubuntu-cs101', osType: 'Linux' } },
    });
    await client.mergePatchStatus(exportsResource, ns, name, { status });
  }

  before(async function () {
    const plane = controlPlane();
    await plane.installCrds();
    namespace = await createTestNamespace(plane.kubeConfig, 'status');
    other = await createTestNamespace(plane.kubeConfig, 'status-other');
    const client = new ObjectClient(plane.restConfig);
    await createExport(client, namespace, 'cs101-v1', {
      observedGeneration: 1,
      phase: 'Replicating',
      version: '1.0.0',
      progress: 70,
      regionsReady: '1/2',
      regions: [
        { name: 'westeurope', state: 'Completed', progress: 100, replicaCount: 1 },
        { name: 'northeurope', state: 'Replicating', progress: 40, replicaCount: 2 },
      ],
      sizeGiB: 30,
      estimatedMonthlyCost: { amount: '4.50', currency: 'USD' },
      conditions: [{ type: 'Ready', status: 'False', reason: 'ReplicationInProgress', message: '1/2 regions replicated', lastTransitionTime: now, observedGeneration: 1 }],
    });
    await createExport(client, other, 'elsewhere', { observedGeneration: 1, phase: 'Succeeded', version: '2.0.0', progress: 100 });
    await client.create<LabTemplate>(templatesResource, {
      apiVersion: API_VERSION,
      kind: 'LabTemplate',
      metadata: { name: 'cs101-template', namespace },
      spec: { labAccountRef: { name: 'cs-dept' }, image: { marketplace: { publisher: 'canonical', offer: 'ubuntu-24_04-lts', sku: 'server' } } },
    });
    await client.mergePatchStatus(templatesResource, namespace, 'cs101-template', {
      status: {
        observedGeneration: 1,
        phase: 'Ready',
        image: { version: '1.0.0', osState: 'Generalized' },
        vm: { id: '/subscriptions/x/resourceGroups/labs-rg/providers/Microsoft.Compute/virtualMachines/cs101', provisioningState: 'Succeeded', powerState: 'running' },
        conditions: [{ type: 'Ready', status: 'True', reason: 'VirtualMachineReady', message: 'running', lastTransitionTime: now, observedGeneration: 1 }],
      },
    });
  });

  it('-o json prints the namespace\'s exports and templates with their status', async () => {
    const { stdout } = await labimage('status', '-n', namespace, '-o', 'json');
    const doc = JSON.parse(stdout) as StatusDocument;
    expect(doc.exports.map((e) => e.name)).to.deep.equal(['cs101-v1']);
    expect(doc.exports[0]).to.include({ namespace, image: 'ubuntu-cs101', ready: 'False' });
    expect(doc.exports[0]!.status.regions!.map((r) => [r.name, r.state, r.progress])).to.deep.equal([
      ['westeurope', 'Completed', 100],
      ['northeurope', 'Replicating', 40],
    ]);
    expect(doc.templates).to.have.length(1);
    expect(doc.templates[0]).to.include({ name: 'cs101-template', ready: 'True' });
    expect(doc.templates[0]!.status.vm?.powerState).to.equal('running');
  });

  it('-A lists every namespace; NAME keeps one object', async () => {
    const all = JSON.parse((await labimage('status', '-A', '-o', 'json')).stdout) as StatusDocument;
    const mine = all.exports.filter((e) => e.namespace === namespace || e.namespace === other).map((e) => `${e.namespace}/${e.name}`);
    expect(mine).to.have.members([`${namespace}/cs101-v1`, `${other}/elsewhere`]);

    const one = JSON.parse((await labimage('status', '-n', other, 'elsewhere', '-o', 'json')).stdout) as StatusDocument;
    expect(one.exports.map((e) => e.name)).to.deep.equal(['elsewhere']);
    expect(one.templates).to.deep.equal([]);
  });

  it('prints the per-region table with progress bars, phase, version and cost as text', async () => {
    const { stdout } = await labimage('status', '-n', namespace);
    expect(stdout).to.include('cs101-v1  image ubuntu-cs101:1.0.0  Replicating  ready False');
    expect(stdout).to.include('cost USD 4.50/month');
    expect(stdout).to.match(/northeurope\s+Replicating\s+████████░{12}\s+40%\s+2/);
    expect(stdout).to.match(/cs101-template\s+Ready\s+True\s+1\.0\.0 \(Generalized\)\s+Succeeded\/running/);
  });

  it('fails with a clear message when NAME matches nothing', async () => {
    const error = await labimage('status', '-n', namespace, 'missing').then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(error?.code).to.equal(1);
    expect(error?.stderr).to.include(`no ImageExport or LabTemplate named missing in namespace ${namespace}`);
  });
});
