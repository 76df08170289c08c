// deploy/ and the Helm chart as an administrator applies them: helm lint is clean, and what
// kustomize and helm render is accepted by the real API server (server-side dry-run).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientSecretCredential } from '@azure/identity';
import { expect } from 'chai';
import { dump } from 'js-yaml';
import { CoreV1Api, VersionApi, type KubernetesObject } from '@kubernetes/client-node';
import { controlPlane, createTestNamespace, repoRoot } from '../harness.ts';
import { adminToken, startEmulator } from '../../../src/emulator/index.ts';
import { defaultTenantId, demoPrincipal } from '../../../src/emulator/config.ts';
import { chartDir, findOrBuildHelm, helm, renderChart } from './helm.ts';
import { DEPLOY_NAMESPACE, kubectlWithInput, renderKustomize } from './rbac.ts';

interface DryRunResult {
  kind: string;
  name: string;
}

/** `kubectl apply --dry-run=server`: the API server validates (schemas, admission) and stores nothing. */
async function serverDryRun(kubeconfigPath: string, objects: KubernetesObject[]): Promise<DryRunResult[]> {
  const input = objects.map((obj) => dump(obj)).join('---\n');
  const out = await kubectlWithInput(kubeconfigPath, input, 'apply', '--dry-run=server', '-o', 'json', '-f', '-');
  const result = JSON.parse(out) as { kind: string; items?: KubernetesObject[] } & KubernetesObject;
  const items = result.kind === 'List' ? (result.items ?? []) : [result];
  return items.map((obj) => ({ kind: obj.kind ?? '', name: obj.metadata?.name ?? '' }));
}

function kindsOf(objects: readonly { kind?: string }[]): string[] {
  return [...new Set(objects.map((obj) => obj.kind ?? ''))].sort();
}

