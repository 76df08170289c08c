import { ApiextensionsV1Api, ApiException, loadAllYaml, type KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';

/**
 * Creates or replaces each CRD of `yaml` (documents of other kinds are skipped), then waits until
 * the API server serves them all (Established), so that a caller can create custom objects right
 * after. Used by the tests, the benchmark and `labimage dev`.
 *
 * It takes YAML, not objects: client-node sends a CRD through its model classes, which know a
 * schema's `default` and `x-kubernetes-validations` only under their own names (`_default`,
 * `x_kubernetes_validations`), as loading the YAML gives them. A plain object's were dropped
 * without a word: the benchmark once measured CRDs with no defaults and no CEL rules.
 */
export async function installCrds(kc: KubeConfig, yaml: string, timeoutMs = 30_000): Promise<void> {
  const crds = loadAllYaml(yaml).filter((doc): doc is V1CustomResourceDefinition => (doc as { kind?: string } | null)?.kind === 'CustomResourceDefinition');
  const api = kc.makeApiClient(ApiextensionsV1Api);
  for (const crd of crds) {
    const name = crd.metadata?.name;
    if (!name) throw new Error('a CRD without metadata.name');
    try {
      await api.createCustomResourceDefinition({ body: crd });
    } catch (error) {
      if (!(error instanceof ApiException) || error.code !== 409) throw error;
      const current = await api.readCustomResourceDefinition({ name });
      await api.replaceCustomResourceDefinition({
        name,
        body: { ...crd, metadata: { ...crd.metadata, resourceVersion: current.metadata?.resourceVersion } },
      });
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (const crd of crds) {
    const name = crd.metadata?.name ?? '';
    for (;;) {
      const current = await api.readCustomResourceDefinition({ name });
      if (current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after ${timeoutMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
