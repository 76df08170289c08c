import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubernetesObject } from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { IMAGE_EXPORT, RESOURCES, type ImageExport } from '../api/index.ts';
import { createGalleryPort, staticTokenCredential } from '../azure/index.ts';
import { marketplaceImages } from '../emulator/index.ts';
import { NAMESPACES, ObjectClient, SECRETS, isAlreadyExists, type ResourceType, type RestConfig } from '../runtime/index.ts';

// examples/ is what a new user applies first; `labimage dev` and the end-to-end tests apply the same files.
const examplesDir = fileURLToPath(new URL('../../examples/', import.meta.url));

export async function readExamples(): Promise<KubernetesObject[]> {
  const files = (await readdir(examplesDir)).filter((file) => file.endsWith('.yaml')).sort();
  const documents = await Promise.all(files.map(async (file) => loadAll(await readFile(join(examplesDir, file), 'utf8')) as KubernetesObject[]));
  return documents.flat().filter((doc) => doc?.kind);
}

/**
 * The examples include an export of a VM made outside any lab; in an emulator it exists only if
 * someone makes it, as the research team of the example would have.
 */
export async function seedExternalVms(emulator: { url: string; caPem: string; token?: string }, documents: readonly KubernetesObject[]): Promise<void> {
  const image = marketplaceImages[0];
  for (const doc of documents) {
    const id = doc.kind === IMAGE_EXPORT.kind ? (doc as ImageExport).spec.source.virtualMachineId : undefined;
    const match = id ? /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/virtualMachines\/([^/]+)$/i.exec(id) : null;
    if (!match || !image) continue;
    const [, subscriptionId = '', resourceGroup = '', name = ''] = match;
    // As the emulator's administrator: the default principal's token, or a standalone emulator's admin token.
    const port = createGalleryPort({ subscriptionId, credential: staticTokenCredential(emulator.token), endpoint: emulator.url, caPem: emulator.caPem });
    if (await port.observeVirtualMachine({ resourceGroup, name })) continue;
    await port.createVirtualMachine(
      { resourceGroup, name },
      {
        location: 'westeurope',
        size: 'Standard_D2s_v5',
        image: { marketplace: { publisher: image.publisher, offer: image.offer, sku: image.sku, version: 'latest' } },
        // A marketplace image is generalized, so ARM wants an admin account; nobody logs in to this one.
        admin: { username: 'labadmin', password: randomBytes(18).toString('base64') },
      },
    );
  }
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
