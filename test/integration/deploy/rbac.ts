// The operator's ServiceAccount and RBAC exactly as deploy/ renders them, created on the test
// control plane, and a kubeconfig that authenticates as that ServiceAccount (a TokenRequest token):
// run the operator with it to prove the rendered rights are enough, and no more.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { restConfigFromKubeconfig, type RestConfig } from '../../../src/runtime/index.ts';
import { loadAll } from 'js-yaml';
import { repoRoot } from '../harness.ts';
import { runWithInput } from './with-input.ts';

const run = promisify(execFile);

/** The namespace deploy/ installs into; rendered objects are moved into the caller's. */
export const DEPLOY_NAMESPACE = 'lab-image-operator-system';

/** `kubectl kustomize deploy/`, as plain objects. */
export async function renderKustomize(dir = join(repoRoot, 'deploy')): Promise<KubernetesObject[]> {
  const { stdout } = await run('kubectl', ['kustomize', dir], { maxBuffer: 16 * 1024 * 1024 });
  return loadAll(stdout) as KubernetesObject[];
}

/** Runs kubectl with `input` on stdin; rejects with kubectl's stderr when it fails. */
export function kubectlWithInput(kubeconfigPath: string, input: string, ...args: string[]): Promise<string> {
  return runWithInput('kubectl', ['--kubeconfig', kubeconfigPath, ...args], input);
}

/** The kinds that make up the operator's identity and rights. */
export const RBAC_KINDS = new Set(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);

/** A ClusterRole that folds the kinds into Kubernetes' view, edit or admin (tenant-roles.yaml): the users', not the operator's. */
export function isUserFacingRole(obj: KubernetesObject): boolean {
  return obj.kind === 'ClusterRole' && Object.keys(obj.metadata?.labels ?? {}).some((label) => label.startsWith('rbac.authorization.k8s.io/aggregate-to-'));
}

/** The operator's own identity and rights among rendered objects. */
export function operatorRbac(objects: readonly KubernetesObject[]): KubernetesObject[] {
  return objects.filter((obj) => RBAC_KINDS.has(obj.kind ?? '') && !isUserFacingRole(obj));
}

interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}

type RbacObject = KubernetesObject & { roleRef?: { kind: string; name: string }; subjects?: Subject[] };

/**
 * RBAC objects of a rendering, moved into `namespace`: namespaced objects (and the RoleBindings of
 * any namespace), and subjects of the install's namespace; cluster-scoped names get the namespace as
 * a suffix so suites never share (or delete) each other's ClusterRoles.
 */
export function movedInto(namespace: string, objects: readonly KubernetesObject[], installedIn = DEPLOY_NAMESPACE): KubernetesObject[] {
  const rename = (name: string) => `${name}-${namespace}`;
  return objects.filter((obj) => RBAC_KINDS.has(obj.kind ?? '')).map((source) => {
    const obj = structuredClone(source) as RbacObject;
    const metadata = obj.metadata!;
    if (obj.kind === 'ClusterRole' || obj.kind === 'ClusterRoleBinding') metadata.name = rename(metadata.name!);
    else metadata.namespace = namespace;
    if (obj.roleRef?.kind === 'ClusterRole') obj.roleRef.name = rename(obj.roleRef.name);
    for (const subject of obj.subjects ?? []) if (subject.namespace === installedIn) subject.namespace = namespace;
    return obj;
  });
}

/** The ServiceAccount and RBAC objects of deploy/ (or of the kustomization in `dir`), moved into `namespace`. */
export async function renderedRbac(namespace: string, dir?: string): Promise<KubernetesObject[]> {
  return movedInto(namespace, await renderKustomize(dir));
}

/** Of RBAC objects, the operator's identity: its one ServiceAccount, the bindings that name it, and the roles they bind. */
export function identityOf(objects: readonly KubernetesObject[]): KubernetesObject[] {
  const rbac = objects as RbacObject[];
  const account = rbac.find((obj) => obj.kind === 'ServiceAccount');
  const bindings = rbac.filter((b) => b.subjects?.some((s) => s.kind === 'ServiceAccount' && s.name === account?.metadata?.name));
  const roles = rbac.filter((r) => bindings.some((b) => b.roleRef?.kind === r.kind && b.roleRef?.name === r.metadata?.name && (r.kind === 'ClusterRole' || r.metadata?.namespace === b.metadata?.namespace)));
  return [...(account ? [account] : []), ...roles, ...bindings];
}

/** Who a ServiceAccount is to the API server: a kubeconfig with a TokenRequest token, for client-node and for the operator's runtime. */
export interface ServiceAccountLogin {
  serviceAccount: string;
  /** Authenticates as system:serviceaccount:<namespace>:<serviceAccount>. */
  kubeConfig: KubeConfig;
  restConfig: RestConfig;
  kubeconfigPath: string;
  /** Removes the kubeconfig file. */
  forget(): Promise<void>;
}

/** Asks the admin's API server for an hour's token of `serviceAccount` (which must exist) and writes a kubeconfig with it. */
export async function loginAs(admin: KubeConfig, namespace: string, serviceAccount: string): Promise<ServiceAccountLogin> {
  const token = await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    name: serviceAccount,
    namespace,
    body: { spec: { expirationSeconds: 3600 } },
  });
  const cluster = admin.getCurrentCluster()!;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ ...cluster, name: 'test' }],
    users: [{ name: serviceAccount, token: token.status!.token }],
    contexts: [{ name: serviceAccount, cluster: 'test', user: serviceAccount, namespace }],
    currentContext: serviceAccount,
  });
  const dir = await mkdtemp(join(tmpdir(), 'labimages-sa-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  await writeFile(kubeconfigPath, kubeConfig.exportConfig(), { mode: 0o600 });
  return {
    serviceAccount,
    kubeConfig,
    restConfig: restConfigFromKubeconfig(kubeConfig.exportConfig(), dir),
    kubeconfigPath,
    forget: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface OperatorIdentity extends ServiceAccountLogin {
  namespace: string;
  /** Deletes the cluster-scoped objects and the kubeconfig file (the namespace is the caller's). */
  cleanup(): Promise<void>;
}

/**
 * Creates the operator's ServiceAccount and the roles bound to it in `namespace` (which must exist)
 * with the admin kubeconfig, then asks for a token for the ServiceAccount. Default: deploy/'s, moved
 * into `namespace`; or those of another rendering (the chart's, installed into `namespace`).
 */
export async function createOperatorIdentity(admin: KubeConfig, namespace: string, rendered?: readonly KubernetesObject[]): Promise<OperatorIdentity> {
  const objects = identityOf(rendered ? movedInto(namespace, rendered, namespace) : await renderedRbac(namespace));
  const api = KubernetesObjectApi.makeApiClient(admin);
  for (const obj of objects) await api.create(obj);
  const serviceAccount = objects.find((obj) => obj.kind === 'ServiceAccount')!.metadata!.name!;
  const login = await loginAs(admin, namespace, serviceAccount);
  return {
    ...login,
    namespace,
    cleanup: async () => {
      for (const obj of objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')) {
        await api.delete(obj).catch(() => undefined);
      }
      await login.forget();
    },
  };
}
