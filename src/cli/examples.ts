import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubernetesObject } from '@kubernetes/client-node';
import { load, loadAll } from 'js-yaml';
import { RESOURCES } from '../api/index.ts';
import { NAMESPACES, ObjectClient, SECRETS, isAlreadyExists, type ResourceType, type RestConfig } from '../runtime/index.ts';

// examples/ is what a new user applies first; `labimage dev` and the end-to-end tests apply the same
// files. examples/advanced/ needs something outside the cluster first: its emulator config.
const examplesDir = fileURLToPath(new URL('../../examples/', import.meta.url));
const advancedDir = join(examplesDir, 'advanced');

/** The emulator config examples/advanced/ needs: the VM made outside any lab, as a seed. */
export const advancedEmulatorConfigFile = join(advancedDir, 'emulator', 'research-vm.yaml');

async function readFolder(dir: string): Promise<KubernetesObject[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.yaml')).sort();
  const documents = await Promise.all(files.map(async (file) => loadAll(await readFile(join(dir, file), 'utf8')) as KubernetesObject[]));
  return documents.flat().filter((doc) => doc?.kind);
}

/** The objects of examples/ (what `kubectl apply -f examples/` applies), and with `advanced` those of examples/advanced/ too. */
export async function readExamples(options: { advanced?: boolean } = {}): Promise<KubernetesObject[]> {
  return [...(await readFolder(examplesDir)), ...(options.advanced ? await readFolder(advancedDir) : [])];
}

/** The emulator config that examples/advanced/ needs, as a document for `startEmulator({config})`. */
export async function readAdvancedEmulatorConfig(): Promise<unknown> {
  return load(await readFile(advancedEmulatorConfigFile, 'utf8'));
}

/**
 * Creates each example object, leaving ones that already exist as they are (a second `dev` on the
 * same cluster). With `namespace`, every object goes there instead (and the examples' Namespace is skipped).
 */
export async function applyExamples(
  restConfig: RestConfig,
  documents: readonly KubernetesObject[],
  options: { namespace?: string; say?: (line: string) => void } = {},
): Promise<void> {
  const objects = new ObjectClient(restConfig);
  const byKind = new Map<string, ResourceType>([NAMESPACES, SECRETS, ...Object.values(RESOURCES)].map((resource) => [resource.kind, resource]));
  for (const source of documents) {
    if (options.namespace && source.kind === 'Namespace') continue;
    const doc = options.namespace ? { ...source, metadata: { ...source.metadata, namespace: options.namespace } } : source;
    const resource = byKind.get(doc.kind ?? '');
    if (!resource) throw new Error(`examples/ holds a ${doc.kind}, which only kubectl apply knows how to create`);
    const namespaced = resource !== NAMESPACES;
    const namespace = doc.metadata?.namespace ?? 'default';
    try {
      await objects.create(resource, namespaced ? { ...doc, metadata: { ...doc.metadata, namespace } } : doc);
      options.say?.(`created ${doc.kind} ${namespaced ? `${namespace}/` : ''}${doc.metadata?.name}`);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
}
