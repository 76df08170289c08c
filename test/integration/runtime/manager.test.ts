import { expect } from 'chai';
import { EventsV1Api, type KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '../../../src/log.ts';
import { controlPlane, createTestNamespace } from '../harness.ts';
import { Manager, ObjectClient, addFinalizer, isConflict, removeFinalizer, type ResourceType } from '../../../src/runtime/index.ts';
import { WIDGET, apiServerGet, eventually, httpGet, installTestCrd, widget, widgetController, type Widget } from './widget.ts';

const log = createLogger('warn');

/** PATCH requests the API server has served on widgets/status, from its own metrics. */
async function statusPatches(kc: KubeConfig): Promise<number> {
  const { body } = await apiServerGet(kc, '/metrics');
  return body
    .split('\n')
    .filter((l) => l.startsWith('apiserver_request_total{') && l.includes(`group="${WIDGET.group}"`) && l.includes('resource="widgets"') && l.includes('subresource="status"') && l.includes('verb="PATCH"'))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

describe('runtime: manager on the real API server', function () {
  this.timeout(120_000);
  let kc: KubeConfig;
  let namespace: string;
  let client: ObjectClient;
  const cleanup: (() => Promise<void>)[] = [];

  before(async () => {
    kc = controlPlane().kubeConfig;
    await installTestCrd(kc);
    namespace = await createTestNamespace(kc, 'rt-manager');
    client = new ObjectClient(controlPlane().restConfig);
  });

  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  function start(manager: Manager): Promise<void> {
    const running = manager.start();
    cleanup.push(async () => {
      await manager.stop();
      await running;
    });
    return running;
  }

  it('makes no write when the status is already right', async () => {
    const reconciled: string[] = [];
    const manager = new Manager({ restConfig: controlPlane().restConfig, log, namespaces: [namespace] });
    manager.add(widgetController(manager, { reconciled: (key) => reconciled.push(key) }));
    await client.create(WIDGET, widget(namespace, 'steady', 'v1'));
    void start(manager);
    await eventually(async () => ((await client.get<Widget>(WIDGET, namespace, 'steady'))?.status?.value === 'v1' ? true : undefined), 'the first status write');
    await eventually(() => (manager.informer<Widget>(WIDGET).get('steady', namespace)?.status?.value === 'v1' ? true : undefined), 'the cache to see it');
    const before = await statusPatches(kc);
    const count = reconciled.length;
    // Metadata-only changes: each one is a reconcile of an object whose status is already right.
    for (let i = 0; i < 3; i++) await client.mergePatch(WIDGET, namespace, 'steady', { metadata: { labels: { poke: String(i) } } });
    await eventually(() => (reconciled.length >= count + 3 ? true : undefined), 'three more reconciles');
    expect(await statusPatches(kc)).to.equal(before);
    // And a real change is written, once.
    await client.mergePatch(WIDGET, namespace, 'steady', { spec: { value: 'v2' } });
    await eventually(async () => ((await client.get<Widget>(WIDGET, namespace, 'steady'))?.status?.value === 'v2' ? true : undefined), 'the changed status');
    expect(await statusPatches(kc)).to.be.greaterThan(before);
  });

  it('answers /healthz at once, /readyz only once the caches have synced, and serves the metrics', async () => {
    // A kind whose CRD is not installed yet: its informer cannot list, so the caches cannot sync.
    const gadget: ResourceType = { group: 'runtime.test.labimages.io', version: 'v1', plural: `gadgets${Date.now()}`, kind: 'Gadget' };
    const manager = new Manager({ restConfig: controlPlane().restConfig, log, namespaces: [namespace], healthProbeBindAddress: '127.0.0.1:0', metricsBindAddress: '127.0.0.1:0' });
    manager.add(widgetController(manager));
    manager.informer(gadget);
    void start(manager);
    const health = await eventually(() => manager.healthAddress(), 'the probe server');
    const probe = (path: string) => httpGet(`http://127.0.0.1:${health.port}${path}`);
    expect((await probe('/healthz')).status).to.equal(200);
    expect((await probe('/readyz')).status).to.equal(503);
    await installTestCrd(kc, gadget);
    await eventually(async () => ((await probe('/readyz')).status === 200 ? true : undefined), '/readyz to answer 200');
    expect((await probe('/healthz')).status).to.equal(200);

    await client.create(WIDGET, widget(namespace, 'metered', 'x'));
    const metrics = manager.metricsAddress()!;
    const body = await eventually(async () => {
      const { body } = await httpGet(`http://127.0.0.1:${metrics.port}/metrics`);
      return /controller_runtime_reconcile_total\{controller="widget",result="success"\} [1-9]/.test(body) ? body : undefined;
    }, 'a successful reconcile in the metrics');
    for (const name of [
      'controller_runtime_reconcile_total{controller="widget",result="error"}',
      'controller_runtime_reconcile_errors_total{controller="widget"}',
      'controller_runtime_reconcile_time_seconds_bucket{le="0.005",controller="widget"}',
      'workqueue_depth{name="widget",controller="widget"}',
      'workqueue_adds_total{name="widget",controller="widget"}',
      'workqueue_queue_duration_seconds_bucket{le="1e-8",name="widget",controller="widget"}',
      'workqueue_work_duration_seconds_bucket{le="1e-8",name="widget",controller="widget"}',
      'workqueue_retries_total{name="widget",controller="widget"}',
    ]) {
      expect(body).to.include(name);
    }
  });

  it('changes finalizers only on the version it read: a stale copy gets 409, no finalizer is lost', async () => {
    const created = await client.create(WIDGET, { ...widget(namespace, 'fin', 'x'), metadata: { name: 'fin', namespace, finalizers: ['other.io/keep'] } });
    const mine = 'labimages.io/test';
    const added = (await addFinalizer(client, WIDGET, created, mine))!;
    expect(added.metadata?.finalizers).to.deep.equal(['other.io/keep', mine]);
    expect(await addFinalizer(client, WIDGET, added, mine)).to.equal(undefined);
    // `created` is now stale: writing from it would drop our finalizer, so the server refuses.
    const stale = await removeFinalizer(client, WIDGET, { ...created, metadata: { ...created.metadata, finalizers: ['other.io/keep', 'x.io/y'] } }, 'x.io/y').catch((err: unknown) => err);
    expect(isConflict(stale)).to.equal(true);
    const removed = (await removeFinalizer(client, WIDGET, added, mine))!;
    expect(removed.metadata?.finalizers).to.deep.equal(['other.io/keep']);
    await client.mergePatch(WIDGET, namespace, 'fin', { metadata: { finalizers: null } });
    await client.delete(WIDGET, namespace, 'fin');
  });

  it('records events on events.k8s.io/v1 and folds repeats into a series', async () => {
    const obj = await client.create(WIDGET, widget(namespace, 'evented', 'x'));
    const manager = new Manager({ restConfig: controlPlane().restConfig, log, namespaces: [namespace] });
    const recorder = manager.eventRecorder('widget');
    recorder.event(obj, 'Warning', 'SecretMissing', 'create Secret labs-sp');
    await recorder.close();
    const again = manager.eventRecorder('widget2');
    for (let i = 0; i < 4; i++) again.event(obj, 'Normal', 'Ready', 'ready');
    await again.close();
    const events = (await kc.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace })).items.filter((e) => e.regarding?.name === 'evented');
    const byReason = Object.fromEntries(events.map((e) => [e.reason, e]));
    expect(events).to.have.length(2);
    expect(byReason.SecretMissing).to.include({ type: 'Warning', note: 'create Secret labs-sp', reportingController: 'labimages.io/widget', action: 'Reconcile' });
    expect(byReason.SecretMissing?.series).to.equal(undefined);
    expect(byReason.Ready?.series?.count).to.equal(4);
    expect(byReason.Ready?.regarding).to.include({ kind: 'Widget', uid: obj.metadata?.uid });
  });
});
