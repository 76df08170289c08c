// Two shards of the operator on one control plane: `--shard blue` and the replica without a key,
// each with its own Lease. Every export is reconciled by exactly one of them (their trace logs,
// their caches and the Events they signed say which), and all become Ready.
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { pino } from 'pino';
import { API_VERSION, RESOURCES, SHARD_LABEL, type ImageExport, type LabAccount } from '../../../src/api/index.ts';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/index.ts';
import { DEFAULT_LEASE_NAME, EVENTS, type ObjectClient } from '../../../src/runtime/index.ts';
import { controlPlane, createTestNamespace } from '../harness.ts';
import { startTestOperator, type TestOperator } from '../operator.ts';
import { eventually } from '../eventually.ts';
import { createSourceVm, exportManifest, isReady, portFor } from './imageexport-fixtures.ts';

const EXPORTS = 200;
const BLUE = 'blue';

/** A logger at trace level whose lines are kept, so the test can read which exports a shard reconciled. */
function recordingLogger() {
  const reconciled = new Set<string>();
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) {
        if (!line.includes('"msg":"Reconcile done"')) continue;
        const entry = JSON.parse(line) as { controller?: string; name?: string };
        if (entry.controller === 'imageexport' && entry.name) reconciled.add(entry.name);
      }
      done();
    },
  });
  return { log: pino({ level: 'trace' }, sink), reconciled };
}

/** A lab account with its gallery attachment, both labelled for `shard` (none: the replica without a key). */
async function createAccount(client: ObjectClient, namespace: string, name: string, shard: string | undefined): Promise<void> {
  const metadata = (n: string) => ({ name: n, namespace, ...(shard ? { labels: { [SHARD_LABEL]: shard } } : {}) });
  const account: LabAccount = { apiVersion: API_VERSION, kind: 'LabAccount', metadata: metadata(name), spec: { location: 'eastus', replication: { regions: ['eastus', 'westus'] } } };
  await client.create(RESOURCES.LabAccount, account);
  await client.create(RESOURCES.GalleryAttachment, {
    apiVersion: API_VERSION,
    kind: 'GalleryAttachment',
    metadata: metadata(`${name}-gallery`),
    spec: { labAccountRef: { name }, gallery: { name: `${name.replaceAll('-', '')}gallery` } },
  });
}

describe('shards: two replicas split the exports by label', function () {
  this.timeout(300_000);
  let ns: string;
  let emulator: RunningEmulator;
  const shards: { key: string | undefined; op: TestOperator; reconciled: Set<string> }[] = [];

  before(async () => {
    await controlPlane().installCrds();
    ns = await createTestNamespace(controlPlane().kubeConfig, 'shards');
    emulator = await startEmulator({ replicationSeconds: 0.5, operationSeconds: 0.2 });
    for (const key of [BLUE, undefined]) {
      const { log, reconciled } = recordingLogger();
      const op = await startTestOperator({ namespace: ns, emulator, log, operator: { ...(key ? { shard: key } : {}), leaderElection: { namespace: ns } } });
      shards.push({ key, op, reconciled });
    }
  });
  after(async () => {
    await Promise.all(shards.map((s) => s.op.stop()));
    await emulator?.stop();
  });

  it(`reconciles each of ${EXPORTS} exports in exactly one shard, and all become Ready`, async () => {
    const client = shards[0]!.op.client;
    await createAccount(client, ns, 'acct-blue', BLUE);
    await createAccount(client, ns, 'acct-plain', undefined);
    const vmId = await createSourceVm(portFor(emulator), ns, 'template-vm');
    const names = Array.from({ length: EXPORTS }, (_, i) => `export-${String(i).padStart(3, '0')}`);
    const shardOf = (i: number) => (i % 2 === 0 ? BLUE : undefined);
    await Promise.all(
      names.map(async (name, i) => {
        const manifest = exportManifest(ns, name, { labAccountRef: { name: shardOf(i) ? 'acct-blue' : 'acct-plain' }, source: { virtualMachineId: vmId }, image: { name: `image-${i % 4}`, osType: 'Windows' } });
        const key = shardOf(i);
        await client.create(RESOURCES.ImageExport, key ? { ...manifest, metadata: { ...manifest.metadata, labels: { [SHARD_LABEL]: key } } } : manifest);
      }),
    );

    await eventually(
      async () => {
        const list = await client.list<ImageExport>(RESOURCES.ImageExport, ns);
        return list.items.length === EXPORTS && list.items.every(isReady) ? true : undefined;
      },
      { timeoutMs: 240_000, what: `all ${EXPORTS} exports Ready` },
    );

    const expected = (key: string | undefined) => new Set(names.filter((_, i) => shardOf(i) === key));
    for (const { key, op, reconciled } of shards) {
      // What a shard reconciled: exactly its own exports, by its trace log...
      expect([...reconciled].sort(), `exports reconciled by ${key ?? 'the replica without a key'}`).to.deep.equal([...expected(key)].sort());
      // ...because its cache never held another shard's (nor their accounts).
      expect(new Set(op.manager.informer<ImageExport>(RESOURCES.ImageExport).list(ns).map((e) => e.metadata.name))).to.deep.equal(expected(key));
      expect(op.manager.informer<LabAccount>(RESOURCES.LabAccount).list(ns).map((a) => a.metadata.name)).to.deep.equal([key ? 'acct-blue' : 'acct-plain']);
    }
    const [blue, plain] = shards.map((s) => s.reconciled);
    expect([...blue!].filter((name) => plain!.has(name)), 'reconciled by both').to.deep.equal([]);

    // The Ready Events were signed by the shard that reconciled each export.
    const events = await client.list<{ metadata?: object; regarding?: { kind?: string; name?: string }; reportingInstance?: string }>(EVENTS, ns);
    const identities = new Map(shards.map((s) => [s.op.manager.identity, s.key]));
    for (const event of events.items.filter((e) => e.regarding?.kind === 'ImageExport')) {
      const name = event.regarding?.name ?? '';
      expect(identities.get(event.reportingInstance ?? ''), `the Event on ${name}`).to.equal(shardOf(names.indexOf(name)));
    }

    // Each shard elected its leader on a Lease of its own.
    const leases = await client.list<{ metadata: { name?: string }; spec?: { holderIdentity?: string } }>({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease' }, ns);
    const holders = Object.fromEntries(leases.items.map((l) => [l.metadata.name, l.spec?.holderIdentity]));
    expect(holders).to.deep.equal({ [`${DEFAULT_LEASE_NAME}-${BLUE}`]: shards[0]!.op.manager.identity, [DEFAULT_LEASE_NAME]: shards[1]!.op.manager.identity });
  });
});
