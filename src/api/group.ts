// Names of the API group and its kinds: what controllers need to address the resources, and the
// shape of a kind's definition (each kind's module gives one; crd.ts renders them). Imports only
// types from common.ts, so that no module of src/api imports one that imports it back.
import type { TSchema } from '@sinclair/typebox';
import type { ValidationRule } from './common.ts';

export const GROUP = 'labimages.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
/** `kubectl get labimages` lists every kind of this group. */
export const CATEGORY = 'labimages';

export interface KindNames {
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: readonly string[];
}

export const LAB_ACCOUNT = {
  kind: 'LabAccount',
  listKind: 'LabAccountList',
  plural: 'labaccounts',
  singular: 'labaccount',
  shortNames: ['lacct'],
} as const satisfies KindNames;

export const GALLERY_ATTACHMENT = {
  kind: 'GalleryAttachment',
  listKind: 'GalleryAttachmentList',
  plural: 'galleryattachments',
  singular: 'galleryattachment',
  shortNames: ['gattach'],
} as const satisfies KindNames;

export const IMAGE_EXPORT = {
  kind: 'ImageExport',
  listKind: 'ImageExportList',
  plural: 'imageexports',
  singular: 'imageexport',
  shortNames: ['imgexp'],
} as const satisfies KindNames;

export const LAB_TEMPLATE = {
  kind: 'LabTemplate',
  listKind: 'LabTemplateList',
  plural: 'labtemplates',
  singular: 'labtemplate',
  shortNames: ['labtmpl'],
} as const satisfies KindNames;

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  /** 0 (default): always shown; 1: shown with `-o wide`. */
  priority?: number;
}

/** Everything that makes one kind's CRD. */
export interface KindDefinition {
  names: KindNames;
  description: string;
  spec: TSchema;
  status: TSchema;
  /** Rules on the whole object, for those that need both spec and status. */
  rules?: ValidationRule[];
  printerColumns: PrinterColumn[];
}

/** Where a kind is served: the shape the runtime's informers and clients take. */
export interface ServedResource {
  group: typeof GROUP;
  version: typeof VERSION;
  plural: string;
  kind: string;
}

function served(names: KindNames): ServedResource {
  return { group: GROUP, version: VERSION, plural: names.plural, kind: names.kind };
}

/** Each kind's served resource, by kind name. */
export const RESOURCES = {
  [LAB_ACCOUNT.kind]: served(LAB_ACCOUNT),
  [GALLERY_ATTACHMENT.kind]: served(GALLERY_ATTACHMENT),
  [IMAGE_EXPORT.kind]: served(IMAGE_EXPORT),
  [LAB_TEMPLATE.kind]: served(LAB_TEMPLATE),
} as const;

/** The CRD name of a kind: `<plural>.<group>`. */
export function crdName(names: KindNames): string {
  return `${names.plural}.${GROUP}`;
}

/** Condition types the kinds use; Ready, Reconciling and Stalled are on every kind (kstatus). */
export const CONDITION_TYPES = {
  Ready: 'Ready',
  Reconciling: 'Reconciling',
  Stalled: 'Stalled',
  /** ImageExport: the image version exists in the gallery. */
  Exported: 'Exported',
  /** ImageExport: every target region has finished replicating. */
  Replicated: 'Replicated',
  /** ImageExport: deletion waits for what still uses the export; LabAccount: for its attachments, exports and templates. */
  DeletionBlocked: 'DeletionBlocked',
  /** LabTemplate: spec.image resolved to one gallery image version. */
  ImageResolved: 'ImageResolved',
  /** LabTemplate: that version's replica in the template's region is Completed. */
  ImageAvailable: 'ImageAvailable',
} as const;
export type ConditionType = (typeof CONDITION_TYPES)[keyof typeof CONDITION_TYPES];
