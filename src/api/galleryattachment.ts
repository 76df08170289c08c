import { Type, type Static } from '@sinclair/typebox';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import {
  Conditions,
  HYPERV_GENERATIONS,
  ImageDefinitionName,
  LastHandledReconcileAt,
  LocalObjectReference,
  OS_STATES,
  OS_TYPES,
  ObservedGeneration,
  StringEnum,
  immutable,
  validations,
} from './common.ts';
import { GALLERY_ATTACHMENT, type API_VERSION, type KindDefinition } from './group.ts';

export const ATTACHMENT_DELETION_POLICIES = ['Detach', 'Delete'] as const;
export const IMAGE_SOURCES = ['Export', 'External'] as const;

/** Azure's rule for gallery names: letters, digits, dots and underscores (no dashes), 1 to 80 characters. */
export const GALLERY_NAME_PATTERN = '^[A-Za-z0-9]([A-Za-z0-9._]{0,78}[A-Za-z0-9])?$';

export const GalleryAttachmentSpecSchema = Type.Object(
  {
    labAccountRef: LocalObjectReference(
      'LabAccount',
      'The LabAccount the gallery is attached to; an account holds at most one gallery. Immutable.',
      validations(immutable('spec.labAccountRef', 'an attachment belongs to one lab account; create a new attachment for another')),
    ),
    gallery: Type.Object(
      {
        name: Type.String({
          description: 'Azure Compute Gallery name: letters, digits, dots and underscores (no dashes), starting and ending with a letter or digit, at most 80 characters.',
          minLength: 1,
          maxLength: 80,
          pattern: GALLERY_NAME_PATTERN,
        }),
        resourceGroup: Type.Optional(
          Type.String({
            description: 'Resource group of the gallery. Unset: the lab account\'s spec.azure.resourceGroup.',
            minLength: 1,
            maxLength: 90,
            pattern: '^[-A-Za-z0-9_.()]{0,89}[-A-Za-z0-9_()]$',
          }),
        ),
        create: Type.Optional(
          Type.Boolean({
            description: 'true: create the gallery if it does not exist. false: the gallery must already exist and is adopted as it is.',
            default: true,
          }),
        ),
      },
      {
        description: 'The Azure Compute Gallery to attach. Its name and resource group are immutable; attach another gallery with a new attachment.',
        ...validations({
          rule:
            'self.name == oldSelf.name && has(self.resourceGroup) == has(oldSelf.resourceGroup) && ' +
            '(!has(self.resourceGroup) || self.resourceGroup == oldSelf.resourceGroup)',
          message: 'spec.gallery.name and spec.gallery.resourceGroup are immutable: create a new GalleryAttachment to attach another gallery',
          reason: 'FieldValueForbidden',
        }),
      },
    ),
    images: Type.Optional(
      Type.Object(
        {
          enableNew: Type.Optional(
            Type.Boolean({
              description: 'Whether images that appear in the gallery (exported or uploaded outside a lab) are offered to lab creators unless overridden.',
              default: true,
            }),
          ),
          overrides: Type.Optional(
            Type.Array(
              Type.Object(
                {
                  name: ImageDefinitionName('Name of the image definition in the gallery.'),
                  enabled: Type.Boolean({ description: 'Whether lab creators may use this image.' }),
                },
                { description: 'Enables or disables one image, whatever enableNew says.' },
              ),
              {
                description: 'Per-image choices, at most one per image name. A disabled image cannot be used by a LabTemplate.',
                maxItems: 1000,
                'x-kubernetes-list-type': 'map',
                'x-kubernetes-list-map-keys': ['name'],
              },
            ),
          ),
        },
        { description: 'Which of the gallery\'s images lab creators may use.', default: {} },
      ),
    ),
    deletionPolicy: Type.Optional(
      StringEnum(ATTACHMENT_DELETION_POLICIES, {
        description:
          'What deleting this attachment does: Detach (the gallery stays in Azure) or Delete (the gallery is deleted too, ' +
          'if this attachment created it, once the ImageExports of the account are gone, with the image definitions they made that ' +
          'hold no version; a gallery holding any other image stays).',
        default: 'Detach',
      }),
    ),
  },
  { description: 'Desired state of the gallery attachment.' },
);

export const GalleryAttachmentStatusSchema = Type.Object(
  {
    observedGeneration: Type.Optional(ObservedGeneration),
    lastHandledReconcileAt: Type.Optional(LastHandledReconcileAt),
    galleryId: Type.Optional(Type.String({ description: 'ARM resource id of the attached gallery.' })),
    images: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Type.String({ description: 'Image definition name.' }),
            osType: Type.Optional(StringEnum(OS_TYPES, { description: 'Windows or Linux.' })),
            osState: Type.Optional(StringEnum(OS_STATES, { description: 'Generalized or Specialized.' })),
            hyperVGeneration: Type.Optional(StringEnum(HYPERV_GENERATIONS, { description: 'V1 or V2.' })),
            enabled: Type.Optional(Type.Boolean({ description: 'Whether lab creators may use the image (spec.images).' })),
            latestVersion: Type.Optional(Type.String({ description: 'Highest version not excluded from latest.' })),
            regions: Type.Optional(
              Type.Array(Type.String({ description: 'A region.' }), {
                description: 'Regions where the latest version has finished replicating.',
                'x-kubernetes-list-type': 'set',
              }),
            ),
            source: Type.Optional(
              StringEnum(IMAGE_SOURCES, {
                description: 'Export (made by an ImageExport) or External (uploaded to the gallery outside any lab).',
              }),
            ),
          },
          { description: 'One image definition of the gallery.' },
        ),
        {
          description: 'The gallery\'s catalogue, refreshed every sync period.',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
        },
      ),
    ),
    conditions: Type.Optional(Conditions),
  },
  { description: 'Observed state of the gallery attachment, written by the operator.' },
);

export type GalleryAttachmentSpec = Static<typeof GalleryAttachmentSpecSchema>;
export type GalleryAttachmentStatus = Static<typeof GalleryAttachmentStatusSchema>;
export type GalleryImageStatus = NonNullable<GalleryAttachmentStatus['images']>[number];

export interface GalleryAttachment {
  apiVersion: typeof API_VERSION;
  kind: typeof GALLERY_ATTACHMENT.kind;
  metadata: V1ObjectMeta;
  spec: GalleryAttachmentSpec;
  status?: GalleryAttachmentStatus;
}

export const galleryAttachmentDefinition: KindDefinition = {
  names: GALLERY_ATTACHMENT,
  description:
    'A GalleryAttachment attaches one Azure Compute Gallery to a LabAccount (at most one per account; the oldest attachment wins) ' +
    'and chooses which of its images lab creators may use.',
  spec: GalleryAttachmentSpecSchema,
  status: GalleryAttachmentStatusSchema,
  printerColumns: [
    { name: 'Account', type: 'string', jsonPath: '.spec.labAccountRef.name', description: 'LabAccount the gallery is attached to.' },
    { name: 'Gallery', type: 'string', jsonPath: '.spec.gallery.name', description: 'Azure Compute Gallery name.' },
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: 'Status of the Ready condition.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    { name: 'Gallery-ID', type: 'string', jsonPath: '.status.galleryId', description: 'ARM id of the gallery.', priority: 1 },
  ],
};
