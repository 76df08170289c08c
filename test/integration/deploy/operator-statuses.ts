// Every status the operator can write, computed as the operator computes it: each kind's real
// computeStatus (src/controllers/<kind>/status.ts), given every way a pass of its reconciler can
// end (every phase, every Stalled reason of src/controllers/common/stalled.ts, ARM's refusals,
// deletion, a transient failure that is retried) through the real result finalizer, on top of
// every status an earlier pass can have left. docs/health.md's table is held to what these
// objects are; nothing here writes a condition by hand.
import { API_VERSION, EXPORT_PHASES, TEMPLATE_PHASES, type GalleryAttachment, type ImageExport, type LabAccount, type LabTemplate } from '../../../src/api/index.ts';
import { ArmError, TEMPLATE_UID_TAG, type VirtualMachineObservation } from '../../../src/azure/index.ts';
import { RELEASED, progressing, ready, retrying, stalled, type Outcome } from '../../../src/controllers/common/outcome.ts';
import { finalizeResult, type Ending } from '../../../src/controllers/common/result.ts';
import { STALLED_REASONS, StalledError, type StalledReason } from '../../../src/controllers/common/stalled.ts';
import { computeStatus as attachmentStatus, type AttachmentFound } from '../../../src/controllers/galleryattachment/status.ts';
import { computeStatus as exportStatus, deletingVersion, deletionBlocked, versionOutcome, type ExportFound, type VersionFacts } from '../../../src/controllers/imageexport/status.ts';
import { computeStatus as accountStatus, type AccountFound } from '../../../src/controllers/labaccount/status.ts';
import { conditionOf, pending, reportVm } from '../../../src/controllers/labtemplate/reconciler.ts';
import { exportAvailability } from '../../../src/controllers/labtemplate/rules.ts';
import { computeStatus as templateStatus, type TemplateFound } from '../../../src/controllers/labtemplate/status.ts';
import { defaultPriceTable } from '../../../src/pricing/price-table.ts';

export const KINDS = ['LabAccount', 'GalleryAttachment', 'ImageExport', 'LabTemplate'] as const;
export type Kind = (typeof KINDS)[number];

/** The phases a kind's status.phase may hold, as its API declares them; LabAccount and GalleryAttachment have none. */
export const PHASES: Record<Kind, readonly string[]> = { LabAccount: [], GalleryAttachment: [], ImageExport: EXPORT_PHASES, LabTemplate: TEMPLATE_PHASES };

/** An object as JSON has it (times as strings). */
export interface Obj {
  apiVersion: string;
  kind: Kind;
  metadata: { name: string; namespace: string; uid: string; generation: number; deletionTimestamp?: string; finalizers?: string[] };
  spec: object;
  status?: { phase?: string; observedGeneration?: number; conditions?: readonly object[] };
}

/** An object as the API server would hold it after the operator wrote its status, and how it got there. */
export interface WrittenObject {
  kind: Kind;
  /** The passes that led here, for a failure's message. */
  how: string;
  object: Obj;
}

/** One way a pass can end: an Outcome returned, RELEASED, or an error thrown. */
interface PassEnd {
  how: string;
  ending: Ending<unknown>;
  /** A pass over an object being deleted. */
  deletion?: true;
  /** The object's age at the pass; absent: long since created. */
  ageMs?: number;
}

const NOW = new Date('2026-01-01T00:00:00Z');
const GENERATION = 2;
const VM_ID = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/labtmpl-t1-uid';
const VERSION_ID = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0';

const returned = (how: string, outcome: Outcome<unknown>, deletion?: true): PassEnd => ({ how, ending: { outcome }, ...(deletion ? { deletion } : {}) });
const thrown = (how: string, error: unknown, deletion?: true): PassEnd => ({ how, ending: { error }, ...(deletion ? { deletion } : {}) });

/** What any pass of any kind may throw: every Stalled reason, ARM refusing (terminally, the credentials), and a transient ARM failure. */
function failures(deletion?: true): PassEnd[] {
  const reasons = Object.keys(STALLED_REASONS) as StalledReason[];
  const secrets = reasons.filter((reason) => STALLED_REASONS[reason] === 'secret');
  return [
    ...reasons.map((reason) => thrown(`StalledError ${reason}`, new StalledError(reason, `only a person can fix ${reason}`), deletion)),
    // A Secret that a sync creates alongside the object, a moment after it.
    ...secrets.map((reason) => ({ ...thrown(`StalledError ${reason} a second after the object was created`, new StalledError(reason, `create it: ${reason}`), deletion), ageMs: 1000 })),
    thrown('ARM refuses (400 InvalidParameter)', new ArmError({ code: 'InvalidParameter', message: 'bad', statusCode: 400, retryable: false }), deletion),
    thrown('ARM refuses the credentials (403)', new ArmError({ code: 'AuthorizationFailed', message: 'no', statusCode: 403, retryable: false }), deletion),
    thrown('ARM fails transiently (500), retried', new ArmError({ code: 'InternalServerError', message: 'later', statusCode: 500, retryable: true }), deletion),
    thrown('ARM throttles (429 with Retry-After), retried', new ArmError({ code: 'TooManyRequests', message: 'later', statusCode: 429, retryable: true, retryAfterMs: 1000 }), deletion),
  ];
}