describe('deploy/ and the Helm chart (real API server, server-side dry-run)', function () {
  this.timeout(20 * 60_000); // the first run builds helm from its Go module

  let helmBinary: string;
  let helmHome: string;
  let kubeVersion: string;
  const namespaces: string[] = [];

  before(async function () {
    const plane = controlPlane();
    await plane.installCrds();
    helmBinary = await findOrBuildHelm();
    helmHome = await mkdtemp(join(tmpdir(), 'labimages-helm-'));
    kubeVersion = (await plane.kubeConfig.makeApiClient(VersionApi).getCode()).gitVersion;
  });

  after(async function () {
    const core = controlPlane().kubeConfig.makeApiClient(CoreV1Api);
    for (const name of namespaces) await core.deleteNamespace({ name }).catch(() => undefined);
    await rm(helmHome, { recursive: true, force: true });
  });

  async function namespace(prefix: string): Promise<string> {
    const name = await createTestNamespace(controlPlane().kubeConfig, prefix);
    namespaces.push(name);
    return name;
  }

  function template(releaseNamespace: string, ...sets: string[]): Promise<KubernetesObject[]> {
    return renderChart(helmBinary, helmHome, releaseNamespace, sets, { kubeVersion, includeCrds: true });
  }

  it('lints the chart clean, with the defaults and with every option on', async () => {
    const defaults = await helm(helmBinary, ['lint', '--strict', chartDir], helmHome);
    expect(defaults).to.match(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    const everything = await helm(
      helmBinary,
      [
        'lint', '--strict', chartDir,
        '--set', 'emulator.mode=standalone', '--set', 'replicaCount=2', '--set', 'workloadIdentity.enabled=true', '--set', 'workloadIdentity.clientId=00000000-0000-0000-0000-000000000001',
        '--set', 'watchNamespaces={labs,staff}', '--set', 'metrics.serviceMonitor.enabled=true', '--set', 'priceTable.currency=EUR', '--set', 'regionRetries=3',
        '--set', 'operatorIdentity.namespaces={labs}', '--set', 'emulator.standalone.demoPrincipal=true',
      ],
      helmHome,
    );
    expect(everything).to.match(/0 chart\(s\) failed/);
  });

  it('`kubectl kustomize deploy/` renders the whole install, and the API server accepts every object', async () => {
    const objects = await renderKustomize();
    expect(kindsOf(objects)).to.deep.equal([
      'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'Deployment', 'Namespace', 'NetworkPolicy',
      'PersistentVolumeClaim', 'Role', 'RoleBinding', 'Service', 'ServiceAccount',
    ]);
    // A dry-run does not create the namespace the other objects go into, and a namespace cannot be
    // deleted without kube-controller-manager: install into a fresh one instead of deploy/'s.
    const ns = await namespace('kustomize');
    for (const obj of objects) {
      if (obj.kind === 'Namespace') obj.metadata!.name = ns;
      else if (obj.metadata!.namespace === DEPLOY_NAMESPACE) obj.metadata!.namespace = ns;
      for (const subject of (obj as { subjects?: { namespace?: string }[] }).subjects ?? []) subject.namespace = ns;
    }

    const accepted = await serverDryRun(controlPlane().kubeconfigPath, objects);
    expect(accepted.map((obj) => `${obj.kind}/${obj.name}`).sort()).to.deep.equal(objects.map((obj) => `${obj.kind}/${obj.metadata!.name}`).sort());
  });

  it('deploy/namespaced/ binds the operator\'s rules in the namespace it serves only, and watches only there', async () => {
    const objects = await renderKustomize(join(repoRoot, 'deploy', 'namespaced'));
    const bindings = objects.filter((obj) => obj.kind === 'ClusterRoleBinding' || obj.kind === 'RoleBinding') as (KubernetesObject & { roleRef: { name: string } })[];
    expect(bindings.map((b) => `${b.kind} ${b.metadata!.namespace ?? ''} ${b.roleRef.name}`).sort()).to.deep.equal([
      'ClusterRoleBinding  lab-image-operator-metrics-auth',
      'RoleBinding lab-image-operator-system lab-image-operator-leader-election',
      'RoleBinding labs lab-image-operator',
    ]);
    const operator = objects.find((obj) => obj.kind === 'Deployment') as KubernetesObject & { spec: { template: { spec: { containers: { args: string[] }[] } } } };
    expect(operator.spec.template.spec.containers[0]!.args).to.include('--namespace=labs');
  });

  it('`helm template` with the defaults (embedded emulator) is accepted by the API server', async () => {
    const ns = await namespace('helm-default');
    const objects = await template(ns);
    expect(kindsOf(objects)).to.deep.equal([
      'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'Deployment', 'NetworkPolicy',
      'PersistentVolumeClaim', 'Role', 'RoleBinding', 'Service', 'ServiceAccount',
    ]);

    const accepted = await serverDryRun(controlPlane().kubeconfigPath, objects);
    expect(accepted).to.have.length(objects.length);
  });

  it('`helm template` with the standalone emulator, watched namespaces, workload identity and a price table is accepted too', async () => {
    const ns = await namespace('helm-all');
    const watched = [await namespace('helm-labs'), await namespace('helm-staff')];
    const objects = await template(
      ns,
      'emulator.mode=standalone', 'replicaCount=2', 'workloadIdentity.enabled=true', 'workloadIdentity.clientId=00000000-0000-0000-0000-000000000001',
      `watchNamespaces={${watched.join(',')}}`, 'priceTable.currency=EUR', 'priceTable.perGiBMonth.Standard_LRS=0.046', 'regionRetries=3',
      `operatorIdentity.namespaces={${watched[0]}}`, 'emulator.standalone.demoPrincipal=true',
    );
    // Watching two namespaces: Roles there; cluster-wide only what names no namespace (TokenReviews and
    // SubjectAccessReviews for --metrics-secure) and the roles for people (aggregated, and bound by no one here).
    expect(objects.filter((obj) => obj.kind === 'ClusterRole').map((obj) => obj.metadata!.name).sort()).to.deep.equal(
      ['admin', 'edit', 'metrics-auth', 'metrics-reader', 'view'].map((suffix) => `labimages-lab-image-operator-${suffix}`),
    );
    expect(objects.filter((obj) => obj.kind === 'ClusterRoleBinding').map((obj) => (obj as { roleRef?: { name: string } }).roleRef?.name)).to.deep.equal(['labimages-lab-image-operator-metrics-auth']);
    expect(objects.filter((obj) => obj.kind === 'Role').map((obj) => obj.metadata!.namespace).sort()).to.deep.equal([...watched, ns].sort());
    const operator = objects.find((obj) => obj.kind === 'Deployment' && obj.metadata!.name === 'labimages-lab-image-operator') as KubernetesObject & {
      spec: { template: { metadata: { labels: Record<string, string> }; spec: { containers: { args: string[] }[] } } };
    };
    expect(operator.spec.template.metadata.labels['azure.workload.identity/use']).to.equal('true');
    expect(operator.spec.template.spec.containers[0]!.args).to.include.members([
      ...watched.map((name) => `--namespace=${name}`),
      `--emulator=https://labimages-lab-image-operator-emulator.${ns}.svc:8443`,
      '--emulator-ca=/etc/lab-image-operator/emulator/ca.pem',
      '--emulator-token-file=/etc/lab-image-operator/emulator/token',
      `--operator-identity-namespaces=${watched[0]}`,
      '--price-table=/etc/lab-image-operator/price-table/price-table.yaml',
      '--region-retries=3',
    ]);
    const serviceAccount = objects.find((obj) => obj.kind === 'ServiceAccount')!;
    expect(serviceAccount.metadata!.annotations).to.deep.equal({ 'azure.workload.identity/client-id': '00000000-0000-0000-0000-000000000001' });
    expect(kindsOf(objects)).to.include.members(['PersistentVolumeClaim', 'Secret', 'ConfigMap', 'PodDisruptionBudget']);

    const accepted = await serverDryRun(controlPlane().kubeconfigPath, objects);
    expect(accepted).to.have.length(objects.length);
  });

  it('renders a ServiceMonitor for the metrics Service only when asked', async () => {
    const without = await template('ops');
    expect(without.some((obj) => obj.kind === 'ServiceMonitor')).to.equal(false);
    const objects = await template('ops', 'metrics.serviceMonitor.enabled=true');
    const monitor = objects.find((obj) => obj.kind === 'ServiceMonitor') as KubernetesObject & { spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] } };
    const service = objects.find((obj) => obj.kind === 'Service')!;
    for (const [key, value] of Object.entries(monitor.spec.selector.matchLabels)) expect(service.metadata!.labels![key]).to.equal(value);
    expect(monitor.spec.endpoints[0]!.port).to.equal('metrics');
  });

  it('`helm template` with sharding.keys runs one more Deployment per key with --shard, selectors disjoint, and the API server accepts it', async () => {
    const ns = await namespace('helm-shards');
    const objects = await template(ns, 'emulator.mode=standalone', 'sharding.keys={blue,green}', 'replicaCount=2');
    type Workload = KubernetesObject & { spec: { selector: { matchLabels: Record<string, string> }; template?: { metadata: { labels: Record<string, string> }; spec: { containers: { args: string[] }[] } } } };
    const operators = objects.filter((obj) => obj.kind === 'Deployment' && !obj.metadata!.name!.endsWith('-emulator')) as Workload[];
    expect(operators.map((d) => d.metadata!.name)).to.deep.equal(['labimages-lab-image-operator', 'labimages-lab-image-operator-blue', 'labimages-lab-image-operator-green']);
    expect(operators.map((d) => d.spec.template!.spec.containers[0]!.args.filter((arg) => arg.startsWith('--shard')))).to.deep.equal([[], ['--shard=blue'], ['--shard=green']]);
    // No Deployment or PodDisruptionBudget selects another Deployment's pods (overlapping PDBs block evictions).
    const selects = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([key, value]) => labels[key] === value);
    const budgets = objects.filter((obj) => obj.kind === 'PodDisruptionBudget') as Workload[];
    expect(budgets).to.have.length(operators.length);
    for (const selector of [...operators, ...budgets].map((obj) => obj.spec.selector.matchLabels)) {
      expect(operators.filter((d) => selects(selector, d.spec.template!.metadata.labels))).to.have.length(1);
    }
    expect(objects.filter((obj) => obj.kind === 'Service' && obj.metadata!.name!.endsWith('-metrics'))).to.have.length(3);

    const accepted = await serverDryRun(controlPlane().kubeconfigPath, objects);
    expect(accepted).to.have.length(objects.length);

    const refusal = (...sets: string[]) => template(ns, ...sets).then(() => '', (err: Error) => err.message);
    expect(await refusal('sharding.keys={blue}')).to.match(/emulator\.mode embedded would give each shard a simulated Azure of its own/);
    expect(await refusal('emulator.mode=off', 'sharding.keys={Blue}')).to.match(/"Blue" is not a DNS label/);
  });

  it('refuses an unknown emulator mode with a message that names the value', async () => {
    const error = await template('ops', 'emulator.mode=remote').then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error?.message).to.match(/emulator\.mode must be embedded, standalone or off \(got "remote"\)/);
  });

  it('the standalone emulator serves with the chart\'s certificate, which the operator verifies by the Service name', async () => {
    const objects = await template('ops', 'emulator.mode=standalone');
    const secret = objects.find((obj) => obj.kind === 'Secret') as KubernetesObject & { data: Record<string, string> };
    const files = Object.fromEntries(Object.entries(secret.data).map(([name, value]) => [name, Buffer.from(value, 'base64').toString('utf8')]));
    expect(Object.keys(files).sort()).to.deep.equal(['emulator-ca-key.pem', 'emulator-ca.pem', 'emulator-tls-key.pem', 'emulator-tls.pem', 'emulator-token']);
    expect(files['emulator-token']).to.match(/^[A-Za-z0-9]{43}$/);

    // As in the pod: the files next to the state file, then the emulator started on it.
    const stateDir = await mkdtemp(join(tmpdir(), 'labimages-emulator-'));
    for (const [name, pem] of Object.entries(files)) await writeFile(join(stateDir, name), pem);
    const admin = await adminToken(stateDir);
    expect(admin, 'the chart\'s token, used as it is').to.deep.include({ token: files['emulator-token'], generated: false });
    const emulator = await startEmulator({ stateFile: join(stateDir, 'state.json'), replicationSeconds: 0, adminToken: admin.token, keepDemoPrincipal: true });
    try {
      // Its token endpoint signs with the chart's (RSA) serving key.
      const demo = new ClientSecretCredential(defaultTenantId, demoPrincipal.clientId, demoPrincipal.clientSecret, { authorityHost: emulator.url, disableInstanceDiscovery: true, tlsOptions: { ca: files['emulator-ca.pem'] } });
      expect((await demo.getToken('https://management.azure.com/.default'))?.token).to.be.a('string');
      const { port } = new URL(emulator.url);
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(
          // The operator's TLS check: the Service's DNS name against the CA from the Secret (and nothing else).
          { host: '127.0.0.1', port, path: '/subscriptions', servername: 'labimages-lab-image-operator-emulator.ops.svc', ca: files['emulator-ca.pem'] },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(status).to.be.greaterThan(0);
      // The emulator used the chart's files as they are, so the operator's copy of the CA stays valid.
      for (const [name, pem] of Object.entries(files)) expect(await readFile(join(stateDir, name), 'utf8'), name).to.equal(pem);
    } finally {
      await emulator.stop();
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
