import { expect } from 'chai';
import type { KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Controller, type ControllerDefinition } from '../../../src/runtime/controller.ts';
import type { EventHandler, Informer } from '../../../src/runtime/informer.ts';
import { Metrics } from '../../../src/runtime/metrics.ts';

const WIDGET = { group: 'runtime.test.labimages.io', version: 'v1', plural: 'widgets', kind: 'Widget' };

/** A controller over a fake informer: `enqueue` is a watch event for a widget of that name. */
function controllerFor(reconcile: ControllerDefinition['reconcile'], reconcileTimeoutMs = 60_000) {
  const handlers: EventHandler<KubernetesObject>[] = [];
  const informer = { addEventHandler: (handler: EventHandler<KubernetesObject>) => handlers.push(handler) } as unknown as Informer;
  const metrics = new Metrics();
  const controller = new Controller({ name: 'widget', for: WIDGET, reconcile }, { informer: () => informer, metrics, log: pino({ level: 'silent' }), workers: 1, reconcileTimeoutMs });
  controller.start();
  const enqueue = (name: string) => handlers[0]?.add?.({ metadata: { namespace: 'ns', name } });
  const results = async () => Object.fromEntries(((await metrics.registry.getSingleMetric('controller_runtime_reconcile_total')?.get())?.values ?? []).map((v) => [v.labels.result, v.value]));
  return { controller, enqueue, results };
}

/** Resolves with the signal's reason once it fires. */
const aborted = (signal: AbortSignal) => new Promise<unknown>((resolve) => signal.addEventListener('abort', () => resolve(signal.reason), { once: true }));

describe('controller', () => {
  it('fires the signal of a reconcile in flight when it stops, and returns once that reconcile has', async () => {
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    let reason: unknown;
    const { controller, enqueue } = controllerFor(async (_request, { signal }) => {
      started();
      reason = await aborted(signal);
    });
    enqueue('w1');
    await running;
    await controller.stop();
    expect(reason).to.be.instanceOf(Error).with.property('message').that.contains('stopping');
  });

  it('fires a reconcile\'s signal once it runs past its timeout, and tries the key again with backoff', async () => {
    const reasons: unknown[] = [];
    const { controller, enqueue, results } = controllerFor(async (_request, { signal }) => {
      if (reasons.length > 0) return;
      reasons.push(await aborted(signal));
      throw signal.reason;
    }, 50);
    const started = performance.now();
    enqueue('w1');
    while ((await results()).success !== 1) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(performance.now() - started).to.be.at.least(45);
    expect(reasons[0]).to.have.property('name', 'TimeoutError');
    expect(await results()).to.include({ error: 1, success: 1 });
    await controller.stop();
  });

  it('looks again after requeueAfter, and after the queue\'s backoff on requeue', async () => {
    const seen: number[] = [];
    const { controller, enqueue, results } = controllerFor(async () => {
      seen.push(performance.now());
      if (seen.length === 1) return { requeueAfter: 40 };
      if (seen.length === 2) return { requeue: true };
      return {};
    });
    enqueue('w1');
    while (seen.length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(seen[1]! - seen[0]!).to.be.at.least(35);
    expect(await results()).to.include({ requeue_after: 1, requeue: 1, success: 1, error: 0 });
    await controller.stop();
  });
});
