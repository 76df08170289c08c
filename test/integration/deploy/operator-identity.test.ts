import { CoreV1Api } from '@kubernetes/client-node';
import { expect } from 'chai';
import { IMAGE_EXPORT, LAB_TEMPLATE, RESOURCES, type ImageExport, type LabTemplate } from '../../../src/api/index.ts';
import { applyExamples, readExamples } from '../../../src/cli/examples.ts';
import { ObjectClient, apiStatus } from '../../../src/runtime/index.ts';
import { eventually } from '../eventually.ts';
import { controlPlane, createTestNamespace } from '../harness.ts';
import { startTestOperator, type TestOperator } from '../operator.ts';
import { createOperatorIdentity, type OperatorIdentity } from './rbac.ts';

// The operator as deploy/ runs it: authenticated as its own ServiceAccount with exactly the rendered
// RBAC, leader election on a Lease in its namespace. If a right were missing, an object would never
// become Ready (or the lease could not be taken); if one were too broad, the denial checks fail.
describe('deploy: the operator as its own ServiceAccount', () => {
  let namespace: string;
  let identity: OperatorIdentity;
  let operator: TestOperator;

  before(async () => {
    const { kubeConfig: admin, restConfig: adminRest, installCrds } = controlPlane();
    await installCrds();
    namespace = await createTestNamespace(admin, 'as-sa');
    identity = await createOperatorIdentity(admin, namespace);
    operator = await startTestOperator({
      namespace,
      kubeConfig: identity.kubeConfig,
      restConfig: identity.restConfig,
      emulatorOptions: { replicationSeconds: 1 },
      operator: { leaderElection: { namespace } },
    });
    const examples = await readExamples();
    await applyExamples(adminRest, examples, { namespace });
  });

  after(async () => {
    await operator?.stop();
    await identity?.cleanup();
  });

  it('takes every example to Ready', async () => {
    const objects = new ObjectClient(controlPlane().restConfig);
    const ready = (obj: ImageExport | LabTemplate) => obj.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    await eventually(
      async () => {
        const exports = (await objects.list<ImageExport>(RESOURCES[IMAGE_EXPORT.kind], namespace)).items;
        const templates = (await objects.list<LabTemplate>(RESOURCES[LAB_TEMPLATE.kind], namespace)).items;
        const all = [...exports, ...templates];
        const expected = (await readExamples()).filter((doc) => doc.kind === IMAGE_EXPORT.kind || doc.kind === LAB_TEMPLATE.kind).length;
        return all.length === expected && all.every(ready);
      },
      { timeoutMs: 120_000, what: 'every example export and template Ready' },
    );
  });

  it('is refused what it must not do: list Secrets, anywhere', async () => {
    const core = identity.kubeConfig.makeApiClient(CoreV1Api);
    for (const attempt of [() => core.listSecretForAllNamespaces(), () => core.listNamespacedSecret({ namespace })]) {
      const refusal = await attempt().then(
        () => undefined,
        (err: unknown) => apiStatus(err)?.code,
      );
      expect(refusal).to.equal(403);
    }
  });
});
