// The operator's rights as deploy/ grants them, checked on the real API server: what it needs is
// allowed, what it must not do is denied (kubectl auth can-i, and real calls with its own token).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { GROUP, IMAGE_EXPORT, VERSION } from '../../../src/api/index.ts';
import { apiStatus } from '../../../src/runtime/index.ts';
import { eventually } from '../eventually.ts';
import { controlPlane, createTestNamespace } from '../harness.ts';
import { createOperatorIdentity, renderedRbac, type OperatorIdentity } from './rbac.ts';

const run = promisify(execFile);

describe('least-privilege RBAC of deploy/ (real API server)', function () {
  let identity: OperatorIdentity;
  let namespace: string;
  let user: string;

  before(async function () {
    const plane = controlPlane();
    await plane.installCrds();
    namespace = await createTestNamespace(plane.kubeConfig, 'rbac');
    identity = await createOperatorIdentity(plane.kubeConfig, namespace);
    user = `system:serviceaccount:${namespace}:${identity.serviceAccount}`;
  });

  after(async function () {
    await identity?.cleanup();
  });

  /** `kubectl auth can-i` as the operator's ServiceAccount (impersonated by the admin). */
  async function canI(...args: string[]): Promise<boolean> {
    try {
      await run('kubectl', ['--kubeconfig', controlPlane().kubeconfigPath, 'auth', 'can-i', `--as=${user}`, ...args]);
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === 1) return false;
      throw err;
    }
  }

  const allowed: string[][] = [
    ...['list', 'watch', 'patch'].flatMap((verb) => ['labaccounts', 'galleryattachments', 'imageexports', 'labtemplates'].map((plural) => [verb, `${plural}.labimages.io`, '-A'])),
    ['patch', 'imageexports.labimages.io', '--subresource=status', '-A'],
    ['patch', 'labtemplates.labimages.io', '--subresource=status', '-A'],
    ['create', 'events.events.k8s.io', '-A'],
    ['patch', 'events.events.k8s.io', '-A'],
    ['get', 'secrets', '-n', 'labs'],
    ['create', 'tokenreviews.authentication.k8s.io'],
    ['create', 'subjectaccessreviews.authorization.k8s.io'],
  ];
  for (const args of allowed) {
    it(`can ${args.join(' ')}`, async () => {
      expect(await canI(...args)).to.equal(true);
    });
  }

  const denied: string[][] = [
    ['list', 'secrets', '-A'],
    ['list', 'secrets', '-n', 'labs'],
    ['watch', 'secrets', '-A'],
    ['create', 'secrets', '-n', 'labs'],
    ['delete', 'namespaces'],
    ['delete', 'imageexports.labimages.io', '-A'],
    ['create', 'imageexports.labimages.io', '-A'],
    // Calls the code does not make (least-privilege.test.ts holds the list to the audit log).
    ['get', 'imageexports.labimages.io', '-A'],
    ['update', 'labaccounts.labimages.io', '-A'],
    ['update', 'labtemplates.labimages.io', '--subresource=status', '-A'],
    ['update', 'imageexports.labimages.io', '--subresource=finalizers', '-A'],
    ['delete', 'imageexports.labimages.io', '--subresource=status', '-A'],
    ['create', 'events', '-A'],
    ['get', 'configmaps', '-A'],
    ['create', 'pods', '-A'],
    ['*', '*', '-A'],
    ['create', 'clusterroles.rbac.authorization.k8s.io'],
    ['create', 'leases.coordination.k8s.io', '-n', 'kube-system'],
  ];
  for (const args of denied) {
    it(`cannot ${args.join(' ')}`, async () => {
      expect(await canI(...args)).to.equal(false);
    });
  }

  it('may take its leader election Lease in its own namespace only', async () => {
    for (const verb of ['get', 'create', 'update']) expect(await canI(verb, 'leases.coordination.k8s.io', '-n', namespace), verb).to.equal(true);
    expect(await canI('list', 'leases.coordination.k8s.io', '-n', namespace)).to.equal(false);
    expect(await canI('get', 'leases.coordination.k8s.io', '-n', 'default')).to.equal(false);
  });

  it('grants no wildcard verb, resource or API group', async () => {
    const rules = (await renderedRbac(namespace)).flatMap((obj) => (obj as { rules?: { apiGroups?: string[]; resources?: string[]; verbs: string[] }[] }).rules ?? []);
    expect(rules).to.not.be.empty;
    for (const rule of rules) expect([...(rule.apiGroups ?? []), ...(rule.resources ?? []), ...rule.verbs]).to.not.include('*');
  });

  it('authenticates with its own token: lists imageexports, is forbidden to list Secrets cluster-wide', async () => {
    const objects = identity.kubeConfig.makeApiClient(CustomObjectsApi);
    // Right after the CRDs are installed the API server may answer 429 "storage is (re)initializing".
    const list = await eventually(() => objects.listClusterCustomObject({ group: GROUP, version: VERSION, plural: IMAGE_EXPORT.plural }) as Promise<{ items: unknown[] }>, {
      what: 'imageexports listed with the operator\'s token',
    });
    expect(list.items).to.be.an('array');

    const forbidden = await identity.kubeConfig
      .makeApiClient(CoreV1Api)
      .listSecretForAllNamespaces()
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(apiStatus(forbidden)?.code).to.equal(403);
  });
});