const released = (): PassEnd => ({ how: 'the finalizer goes', ending: { outcome: RELEASED }, deletion: true });

function accountEnds(): PassEnd[] {
  return [
    returned('credentials accepted', ready('AccountReady', 'westeurope is in geography Europe')),
    ...failures(),
    returned('its dependents are still there', retrying<AccountFound>('InUse', 'waiting for ImageExport e1', { found: { blockedBy: ['ImageExport e1'] } }), true),
    released(),
    ...failures(true),
  ];
}

function attachmentEnds(): PassEnd[] {
  const galleryId = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g';
  return [
    returned('attached', ready('GalleryAttached', 'attached', { found: { galleryId, images: [] } })),
    ...['AccountNotFound', 'AccountNotReady', 'CreatingGallery', 'GalleryDeleting'].map((reason) => returned(`waiting ${reason}`, progressing(reason, reason, { found: {} }))),
    returned('gallery provisioning', progressing('GalleryProvisioning', 'Creating', { found: { galleryId } })),
    returned('another attachment holds the account', stalled('AccountAlreadyAttached', 'delete one', {})),
    returned('the gallery failed', stalled('GalleryFailed', 'look at it', { galleryId })),
    ...failures(),
    returned('waiting for the account\'s exports to go', progressing('WaitingForExports', 'waiting', { found: {} }), true),
    returned('deleting its gallery', progressing('DeletingGallery', 'deleting', { requeueAfter: 1000 }), true),
    released(),
    ...failures(true),
  ];
}

function exportEnds(): PassEnd[] {
  const regions = (states: ('Queued' | 'Replicating' | 'Completed' | 'Failed')[]): VersionFacts['regions'] =>
    states.map((state, i) => ({ name: `region${i}`, state, progress: state === 'Completed' ? 100 : 40, replicaCount: 1, ...(state === 'Failed' ? { attempts: 3 } : {}) }));
  const facts = (exported: boolean, states: Parameters<typeof regions>[0]): VersionFacts => ({
    version: '1.0.0',
    imageVersionId: VERSION_ID,
    targets: states.map((_, i) => ({ name: `region${i}`, replicaCount: 1, storageAccountType: 'Standard_LRS' })),
    regions: regions(states),
    sizeGiB: 30,
    exported,
  });
  const version = (how: string, f: VersionFacts) => returned(how, versionOutcome(f, 1000));
  return [
    ...['AccountNotReady', 'NoGalleryAttached', 'SourceNotReady', 'CreatingImageDefinition'].map((reason) => returned(`waiting ${reason}`, progressing(reason, reason))),
    version('creating the version', facts(false, ['Queued', 'Queued'])),
    version('replicating', facts(true, ['Completed', 'Replicating'])),
    version('a failed region waits for its retry', facts(true, ['Completed', 'Queued'])),
    version('replicated everywhere', facts(true, ['Completed', 'Completed'])),
    version('a region failed after every retry', facts(true, ['Completed', 'Failed'])),
    version('every region failed', facts(true, ['Failed', 'Failed'])),
    ...(['ExportFailed', 'SourceMissing', 'ImageDefinitionMismatch'] as const).map((reason) => returned(`stalled ${reason}`, stalled<ExportFound>(reason, reason))),
    ...failures(),
    returned('templates still use it', deletionBlocked(['t1', 't2']), true),
    returned('deleting its version', deletingVersion('1.0.0', 1000), true),
    released(),
    ...failures(true),
  ];
}

