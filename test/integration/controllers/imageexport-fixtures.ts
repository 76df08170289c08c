// What every ImageExport suite needs: a Ready account with an attached gallery (made by the real
// LabAccount and GalleryAttachment controllers), a source VM in the emulator, and helpers to read
// exports and their versions in the gallery.
import { API_VERSION, RESOURCES, type ImageExport, type LabAccount } from '../../../src/api/index.ts';
import { createGalleryPort, simulatedSubscriptionId, staticTokenCredential, type GalleryPort, type ImageVersionObservation, type OperationHandle } from '../../../src/azure/index.ts';

import { isConditionTrue, type Condition, type ObjectClient } from '../../../src/runtime/index.ts';
import { raw } from '../emulator/helpers.ts';
import { eventually } from '../eventually.ts';

export const ACCOUNT = 'cs-dept';
export const GALLERY = 'labgallery';
/** Regions the account's exports replicate to by default (United States has nine). */
export const DEFAULT_REGIONS = ['eastus', 'westus', 'westus2'];

export interface Target {
  url: string;
  caPem: string;
}

export function portFor(emulator: Target): GalleryPort {
  return createGalleryPort({ subscriptionId: simulatedSubscriptionId, credential: staticTokenCredential(), endpoint: emulator.url, caPem: emulator.caPem, retry: { baseDelayMs: 10, maxDelayMs: 50 } });
}

async function complete(port: GalleryPort, handle: OperationHandle): Promise<void> {
  let current = handle;
  for (;;) {
    const status = await port.poll(current);
    if (status.state === 'Failed') throw status.error;
    if (status.state === 'Succeeded') return;
    await new Promise((resolve) => setTimeout(resolve, status.retryAfterMs));
    current = status.handle;
  }
}

/** A running VM in the account's resource group, to export from; returns its id. */
export async function createSourceVm(port: GalleryPort, namespace: string, name: string, osType: 'Linux' | 'Windows' = 'Windows', location = 'eastus'): Promise<string> {
  const ref = { resourceGroup: `labimages-${namespace}`, name };
  const marketplace =
    osType === 'Windows'
      ? { publisher: 'MicrosoftWindowsDesktop', offer: 'windows-11', sku: 'win11-24h2-pro', version: 'latest' }
      : { publisher: 'canonical', offer: 'ubuntu-24_04-lts', sku: 'server', version: 'latest' };
  await complete(port, await port.createVirtualMachine(ref, { location, size: 'Standard_D2s_v5', image: { marketplace }, admin: { username: 'labadmin', password: 'Secret-Passw0rd!' } }));
  return port.virtualMachineId(ref);
}

export function imageRef(namespace: string, image: string) {
  return { resourceGroup: `labimages-${namespace}`, gallery: GALLERY, image };
}

/** The account (eastus, replicating to DEFAULT_REGIONS) and its gallery attachment, both Ready. */
export async function createAccountWithGallery(client: ObjectClient, namespace: string): Promise<void> {
  const account: LabAccount = {
    apiVersion: API_VERSION,
    kind: 'LabAccount',
    metadata: { name: ACCOUNT, namespace },
    spec: { location: 'eastus', replication: { regions: DEFAULT_REGIONS } },
  };
  await client.create(RESOURCES.LabAccount, account);
  await client.create(RESOURCES.GalleryAttachment, {
    apiVersion: API_VERSION,
    kind: 'GalleryAttachment',
    metadata: { name: 'shared-images', namespace },
    spec: { labAccountRef: { name: ACCOUNT }, gallery: { name: GALLERY } },
  });
  await eventually(
    async () => {
      const a = await client.get<LabAccount>(RESOURCES.LabAccount, namespace, ACCOUNT);
      return isConditionTrue(a?.status?.conditions as Condition[] | undefined, 'Ready') && a?.status?.gallery?.id ? a : undefined;
    },
    { timeoutMs: 60_000, what: 'the lab account Ready with its gallery attached' },
  );
}

export function exportManifest(namespace: string, name: string, spec: Partial<ImageExport['spec']> & Pick<ImageExport['spec'], 'source'>): ImageExport {
  return {
    apiVersion: API_VERSION,
    kind: 'ImageExport',
    metadata: { name, namespace },
    spec: { labAccountRef: { name: ACCOUNT }, image: { name: name, osType: 'Windows' }, ...spec },
  };
}

export const getExport = (client: ObjectClient, namespace: string, name: string) => client.get<ImageExport>(RESOURCES.ImageExport, namespace, name);

export function condition(exp: ImageExport | undefined, type: string): Condition | undefined {
  return (exp?.status?.conditions as Condition[] | undefined)?.find((c) => c.type === type);
}

export async function untilExport(client: ObjectClient, namespace: string, name: string, done: (e: ImageExport) => boolean, what: string, timeoutMs = 60_000): Promise<ImageExport> {
  return eventually(
    async () => {
      const e = await getExport(client, namespace, name);
      return e && done(e) ? e : undefined;
    },
    { timeoutMs, what: `${name}: ${what}`, intervalMs: 100 },
  );
}

export const isReady = (e: ImageExport) => condition(e, 'Ready')?.status === 'True';

/** Every version of the image in the gallery made by the export with this uid. */
export async function versionsOf(port: GalleryPort, namespace: string, image: string, uid: string): Promise<ImageVersionObservation[]> {
  return (await port.listImageVersions(imageRef(namespace, image))).filter((v) => v.exportUid === uid);
}

export { setFaults } from '../emulator/helpers.ts';

/** A request to the emulator's admin endpoints (`/_emulator/...`); the parsed answer, or an error for a refusal. */
export async function admin(emulator: Target, method: string, path: string, body?: unknown): Promise<unknown> {
  const answer = await raw(emulator, method, path, body);
  if (answer.status >= 300) throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}
