import { expect } from 'chai';
import fc from 'fast-check';
import { API_VERSION, RESOURCES, type ImageExport } from '../../src/api/index.ts';
import { apiStatus } from '../../src/runtime/index.ts';
import { eventually } from '../integration/eventually.ts';
import { controlPlane, createTestNamespace } from '../integration/harness.ts';
import { startTestOperator, type TestOperator } from '../integration/operator.ts';

// 1,000 random specs of every kind, of fields right, wrong and absent: the API server refuses what
// its schema can judge, naming the field; what it lets through, the operator judges. Every object
// it accepted ends with conditions a user can read (Ready, or Stalled/Reconciling with a reason),
// no worker dies, and no object is reconciled in a hot loop.
const RUNS = 1000;

const junk = fc.oneof(fc.constant(''), fc.constant('Ω/../?'), fc.integer({ min: -5, max: 20 }), fc.boolean(), fc.constant(null), fc.string({ maxLength: 12 }));
// Mostly well-formed values, now and then junk, so that both the schema and the operator get work.
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 30, arbitrary: arb }, { weight: 1, arbitrary: junk });
const region = maybe(fc.constantFrom('westeurope', 'northeurope', 'francecentral', 'eastus', 'atlantis', 'West Europe'));
const name = maybe(fc.constantFrom('cs-dept', 'cs-dept', 'missing', 'cs101', 'win11-cs101', 'Bad_Name!'));
const ref = fc.record({ name });
const replication = fc.record(
  {
    regions: maybe(fc.array(region, { maxLength: 4 })),
    replicaCount: maybe(fc.integer({ min: -1, max: 12 })),
    storageAccountType: maybe(fc.constantFrom('Standard_LRS', 'Standard_ZRS', 'Premium_LRS', 'Ultra')),
  },
  { requiredKeys: [] },
);
const vmId = maybe(fc.constantFrom('/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1', '/not/a/vm'));

/** Usually exactly one of the members (what the schema asks), now and then none or several. */
function oneOf(members: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> {
  const single = Object.entries(members).map(([key, arb]) => arb.map((value) => ({ [key]: value })));
  return fc.oneof({ weight: 10, arbitrary: fc.oneof(...single) }, { weight: 1, arbitrary: fc.record(members, { requiredKeys: [] }) });
}

const specs: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  LabAccount: fc.record(
    {
      location: region,
      provider: maybe(fc.constantFrom('Simulated', 'Azure', 'Other')),
      azure: maybe(fc.record({ subscriptionId: maybe(fc.uuid()), resourceGroup: name }, { requiredKeys: [] })),
      replication,
    },
    { requiredKeys: ['location'] },
  ),
  GalleryAttachment: fc.record(
    {
      labAccountRef: ref,
      gallery: maybe(fc.record({ name: maybe(fc.constantFrom('labgallery', 'lab-gallery', 'g.1')), create: maybe(fc.boolean()) }, { requiredKeys: ['name'] })),
      images: maybe(fc.record({ enableNew: maybe(fc.boolean()), overrides: maybe(fc.array(fc.record({ name, enabled: maybe(fc.boolean()) }), { maxLength: 2 })) }, { requiredKeys: [] })),
      deletionPolicy: maybe(fc.constantFrom('Detach', 'Delete', 'Keep')),
    },
    { requiredKeys: ['labAccountRef', 'gallery'] },
  ),
  ImageExport: fc.record(
    {
      labAccountRef: ref,
      source: maybe(oneOf({ labTemplateRef: ref, virtualMachineId: vmId })),
      image: maybe(
        fc.record(
          {
            name,
            osType: maybe(fc.constantFrom('Windows', 'Linux', 'Plan9')),
            osState: maybe(fc.constantFrom('Generalized', 'Specialized', 'Frozen')),
            hyperVGeneration: maybe(fc.constantFrom('V1', 'V2', 'V3')),
          },
          { requiredKeys: ['name', 'osType'] },
        ),
      ),
      version: maybe(fc.constantFrom('1.0.0', '2.3.4', '1.0', 'latest')),
      replication,
      deletionPolicy: maybe(fc.constantFrom('Delete', 'Retain', 'Shred')),
    },
    { requiredKeys: ['labAccountRef', 'source', 'image'] },
  ),
  LabTemplate: fc.record(
    {
      labAccountRef: ref,
      location: region,
      image: maybe(
        oneOf({
          imageExportRef: ref,
          galleryImage: fc.record({ name, version: maybe(fc.constantFrom('latest', '1.0.0', 'newest')) }, { requiredKeys: ['name'] }),
          marketplace: fc.record({ publisher: maybe(fc.constant('canonical')), offer: maybe(fc.constant('ubuntu-24_04-lts')), sku: maybe(fc.constant('server')), version: maybe(fc.constant('latest')) }),
        }),
      ),
      vm: maybe(fc.record({ size: maybe(fc.constant('Standard_D2s_v5')), adminUsername: maybe(fc.constant('labadmin')), adminPasswordSecretRef: maybe(fc.record({ name, key: maybe(fc.constant('password')) })) }, { requiredKeys: [] })),
    },
    { requiredKeys: ['labAccountRef', 'image'] },
  ),
};

