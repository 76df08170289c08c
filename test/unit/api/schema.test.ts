import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { loadAll } from 'js-yaml';
import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import {
  API_VERSION,
  CATEGORY,
  GROUP,
  KIND_DEFINITIONS,
  customResourceDefinitions,
  type JsonSchema,
} from '../../../src/api/index.ts';

interface Visit {
  path: string;
  node: JsonSchema;
  /** The field is inside spec (where CEL rules run, so sizes must be bounded). */
  inSpec: boolean;
}

/** Every schema node below the root, with its field path. */
function walk(node: JsonSchema, path = '', inSpec = false, out: Visit[] = []): Visit[] {
  const properties = node.properties as Record<string, JsonSchema> | undefined;
  for (const [field, sub] of Object.entries(properties ?? {})) {
    const subPath = path ? `${path}.${field}` : field;
    out.push({ path: subPath, node: sub, inSpec: inSpec || subPath === 'spec' });
    walk(sub, subPath, inSpec || subPath === 'spec', out);
  }
  const items = node.items as JsonSchema | undefined;
  if (items) {
    out.push({ path: `${path}[]`, node: items, inSpec });
    walk(items, `${path}[]`, inSpec, out);
  }
  return out;
}

const crds = customResourceDefinitions();
const rootOf = (kind: string): JsonSchema => {
  const crd = crds.find((c) => c.spec.names.kind === kind);
  if (!crd) throw new Error(`no CRD for ${kind}`);
  return crd.spec.versions[0]!.schema.openAPIV3Schema;
};
const at = (root: JsonSchema, path: string): JsonSchema => {
  const found = walk(root).find((v) => v.path === path);
  if (!found) throw new Error(`no schema at ${path}`);
  return found.node;
};

