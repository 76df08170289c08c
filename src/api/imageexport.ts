import { Type, type Static } from '@sinclair/typebox';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import {
  ArmResourceId,
  Conditions,
  HYPERV_GENERATIONS,
  ImageDefinitionName,
  LastHandledReconcileAt,
  LocalObjectReference,
  OS_STATES,
  OS_TYPES,
  ObservedGeneration,
  Replication,
  StringEnum,
  VERSION_PATTERN,
  immutable,
  validations,
} from './common.ts';
import { IMAGE_EXPORT, type API_VERSION, type KindDefinition } from './group.ts';

export const EXPORT_DELETION_POLICIES = ['Delete', 'Retain'] as const;
/**
 * Retain: the operator cannot see every use of an image version (scale sets, VMs in subscriptions
 * the gallery is shared with, another operator's template that has no VM yet), so deleting it is
 * asked for, never assumed (README, Decisions).
 */
export const DEFAULT_EXPORT_DELETION_POLICY = 'Retain' satisfies (typeof EXPORT_DELETION_POLICIES)[number];
export const EXPORT_PHASES = ['Pending', 'Exporting', 'Replicating', 'Succeeded', 'PartiallySucceeded', 'Failed', 'Deleting'] as const;
/** The phases of an export still under way. */
export const RUNNING_EXPORT_PHASES = ['Pending', 'Exporting', 'Replicating'] as const satisfies readonly (typeof EXPORT_PHASES)[number][];
export const REGION_REPLICATION_STATES = ['Queued', 'Replicating', 'Completed', 'Failed'] as const;

export const ImageExportSpecSchema = Type.Object(
  {
    labAccountRef: LocalObjectReference(
      'LabAccount',
      'The LabAccount whose attached gallery receives the image. Immutable.',
      validations(immutable('spec.labAccountRef', 'an export belongs to one lab account; create a new export for another')),
    ),
    source: Type.Object(
      {
        labTemplateRef: Type.Optional(
          LocalObjectReference('LabTemplate', 'Export the template VM of this LabTemplate (a lab\'s saved template image).'),
        ),
        virtualMachineId: Type.Optional(
          ArmResourceId(
            'Export a virtual machine made outside any lab, by its ARM resource id.',
            'Microsoft[.]Compute/virtualMachines/[^/]+',
            'spec.source.virtualMachineId',
            '/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Compute/virtualMachines/<name>',
          ),
        ),
      },
      {
        description: 'The VM the image is made from: exactly one of labTemplateRef or virtualMachineId. Immutable.',
        ...validations(
          {
            rule: 'has(self.labTemplateRef) != has(self.virtualMachineId)',
            message: 'spec.source must set exactly one of labTemplateRef or virtualMachineId',
          },
          immutable('spec.source', 'an export makes one image version from one VM; create a new export for another source'),
        ),
      },
    ),
    image: Type.Object(
      {
        name: ImageDefinitionName(
          'Image definition in the gallery that receives the version (created if missing): letters, digits, ., _ and -, at most 80 characters.',
        ),
        osType: StringEnum(OS_TYPES, { description: 'Operating system of the source VM: Windows or Linux.' }),
        osState: Type.Optional(
          StringEnum(OS_STATES, {
            description: 'Generalized (sysprep/waagent deprovisioned) or Specialized (a copy that keeps accounts and machine identity, as a lab\'s saved template is).',
            default: 'Specialized',
          }),
        ),
        hyperVGeneration: Type.Optional(
          StringEnum(HYPERV_GENERATIONS, { description: 'Hyper-V generation of the source VM: V1 or V2.', default: 'V2' }),
        ),
      },
      {
        description: 'The gallery image definition the version goes into. Immutable.',
        ...validations(immutable('spec.image', 'the image version lives in one image definition; create a new export for another image')),
      },
    ),
    version: Type.Optional(
      Type.String({
        description:
          'Image version x.y.z. Empty or unset: the next patch version after the gallery\'s latest (1.0.0 for a new image), chosen by the operator ' +
          'and shown in status.version. Immutable once chosen.',
        maxLength: 32,
        pattern: `^(${VERSION_PATTERN.slice(1, -1)})?$`,
      }),
    ),
    replication: Type.Optional(
      Replication(
        'Where and how the version replicates; unset fields come from the lab account\'s spec.replication. May change later: regions are added to or removed from the existing version.',
        false,
      ),
    ),
    excludeFromLatest: Type.Optional(
      Type.Boolean({ description: 'If true, version `latest` of the image does not resolve to this version.', default: false }),
    ),
    endOfLifeDate: Type.Optional(
      Type.String({ description: 'When the version stops being offered (RFC 3339 date-time); informational in Azure.', format: 'date-time' }),
    ),
    deletionPolicy: Type.Optional(
      StringEnum(EXPORT_DELETION_POLICIES, {
        description:
          'What deleting the export does to its image version: Retain (kept in the gallery) or Delete (deleted once nothing uses it: no LabTemplate in ' +
          'a namespace the operator serves, no VM that Azure reports made from it). Retain by default: the operator cannot see every use of a version ' +
          '(scale sets, VMs in other subscriptions the gallery is shared with).',
        default: DEFAULT_EXPORT_DELETION_POLICY,
      }),
    ),
  },
  { description: 'Desired state of the image export.' },
);

