// The operator as a GitOps pipeline meets it: `labimage run --emulator embedded` on a fresh cluster,
// the project installed as the README says, and nothing done by hand before the manifests arrive.
// - examples/ syncs as it is: the README's `kubectl apply -f examples/ && kubectl wait ...` command
//   line passes, exactly as written;
// - `kubectl labimage reconcile imageexport/X --wait` returns;
// - a run as Flux's kustomize-controller does it: examples/ applied as one server-side apply in a
//   random order (Namespaces first, as Flux stages them), waited for with kstatus (the library
//   Flux's health checks compute, built from its Go module) until every object is Current, then
//   pruned (everything deleted at once, in a random order), after which nothing the operator made
//   is left in the emulator: galleries, image definitions and versions, VMs, disks, NICs. Two
//   namespaces at the same time.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubernetesObject } from '@kubernetes/client-node';
import { expect } from 'chai';
import { dump } from 'js-yaml';
import { readExamples } from '../../src/cli/examples.ts';
import { ControlPlane } from '../../src/controlplane/controlplane.ts';
import { simulatedSubscriptionId } from '../../src/azure/index.ts';
import { judge, judgeBinaries } from '../integration/deploy/judges.ts';
import { runWithInput } from '../integration/deploy/with-input.ts';
import { raw, type Target } from '../integration/emulator/helpers.ts';
import { foreground, groupMembers, installAsReadmeSays, repoRoot, run, type Foreground } from './processes.ts';

/** The README's line, word for word: what a user (or a CI step after a sync) runs against the operator. */
const EXAMPLES_SYNC = 'kubectl apply -f examples/ && kubectl wait --for=condition=Ready -n labs --all labaccounts,galleryattachments,imageexports,labtemplates --timeout=5m';