function templateEnds(template: LabTemplate): PassEnd[] {
  const vm = (provisioningState: string, uid = template.metadata.uid ?? ''): VirtualMachineObservation => ({
    id: VM_ID,
    name: 'labtmpl-t1-uid',
    location: 'westeurope',
    provisioningState,
    image: {},
    powerState: 'running',
    tags: { [TEMPLATE_UID_TAG]: uid },
  });
  const image = { versionId: VERSION_ID, version: '1.0.0', osState: 'Specialized' as const };
  const imageResolved = { status: 'True' as const, reason: 'Resolved', message: 'ImageExport e1: version 1.0.0' };
  const imageAvailable = { status: 'True' as const, reason: 'ReplicaCompleted', message: 'the image is available in westeurope' };
  // An export as a template reads it: replicating, done, done short of westeurope, or without westeurope at all.
  const exportIn = (phase: 'Replicating' | 'Succeeded' | 'PartiallySucceeded', state: 'Replicating' | 'Failed' | undefined): ImageExport => ({
    apiVersion: API_VERSION,
    kind: 'ImageExport',
    metadata: { name: 'e1', namespace: 'labs' },
    spec: { labAccountRef: { name: 'cs' }, source: { labTemplateRef: { name: 'src' } }, image: { name: 'i', osType: 'Linux' } },
    status: { phase, version: '1.0.0', imageVersionId: VERSION_ID, regions: state ? [{ name: 'westeurope', state, progress: 40 }] : [] },
  });
  // As the reconciler's provisioning step wraps what the image's availability says.
  const availability = (imageExport: ImageExport): PassEnd => {
    const outcome = exportAvailability(imageExport, 'westeurope');
    if (!outcome) throw new Error('the export is available: no outcome');
    const waiting = outcome.state !== 'stalled';
    const found: TemplateFound = { ...(waiting ? { phase: 'WaitingForImage' } : {}), image, imageResolved, imageAvailable: conditionOf(outcome) };
    return returned(`image ${outcome.reason}`, { ...outcome, found });
  };
  const withImage = (outcome: Outcome<TemplateFound>): Outcome<unknown> => ({ ...outcome, found: { ...outcome.found, image, imageResolved, imageAvailable } });
  return [
    returned('waiting for its account', pending(progressing('LabAccountNotFound', 'no account'))),
    returned('its account is Stalled', pending(stalled('LabAccountNotReady', 'account stalled'))),
    returned('outside the geography', pending(stalled('LocationOutsideGeography', 'choose a region'))),
    ...[progressing<TemplateFound>('ImageExportNotFound', 'no export'), stalled<TemplateFound>('ImageExportDeleting', 'choose another')].map((resolution) =>
      returned(`image unresolved: ${resolution.reason}`, pending(resolution, { imageResolved: conditionOf(resolution) })),
    ),
    returned('the rules refuse the image', { ...stalled<TemplateFound>('ImageDisabled', 'enable it'), found: { image, imageResolved } }),
    availability(exportIn('Replicating', 'Replicating')),
    availability(exportIn('PartiallySucceeded', 'Failed')),
    availability(exportIn('Succeeded', undefined)),
    returned('creating its VM', progressing<TemplateFound>('Provisioning', 'creating', { found: { phase: 'Provisioning', image, imageResolved, imageAvailable, vm: { id: VM_ID, provisioningState: 'Creating' } } })),
    ...['Succeeded', 'Creating', 'Failed'].flatMap((state) => [
      returned(`its VM is ${state}`, reportVm(template, vm(state))),
      returned(`its VM is ${state}, the image just made available`, withImage(reportVm(template, vm(state)))),
    ]),
    returned('a VM of its name is not its own', reportVm(template, vm('Succeeded', 'someone-else'))),
    ...failures(),
    returned('deleting its VM', progressing<TemplateFound>('Deleting', 'deleting', { found: { vm: { id: VM_ID, provisioningState: 'Deleting' } }, requeueAfter: 5000 }), true),
    released(),
    ...failures(true),
  ];
}

const metadata = (name: string) => ({ name, namespace: 'labs', uid: `uid-${name}`, generation: GENERATION });

/** A fresh object of each kind, as it is created, before the operator has written anything. */
function freshObjects(): Record<Kind, Obj> {
  const object = (kind: Kind, name: string, spec: object): Obj => ({ apiVersion: API_VERSION, kind, metadata: metadata(name), spec });
  return {
    LabAccount: object('LabAccount', 'cs', { location: 'westeurope' } satisfies LabAccount['spec']),
    GalleryAttachment: object('GalleryAttachment', 'shared', { labAccountRef: { name: 'cs' }, gallery: { name: 'g' } } satisfies GalleryAttachment['spec']),
    ImageExport: object('ImageExport', 'e1', { labAccountRef: { name: 'cs' }, source: { labTemplateRef: { name: 't0' } }, image: { name: 'i', osType: 'Linux' } } satisfies ImageExport['spec']),
    LabTemplate: object('LabTemplate', 't1', { labAccountRef: { name: 'cs' }, image: { imageExportRef: { name: 'e1' } } } satisfies LabTemplate['spec']),
  };
}

