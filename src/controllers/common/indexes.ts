// Every informer index a controller reads, by kind, in one place: the controllers register them
// on the shared informers, and unit tests build their caches with the same ones.
import type { GalleryAttachment, ImageExport, LabTemplate } from '../../api/index.ts';
import { objectKey, type IndexFunc } from '../../runtime/index.ts';

/** Exports, attachments and templates by `namespace/spec.labAccountRef.name`. */
export const BY_ACCOUNT = 'labimages.io/by-account';
/** Exports by `namespace/spec.source.labTemplateRef.name`. */
export const BY_SOURCE_TEMPLATE = 'labimages.io/by-source-template';
/** Exports by image definition name (lower case), to see the versions other exports of an image claim. */
export const BY_IMAGE = 'labimages.io/by-image';
/** Exports still at work (not Succeeded, PartiallySucceeded or Failed at their generation, or being deleted) by `namespace/spec.labAccountRef.name`. */
export const UNSETTLED_BY_ACCOUNT = 'labimages.io/unsettled-by-account';
/** Exports being deleted, all under one value (BEING_DELETED): what a template going away may unblock. */
export const DELETING = 'labimages.io/deleting';
export const BEING_DELETED = 'deleting';
/** Templates by `namespace/spec.image.imageExportRef.name`. */
export const BY_EXPORT = 'labimages.io/by-export';

type Indexes<T> = Record<string, IndexFunc<T>>;

function byAccount(obj: { metadata?: { namespace?: string }; spec?: { labAccountRef?: { name?: string } } }): string[] {
  const name = obj.spec?.labAccountRef?.name;
  return name ? [objectKey(obj.metadata?.namespace, name)] : [];
}

const SETTLED_PHASES = new Set<string | undefined>(['Succeeded', 'PartiallySucceeded', 'Failed']);

function settled(e: ImageExport): boolean {
  return SETTLED_PHASES.has(e.status?.phase) && e.status?.observedGeneration === e.metadata?.generation && !e.metadata?.deletionTimestamp;
}

export const EXPORT_INDEXES: Indexes<ImageExport> = {
  [BY_ACCOUNT]: byAccount,
  [UNSETTLED_BY_ACCOUNT]: (e) => (settled(e) ? [] : byAccount(e)),
  [BY_SOURCE_TEMPLATE]: (e) => (e.spec?.source?.labTemplateRef ? [objectKey(e.metadata?.namespace, e.spec.source.labTemplateRef.name)] : []),
  [BY_IMAGE]: (e) => (e.spec?.image?.name ? [e.spec.image.name.toLowerCase()] : []),
  [DELETING]: (e) => (e.metadata?.deletionTimestamp ? [BEING_DELETED] : []),
};

export const ATTACHMENT_INDEXES: Indexes<GalleryAttachment> = { [BY_ACCOUNT]: byAccount };

export const TEMPLATE_INDEXES: Indexes<LabTemplate> = {
  [BY_ACCOUNT]: byAccount,
  [BY_EXPORT]: (t) => (t.spec?.image?.imageExportRef ? [objectKey(t.metadata?.namespace, t.spec.image.imageExportRef.name)] : []),
};

/** Registers `indexes` on an informer (or a test's store); registering one twice is harmless. */
export function addIndexes<T>(target: { addIndex(name: string, fn: IndexFunc<T>): void }, indexes: Indexes<T>): void {
  for (const [name, fn] of Object.entries(indexes)) target.addIndex(name, fn);
}
