// Least privilege, proven. The operator runs as its own ServiceAccount with the namespaced install's
// RBAC (deploy/namespaced/, moved into a test namespace), through the whole lab workflow (every
// kind created, made Ready, deleted), its Events folded into a series, and /metrics served with
// --metrics-secure to a scraper. The API server's audit log records each call it made; those calls
// are exactly what every rendering of its RBAC grants (deploy/, deploy/namespaced/, the chart for all
// namespaces and with watchNamespaces): nothing the code does not call, and nothing it calls missing.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, EventsV1Api, KubernetesObjectApi, RbacAuthorizationV1Api, type KubernetesObject } from '@kubernetes/client-node';
import { expect } from 'chai';
import { RESOURCES, type LabAccount } from '../../../src/api/index.ts';
import { applyExamples, readAdvancedEmulatorConfig, readExamples } from '../../../src/cli/examples.ts';
import { ObjectClient, isConditionTrue, type Condition } from '../../../src/runtime/index.ts';
import { eventually } from '../eventually.ts';
import { controlPlane, createTestNamespace, repoRoot } from '../harness.ts';
import { startTestOperator, type TestOperator } from '../operator.ts';
import { findOrBuildHelm, renderChart } from './helm.ts';
import { createOperatorIdentity, loginAs, renderKustomize, renderedRbac, type OperatorIdentity } from './rbac.ts';

const run = promisify(execFile);

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  nonResourceURLs?: string[];
  verbs: string[];
}
type Rbac = KubernetesObject & { rules?: Rule[]; roleRef?: { kind: string; name: string }; subjects?: { kind: string; name: string; namespace?: string }[] };

/** What the rules of every Role and ClusterRole bound to `serviceAccount` grant, one `verb group/resource` (or `verb /url`) each. */
function grantsOf(objects: readonly KubernetesObject[], serviceAccount: string): string[] {
  const rbac = objects as Rbac[];
  const bound = rbac.filter((b) => (b.kind === 'RoleBinding' || b.kind === 'ClusterRoleBinding') && b.subjects?.some((s) => s.kind === 'ServiceAccount' && s.name === serviceAccount));
  const roles = bound.map((b) => rbac.find((r) => r.kind === b.roleRef?.kind && r.metadata?.name === b.roleRef?.name && (r.kind === 'ClusterRole' || r.metadata?.namespace === b.metadata?.namespace)));
  const grants = roles.flatMap((role) =>
    (role?.rules ?? []).flatMap((rule) => [
      ...(rule.apiGroups ?? []).flatMap((group) => (rule.resources ?? []).flatMap((resource) => rule.verbs.map((verb) => `${verb} ${group}/${resource}`))),
      ...(rule.nonResourceURLs ?? []).flatMap((url) => rule.verbs.map((verb) => `${verb} ${url}`)),
    ]),
  );
  return [...new Set(grants)].sort();
}

interface AuditEvent {
  user?: { username?: string };
  verb?: string;
  requestURI?: string;
  objectRef?: { apiGroup?: string; resource?: string; subresource?: string };
  responseStatus?: { code?: number };
}

/** Every call `username` made, as the API server's audit log recorded it: `verb group/resource`, with the answer's codes. */
async function callsOf(auditLogPath: string, username: string): Promise<Map<string, Set<number>>> {
  const calls = new Map<string, Set<number>>();
  for (const line of (await readFile(auditLogPath, 'utf8')).split('\n')) {
    if (!line.includes(username)) continue;
    const event = JSON.parse(line) as AuditEvent;
    if (event.user?.username !== username) continue;
    const ref = event.objectRef;
    const call = ref?.resource ? `${event.verb} ${ref.apiGroup ?? ''}/${ref.resource}${ref.subresource ? `/${ref.subresource}` : ''}` : `${event.verb} ${new URL(event.requestURI ?? '/', 'https://x').pathname}`;
    calls.set(call, (calls.get(call) ?? new Set()).add(event.responseStatus?.code ?? 0));
  }
  return calls;
}

