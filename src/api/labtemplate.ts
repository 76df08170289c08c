import { Type, type Static } from '@sinclair/typebox';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import {
  ArmResourceId,
  Conditions,
  ImageDefinitionName,
  LastHandledReconcileAt,
  LocalObjectReference,
  OS_STATES,
  ObservedGeneration,
  Region,
  SecretKeyReference,
  StringEnum,
  VERSION_PATTERN,
  immutable,
  validations,
} from './common.ts';
import { LAB_TEMPLATE, type API_VERSION, type KindDefinition } from './group.ts';
import { RUNNING_EXPORT_PHASES } from './imageexport.ts';

export const TEMPLATE_PHASES = ['Pending', 'WaitingForImage', 'Provisioning', 'Ready', 'Failed'] as const;

// Publisher, offer and SKU as the marketplace spells them (canonical, 0001-com-ubuntu-server-jammy, 22_04-lts-gen2).
const MARKETPLACE_NAME = { minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][-A-Za-z0-9_.]*$' };

export const LabTemplateSpecSchema = Type.Object(
  {
    labAccountRef: LocalObjectReference(
      'LabAccount',
      'The LabAccount the template belongs to; its attached gallery provides the image. Immutable.',
      validations(immutable('spec.labAccountRef', 'a template belongs to one lab account; create a new template for another')),
    ),
    location: Type.Optional(
      Region(
        'Region of the template VM, as a programmatic name. Unset: the lab account\'s location. Must be in the account\'s geography; ' +
          'the VM is created once the image has finished replicating there. Immutable.',
      ),
    ),
    image: Type.Object(
      {
        imageExportRef: Type.Optional(LocalObjectReference('ImageExport', 'The image version made by this ImageExport.')),
        galleryImage: Type.Optional(
          Type.Object(
            {
              name: ImageDefinitionName('Image definition name in the attached gallery (exported by a lab or uploaded outside any lab).'),
              version: Type.Optional(
                Type.String({
                  description: 'Image version: latest (the highest not excluded from latest) or x.y.z.',
                  maxLength: 32,
                  default: 'latest',
                  ...validations({
                    rule: `self == 'latest' || self.matches('${VERSION_PATTERN}')`,
                    message: 'spec.image.galleryImage.version must be latest or a version x.y.z',
                  }),
                }),
              ),
            },
            { description: 'An image of the attached gallery, by name.' },
          ),
        ),
        marketplace: Type.Optional(
          Type.Object(
            {
              publisher: Type.String({ description: 'Marketplace publisher, such as canonical.', ...MARKETPLACE_NAME }),
              offer: Type.String({ description: 'Marketplace offer, such as ubuntu-24_04-lts.', ...MARKETPLACE_NAME }),
              sku: Type.String({ description: 'Marketplace SKU, such as server.', ...MARKETPLACE_NAME }),
              version: Type.Optional(
                Type.String({
                  description: 'Marketplace image version: latest or x.y.z.',
                  maxLength: 64,
                  pattern: '^(latest|[0-9]+[.][0-9]+[.][0-9]+)$',
                  default: 'latest',
                }),
              ),
            },
            { description: 'An Azure Marketplace image: where a brand-new lab starts.' },
          ),
        ),
      },
      {
        description: 'The image the template VM is created from: exactly one of imageExportRef, galleryImage or marketplace. Immutable.',
        ...validations(
          {
            rule: '(has(self.imageExportRef) ? 1 : 0) + (has(self.galleryImage) ? 1 : 0) + (has(self.marketplace) ? 1 : 0) == 1',
            message: 'spec.image must set exactly one of imageExportRef, galleryImage or marketplace',
          },
          immutable('spec.image', 'the template VM is made from one image; create a new template for another image'),
        ),
      },
    ),
    vm: Type.Optional(
      Type.Object(
        {
          size: Type.Optional(
            Type.String({
              description: 'Azure VM size of the template VM.',
              minLength: 1,
              maxLength: 64,
              pattern: '^[A-Za-z0-9_]+$',
              default: 'Standard_D2s_v5',
            }),
          ),
          adminUsername: Type.Optional(
            Type.String({
              description: 'Administrator account created on the VM. Generalized images only: a specialized image keeps the source\'s accounts.',
              minLength: 1,
              maxLength: 64,
              pattern: '^[A-Za-z_][-A-Za-z0-9_.]*$',
            }),
          ),
          adminPasswordSecretRef: Type.Optional(
            SecretKeyReference('Secret key holding the administrator password. Generalized images only; set together with adminUsername.'),
          ),
          subnetId: Type.Optional(
            ArmResourceId(
              'Subnet the template VM\'s network interface joins, by ARM resource id. Needed with provider Azure.',
              'Microsoft[.]Network/virtualNetworks/[^/]+/subnets/[^/]+',
              'spec.vm.subnetId',
              '/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>',
            ),
          ),
        },
        {
          description: 'The template VM.',
          default: {},
          ...validations({
            rule: 'has(self.adminUsername) == has(self.adminPasswordSecretRef)',
            message: 'spec.vm.adminUsername and spec.vm.adminPasswordSecretRef must be set together',
          }),
        },
      ),
    ),
    title: Type.Optional(Type.String({ description: 'Title shown to lab creators, such as "CS101: Intro to programming".', maxLength: 256 })),
  },
  {
    description: 'Desired state of the lab template.',
    ...validations({
      rule: 'has(self.location) == has(oldSelf.location) && (!has(self.location) || self.location == oldSelf.location)',
      message: 'spec.location is immutable: the template VM stays in its region; create a new template for another region',
      fieldPath: '.location',
      reason: 'FieldValueForbidden',
    }),
  },
);

