// The image users deploy, built from the Dockerfile and run as the Helm chart runs it: the operator
// container with the chart's args, env, security context, memory limit and volumes, read-only and
// non-root, in-cluster configuration as a pod gets it, authenticated as the chart's ServiceAccount
// with the chart's RBAC on the real API server; the ARM emulator from the same image, as the chart's
// standalone emulator Deployment runs it. The examples must go Ready, and SIGTERM must stop the
// operator within the grace period with its Lease handed back.
//
// Skipped only on a machine that can run no container at all (no Docker engine, no Podman); .ci/run
// installs Podman and sets LABIMAGES_REQUIRE_CONTAINERS=1, which turns that skip into a failure.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { CoordinationV1Api, CoreV1Api, KubernetesObjectApi, VersionApi, type KubernetesObject, type V1Deployment, type V1Service } from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { RESOURCES } from '../../../src/api/index.ts';
import { advancedEmulatorConfigFile, applyExamples, readExamples } from '../../../src/cli/examples.ts';
import { freeLoopbackPort } from '../../../src/net/ports.ts';
import { ObjectClient } from '../../../src/runtime/index.ts';
import { buildImage, formatMegabytes, type ImageBuild } from '../../../hack/image/build.ts';
import { findContainerEngine, type ContainerEngine } from '../../../hack/image/engine.ts';
import { eventually } from '../eventually.ts';
import { controlPlane, createTestNamespace, repoRoot } from '../harness.ts';
import { findOrBuildHelm, helm } from './helm.ts';
import { startPodContainer, type RunningPodContainer } from './image-pod.ts';
import { operatorRbac } from './rbac.ts';

/** controller-runtime's LeaderElectionID for this operator. */
const LEASE_NAME = 'lab-image-operator.labimages.io';

type Ready = KubernetesObject & { status?: { conditions?: { type: string; status: string }[] } };

