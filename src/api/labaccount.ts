import { Type, type Static } from '@sinclair/typebox';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { Conditions, LocalObjectReference, ObservedGeneration, Region, Replication, StringEnum, immutable, validations } from './common.ts';
import { LAB_ACCOUNT, type API_VERSION, type KindDefinition } from './group.ts';

export const PROVIDERS = ['Simulated', 'Azure'] as const;
/** Why a region of the geography is not a default replication target. */
export const REGION_EXCLUSIONS = ['RestrictedAccess', 'ComingSoon'] as const;

export const LabAccountSpecSchema = Type.Object(
  {
    location: Region(
      'Azure region of the lab account, as a programmatic name (westeurope). Its geography bounds where images replicate. Immutable.',
      validations(immutable('spec.location', 'a lab account cannot move; create a new account in the other region')),
    ),
    provider: Type.Optional(
      StringEnum(PROVIDERS, {
        description:
          'Where galleries live: Simulated (the operator\'s ARM emulator, no Azure subscription needed) or Azure (real Azure Resource Manager; needs spec.azure).',
        default: 'Simulated',
      }),
    ),
    azure: Type.Optional(
      Type.Object(
        {
          subscriptionId: Type.String({
            description: 'Azure subscription id (a GUID) that holds the gallery.',
            maxLength: 36,
            pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
          }),
          resourceGroup: Type.String({
            description: 'Resource group of the gallery and the template VMs, unless a GalleryAttachment names another.',
            minLength: 1,
            maxLength: 90,
            pattern: '^[-A-Za-z0-9_.()]{0,89}[-A-Za-z0-9_()]$',
          }),
          credentials: Type.Optional(
            Type.Object(
              {
                secretRef: Type.Optional(
                  LocalObjectReference(
                    'Secret',
                    'A Secret in the same namespace with a service principal\'s AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET. ' +
                      'The operator reads it when needed and never logs or copies it.',
                  ),
                ),
              },
              {
                description:
                  'How the operator authenticates to Azure for this account. Unset: the operator\'s own identity (workload identity or DefaultAzureCredential).',
              },
            ),
          ),
        },
        { description: 'Azure subscription and resource group of this account. Required when spec.provider is Azure.' },
      ),
    ),
    replication: Type.Optional(
      Replication('Replication defaults for this account\'s image exports; each ImageExport may override them.', true),
    ),
  },
  {
    description: 'Desired state of the lab account.',
    ...validations({
      rule: "self.provider != 'Azure' || has(self.azure)",
      message: 'spec.azure (subscriptionId, resourceGroup) is required when spec.provider is Azure',
      fieldPath: '.azure',
      reason: 'FieldValueRequired',
    }),
  },
);

export const LabAccountStatusSchema = Type.Object(
  {
    observedGeneration: Type.Optional(ObservedGeneration),
    geography: Type.Optional(
      Type.String({ description: 'Azure data-residency geography of spec.location (Europe, United States, France ...).' }),
    ),
    regions: Type.Optional(
      Type.Array(Type.String({ description: 'A region of the geography.' }), {
        description: 'Every region of the geography: where this account\'s images can replicate.',
        'x-kubernetes-list-type': 'set',
      }),
    ),
    availableRegions: Type.Optional(
      Type.Array(Type.String({ description: 'An available region of the geography.' }), {
        description:
          'The regions of the geography open to every subscription, and spec.location: where images replicate when spec.replication.regions is empty.',
        'x-kubernetes-list-type': 'set',
      }),
    ),
    excludedRegions: Type.Optional(
      Type.Array(
        Type.Object({
          name: Type.String({ description: 'The region.' }),
          reason: StringEnum(REGION_EXCLUSIONS, {
            description: 'RestrictedAccess: Azure opens it only to subscriptions with a business need, on request; ComingSoon: announced, not open yet.',
          }),
          message: Type.String({ description: 'Why the region is left out, and how to use it anyway.' }),
        }, { description: 'A region of the geography that is not a default replication target.' }),
        {
          description:
            'The regions of the geography left out of the default replication, and why. List one in spec.replication.regions to replicate there ' +
            '(the subscription must be enabled for it, or Azure refuses it).',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
        },
      ),
    ),
    gallery: Type.Optional(
      Type.Object(
        {
          attachment: Type.Optional(Type.String({ description: 'Name of the GalleryAttachment that holds the account\'s gallery.' })),
          id: Type.Optional(Type.String({ description: 'ARM resource id of the attached gallery.' })),
        },
        { description: 'The gallery attached to this account; empty when none is.' },
      ),
    ),
    conditions: Type.Optional(Conditions),
  },
  { description: 'Observed state of the lab account, written by the operator.' },
);

export type LabAccountSpec = Static<typeof LabAccountSpecSchema>;
export type LabAccountStatus = Static<typeof LabAccountStatusSchema>;

export interface LabAccount {
  apiVersion: typeof API_VERSION;
  kind: typeof LAB_ACCOUNT.kind;
  metadata: V1ObjectMeta;
  spec: LabAccountSpec;
  status?: LabAccountStatus;
}

export const labAccountDefinition: KindDefinition = {
  names: LAB_ACCOUNT,
  description:
    'A LabAccount is a lab platform account in one Azure region. At most one gallery is attached to it (GalleryAttachment); ' +
    'its images replicate across the region\'s geography.',
  spec: LabAccountSpecSchema,
  status: LabAccountStatusSchema,
  printerColumns: [
    { name: 'Location', type: 'string', jsonPath: '.spec.location', description: 'Azure region of the account.' },
    { name: 'Provider', type: 'string', jsonPath: '.spec.provider', description: 'Simulated or Azure.' },
    { name: 'Geography', type: 'string', jsonPath: '.status.geography', description: 'Data-residency geography of the region.' },
    { name: 'Gallery', type: 'string', jsonPath: '.status.gallery.attachment', description: 'GalleryAttachment holding the account\'s gallery.' },
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: 'Status of the Ready condition.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};
