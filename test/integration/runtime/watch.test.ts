import { expect } from 'chai';
import { Writable } from 'node:stream';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { controlPlane, createTestNamespace } from '../harness.ts';
import { Manager, ObjectClient } from '../../../src/runtime/index.ts';
import { WIDGET, apiServerGet, eventually, installTestCrd, widget, widgetController, type Widget } from './widget.ts';

/** A manager in this process whose controller records the last value it saw per key; logs are kept for assertions. */
async function startRecordingManager(kc: KubeConfig, namespace: string) {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const seen = new Map<string, string | undefined>();
  const manager = new Manager({ restConfig: controlPlane().restConfig, log: pino({ level: 'debug' }, sink), namespaces: [namespace] });
  manager.add(widgetController(manager, { reconciled: (key, value) => seen.set(key, value) }));
  const running = manager.start();
  return { manager, running, seen, lines };
}

async function waitForApiServer(kc: KubeConfig): Promise<void> {
  await eventually(async () => ((await apiServerGet(kc, '/readyz')).status === 200 ? true : undefined), 'kube-apiserver /readyz');
}

/** Changes made after the disruption: every one must reach the controller. */
async function changeEverything(client: ObjectClient, namespace: string): Promise<Map<string, string | undefined>> {
  await client.mergePatch(WIDGET, namespace, 'a', { spec: { value: 'a2' } });
  await client.mergePatch(WIDGET, namespace, 'b', { spec: { value: 'b2' } });
  await client.delete(WIDGET, namespace, 'c');
  await client.create(WIDGET, widget(namespace, 'd', 'd1'));
  return new Map([
    [`${namespace}/a`, 'a2'],
    [`${namespace}/b`, 'b2'],
    [`${namespace}/c`, undefined],
    [`${namespace}/d`, 'd1'],
  ]);
}

async function setUp(kc: KubeConfig, prefix: string) {
  await installTestCrd(kc);
  const namespace = await createTestNamespace(kc, prefix);
  const client = new ObjectClient(controlPlane().restConfig);
  for (const n of ['a', 'b', 'c']) await client.create(WIDGET, widget(namespace, n, `${n}1`));
  const m = await startRecordingManager(kc, namespace);
  await eventually(() => (['a', 'b', 'c'].every((n) => m.seen.get(`${namespace}/${n}`) === `${n}1`) ? true : undefined), 'first reconciles');
  return { namespace, client, ...m };
}

async function expectAllSeen(m: { manager: Manager; seen: Map<string, string | undefined> }, expected: Map<string, string | undefined>, namespace: string) {
  await eventually(() => ([...expected].every(([k, v]) => m.seen.has(k) && m.seen.get(k) === v) ? true : undefined), 'every change to reach the controller');
  const cache = m.manager.informer<Widget>(WIDGET);
  expect(cache.list(namespace).map((w) => [w.metadata!.name, w.spec.value]).sort()).to.deep.equal([
    ['a', 'a2'],
    ['b', 'b2'],
    ['d', 'd1'],
  ]);
}

describe('runtime: informer across a kube-apiserver restart', function () {
  this.timeout(180_000);
  let m: Awaited<ReturnType<typeof setUp>> | undefined;
  afterEach(async () => {
    await m?.manager.stop();
    await m?.running;
  });

  it('misses no change made after the API server came back', async () => {
    const { kubeConfig, restartApiServer } = controlPlane();
    m = await setUp(kubeConfig, 'rt-restart');
    await restartApiServer();
    await waitForApiServer(kubeConfig);
    const expected = await changeEverything(m.client, m.namespace);
    await expectAllSeen(m, expected, m.namespace);
  });
});

describe('runtime: informer after etcd compaction (410 Gone)', function () {
  this.timeout(180_000);
  let m: Awaited<ReturnType<typeof setUp>> | undefined;
  afterEach(async () => {
    await m?.manager.stop();
    await m?.running;
  });

  it('relists when its resourceVersion is compacted away, and misses no change', async () => {
    const { kubeConfig, restartApiServer, compactEtcd } = controlPlane();
    m = await setUp(kubeConfig, 'rt-gone');
    // Move etcd's revision past the informer's, compact everything before it, and make the informer
    // reconnect (the restarted API server's watch cache starts at the compacted revision).
    await kubeConfig.makeApiClient(CoreV1Api).createNamespacedConfigMap({ namespace: m.namespace, body: { metadata: { name: 'advance' } } });
    await compactEtcd();
    await restartApiServer();
    await waitForApiServer(kubeConfig);
    const expected = await changeEverything(m.client, m.namespace);
    await expectAllSeen(m, expected, m.namespace);
    expect(m.lines.some((l) => l.includes('watch expired (410 Gone), relisting'))).to.equal(true);
  });
});