/** GET /metrics over HTTPS (the certificate is self-signed), with a bearer token or none. */
function scrape(port: number, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', rejectUnauthorized: false, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

const isReady = (obj: { status?: { conditions?: unknown } } | undefined) => isConditionTrue(obj?.status?.conditions as Condition[] | undefined, 'Ready');

describe('least privilege, proven: the rendered RBAC grants exactly what the operator calls (real API server, its audit log)', function () {
  this.timeout(10 * 60_000);
  let namespace: string;
  let identity: OperatorIdentity;
  let operator: TestOperator | undefined;
  let username: string;
  let helmHome: string;
  let readerRole: KubernetesObject | undefined;
  const renderings: Record<string, { objects: KubernetesObject[]; serviceAccount: string }> = {};

  before(async function () {
    const plane = controlPlane();
    await plane.installCrds();
    namespace = await createTestNamespace(plane.kubeConfig, 'least');
    const namespaced = await renderedRbac(namespace, join(repoRoot, 'deploy', 'namespaced'));
    identity = await createOperatorIdentity(plane.kubeConfig, namespace, namespaced);
    // The ClusterRole a scraper is given, as the install ships it.
    readerRole = namespaced.find((obj) => obj.kind === 'ClusterRole' && obj.metadata?.name === `lab-image-operator-metrics-reader-${namespace}`)!;
    await KubernetesObjectApi.makeApiClient(plane.kubeConfig).create(readerRole);
    username = `system:serviceaccount:${namespace}:${identity.serviceAccount}`;
    const helmBinary = await findOrBuildHelm();
    helmHome = await mkdtemp(join(tmpdir(), 'labimages-helm-'));
    renderings['deploy/'] = { objects: await renderKustomize(), serviceAccount: 'lab-image-operator' };
    renderings['deploy/namespaced/'] = { objects: await renderKustomize(join(repoRoot, 'deploy', 'namespaced')), serviceAccount: 'lab-image-operator' };
    renderings['helm'] = { objects: await renderChart(helmBinary, helmHome, 'ops'), serviceAccount: 'labimages-lab-image-operator' };
    renderings['helm --set watchNamespaces={labs}'] = { objects: await renderChart(helmBinary, helmHome, 'ops', ['watchNamespaces={labs}']), serviceAccount: 'labimages-lab-image-operator' };
  });

  after(async function () {
    await operator?.stop();
    await identity?.cleanup();
    if (readerRole) await KubernetesObjectApi.makeApiClient(controlPlane().kubeConfig).delete(readerRole).catch(() => undefined);
    if (helmHome) await rm(helmHome, { recursive: true, force: true });
  });

  it('grants only what watched namespaces need: Secrets readable there and nowhere else', async function () {
    const canI = async (...args: string[]) =>
      run('kubectl', ['--kubeconfig', controlPlane().kubeconfigPath, 'auth', 'can-i', `--as=${username}`, ...args]).then(
        () => true,
        (err: { code?: number }) => (err.code === 1 ? false : Promise.reject(err as Error)),
      );
    expect(await canI('get', 'secrets', '-n', namespace)).to.equal(true);
    expect(await canI('get', 'secrets', '-n', 'default')).to.equal(false);
    expect(await canI('list', 'imageexports.labimages.io', '-n', 'default')).to.equal(false);
    expect(await canI('list', 'imageexports.labimages.io', '-A')).to.equal(false);
  });

  it('runs the whole workflow as its ServiceAccount, and calls exactly what each rendering grants', async function () {
    const admin = controlPlane();
    operator = await startTestOperator({
      namespace,
      kubeConfig: identity.kubeConfig,
      restConfig: identity.restConfig,
      // examples/advanced/ too: its VM made outside any lab is a seed of the emulator's config.
      emulatorOptions: { replicationSeconds: 1, config: await readAdvancedEmulatorConfig() },
      operator: { leaderElection: { namespace }, metricsBindAddress: '127.0.0.1:0', metricsSecure: true },
    });
    const examples = await readExamples({ advanced: true });
    await applyExamples(admin.restConfig, examples, { namespace });
    const objects = new ObjectClient(admin.restConfig);
    const kinds = [RESOURCES.LabAccount, RESOURCES.GalleryAttachment, RESOURCES.ImageExport, RESOURCES.LabTemplate];
    await eventually(async () => (await Promise.all(kinds.map((kind) => objects.list<LabAccount>(kind, namespace)))).every((list) => list.items.length > 0 && list.items.every(isReady)), {
      timeoutMs: 180_000,
      what: 'every example Ready',
    });

    // The same Event twice (Ready, a stall, Ready again): the second folds into a series, by a patch.
    const account = (await objects.list<LabAccount>(RESOURCES.LabAccount, namespace)).items[0]!;
    const name = account.metadata.name ?? '';
    await objects.mergePatch(RESOURCES.LabAccount, namespace, name, { spec: { replication: { regions: ['eastus'] } } });
    await eventually(async () => !isReady(await objects.get<LabAccount>(RESOURCES.LabAccount, namespace, name)), { what: 'the account stalled' });
    await objects.mergePatch(RESOURCES.LabAccount, namespace, name, { spec: { replication: { regions: [] } } });
    await eventually(
      async () => (await admin.kubeConfig.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace })).items.some((e) => e.reason === 'AccountReady' && (e.series?.count ?? 0) >= 2),
      { what: 'an AccountReady Event series' },
    );

    // /metrics: a scraper bound to the metrics-reader ClusterRole reads it; no token, or no right, is refused.
    const core = admin.kubeConfig.makeApiClient(CoreV1Api);
    for (const sa of ['scraper', 'nosy']) await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: sa } } });
    await admin.kubeConfig.makeApiClient(RbacAuthorizationV1Api).createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'scraper' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `lab-image-operator-metrics-reader-${namespace}` },
        subjects: [{ kind: 'ServiceAccount', name: 'scraper', namespace }],
      },
    });
    const port = operator.manager.metricsAddress()!.port;
    const tokenOf = async (sa: string) => {
      const login = await loginAs(admin.kubeConfig, namespace, sa);
      await login.forget();
      return login.kubeConfig.getCurrentUser()!.token!;
    };
    expect((await scrape(port)).status).to.equal(401);
    expect((await scrape(port, 'not-a-token')).status).to.equal(401);
    expect((await scrape(port, await tokenOf('nosy'))).status).to.equal(403);
    expect((await scrape(port, await tokenOf('scraper'))).status).to.equal(403, 'a RoleBinding grants no non-resource URL');
    await admin.kubeConfig.makeApiClient(RbacAuthorizationV1Api).createClusterRoleBinding({
      body: {
        metadata: { name: `scraper-${namespace}` },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `lab-image-operator-metrics-reader-${namespace}` },
        subjects: [{ kind: 'ServiceAccount', name: 'scraper', namespace }],
      },
    });
    try {
      const scraped = await eventually(async () => {
        const answer = await scrape(port, await tokenOf('scraper'));
        return answer.status === 200 && answer;
      }, { what: 'the scraper let in (a denial is cached 30 s)', timeoutMs: 45_000, intervalMs: 2000 });
      expect(scraped.body).to.contain('controller_runtime_reconcile_total');
    } finally {
      await admin.kubeConfig.makeApiClient(RbacAuthorizationV1Api).deleteClusterRoleBinding({ name: `scraper-${namespace}` });
    }

    // Everything goes, finalizers released by the operator.
    for (const kind of [...kinds].reverse()) for (const obj of (await objects.list(kind, namespace)).items) await objects.delete(kind, namespace, obj.metadata?.name ?? '');
    await eventually(async () => (await Promise.all(kinds.map((kind) => objects.list(kind, namespace)))).every((list) => list.items.length === 0), { timeoutMs: 120_000, what: 'every object gone' });
    await operator.stop();
    operator = undefined;

    // The lease was given back at the end: its update is the operator's last call, so the log has all of them.
    const calls = await eventually(async () => {
      const seen = await callsOf(admin.auditLogPath, username);
      return (seen.get('update coordination.k8s.io/leases')?.size ?? 0) > 0 && seen;
    }, { what: 'the operator\'s calls in the audit log' });
    const denied = [...calls].filter(([, codes]) => codes.has(403)).map(([call]) => call);
    expect(denied, 'calls the API server refused').to.deep.equal([]);
    const called = [...calls.keys()].sort();
    for (const [rendering, { objects: rendered, serviceAccount }] of Object.entries(renderings)) {
      expect(grantsOf(rendered, serviceAccount), `${rendering} grants exactly the operator's calls`).to.deep.equal(called);
    }
  });
});