export const ImageExportStatusSchema = Type.Object(
  {
    observedGeneration: Type.Optional(ObservedGeneration),
    lastHandledReconcileAt: Type.Optional(LastHandledReconcileAt),
    phase: Type.Optional(
      StringEnum(EXPORT_PHASES, {
        description:
          'Summary for people: Pending, Exporting, Replicating, Succeeded, PartiallySucceeded, Failed or Deleting. Tools should read conditions.',
      }),
    ),
    version: Type.Optional(
      Type.String({ description: 'The image version this export made (spec.version, or the one the operator chose).', maxLength: 32, pattern: VERSION_PATTERN }),
    ),
    imageVersionId: Type.Optional(Type.String({ description: 'ARM resource id of the image version.' })),
    progress: Type.Optional(
      Type.Integer({ description: 'Replication progress in percent over all target regions, weighted by replicas.', minimum: 0, maximum: 100 }),
    ),
    progressDisplay: Type.Optional(
      Type.String({
        description: 'status.progress as people read it, such as 57%: what kubectl get shows under PROGRESS (printer columns have no percent format). Tools read status.progress.',
        pattern: '^[0-9]{1,3}%$',
      }),
    ),
    regionsReady: Type.Optional(Type.String({ description: 'Completed regions over target regions, such as 2/4.' })),
    regions: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Type.String({ description: 'Region (programmatic name).' }),
            state: StringEnum(REGION_REPLICATION_STATES, { description: 'Queued, Replicating, Completed or Failed.' }),
            progress: Type.Optional(Type.Integer({ description: 'Replication progress in this region, in percent.', minimum: 0, maximum: 100 })),
            replicaCount: Type.Optional(Type.Integer({ description: 'Replicas in this region.', minimum: 1 })),
            message: Type.Optional(Type.String({ description: 'Why replication to this region failed, as Azure reported it.' })),
            attempts: Type.Optional(
              Type.Integer({ description: 'Retries of this region after a failed replication (at most the operator\'s --region-retries).', minimum: 0 }),
            ),
            nextAttemptTime: Type.Optional(
              Type.String({ description: 'When a failed region is added back to the version\'s target regions for its next attempt.', format: 'date-time' }),
            ),
          },
          { description: 'Replication of the version to one region.' },
        ),
        {
          description: 'Per-region replication state, from Azure\'s replicationStatus.',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
        },
      ),
    ),
    sizeGiB: Type.Optional(Type.Integer({ description: 'Size of the image (its OS disk) in GiB.', minimum: 0 })),
    dataDisks: Type.Optional(
      Type.Integer({ description: 'Data disk images of the version besides its OS disk (from a source VM with data disks); lab templates take only images without any.', minimum: 0 }),
    ),
    estimatedMonthlyCost: Type.Optional(
      Type.Object(
        {
          amount: Type.String({ description: 'Amount as a decimal string, such as 25.40.', pattern: '^[0-9]+([.][0-9]+)?$' }),
          currency: Type.String({ description: 'ISO 4217 currency code, such as USD.', pattern: '^[A-Z]{3}$' }),
        },
        { description: 'What the replicas cost per month: replicas x size x the price table in the operator\'s configuration.' },
      ),
    ),
    startTime: Type.Optional(Type.String({ description: 'When the export started.', format: 'date-time' })),
    completionTime: Type.Optional(Type.String({ description: 'When every target region finished (Succeeded or PartiallySucceeded).', format: 'date-time' })),
    conditions: Type.Optional(Conditions),
  },
  { description: 'Observed state of the image export, written by the operator.' },
);

export type ImageExportSpec = Static<typeof ImageExportSpecSchema>;
export type ImageExportStatus = Static<typeof ImageExportStatusSchema>;
export type ImageExportPhase = (typeof EXPORT_PHASES)[number];
export type RegionReplicationStatus = NonNullable<ImageExportStatus['regions']>[number];

export interface ImageExport {
  apiVersion: typeof API_VERSION;
  kind: typeof IMAGE_EXPORT.kind;
  metadata: V1ObjectMeta;
  spec: ImageExportSpec;
  status?: ImageExportStatus;
}

export const imageExportDefinition: KindDefinition = {
  names: IMAGE_EXPORT,
  description:
    'An ImageExport makes one image version in the lab account\'s gallery from a VM (a lab\'s template VM or any VM) ' +
    'and replicates it to the regions of the account\'s geography.',
  spec: ImageExportSpecSchema,
  status: ImageExportStatusSchema,
  // On the root because the rule must see status.version, the version the operator already chose.
  rules: [
    {
      rule:
        "has(oldSelf.spec.version) && oldSelf.spec.version != '' " +
        '? (has(self.spec.version) && self.spec.version == oldSelf.spec.version) ' +
        ": (!has(self.spec.version) || self.spec.version == '' || !has(oldSelf.status) || !has(oldSelf.status.version) " +
        '|| self.spec.version == oldSelf.status.version)',
      message: 'spec.version is immutable once chosen: it cannot change once set, nor differ from the version the operator chose (status.version)',
      fieldPath: '.spec.version',
      reason: 'FieldValueForbidden',
    },
  ],
  printerColumns: [
    { name: 'Image', type: 'string', jsonPath: '.spec.image.name', description: 'Image definition in the gallery.' },
    { name: 'Version', type: 'string', jsonPath: '.status.version', description: 'Image version made by this export.' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Where the export is.' },
    { name: 'Progress', type: 'string', jsonPath: '.status.progressDisplay', description: 'Replication progress over all target regions, such as 57%.' },
    { name: 'Regions', type: 'string', jsonPath: '.status.regionsReady', description: 'Completed regions over target regions.' },
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: 'Status of the Ready condition.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    { name: 'Account', type: 'string', jsonPath: '.spec.labAccountRef.name', description: 'LabAccount of the gallery.', priority: 1 },
  ],
};
