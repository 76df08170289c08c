// Killing the operator loses no simulated state, in both topologies the chart deploys, run the way
// the chart runs them: the rendered containers' arguments as processes (local-pods.ts), as the
// chart's own ServiceAccount and RBAC. The examples go Ready; the pod (default: the only replica,
// then its replacement; standalone: the leader of two) is SIGKILLed; once a new leader has
// reconciled every object, Azure (the emulator, read through ARM) and every object's Ready
// condition are exactly as before: no gallery, image version or VM made again, nothing went
// un-Ready.
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import type { KubernetesObject } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { RESOURCES } from '../../../src/api/index.ts';
import { createArmClient, simulatedSubscriptionId, staticTokenCredential } from '../../../src/azure/index.ts';
import { advancedEmulatorConfigFile, applyExamples, readExamples } from '../../../src/cli/examples.ts';
import { freeLoopbackPort } from '../../../src/net/ports.ts';
import { ObjectClient, READY, findCondition, type Condition } from '../../../src/runtime/index.ts';
import type { Foreground } from '../../e2e/processes.ts';
import { eventually } from '../eventually.ts';
import { controlPlane, createTestNamespace } from '../harness.ts';
import { findOrBuildHelm, renderChart } from './helm.ts';
import { startLocalPod, type Localisation } from './local-pods.ts';
import { createOperatorIdentity, type OperatorIdentity } from './rbac.ts';
import { deploymentsOf, flagValue, type Container } from './topology.ts';

interface Emulator {
  url: string;
  caPem: string;
  /** A standalone emulator's admin token; absent: the embedded one's well-known token. */
  token?: string;
}

/** Every gallery, image version and VM the emulator holds for the test, with what would change if it were made again. */
async function armSnapshot(emulator: Emulator, resourceGroups: readonly string[]): Promise<string[]> {
  const { compute } = createArmClient({ subscriptionId: simulatedSubscriptionId, credential: staticTokenCredential(emulator.token), endpoint: emulator.url, caPem: emulator.caPem, registry: new Registry() });
  const lines: string[] = [];
  for (const resourceGroup of resourceGroups) {
    for await (const gallery of compute.galleries.listByResourceGroup(resourceGroup)) {
      lines.push(`${gallery.id}`);
      for await (const image of compute.galleryImages.listByGallery(resourceGroup, gallery.name!)) {
        for await (const version of compute.galleryImageVersions.listByGalleryImage(resourceGroup, gallery.name!, image.name!)) {
          lines.push(`${version.id} published ${version.publishingProfile?.publishedDate?.toISOString()}`);
        }
      }
    }
    for await (const vm of compute.virtualMachines.list(resourceGroup)) lines.push(`${vm.id} vmId ${vm.vmId}`);
  }
  return lines.sort();
}

/** Each object's Ready condition and when it last changed. */
async function readySnapshot(namespace: string): Promise<string[]> {
  const client = new ObjectClient(controlPlane().restConfig);
  const lines: string[] = [];
  for (const resource of Object.values(RESOURCES)) {
    for (const obj of (await client.list<KubernetesObject & { status?: { conditions?: Condition[] } }>(resource, namespace)).items) {
      const ready = findCondition(obj.status?.conditions, READY);
      lines.push(`${resource.kind}/${obj.metadata?.name} Ready=${ready?.status} since ${ready?.lastTransitionTime}`);
    }
  }
  return lines.sort();
}

/** The values of a Prometheus metric's series whose labels include `labels` (such as `controller="imageexport"`). */
async function metricValues(url: string, name: string, labels = ''): Promise<number[]> {
  const text = await (await fetch(url)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && line.includes(labels))
    .map((line) => Number(line.split(' ').at(-1)));
}