const manifests = fc.oneof(...Object.entries(specs).map(([kind, spec]) => spec.map((body) => ({ kind, spec: body }))));

interface Conditioned {
  metadata: { name?: string; generation?: number };
  status?: { observedGeneration?: number; conditions?: { type: string; status: string; reason: string }[] };
}

describe('resilience: 1,000 random specs', function () {
  let op: TestOperator;
  let namespace: string;
  const accepted: { kind: keyof typeof RESOURCES; name: string }[] = [];

  before(async () => {
    await controlPlane().installCrds();
    namespace = await createTestNamespace(controlPlane().kubeConfig, 'fuzz');
    // The default recheck of Stalled objects (30 s): a shorter one would itself look like a loop here.
    op = await startTestOperator({ namespace, operator: { stalledRecheckMs: 30_000 } });
  });

  after(async () => {
    await op?.stop();
  });

  it('are refused by the schema with the field named, or accepted and judged by the operator', async () => {
    const samples = fc.sample(manifests, { numRuns: RUNS, seed: 20261127 });
    let refused = 0;
    for (const [i, { kind, spec }] of samples.entries()) {
      const resource = RESOURCES[kind as keyof typeof RESOURCES];
      const body = { apiVersion: API_VERSION, kind, metadata: { name: `fuzz-${i}`, namespace }, spec };
      try {
        await op.client.create(resource, body);
        accepted.push({ kind: kind as keyof typeof RESOURCES, name: body.metadata.name });
      } catch (err) {
        const status = apiStatus(err);
        expect(status?.code, `fuzz-${i}: ${JSON.stringify(spec)}`).to.equal(422);
        expect(status?.message, `fuzz-${i}: ${JSON.stringify(spec)}`).to.match(/spec(\.|\[|:)|spec\b/);
        refused += 1;
      }
    }
    console.log(`      ${refused} refused by the API server, ${accepted.length} accepted`);
    expect(refused).to.be.greaterThan(0);
    expect(accepted.length).to.be.greaterThan(0);
  });

  it('leaves every accepted object with conditions that say where it stands, and no hot loop', async () => {
    const judged = async () => {
      const pending: string[] = [];
      for (const kind of Object.keys(RESOURCES) as (keyof typeof RESOURCES)[]) {
        const items = (await op.client.list<Conditioned & ImageExport>(RESOURCES[kind], namespace)).items;
        for (const obj of items) {
          const conditions = obj.status?.conditions ?? [];
          const ready = conditions.find((c) => c.type === 'Ready');
          const current = obj.status?.observedGeneration === obj.metadata.generation;
          if (!current || !ready || !/^[A-Za-z]/.test(ready.reason)) pending.push(`${kind}/${obj.metadata.name}`);
        }
      }
      return pending.length === 0 ? true : (pending.slice(0, 5) as unknown as false);
    };
    await eventually(judged, { timeoutMs: 300_000, intervalMs: 2000, what: 'every accepted object judged' });

    // Settled: over a further stretch, reconciles stay few per object (no error backoff spinning).
    const reconciles = async () => {
      const metric = await op.manager.metrics.registry.getSingleMetric('controller_runtime_reconcile_total')?.get();
      return (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
    };
    const before = await reconciles();
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const during = (await reconciles()) - before;
    expect(during / accepted.length, `${during} reconciles of ${accepted.length} objects in 10 s`).to.be.lessThan(1);
    expect(op.manager.isReady()).to.equal(true);
  });
});