/** Every resource of a type the operator makes in a resource group, as ARM lists them (an empty list when the group does not exist). */
async function listed(emulator: Target, resourceGroup: string, type: string, apiVersion: string): Promise<string[]> {
  const answer = await raw(emulator, 'GET', `/subscriptions/${simulatedSubscriptionId}/resourceGroups/${resourceGroup}/providers/${type}?api-version=${apiVersion}`);
  if (answer.status === 404) return [];
  if (answer.status !== 200) throw new Error(`listing ${type} in ${resourceGroup}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return (answer.body as { value: { id: string }[] }).value.map((resource) => resource.id);
}

/** What the operator made for one namespace's lab account, still in the emulator: galleries with their image definitions and versions, VMs, disks and NICs. */
async function leftInAzure(emulator: Target, namespace: string): Promise<string[]> {
  const group = `labimages-${namespace}`;
  const galleries = await listed(emulator, group, 'Microsoft.Compute/galleries', '2024-03-03');
  const inGalleries = await Promise.all(
    galleries.map(async (gallery) => {
      const images = (await raw(emulator, 'GET', `${gallery}/images?api-version=2024-03-03`)).body as { value: { id: string }[] };
      const versions = await Promise.all(images.value.map(async (image) => ((await raw(emulator, 'GET', `${image.id}/versions?api-version=2024-03-03`)).body as { value: { id: string }[] }).value.map((v) => v.id)));
      return [...images.value.map((image) => image.id), ...versions.flat()];
    }),
  );
  const [vms, disks, nics] = await Promise.all([
    listed(emulator, group, 'Microsoft.Compute/virtualMachines', '2024-07-01'),
    listed(emulator, group, 'Microsoft.Compute/disks', '2024-03-02'),
    listed(emulator, group, 'Microsoft.Network/networkInterfaces', '2024-05-01'),
  ]);
  return [...galleries, ...inGalleries.flat(), ...vms, ...disks, ...nics];
}

function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

const described = (obj: KubernetesObject) => `${obj.kind}/${obj.metadata?.name}`;

describe('e2e: a GitOps pipeline against labimage run --emulator embedded', () => {
  let plane: ControlPlane;
  let prefix: string;
  let stateDir: string;
  let env: NodeJS.ProcessEnv;
  let operator: Foreground;
  let emulator: Target;

  /** kubectl as the sync runs it, with `input` on stdin. */
  const kubectl = (args: string[], input = '') => runWithInput('kubectl', [...args, '--kubeconfig', plane.kubeconfigPath], input);
  let failed = false;

  before(async () => {
    prefix = await mkdtemp(join(tmpdir(), 'labimage-prefix-'));
    stateDir = await mkdtemp(join(tmpdir(), 'labimage-arm-'));
    const [started, installed] = await Promise.all([ControlPlane.start({ log: (line) => console.log(`      ${line}`) }), installAsReadmeSays(prefix), judgeBinaries((line) => console.log(`      ${line}`))]);
    plane = started;
    env = { ...installed, KUBECONFIG: plane.kubeconfigPath };
    // The README's install of the CRDs, then the operator as a user runs it (ports left to other tests).
    await run('sh', ['-c', 'labimage crds | kubectl apply -f - && kubectl wait --for=condition=Established --timeout=60s crd --all'], { env });
    operator = foreground(
      'labimage',
      ['run', '--emulator', 'embedded', '--emulator-replication-seconds', '10', '--emulator-state', join(stateDir, 'state.json'), '--metrics-bind-address', '0', '--health-probe-bind-address', '0'],
      { env },
    );
    const [, url = '', caFile = ''] = await operator.waitFor(/"url":"(https:\/\/[^"]+)","caFile":"([^"]+)".*ARM emulator listening/, 60_000);
    emulator = { url, caPem: await readFile(caFile, 'utf8') };
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });

  after(async function () {
    if (failed) console.log(operator?.output().slice(-6000));
    const pid = operator?.child.pid;
    if (pid && (await groupMembers(pid)).length > 0) {
      operator.interrupt();
      await operator.exited;
    }
    await plane?.stop();
    for (const dir of [prefix, stateDir]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(`passes \`${EXAMPLES_SYNC}\` as it is, with nothing done before`, async () => {
    const { stdout } = await run('sh', ['-c', EXAMPLES_SYNC], { env, cwd: repoRoot });
    const met = stdout.split('\n').filter((line) => line.endsWith('condition met'));
    const expected = (await readExamples()).filter((obj) => obj.apiVersion?.startsWith('labimages.io/'));
    expect(met.map((line) => line.split(' ')[0]!.split('/')[1]).sort()).to.deep.equal(expected.map((obj) => obj.metadata?.name).sort());
  });

  it('kubectl labimage reconcile imageexport/cs101-v1 --wait returns once the operator has looked again', async () => {
    const { stdout } = await run('kubectl', ['labimage', 'reconcile', 'imageexport/cs101-v1', '-n', 'labs', '--wait', '--timeout', '60s'], { env });
    expect(stdout).to.match(/^imageexport\.labimages\.io\/cs101-v1 reconciled: Ready=True Succeeded/m);
  });

  /** One Flux sync and prune of examples/ into `namespace`; returns what it saw on the way, for the log. */
  async function syncAndPrune(namespace: string): Promise<string> {
    const documents = (await readExamples()).map((doc) =>
      doc.kind === 'Namespace' ? { ...doc, metadata: { ...doc.metadata, name: namespace } } : { ...doc, metadata: { ...doc.metadata, namespace } },
    );
    const namespaces = documents.filter((doc) => doc.kind === 'Namespace');
    const rest = shuffled(documents.filter((doc) => doc.kind !== 'Namespace'));
    const ssa = ['apply', '--server-side', '--field-manager=kustomize-controller', '-f', '-'];
    await kubectl(ssa, namespaces.map((doc) => dump(doc)).join('---\n'));
    await kubectl(ssa, rest.map((doc) => dump(doc)).join('---\n'));
    const started = Date.now();

    // kstatus over everything applied, as `wait: true` does: Current, or Failed at once.
    const applied = [...namespaces, ...rest];
    for (;;) {
      const live = await Promise.all(applied.map(async (doc) => JSON.parse(await kubectl(['get', doc.kind!, doc.metadata!.name!, ...(doc.kind === 'Namespace' ? [] : ['-n', namespace]), '-o', 'json'])) as KubernetesObject));
      const verdicts = await judge(live);
      const failed = verdicts.map((v, i) => [described(live[i]!), v.kstatus] as const).filter(([, v]) => v.status === 'Failed');
      if (failed.length > 0) throw new Error(`${namespace}: kstatus says Failed: ${JSON.stringify(failed)}`);
      if (verdicts.every((v) => v.kstatus.status === 'Current')) break;
      if (Date.now() - started > 300_000) throw new Error(`${namespace}: not Current after 5 minutes: ${verdicts.map((v, i) => `${described(live[i]!)} ${v.kstatus.status} ${v.kstatus.message}`).join('; ')}`);
      await sleep(2000);
    }
    const current = (Date.now() - started) / 1000;
    expect(await leftInAzure(emulator, namespace), `${namespace}: what the sync made`).to.not.deep.equal([]);

    // The prune: every object deleted at once, in any order, the Namespace among them. This control
    // plane has no namespace controller (kube-controller-manager), so the Namespace stays Terminating
    // (new Events in it are refused, as in a cluster) and the test waits for what it held.
    const order = shuffled(applied);
    await Promise.all(order.map((doc) => kubectl(['delete', doc.kind!, doc.metadata!.name!, ...(doc.kind === 'Namespace' ? [] : ['-n', namespace]), '--wait=false'])));
    const pruned = Date.now();
    const held = rest.map((doc) => `${doc.kind!.toLowerCase()}/${doc.metadata!.name!}`);
    for (;;) {
      const left = await kubectl(['get', ...held, '-n', namespace, '--ignore-not-found', '-o', 'name']);
      if (left.trim() === '') break;
      if (Date.now() - pruned > 300_000) throw new Error(`${namespace}: still there 5 minutes after the prune: ${left}`);
      await sleep(1000);
    }
    const gone = (Date.now() - pruned) / 1000;
    expect(await leftInAzure(emulator, namespace), `${namespace}: left in the emulator after the prune (apply order ${rest.map(described).join(', ')}; prune order ${order.map(described).join(', ')})`).to.deep.equal([]);
    return `${namespace}: Current ${current.toFixed(0)} s after the apply, gone ${gone.toFixed(0)} s after the prune`;
  }

  it('syncs examples/ as Flux does, into two namespaces at once, waits for kstatus Current, prunes, and leaves nothing the operator made in the emulator', async () => {
    const runs = await Promise.all([syncAndPrune('gitops-a'), syncAndPrune('gitops-b')]);
    for (const line of runs) console.log(`      ${line}`);
  });
});