describe('deploy: killing the operator loses no simulated state (the chart\'s pods as processes)', function () {
  this.timeout(10 * 60_000);

  let helmBinary: string;
  let helmHome: string;
  const pods: Foreground[] = [];
  const identities: OperatorIdentity[] = [];
  const folders: string[] = [];

  before(async () => {
    await controlPlane().installCrds();
    helmBinary = await findOrBuildHelm();
    helmHome = await mkdtemp(join(tmpdir(), 'labimages-helm-'));
    folders.push(helmHome);
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') for (const pod of pods) console.log(pod.output().slice(-4000));
    for (const pod of pods.splice(0)) {
      pod.child.kill('SIGKILL');
      await pod.exited;
    }
  });

  after(async () => {
    for (const identity of identities) await identity.cleanup();
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  });

  /**
   * The chart rendered into a fresh namespace it watches, with the emulator config examples/advanced/
   * needs (its VM made outside any lab, as a seed), its ServiceAccount and RBAC created, and a
   * folder for the pods' volumes.
   */
  async function install(...sets: string[]) {
    const namespace = await createTestNamespace(controlPlane().kubeConfig, 'failover');
    const objects = await renderChart(helmBinary, helmHome, namespace, [`watchNamespaces={${namespace}}`, 'emulator.replicationSeconds=1', ...sets], {
      setFiles: { 'emulator.config': advancedEmulatorConfigFile },
    });
    const identity = await createOperatorIdentity(controlPlane().kubeConfig, namespace, objects);
    identities.push(identity);
    const volumes = await mkdtemp(join(tmpdir(), 'labimages-volumes-'));
    folders.push(volumes);
    const container = (component: string): Container => {
      const deployment = deploymentsOf(objects).find((d) => d.metadata?.labels?.['app.kubernetes.io/component'] === component);
      if (!deployment) throw new Error(`the chart rendered no ${component} Deployment`);
      return deployment.spec.template.spec.containers[0]!;
    };
    /** The emulator config Secret, as the kubelet mounts it: its folder in the container, and the local folder standing for it. */
    const configMount = async (of: Container, flag: string): Promise<Record<string, string>> => {
      const secret = objects.find((obj) => obj.kind === 'Secret' && obj.metadata?.name?.endsWith('-emulator-config')) as KubernetesObject & { stringData: Record<string, string> };
      const folder = await mkdtemp(join(volumes, 'emulator-config-'));
      for (const [file, text] of Object.entries(secret.stringData)) await writeFile(join(folder, file), text);
      return { [dirname(flagValue(of.args, flag)!)]: folder };
    };
    return { namespace, objects, identity, volumes, container, configMount };
  }

  /** An operator replica: its own metrics and probe ports, the ServiceAccount's kubeconfig instead of the pod's token. */
  async function startOperator(container: Container, identity: OperatorIdentity, local: Pick<Localisation, 'mounts'> & { flags?: Record<string, string> }) {
    const metricsPort = await freeLoopbackPort();
    const pod = startLocalPod(container, {
      mounts: local.mounts,
      // Plain HTTP metrics, which this test reads without a token.
      flags: { 'metrics-bind-address': `127.0.0.1:${metricsPort}`, 'metrics-secure': 'false', 'health-probe-bind-address': `127.0.0.1:${await freeLoopbackPort()}`, ...local.flags },
      extra: ['--kubeconfig', identity.kubeconfigPath],
    });
    pods.push(pod);
    return { pod, metrics: `http://127.0.0.1:${metricsPort}/metrics` };
  }

  async function examplesReady(namespace: string): Promise<void> {
    const examples = await readExamples({ advanced: true });
    await applyExamples(controlPlane().restConfig, examples, { namespace });
    await eventually(
      async () => {
        const lines = await readySnapshot(namespace);
        const ready = lines.length === examples.filter((doc) => doc.apiVersion?.startsWith('labimages.io/')).length && lines.every((line) => line.includes('Ready=True'));
        if (!ready) throw new Error(lines.join('; '));
        return true;
      },
      { timeoutMs: 180_000, intervalMs: 500, what: 'every example Ready' },
    );
  }

  /** Waits until the replica behind `metrics` leads and has reconciled every object of every kind at least once. */
  async function leadsAndReconciledAll(metrics: string, namespace: string): Promise<void> {
    const client = new ObjectClient(controlPlane().restConfig);
    await eventually(async () => (await metricValues(metrics, 'leader_election_master_status')).includes(1), { timeoutMs: 60_000, intervalMs: 500, what: 'a new leader' });
    for (const resource of Object.values(RESOURCES)) {
      const count = (await client.list(resource, namespace)).items.length;
      // controller-runtime's convention, which the operator follows: a controller is named after its kind.
      const controller = `controller="${resource.kind.toLowerCase()}"`;
      await eventually(
        async () => (await metricValues(metrics, 'controller_runtime_reconcile_total', controller)).reduce((sum, n) => sum + n, 0) >= count,
        { timeoutMs: 60_000, intervalMs: 500, what: `the new leader to reconcile every ${resource.kind}` },
      );
    }
  }

  it('the default (one replica, embedded emulator, state on the claim): the replacement of a killed pod finds every gallery, image version and VM', async () => {
    const { namespace, identity, volumes, container, configMount } = await install();
    const operator = container('operator');
    const stateDir = flagValue(operator.args, 'emulator-state')!.replace(/\/[^/]+$/, '');
    // The claim outlives the pod: the same folder for the replacement.
    const claim = join(volumes, 'emulator-state');
    await mkdir(claim);
    const config = await configMount(operator, 'emulator-config');
    const start = async () => {
      const replica = await startOperator(operator, identity, { mounts: { [stateDir]: claim, '/tmp': await mkdtemp(join(volumes, 'tmp-')), ...config } });
      const url = (await replica.pod.waitFor(/"url":"(https:\/\/127\.0\.0\.1:\d+)".*embedded ARM emulator started/, 60_000))[1]!;
      return { ...replica, emulator: { url, caPem: await readFile(join(claim, 'emulator-ca.pem'), 'utf8') } };
    };

    const first = await start();
    await examplesReady(namespace);
    const resourceGroups = [`labimages-${namespace}`, 'research-rg'];
    const before = { arm: await armSnapshot(first.emulator, resourceGroups), ready: await readySnapshot(namespace) };
    // Three template VMs and the external one the export was made from.
    expect(before.arm.filter((line) => line.includes('/virtualMachines/'))).to.have.length(4);

    first.pod.child.kill('SIGKILL');
    await first.pod.exited;
    const replacement = await start();
    await leadsAndReconciledAll(replacement.metrics, namespace);

    expect(await armSnapshot(replacement.emulator, resourceGroups)).to.deep.equal(before.arm);
    expect(await readySnapshot(namespace)).to.deep.equal(before.ready);
  });

  it('emulator.mode=standalone with two replicas: killing the leader loses nothing, the standby reaches the same emulator', async () => {
    // The standalone emulator requires the chart's admin token; examples/' credential is its demo principal's.
    const { namespace, objects, identity, volumes, container, configMount } = await install('emulator.mode=standalone', 'replicaCount=2', 'emulator.standalone.demoPrincipal=true');

    // The emulator pod: the chart's Secret mounted next to the state file on the claim.
    const emulatorContainer = container('emulator');
    const claim = join(volumes, 'emulator-state');
    await mkdir(claim);
    const secret = objects.find((obj) => obj.kind === 'Secret' && obj.metadata?.name?.endsWith('-emulator-tls')) as KubernetesObject & { data: Record<string, string> };
    for (const [file, value] of Object.entries(secret.data)) await writeFile(join(claim, file), Buffer.from(value, 'base64'));
    const emulatorPort = await freeLoopbackPort();
    const emulatorPod = startLocalPod(emulatorContainer, {
      mounts: { [flagValue(emulatorContainer.args, 'state')!.replace(/\/[^/]+$/, '')]: claim, '/tmp': await mkdtemp(join(volumes, 'tmp-')), ...(await configMount(emulatorContainer, 'config')) },
      // Loopback only in tests; the Service's port is the pod's.
      flags: { host: '127.0.0.1', port: String(emulatorPort) },
    });
    pods.push(emulatorPod);
    await emulatorPod.waitFor(/ARM emulator listening at/, 60_000);
    // No cluster DNS here: the Service name becomes the emulator's loopback address, which the
    // chart's certificate names too, so the operator's TLS check is as strict as in the cluster.
    const fromSecret = (key: string) => Buffer.from(secret.data[key]!, 'base64').toString('utf8');
    const emulator = { url: `https://127.0.0.1:${emulatorPort}`, caPem: fromSecret('emulator-ca.pem'), token: fromSecret('emulator-token') };

    // Two operator replicas, each with the CA and the admin token from the Secret in its own mount.
    const operator = container('operator');
    const caMount = flagValue(operator.args, 'emulator-ca')!.replace(/\/[^/]+$/, '');
    const replicas = [];
    for (const n of [1, 2]) {
      const caDir = join(volumes, `emulator-ca-${n}`);
      await mkdir(caDir);
      await copyFile(join(claim, 'emulator-ca.pem'), join(caDir, 'ca.pem'));
      await copyFile(join(claim, 'emulator-token'), join(caDir, 'token'));
      replicas.push(await startOperator(operator, identity, { mounts: { [caMount]: caDir, '/tmp': await mkdtemp(join(volumes, 'tmp-')) }, flags: { emulator: emulator.url } }));
    }
    await examplesReady(namespace);
    const resourceGroups = [`labimages-${namespace}`, 'research-rg'];
    const before = { arm: await armSnapshot(emulator, resourceGroups), ready: await readySnapshot(namespace) };

    const leading = await Promise.all(replicas.map(async (replica) => (await metricValues(replica.metrics, 'leader_election_master_status')).includes(1)));
    expect(leading.filter(Boolean), 'exactly one leader').to.have.length(1);
    const leader = replicas[leading.indexOf(true)]!;
    const standby = replicas[leading.indexOf(false)]!;
    leader.pod.child.kill('SIGKILL');
    await leader.pod.exited;
    await leadsAndReconciledAll(standby.metrics, namespace);

    expect(await armSnapshot(emulator, resourceGroups)).to.deep.equal(before.arm);
    expect(await readySnapshot(namespace)).to.deep.equal(before.ready);
  });
});