type StatusOf = (obj: Obj, outcome: Outcome<unknown>) => object;

// The objects are JSON; each computeStatus takes its kind's type.
const computeStatusOf: Record<Kind, StatusOf> = {
  LabAccount: (obj, outcome) => accountStatus(obj as unknown as LabAccount, undefined, outcome as Outcome<AccountFound>, NOW),
  GalleryAttachment: (obj, outcome) => attachmentStatus(obj as unknown as GalleryAttachment, outcome as Outcome<AttachmentFound>, NOW),
  ImageExport: (obj, outcome) => exportStatus((obj as unknown as ImageExport).status, obj.metadata.generation, outcome as Outcome<ExportFound>, defaultPriceTable, NOW),
  LabTemplate: (obj, outcome) => templateStatus(obj as unknown as LabTemplate, outcome as Outcome<TemplateFound>, NOW, []),
};

function passEnds(kind: Kind, fresh: Obj): PassEnd[] {
  switch (kind) {
    case 'LabAccount':
      return accountEnds();
    case 'GalleryAttachment':
      return attachmentEnds();
    case 'ImageExport':
      return exportEnds();
    case 'LabTemplate':
      return templateEnds(fresh as unknown as LabTemplate);
  }
}

/** What the next pass depends on: the phase, each condition's status and reason, and what the version or VM status keeps. */
function stateKey(obj: Obj): string {
  const status = obj.status as (Obj['status'] & { version?: string; vm?: object }) | undefined;
  const conditions = (status?.conditions ?? []) as { type: string; status: string }[];
  return JSON.stringify([
    Boolean(obj.metadata.deletionTimestamp),
    status?.phase,
    Boolean(status?.version),
    Boolean(status?.vm),
    conditions.map((c) => `${c.type}=${c.status}`).sort(),
  ]);
}

const deleting = (obj: Obj): Obj => ({ ...obj, metadata: { ...obj.metadata, deletionTimestamp: '2026-01-01T00:01:00Z', finalizers: ['labimages.io/finalizer'] } });

/**
 * Every status the kind's passes write, from a fresh object on: each pass end applied to each
 * distinct state reached so far (a breadth-first closure, so any order of passes is covered; the
 * key keeps the closure finite), plus the same objects as a user or the API server changes them
 * under the operator: deleted before a deletion pass ran, and a spec changed since (the
 * generation moved).
 */
function writtenObjects(kind: Kind): WrittenObject[] {
  const fresh = freshObjects()[kind];
  const ends = passEnds(kind, fresh);
  const seen = new Map<string, WrittenObject>([[stateKey(fresh), { kind, how: 'created', object: fresh }]]);
  const written = new Map<string, WrittenObject>();
  const queue = [...seen.values()];
  for (let next = queue.shift(); next; next = queue.shift()) {
    const from = next;
    for (const end of ends) {
      const base = end.deletion ? (from.object.metadata.deletionTimestamp ? from.object : deleting(from.object)) : from.object;
      if (!end.deletion && base.metadata.deletionTimestamp) continue;
      const settled = finalizeResult(end.ending, { stalledRecheckMs: 30_000, aborted: false, ...(end.ageMs === undefined ? {} : { ageMs: end.ageMs }) });
      if (settled.rethrow !== undefined) throw new Error(`${kind}: ${end.how} is not a pass end the result finalizer judges`);
      // Released: the object goes. A transient failure: status stays as the last pass left it.
      if (settled.released || !settled.outcome) continue;
      const object: Obj = { ...base, status: computeStatusOf[kind](base, settled.outcome) };
      const how = `${from.how} → ${end.how}`;
      written.set(JSON.stringify(object), { kind, how, object });
      const key = stateKey(object);
      if (!seen.has(key)) {
        const reached = { kind, how, object };
        seen.set(key, reached);
        queue.push(reached);
      }
    }
  }
  const statuses = [...written.values()];
  const unseen = { kind, how: 'created, not seen yet (observedGeneration -1, the schema default)', object: { ...fresh, status: { observedGeneration: -1 } } };
  const stale = statuses.map((w) => ({ kind, how: `${w.how} → spec changed`, object: { ...w.object, metadata: { ...w.object.metadata, generation: GENERATION + 1 } } }));
  const deleted = statuses.filter((w) => !w.object.metadata.deletionTimestamp).map((w) => ({ kind, how: `${w.how} → deleted`, object: deleting(w.object) }));
  return [unseen, ...statuses, ...stale, ...deleted];
}

/** Every object of every kind the operator can leave behind. */
export function everyWrittenObject(): WrittenObject[] {
  return KINDS.flatMap(writtenObjects);
}