export const LabTemplateStatusSchema = Type.Object(
  {
    observedGeneration: Type.Optional(ObservedGeneration),
    lastHandledReconcileAt: Type.Optional(LastHandledReconcileAt),
    phase: Type.Optional(
      StringEnum(TEMPLATE_PHASES, {
        description: 'Summary for people: Pending, WaitingForImage, Provisioning, Ready or Failed. Tools should read conditions.',
      }),
    ),
    image: Type.Optional(
      Type.Object(
        {
          versionId: Type.Optional(Type.String({ description: 'ARM resource id of the resolved image version (unset for marketplace images).' })),
          version: Type.Optional(Type.String({ description: 'Resolved image version.' })),
          osState: Type.Optional(StringEnum(OS_STATES, { description: 'Generalized or Specialized.' })),
        },
        { description: 'The image spec.image resolved to.' },
      ),
    ),
    vm: Type.Optional(
      Type.Object(
        {
          id: Type.Optional(Type.String({ description: 'ARM resource id of the template VM.' })),
          provisioningState: Type.Optional(Type.String({ description: 'ARM provisioning state of the VM (Creating, Succeeded, Failed ...).' })),
          powerState: Type.Optional(Type.String({ description: 'Power state of the VM (running, stopped, deallocated ...).' })),
        },
        { description: 'The template VM as Azure reports it.' },
      ),
    ),
    exports: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Type.String({ description: 'Name of the ImageExport.' }),
            phase: StringEnum(RUNNING_EXPORT_PHASES, { description: 'Pending, Exporting or Replicating.' }),
            progress: Type.Integer({ description: 'Replication progress in percent over all target regions.', minimum: 0, maximum: 100 }),
          },
          { description: 'An ImageExport made from this template, still running.' },
        ),
        {
          description:
            'The ImageExports made from this template (spec.source.labTemplateRef) that are still running, as the lab platform shows ' +
            '"export in progress" on a template; absent when none is.',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
        },
      ),
    ),
    exporting: Type.Optional(
      Type.String({ description: 'status.exports in a few words, such as "cs101-v2 57%": what kubectl get shows under EXPORTING.' }),
    ),
    conditions: Type.Optional(Conditions),
  },
  { description: 'Observed state of the lab template, written by the operator.' },
);

export type LabTemplateSpec = Static<typeof LabTemplateSpecSchema>;
export type LabTemplateStatus = Static<typeof LabTemplateStatusSchema>;
export type LabTemplatePhase = (typeof TEMPLATE_PHASES)[number];

export interface LabTemplate {
  apiVersion: typeof API_VERSION;
  kind: typeof LAB_TEMPLATE.kind;
  metadata: V1ObjectMeta;
  spec: LabTemplateSpec;
  status?: LabTemplateStatus;
}

export const labTemplateDefinition: KindDefinition = {
  names: LAB_TEMPLATE,
  description:
    'A LabTemplate is the template VM of a lab, created from a gallery image (exported or uploaded) or a marketplace image, ' +
    'in a region where that image has finished replicating.',
  spec: LabTemplateSpecSchema,
  status: LabTemplateStatusSchema,
  printerColumns: [
    { name: 'Account', type: 'string', jsonPath: '.spec.labAccountRef.name', description: 'LabAccount of the template.' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Where the template is.' },
    { name: 'Version', type: 'string', jsonPath: '.status.image.version', description: 'Resolved image version.' },
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: 'Status of the Ready condition.' },
    { name: 'Exporting', type: 'string', jsonPath: '.status.exporting', description: 'Exports of this template still running, with their progress.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    { name: 'Location', type: 'string', jsonPath: '.spec.location', description: 'Region of the template VM (empty: the account\'s).', priority: 1 },
    { name: 'Title', type: 'string', jsonPath: '.spec.title', description: 'Title shown to lab creators.', priority: 1 },
  ],
};
