import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/index.ts';
import { raw, subscriptionId } from './helpers.ts';

// Every GalleryRP example (api-version 2025-03-03; test/fixtures/SOURCES.md) against the emulator: its request is accepted,
// and every field of its example answer is in ours, with the same JSON type.

const fixtures = new URL('../../fixtures/azure-rest-api-specs/', import.meta.url);
const apiVersion = '2025-03-03';
const resourceGroup = 'myResourceGroup';
const base = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Compute`;

interface Example {
  parameters: Record<string, unknown>;
  responses: Record<string, { body?: unknown; headers?: Record<string, string> }>;
}

function jsonType(value: unknown): string {
  return Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
}

/** Every field of `expected` is in `actual` with the same type; array items are compared pairwise. */
function expectShape(expected: unknown, actual: unknown, path: string): void {
  expect(jsonType(actual), `${path} type`).to.equal(jsonType(expected));
  if (Array.isArray(expected)) {
    const items = actual as unknown[];
    if (expected.length > 0 && items.length > 0) {
      for (let index = 0; index < Math.min(expected.length, items.length); index += 1) expectShape(expected[index], items[index], `${path}[${index}]`);
    }
  } else if (jsonType(expected) === 'object') {
    for (const [key, value] of Object.entries(expected as Record<string, unknown>)) {
      expect(actual as object, path).to.have.property(key);
      expectShape(value, (actual as Record<string, unknown>)[key], `${path}.${key}`);
    }
  }
}

/** Fills the examples' placeholders with what exists in the emulator. */
function resolvePlaceholders<T>(value: T, vmId: string): T {
  const text = JSON.stringify(value)
    .replaceAll('{subscription-id}', subscriptionId)
    .replaceAll('{subscriptionId}', subscriptionId)
    .replaceAll('/resourceGroups/{resourceGroup}/providers/Microsoft.Compute/virtualMachines/{vmName}', vmId.replace(`/subscriptions/${subscriptionId}`, ''))
    .replaceAll('{resourceGroup}', resourceGroup)
    .replaceAll('{imageName}', 'myManagedImage');
  return JSON.parse(text) as T;
}

/** An example answer's resource, minus what ARM computes, as a request body. */
function bodyFromAnswer(answer: Record<string, unknown>): Record<string, unknown> {
  const properties = structuredClone(answer.properties) as Record<string, Record<string, unknown>>;
  delete properties.provisioningState;
  delete properties.replicationStatus;
  delete properties.publishingProfile?.publishedDate;
  delete properties.storageProfile?.osDiskImage;
  delete properties.storageProfile?.dataDiskImages;
  delete properties.safetyProfile?.reportedForPolicyViolation;
  delete properties.safetyProfile?.policyViolations;
  return { location: answer.location, properties };
}

describe('ARM emulator conformance with the published GalleryRP examples', function () {
  let emulator: RunningEmulator;
  const examples = readdirSync(fixtures)
    .filter((file) => file.endsWith('.json'))
    .sort();

  const put = (path: string, body: unknown) => raw(emulator, 'PUT', `${base}${path}?api-version=${apiVersion}`, body);
  const get = (path: string, query = '') => raw(emulator, 'GET', `${base}${path}?api-version=${apiVersion}${query}`);

  async function settled(path: string): Promise<void> {
    for (;;) {
      const answer = await get(path);
      const state = (answer.body as { properties?: { provisioningState?: string } } | undefined)?.properties?.provisioningState;
      if (answer.status === 200 && state !== 'Creating' && state !== 'Updating') return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  const vmPath = '/virtualMachines/sourceVm';

  const vmId = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Compute${vmPath}`;

  /** Bodies for resources an example needs but does not show. */
  function defaultBody(path: string): Record<string, unknown> {
    if (path.includes('/versions/')) {
      return { location: 'West US', properties: { publishingProfile: { targetRegions: [{ name: 'West US' }] }, storageProfile: { source: { virtualMachineId: vmId } } } };
    }
    if (path.includes('/images/')) {
      return { location: 'West US', properties: { osType: 'Windows', osState: 'Generalized', identifier: { publisher: 'p', offer: 'o', sku: 's' } } };
    }
    return { location: 'West US', properties: { description: 'made for the example' } };
  }

  async function create(path: string, body: unknown): Promise<void> {
    const answer = await put(path, body);
    expect(answer.status, `${path}: ${JSON.stringify(answer.body)}`).to.equal(201);
    await settled(path);
  }

  /** A new emulator holding the example's source VM and the parents of `path`. */
  async function fresh(path: string): Promise<void> {
    await emulator?.stop();
    emulator = await startEmulator({ replicationSeconds: 0, operationSeconds: 0.05, pageSize: 1 });
    await create(vmPath, {
      location: 'West US',
      properties: {
        hardwareProfile: { vmSize: 'Standard_D2s_v5' },
        storageProfile: { imageReference: { publisher: 'MicrosoftWindowsServer', offer: 'WindowsServer', sku: '2022-datacenter-azure-edition', version: 'latest' } },
        osProfile: { computerName: 'source', adminUsername: 'labadmin', adminPassword: 'not-a-real-secret-1A!' },
      },
    });
    const segments = path.split('/').filter(Boolean);
    for (let depth = 2; depth < segments.length; depth += 2) {
      const parent = `/${segments.slice(0, depth).join('/')}`;
      await create(parent, defaultBody(parent));
    }
  }

  after(async () => emulator?.stop());

  for (const file of examples) {
    it(file.replace(/\.json$/, ''), async () => {
      const example = resolvePlaceholders(JSON.parse(readFileSync(new URL(file, fixtures), 'utf8')) as Example, vmId);
      const parameters = example.parameters;
      const path = [
        parameters.galleryName === undefined ? '/galleries' : `/galleries/${String(parameters.galleryName)}`,
        parameters.galleryImageName === undefined ? '' : `/images/${String(parameters.galleryImageName)}`,
        parameters.galleryImageVersionName === undefined ? '' : `/versions/${String(parameters.galleryImageVersionName)}`,
      ].join('');
      const operation = file.split('_')[1]!.replace(/\.json$/, '');
      await fresh(path);

      if (operation === 'Create') {
        const requestBody = parameters.gallery ?? parameters.galleryImage ?? parameters.galleryImageVersion;
        const created = await put(path, requestBody);
        expect(created.status, JSON.stringify(created.body)).to.equal(201);
        expect(created.headers).to.have.property('azure-asyncoperation');
        expectShape(example.responses['201']!.body, created.body, '201');
        await settled(path);
        const updated = await put(path, requestBody);
        expect(updated.status, JSON.stringify(updated.body)).to.equal(200);
        expectShape(example.responses['200']!.body, updated.body, '200');
        return;
      }

      // Get and Delete need the resource; a List needs two, for its nextLink (one item a page).
      const sample = example.responses['200']?.body as Record<string, unknown> | undefined;
      if (path.endsWith('/galleries')) {
        for (const name of ['myGalleryName', 'myGalleryName2']) await create(`/galleries/${name}`, bodyFromAnswer((sample?.value as Record<string, unknown>[])[0]!));
      } else {
        await create(path, sample ? bodyFromAnswer(sample) : defaultBody(path));
      }

      if (operation === 'Delete') {
        const deleted = await raw(emulator, 'DELETE', `${base}${path}?api-version=${apiVersion}`);
        expect(Object.keys(example.responses)).to.include(String(deleted.status));
        expect(deleted.status).to.equal(202);
        for (const header of Object.keys(example.responses['202']!.headers ?? {})) expect(deleted.headers).to.have.property(header.toLowerCase());
        return;
      }

      const query = parameters.$expand ? `&$expand=${String(parameters.$expand)}` : '';
      const answer =
        operation === 'ListBySubscription'
          ? await raw(emulator, 'GET', `/subscriptions/${subscriptionId}/providers/Microsoft.Compute/galleries?api-version=${apiVersion}`)
          : await get(path, query);
      expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
      expectShape(example.responses['200']!.body, answer.body, '200');
    });
  }

  it('refuses an api-version it does not serve with NoRegisteredProviderFound', async () => {
    const answer = await raw(emulator, 'GET', `${base}/galleries/myGalleryName?api-version=2019-01-01`);
    expect(answer.status).to.equal(400);
    expect(answer.body).to.have.nested.property('error.code', 'NoRegisteredProviderFound');
  });
});
