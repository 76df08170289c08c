// A tenant of the cluster as a platform team sets one up: a ServiceAccount bound to Kubernetes'
// own `admin` ClusterRole in its namespace, nothing else. The kinds reach `admin` through the
// aggregated ClusterRoles deploy/ ships (tenant-roles.yaml).
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api, type V1ClusterRole, type V1PolicyRule } from '@kubernetes/client-node';
import { ObjectClient, restConfigFromKubeconfig } from '../../src/runtime/index.ts';
import { isUserFacingRole, renderKustomize } from './deploy/rbac.ts';

export interface Tenant {
  namespace: string;
  user: string;
  kubeConfig: KubeConfig;
  /** The operator runtime's client, authenticated as the tenant. */
  client: ObjectClient;
}

const selectorsMatch = (role: V1ClusterRole, labels: Record<string, string>) =>
  (role.aggregationRule?.clusterRoleSelectors ?? []).some((selector) => Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value));

/**
 * What kube-controller-manager's clusterrole-aggregation controller does, which a control plane of
 * kube-apiserver and etcd alone lacks: every ClusterRole with an aggregationRule gets the rules of
 * the ClusterRoles its selectors match (admin takes edit, which takes view), until nothing changes.
 */
export async function aggregateClusterRoles(admin: KubeConfig): Promise<void> {
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  for (let pass = 0; pass < 5; pass++) {
    const roles = (await rbac.listClusterRole()).items;
    let changed = false;
    for (const role of roles.filter((candidate) => candidate.aggregationRule)) {
      const sources = roles.filter((source) => source.metadata?.name !== role.metadata?.name && selectorsMatch(role, source.metadata?.labels ?? {}));
      const rules: V1PolicyRule[] = [];
      for (const rule of sources.flatMap((source) => source.rules ?? [])) if (!rules.some((known) => JSON.stringify(known) === JSON.stringify(rule))) rules.push(rule);
      if (JSON.stringify(rules) === JSON.stringify(role.rules ?? [])) continue;
      await rbac.replaceClusterRole({ name: role.metadata!.name!, body: { ...role, rules } });
      changed = true;
    }
    if (!changed) return;
  }
}

/** deploy/'s aggregated ClusterRoles (created once per control plane), aggregated, and a tenant bound to `admin` in `namespace`. */
export async function createTenant(admin: KubeConfig, namespace: string, name = 'tenant-admin'): Promise<Tenant> {
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  const aggregated = (await renderKustomize()).filter((obj): obj is V1ClusterRole => isUserFacingRole(obj));
  for (const role of aggregated) {
    await rbac.createClusterRole({ body: role }).catch(async () => rbac.replaceClusterRole({ name: role.metadata!.name!, body: role }));
  }
  await aggregateClusterRoles(admin);

  const core = admin.makeApiClient(CoreV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: { metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' }, subjects: [{ kind: 'ServiceAccount', name, namespace }] },
  });
  const token = await core.createNamespacedServiceAccountToken({ name, namespace, body: { spec: { expirationSeconds: 3600 } } });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ ...admin.getCurrentCluster()!, name: 'test' }],
    users: [{ name, token: token.status!.token }],
    contexts: [{ name: 'tenant', cluster: 'test', user: name, namespace }],
    currentContext: 'tenant',
  });
  return { namespace, user: `system:serviceaccount:${namespace}:${name}`, kubeConfig, client: new ObjectClient(restConfigFromKubeconfig(kubeConfig.exportConfig(), process.cwd())) };
}
