// Renders the kinds' TypeBox definitions as apiextensions.k8s.io/v1 CustomResourceDefinitions:
// the single source that crds/*.yaml and `labimage crds` come from.
import { dump } from 'js-yaml';
import { CATEGORY, GROUP, VERSION, crdName, type KindDefinition, type KindNames, type PrinterColumn } from './group.ts';
import { labAccountDefinition } from './labaccount.ts';
import { galleryAttachmentDefinition } from './galleryattachment.ts';
import { imageExportDefinition } from './imageexport.ts';
import { labTemplateDefinition } from './labtemplate.ts';

/** An OpenAPI v3 schema node as JSON. */
export type JsonSchema = { [keyword: string]: unknown };

/** apiextensions.k8s.io/v1 CustomResourceDefinition in its wire shape (the subset we write). */
export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: string;
    names: KindNames & { categories: string[] };
    scope: 'Namespaced';
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
      schema: { openAPIV3Schema: JsonSchema };
    }[];
  };
}

/** In apply order: what is referenced comes before what references it. */
export const KIND_DEFINITIONS: readonly KindDefinition[] = [
  labAccountDefinition,
  galleryAttachmentDefinition,
  imageExportDefinition,
  labTemplateDefinition,
];

/**
 * A TypeBox schema as plain JSON (TypeBox's symbol keys dropped), keywords in alphabetical order
 * as controller-gen writes them, fields in their declared order.
 */
export function toOpenApiSchema(schema: unknown): JsonSchema {
  const node = JSON.parse(JSON.stringify(schema)) as JsonSchema;
  const out: JsonSchema = {};
  for (const keyword of Object.keys(node).sort()) {
    const value = node[keyword];
    if (keyword === 'properties') {
      out[keyword] = Object.fromEntries(Object.entries(value as JsonSchema).map(([field, sub]) => [field, toOpenApiSchema(sub)]));
    } else if (keyword === 'items') {
      out[keyword] = toOpenApiSchema(value);
    } else {
      out[keyword] = value;
    }
  }
  return out;
}

function rootSchema(def: KindDefinition): JsonSchema {
  return toOpenApiSchema({
    type: 'object',
    description: def.description,
    required: ['spec'],
    properties: {
      apiVersion: {
        type: 'string',
        description: 'Versioned schema of this representation of an object; the server converts recognized schemas to the latest internal value.',
      },
      kind: {
        type: 'string',
        description: 'REST resource this object represents, in CamelCase; inferred by the server from the endpoint the client submits to.',
      },
      metadata: { type: 'object' },
      spec: def.spec,
      // Defaulting status to {} lets status.observedGeneration's default (-1) apply to new objects.
      status: { ...def.status, default: {} },
    },
    ...(def.rules ? { 'x-kubernetes-validations': def.rules } : {}),
  });
}

export function customResourceDefinition(def: KindDefinition): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: crdName(def.names), labels: { 'app.kubernetes.io/part-of': 'lab-image-operator' } },
    spec: {
      group: GROUP,
      names: {
        kind: def.names.kind,
        listKind: def.names.listKind,
        plural: def.names.plural,
        singular: def.names.singular,
        shortNames: [...def.names.shortNames],
        categories: [CATEGORY],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns,
          schema: { openAPIV3Schema: rootSchema(def) },
        },
      ],
    },
  };
}

export function customResourceDefinitions(): CustomResourceDefinition[] {
  return KIND_DEFINITIONS.map(customResourceDefinition);
}

const HEADER = '# Generated from src/api/ by `npm run crds`. Do not edit: change src/api/ and run it again.\n';

function toYaml(crd: CustomResourceDefinition): string {
  return dump(crd, { noRefs: true, lineWidth: 120 });
}

/** One CRD as the YAML file committed in crds/. */
export function renderCrdYaml(crd: CustomResourceDefinition): string {
  return HEADER + toYaml(crd);
}

/** The file name of a CRD in crds/: `<plural>.labimages.io.yaml`. */
export function crdFileName(crd: CustomResourceDefinition): string {
  return `${crd.metadata.name}.yaml`;
}

/** Every CRD as one multi-document YAML stream, for `kubectl apply -f -`. */
export function renderAllCrdsYaml(): string {
  return HEADER + customResourceDefinitions().map((crd) => `---\n${toYaml(crd)}`).join('');
}