describe('API schemas (src/api)', () => {
  it('defines the four kinds in labimages.io/v1alpha1, namespaced, with short names and the labimages category', () => {
    expect(API_VERSION).to.equal('labimages.io/v1alpha1');
    expect(crds.map((c) => [c.metadata.name, c.spec.names.shortNames])).to.deep.equal([
      ['labaccounts.labimages.io', ['lacct']],
      ['galleryattachments.labimages.io', ['gattach']],
      ['imageexports.labimages.io', ['imgexp']],
      ['labtemplates.labimages.io', ['labtmpl']],
    ]);
    for (const crd of crds) {
      expect(crd.spec.group).to.equal(GROUP);
      expect(crd.spec.scope).to.equal('Namespaced');
      expect(crd.spec.names.categories).to.deep.equal([CATEGORY]);
      expect(crd.spec.versions).to.have.length(1);
      expect(crd.spec.versions[0]!.subresources).to.deep.equal({ status: {} });
    }
  });

  it('describes every field, so `kubectl explain` teaches the API', () => {
    for (const crd of crds) {
      const undescribed = walk(crd.spec.versions[0]!.schema.openAPIV3Schema)
        .filter((v) => v.path !== 'metadata' && typeof v.node.description !== 'string')
        .map((v) => v.path);
      expect(undescribed, crd.spec.names.kind).to.deep.equal([]);
    }
  });

  it('stays structural: a type on every node, no anyOf/oneOf/allOf/not/const/$ref', () => {
    for (const crd of crds) {
      for (const { path, node } of walk(crd.spec.versions[0]!.schema.openAPIV3Schema)) {
        expect(node.type, `${crd.spec.names.kind} ${path}`).to.be.a('string');
        for (const keyword of ['anyOf', 'oneOf', 'allOf', 'not', 'const', '$ref', 'additionalProperties']) {
          expect(node, `${crd.spec.names.kind} ${path}`).not.to.have.property(keyword);
        }
      }
    }
  });

  it('bounds every string and list in spec, so the API server can estimate the cost of the CEL rules', () => {
    for (const crd of crds) {
      for (const { path, node, inSpec } of walk(crd.spec.versions[0]!.schema.openAPIV3Schema)) {
        if (!inSpec) continue;
        if (node.type === 'string' && !node.enum && node.format !== 'date-time') {
          expect(node, `${crd.spec.names.kind} ${path}`).to.have.property('maxLength');
        }
        if (node.type === 'array') expect(node, `${crd.spec.names.kind} ${path}`).to.have.property('maxItems');
      }
    }
  });

  it('defaults status.observedGeneration to -1 (and status to {} so the default applies), so kstatus reads a new object as InProgress', () => {
    for (const crd of crds) {
      const root = crd.spec.versions[0]!.schema.openAPIV3Schema;
      expect(at(root, 'status').default).to.deep.equal({});
      expect(at(root, 'status.observedGeneration')).to.include({ default: -1, minimum: -1, type: 'integer' });
    }
  });

  it('shares one conditions schema: metav1.Condition, a map list keyed by type', () => {
    const shapes = crds.map((crd) => at(crd.spec.versions[0]!.schema.openAPIV3Schema, 'status.conditions'));
    for (const shape of shapes) expect(shape).to.deep.equal(shapes[0]);
    const conditions = shapes[0]!;
    expect(conditions['x-kubernetes-list-type']).to.equal('map');
    expect(conditions['x-kubernetes-list-map-keys']).to.deep.equal(['type']);
    const item = conditions.items as JsonSchema;
    expect(item.required).to.have.members(['type', 'status', 'lastTransitionTime', 'reason', 'message']);
    expect((item.properties as Record<string, JsonSchema>).status!.enum).to.deep.equal(['True', 'False', 'Unknown']);
    const reason = new RegExp((item.properties as Record<string, JsonSchema>).reason!.pattern as string);
    expect(['ReplicationInProgress', 'AccountAlreadyAttached', 'Reason_1']).to.satisfy((r: string[]) => r.every((s) => reason.test(s)));
    expect(['replication in progress', '1Reason', 'Bad-Reason']).to.satisfy((r: string[]) => r.every((s) => !reason.test(s)));
  });

  it('gives ImageExport the printer columns IMAGE, VERSION, PHASE, PROGRESS, REGIONS, READY, AGE', () => {
    const crd = crds.find((c) => c.spec.names.kind === 'ImageExport')!;
    const shown = crd.spec.versions[0]!.additionalPrinterColumns.filter((c) => !c.priority);
    expect(shown.map((c) => c.name.toUpperCase())).to.deep.equal(['IMAGE', 'VERSION', 'PHASE', 'PROGRESS', 'REGIONS', 'READY', 'AGE']);
    expect(shown.find((c) => c.name === 'Regions')!.jsonPath).to.equal('.status.regionsReady');
    expect(shown.find((c) => c.name === 'Ready')!.jsonPath).to.equal('.status.conditions[?(@.type=="Ready")].status');
  });

  it('has the documented defaults', () => {
    const la = rootOf('LabAccount');
    expect(at(la, 'spec.provider').default).to.equal('Simulated');
    expect(at(la, 'spec.replication.replicaCount').default).to.equal(1);
    expect(at(la, 'spec.replication.storageAccountType').default).to.equal('Standard_LRS');
    const ga = rootOf('GalleryAttachment');
    expect(at(ga, 'spec.gallery.create').default).to.equal(true);
    expect(at(ga, 'spec.images.enableNew').default).to.equal(true);
    expect(at(ga, 'spec.deletionPolicy').default).to.equal('Detach');
    const ie = rootOf('ImageExport');
    expect(at(ie, 'spec.image.osState').default).to.equal('Specialized');
    expect(at(ie, 'spec.image.hyperVGeneration').default).to.equal('V2');
    expect(at(ie, 'spec.deletionPolicy').default).to.equal('Retain');
    // An export inherits unset replication fields from its account, so it has no defaults of its own.
    expect(at(ie, 'spec.replication.replicaCount')).not.to.have.property('default');
    const lt = rootOf('LabTemplate');
    expect(at(lt, 'spec.image.galleryImage.version').default).to.equal('latest');
  });

  it('matches gallery names as Azure does (no dashes, letters or digits at both ends, at most 80)', () => {
    const pattern = new RegExp(at(rootOf('GalleryAttachment'), 'spec.gallery.name').pattern as string);
    for (const ok of ['labgallery', 'lab_gallery.v2', 'a', 'A1', 'x'.repeat(80)]) expect(pattern.test(ok), ok).to.equal(true);
    for (const bad of ['lab-gallery', '_gallery', 'gallery.', 'x'.repeat(81), '']) expect(pattern.test(bad), bad).to.equal(false);
  });

  it('matches subscription ids, regions and versions', () => {
    const la = rootOf('LabAccount');
    const guid = new RegExp(at(la, 'spec.azure.subscriptionId').pattern as string);
    expect(guid.test('0b1f6471-1bf0-4dda-aec3-cb9272f09590')).to.equal(true);
    expect(guid.test('not-a-guid')).to.equal(false);
    const region = new RegExp(at(la, 'spec.location').pattern as string);
    expect(['westeurope', 'eastus2', 'germanywestcentral'].every((r) => region.test(r))).to.equal(true);
    expect(['West Europe', 'west-europe', '2east'].some((r) => region.test(r))).to.equal(false);
    const version = new RegExp(at(rootOf('ImageExport'), 'spec.version').pattern as string);
    expect(['', '1.0.0', '10.20.30'].every((v) => version.test(v))).to.equal(true);
    expect(['1.0', 'v1.0.0', '1.0.0-beta', 'latest'].some((v) => version.test(v))).to.equal(false);
  });
});

describe('examples/', () => {
  const examplesDir = fileURLToPath(new URL('../../../examples/', import.meta.url));
  const specSchemas = new Map<string, TSchema>(KIND_DEFINITIONS.map((def) => [def.names.kind, def.spec]));

  it('contains every kind, each spec valid against its schema (CEL rules are checked on the API server)', async () => {
    const files = (await readdir(examplesDir)).filter((f) => f.endsWith('.yaml')).sort();
    const kinds = new Set<string>();
    for (const file of files) {
      for (const doc of loadAll(await readFile(join(examplesDir, file), 'utf8')) as { apiVersion: string; kind: string; spec?: unknown }[]) {
        if (doc.apiVersion !== API_VERSION) continue;
        kinds.add(doc.kind);
        const schema = specSchemas.get(doc.kind)!;
        expect([...Value.Errors(schema, doc.spec)].map((e) => `${e.path}: ${e.message}`), file).to.deep.equal([]);
      }
    }
    expect([...kinds].sort()).to.deep.equal(['GalleryAttachment', 'ImageExport', 'LabAccount', 'LabTemplate']);
  });
});
