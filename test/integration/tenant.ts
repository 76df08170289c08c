// The people of one namespace, as a cluster gives them rights: a ServiceAccount bound to the
// built-in `admin` ClusterRole in its namespace only, with the labimages.io rights that
// deploy/base/tenant-roles.yaml aggregates into `admin`.
import { CoreV1Api, KubernetesObjectApi, RbacAuthorizationV1Api, type KubeConfig, type V1ClusterRole } from '@kubernetes/client-node';
import { ObjectClient } from '../../src/runtime/index.ts';
import { isUserFacingRole, loginAs, renderKustomize, type ServiceAccountLogin } from './deploy/rbac.ts';

export interface Tenant extends ServiceAccountLogin {
  namespace: string;
  /** The operator's runtime client, as this tenant. */
  client: ObjectClient;
}

/**
 * What kube-controller-manager's clusterrole-aggregation controller does, which this control plane
 * (like controller-runtime's envtest) does not run: every ClusterRole with an aggregationRule gets
 * the rules of the ClusterRoles its selectors match. Aggregates nest (`edit` is aggregated into
 * `admin`), so this runs until nothing changes.
 */
export async function aggregateClusterRoles(admin: KubeConfig): Promise<void> {
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  const matches = (role: V1ClusterRole, selector: Record<string, string>) => Object.entries(selector).every(([key, value]) => role.metadata?.labels?.[key] === value);
  for (let changed = true, passes = 0; changed && passes < 5; passes += 1) {
    changed = false;
    const roles = (await rbac.listClusterRole()).items;
    for (const aggregate of roles.filter((role) => role.aggregationRule?.clusterRoleSelectors?.length)) {
      const selectors = aggregate.aggregationRule?.clusterRoleSelectors ?? [];
      const rules = roles
        .filter((role) => role.metadata?.name !== aggregate.metadata?.name && selectors.some((s) => matches(role, s.matchLabels ?? {})))
        .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))
        .flatMap((role) => role.rules ?? []);
      if (JSON.stringify(rules) === JSON.stringify(aggregate.rules ?? [])) continue;
      await rbac.replaceClusterRole({ name: aggregate.metadata?.name ?? '', body: { ...aggregate, rules } });
      changed = true;
    }
  }
}

/** deploy/'s aggregated ClusterRoles, created (or left as they are), then aggregated. */
export async function installTenantRoles(admin: KubeConfig): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(admin);
  const roles = (await renderKustomize()).filter(isUserFacingRole);
  for (const role of roles) await api.create(role).catch((err: unknown) => {
    if ((err as { code?: number }).code !== 409) throw err;
  });
  await aggregateClusterRoles(admin);
}

/** A namespace admin of `namespace` (which must exist): a ServiceAccount with a RoleBinding to `admin` there, and nothing else. */
export async function namespaceAdmin(admin: KubeConfig, namespace: string, name = 'lab-admin'): Promise<Tenant> {
  await installTenantRoles(admin);
  await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  await admin.makeApiClient(RbacAuthorizationV1Api).createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: `${name}-admin` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  });
  const login = await loginAs(admin, namespace, name);
  return { ...login, namespace, client: new ObjectClient(login.restConfig) };
}
