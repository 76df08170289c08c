// The floor the operator is measured against: what a minimal controller with no logic and no ARM
// would do for the same exports, replayed with the operator's own client and helpers. Two floors:
// the status writes alone, and every write the operator made (finalizer, status, Events).
import { RESOURCES, type ImageExport } from '../src/api/index.ts';
import { IMAGE_EXPORT_FINALIZER } from '../src/controllers/imageexport/reconciler.ts';
import { EVENTS, EventRecorder, addFinalizer, patchStatus, type EventType, type ObjectClient } from '../src/runtime/index.ts';
import { createLogger } from '../src/log.ts';
import type { KubeConfig } from '@kubernetes/client-node';
import { ReadyWatch, pipeline } from './workload.ts';

/** An Event the operator recorded about an export, as a recorder is given it. */
export interface RecordedEvent {
  type: EventType;
  reason: string;
  note: string;
  action: string;
}

/** What the operator wrote for one export, in order: the statuses a watch saw, then its Events. */
export interface ExportWrites {
  statuses: NonNullable<ImageExport['status']>[];
  events: RecordedEvent[];
}

export type WritePlan = Map<string, ExportWrites>;

/** A ReadyWatch callback that notes every distinct status each export went through. */
export function statusRecorder(plan: WritePlan): (e: ImageExport) => void {
  return (e) => {
    const writes = entry(plan, e.metadata.name ?? '');
    const last = writes.statuses.at(-1);
    if (e.status && e.status.observedGeneration !== -1 && JSON.stringify(last) !== JSON.stringify(e.status)) writes.statuses.push(e.status);
  };
}

/** Adds to `plan` the Events the operator recorded about exports in `namespace` (events.k8s.io/v1). */
export async function recordEvents(client: ObjectClient, namespace: string, plan: WritePlan): Promise<void> {
  interface EventObject {
    regarding?: { kind?: string; name?: string };
    type?: string;
    reason?: string;
    note?: string;
    action?: string;
    eventTime?: string;
  }
  const events: EventObject[] = [];
  let cont: string | undefined;
  do {
    const page = await client.list<EventObject & { metadata?: object }>(EVENTS, namespace, { limit: 500, continue: cont });
    events.push(...page.items);
    cont = page.metadata.continue || undefined;
  } while (cont);
  events.sort((a, b) => (a.eventTime ?? '').localeCompare(b.eventTime ?? ''));
  for (const e of events) {
    if (e.regarding?.kind !== 'ImageExport' || !e.regarding.name) continue;
    entry(plan, e.regarding.name).events.push({ type: e.type === 'Warning' ? 'Warning' : 'Normal', reason: e.reason ?? '', note: e.note ?? '', action: e.action ?? 'Reconcile' });
  }
}

function entry(plan: WritePlan, name: string): ExportWrites {
  let writes = plan.get(name);
  if (!writes) plan.set(name, (writes = { statuses: [], events: [] }));
  return writes;
}

export interface FloorOptions {
  kc: KubeConfig;
  client: ObjectClient;
  namespace: string;
  /** The export of each name, as the operator's run created it (but in the floor's namespace). */
  manifest(name: string): ImageExport;
  plan: WritePlan;
  /** Objects created at once, as the operator's run created them. */
  createConcurrency: number;
  /** Objects whose writes are replayed at once (each object's writes in order). */
  concurrency: number;
  /** `status`: only the status writes; `all`: the finalizer, the statuses and the Events too. */
  writes: 'status' | 'all';
}

/**
 * Creates the exports and replays their writes as they are created, timed as the operator's run
 * is: from the first create until a watch (doing the same work per event) has seen every one Ready.
 */
export async function measureFloor(options: FloorOptions): Promise<{ seconds: number; writes: number }> {
  const { client, namespace, plan } = options;
  const names = [...plan.keys()];
  const recorder = new EventRecorder(client.rest, { reportingController: 'labimages.io/imageexport-controller', reportingInstance: 'bench-floor', log: createLogger('warn') });
  let writes = 0;
  const watch = new ReadyWatch(options.kc, client, namespace, () => undefined);
  await watch.start();
  const started = performance.now();
  await pipeline(
    names,
    options.createConcurrency,
    async (name) => await client.create(RESOURCES.ImageExport, options.manifest(name)),
    options.concurrency,
    async (created) => {
      const own = plan.get(created.metadata.name ?? '') as ExportWrites;
      let current = created;
      if (options.writes === 'all') {
        current = (await addFinalizer(client, RESOURCES.ImageExport, current, IMAGE_EXPORT_FINALIZER)) ?? current;
        writes += 1;
      }
      for (const status of own.statuses) {
        const written = await patchStatus(client, RESOURCES.ImageExport, current, status);
        if (written) {
          current = written;
          writes += 1;
        }
      }
      if (options.writes === 'all') {
        for (const e of own.events) recorder.event(current, e.type, e.reason, e.note, e.action);
        writes += own.events.length;
      }
    },
  );
  await watch.untilReady(names.length);
  const seconds = (performance.now() - started) / 1000;
  watch.stop();
  await recorder.close();
  return { seconds, writes };
}