/** `helm template` of the chart: what `helm install` would create, as plain objects. */
async function renderChart(release: string, namespace: string, sets: string[], setFiles: Record<string, string>): Promise<KubernetesObject[]> {
  const home = await mkdtemp(join(tmpdir(), 'labimages-helm-'));
  try {
    const kubeVersion = (await controlPlane().kubeConfig.makeApiClient(VersionApi).getCode()).gitVersion;
    const args = [
      'template',
      release,
      join(repoRoot, 'helm', 'lab-image-operator'),
      '--namespace',
      namespace,
      '--kube-version',
      kubeVersion,
      ...sets.flatMap((set) => ['--set', set]),
      ...Object.entries(setFiles).flatMap(([name, file]) => ['--set-file', `${name}=${file}`]),
    ];
    return (loadAll(await helm(await findOrBuildHelm(), args, home)) as (KubernetesObject | null)[]).filter((obj): obj is KubernetesObject => obj !== null);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

function deployment(objects: readonly KubernetesObject[], component: string): V1Deployment {
  const found = objects.find((obj) => obj.kind === 'Deployment' && obj.metadata?.labels?.['app.kubernetes.io/component'] === component);
  if (!found) throw new Error(`the chart rendered no ${component} Deployment`);
  return found as V1Deployment;
}

/**
 * Cluster DNS for the rendered Services, every name a pod may use for one, all on this host (every
 * container shares its network). A Service that maps to another port could not be reached so.
 */
function serviceHosts(objects: readonly KubernetesObject[], namespace: string): Record<string, string> {
  const hosts: Record<string, string> = {};
  for (const service of objects.filter((obj): obj is V1Service => obj.kind === 'Service')) {
    for (const port of service.spec?.ports ?? []) {
      if (typeof port.targetPort === 'number' && port.targetPort !== port.port) throw new Error(`Service ${service.metadata?.name} maps port ${port.port} to ${port.targetPort}`);
    }
    const name = service.metadata!.name!;
    for (const host of [`${name}.${namespace}`, `${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster.local`]) hosts[host] = '127.0.0.1';
  }
  return hosts;
}

describe('the container image, run as the Helm chart runs it (real API server, standalone emulator)', function () {
  this.timeout(30 * 60_000); // a first run builds the stand-in base, the image and helm

  let engine: ContainerEngine;
  let build: ImageBuild;
  let dir: string;
  let releaseNamespace: string;
  let labsNamespace: string;
  let rendered: KubernetesObject[];
  let emulator: RunningPodContainer | undefined;
  let operator: RunningPodContainer | undefined;

  before(async function () {
    const search = await findContainerEngine();
    if (!search.engine) {
      if (process.env.LABIMAGES_REQUIRE_CONTAINERS) throw new Error(search.missing);
      console.log(`      skipped: ${search.missing}`);
      this.skip();
    }
    engine = search.engine;
    build = await buildImage({ engine, log: (line) => console.log(`      ${line}`) });

    const plane = controlPlane();
    await plane.installCrds();
    releaseNamespace = await createTestNamespace(plane.kubeConfig, 'image');
    labsNamespace = await createTestNamespace(plane.kubeConfig, 'image-labs');
    dir = await mkdtemp(join(tmpdir(), 'labimages-image-'));
    // Values a user may set: the standalone emulator with the config examples/advanced/ needs (its
    // VM made outside any lab, as a seed), fast replication, ports free on this shared host, and
    // the examples' namespace only, so other suites' leftovers are not reconciled.
    rendered = await renderChart(
      releaseNamespace,
      releaseNamespace,
      [
        'emulator.mode=standalone',
        `emulator.standalone.port=${await freeLoopbackPort()}`,
        'emulator.replicationSeconds=2',
        `metrics.port=${await freeLoopbackPort()}`,
        `healthProbePort=${await freeLoopbackPort()}`,
        `watchNamespaces={${labsNamespace}}`,
        // The standalone emulator requires the chart's admin token; examples/' credential is its demo principal's.
        'emulator.standalone.demoPrincipal=true',
      ],
      { 'emulator.config': advancedEmulatorConfigFile },
    );

    const admin = plane.kubeConfig;
    const rbac = operatorRbac(rendered);
    for (const obj of rbac) await KubernetesObjectApi.makeApiClient(admin).create(obj);
    const operatorPod = deployment(rendered, 'operator').spec!.template;
    const serviceAccount = operatorPod.spec!.serviceAccountName!;
    // The kubelet's projected token: a TokenRequest for the pod's ServiceAccount, valid 3607 s.
    const token = await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({ name: serviceAccount, namespace: releaseNamespace, body: { spec: { expirationSeconds: 3607 } } });

    const pod = {
      engine,
      namespace: releaseNamespace,
      rendered,
      serviceAccount: { token: token.status!.token!, caPem: plane.restConfig.ca! },
      apiServer: new URL(plane.plane.apiServerUrl),
      hosts: serviceHosts(rendered, releaseNamespace),
    };
    const emulatorPod = deployment(rendered, 'emulator').spec!.template;
    emulator = await startPodContainer({ ...pod, template: emulatorPod, container: 'emulator', podName: 'emulator-0', dir: join(dir, 'emulator') });
    await emulator.untilReady(60_000);
    const examples = await readExamples({ advanced: true });

    operator = await startPodContainer({ ...pod, template: operatorPod, container: 'operator', podName: 'operator-0', dir: join(dir, 'operator') });
    const operatorReadySeconds = await operator.untilReady(120_000);
    const applied = Date.now();
    await applyExamples(plane.restConfig, examples, { namespace: labsNamespace });
    await everyExampleReady(examples);
    const examplesReadySeconds = operatorReadySeconds + (Date.now() - applied) / 1000;
    console.log(`      ${build.image}: ${formatMegabytes(build.sizeBytes)}; ready ${operatorReadySeconds.toFixed(1)} s after start; every example Ready ${examplesReadySeconds.toFixed(1)} s after start`);
  });

  async function everyExampleReady(examples: readonly KubernetesObject[]): Promise<void> {
    const objects = new ObjectClient(controlPlane().restConfig);
    const expected = examples.filter((obj) => obj.kind! in RESOURCES);
    let notReady: string[] = [];
    await eventually(
      async () => {
        notReady = [];
        for (const example of expected) {
          const obj = await objects.get<Ready>(RESOURCES[example.kind as keyof typeof RESOURCES], labsNamespace, example.metadata!.name!);
          if (!obj?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) notReady.push(`${example.kind}/${example.metadata!.name}`);
        }
        return notReady.length === 0;
      },
      { timeoutMs: 180_000, intervalMs: 500, what: `every example Ready (${expected.length} objects)` },
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}; not Ready: ${notReady.join(', ')}\noperator logs:\n${(await operator?.logs())?.slice(-8000)}`);
    });
  }

  after(async function () {
    for (const container of [operator, emulator]) await container?.remove();
    if (dir) await rm(dir, { recursive: true, force: true });
    const admin = KubernetesObjectApi.makeApiClient(controlPlane().kubeConfig);
    for (const obj of (rendered ?? []).filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')) await admin.delete(obj).catch(() => undefined);
  });

  it('is the image the chart names, with no shell and no npm, and within its size budget', async () => {
    for (const kind of ['operator', 'emulator']) {
      const containers = deployment(rendered, kind).spec!.template.spec!.containers;
      expect(containers.map((c) => c.image)).to.deep.equal([build.image]);
    }
    for (const program of ['/bin/sh', 'npm']) {
      const ran = await engine.run(['run', '--rm', '--entrypoint', program, build.image, '-c', 'true']).then(
        () => 'ran',
        (err: Error) => err.message,
      );
      expect(ran, program).to.match(/not found|no such file/i);
    }
    // Node.js (about 126 MB), the libraries it links and the production dependencies; dev
    // dependencies or a second base would double it.
    expect(build.sizeBytes).to.be.below(250e6);
  });

  it('takes every example to Ready, as its own ServiceAccount, read-only and non-root', async () => {
    const uid = await operator!.exec(['node', '-e', 'process.stdout.write(`${process.getuid()}:${process.getgid()}`)']);
    expect(uid).to.equal('65532:65532');
    const write = await operator!.exec(['node', '-e', "require('node:fs').writeFileSync('/app/written', '')"]).then(
      () => 'written',
      (err: Error) => err.message,
    );
    expect(write).to.include('EROFS');
    expect(await operator!.live()).to.equal(true);
  });

  it('stops on SIGTERM within the grace period and hands its Lease back', async () => {
    const { exitCode, seconds, graceSeconds } = await operator!.stop();
    console.log(`      SIGTERM: exit ${exitCode} after ${seconds.toFixed(1)} s (grace period ${graceSeconds} s)`);
    expect(exitCode).to.equal(0);
    expect(seconds).to.be.below(graceSeconds);
    const lease = await controlPlane().kubeConfig.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: LEASE_NAME, namespace: releaseNamespace });
    expect(lease.spec?.holderIdentity ?? '').to.equal('');
    expect(lease.spec?.leaseDurationSeconds).to.equal(1);
  });
});
