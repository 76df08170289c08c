import { Type, type Static } from '@sinclair/typebox';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { CLOUD_NAMES, DEFAULT_CLOUD } from '../azure/clouds.ts';
import { ArmScope, Conditions, LastHandledReconcileAt, LocalObjectReference, ObservedGeneration, Region, Replication, StringEnum, immutable, validations } from './common.ts';
import { LAB_ACCOUNT, type API_VERSION, type KindDefinition } from './group.ts';

export const PROVIDERS = ['Simulated', 'Azure'] as const;
/** Why a region of the geography is not a default replication target. */
export const REGION_EXCLUSIONS = ['RestrictedAccess', 'ComingSoon'] as const;

/** The namespace credential: a Secret of this name serves every LabAccount of its namespace that names none. */
export const NAMESPACE_CREDENTIAL_SECRET = 'labimages-credential';

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
          cloud: Type.Optional(
            StringEnum(CLOUD_NAMES, {
              description:
                'The Azure cloud of the subscription: AzurePublicCloud, AzureUSGovernment or AzureChinaCloud. It sets Resource Manager\'s ' +
                'endpoint, the Microsoft Entra ID authority and the token audience. Regions the operator has no geography data for ' +
                '(those of sovereign clouds) are taken as given. Ignored with provider Simulated.',
              default: DEFAULT_CLOUD,
            }),
          ),
          allowedScopes: Type.Optional(
            Type.Array(ArmScope('A subscription (/subscriptions/<id>) or a resource group (/subscriptions/<id>/resourceGroups/<name>).', 'spec.azure.allowedScopes[]'), {
              description:
                'Where ARM ids named by this account\'s objects may point (ImageExport spec.source.virtualMachineId, LabTemplate ' +
                'spec.vm.subnetId, GalleryAttachment spec.gallery.resourceGroup); an object naming an id elsewhere is Stalled ' +
                '(OutOfScope) before any ARM call. Unset: the account\'s subscription. The account\'s own resource group is always ' +
                'in scope. A scope in another subscription lets exports take VMs prepared there (the credential must be able to read them).',
              maxItems: 32,
              'x-kubernetes-list-type': 'set',
            }),
          ),
          credentials: Type.Optional(
            Type.Object(
              {
                secretRef: Type.Optional(
                  LocalObjectReference(
                    'Secret',
                    'A Secret in the same namespace with a service principal: AZURE_TENANT_ID, AZURE_CLIENT_ID and either ' +
                      'AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE (PEM with its private key; AZURE_CLIENT_CERTIFICATE_PASSWORD if the key is encrypted). ' +
                      'The operator reads it when needed and never logs or copies it.',
                  ),
                ),
              },
              {
                description:
                  'How the operator authenticates for this account; the most specific credential wins. Unset: the namespace\'s ' +
                  `credential Secret ${NAMESPACE_CREDENTIAL_SECRET} (same keys), else the operator's own identity if the operator allows it ` +
                  'for this namespace (--operator-identity-namespaces); otherwise the account is Stalled (NoCredentials).',
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
    lastHandledReconcileAt: Type.Optional(LastHandledReconcileAt),
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
