import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { startEmulator, type RunningEmulator } from '../../../src/emulator/index.ts';
import { raw, subscriptionId } from './helpers.ts';

// Every GalleryRP example (api-version 2025-03-03; test/fixtures/SOURCES.md) against the emulator: its request is accepted,
// and every field of its example answer is in ours, with the same JSON type.

const fixtures = new URL('../../fixtures/azure-rest-api-specs/', import.meta.url);
const apiVersion = '2025-03-03';
const vmApiVersion = '2024-11-01';
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

  // The examples are GalleryRP's; the source VM is Compute's, with an api-version of its own.
  const versionFor = (path: string) => (path.startsWith('/virtualMachines') ? vmApiVersion : apiVersion);
  const put = (path: string, body: unknown) => raw(emulator, 'PUT', `${base}${path}?api-version=${versionFor(path)}`, body);
  const get = (path: string, query = '') => raw(emulator, 'GET', `${base}${path}?api-version=${versionFor(path)}${query}`);

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

// Clients pinned to older SDKs, the Azure CLI and Terraform send other api-versions than ours: three
// published ones per type (src/emulator/data/api-versions.json), over plain HTTPS.
describe('ARM emulator answers published api-versions old and new, on the wire', function () {
  let emulator: RunningEmulator;
  const group = `/subscriptions/${subscriptionId}/resourceGroups/wire-rg`;
  const compute = `${group}/providers/Microsoft.Compute`;
  const versions = {
    resourceGroups: ['2019-05-10', '2021-04-01', '2025-04-01'],
    galleries: ['2019-12-01', '2022-03-03', '2025-12-03'],
    virtualMachines: ['2021-03-01', '2024-11-01', '2026-04-01'],
    disks: ['2020-12-01', '2023-04-02', '2026-03-02'],
    networkInterfaces: ['2020-11-01', '2023-09-01', '2025-05-01'],
  };

  before(async () => {
    emulator = await startEmulator({ replicationSeconds: 0, operationSeconds: 0 });
  });
  after(async () => emulator?.stop());

  async function ok(method: string, path: string, apiVersion: string, body?: unknown, status = [200, 201, 202]): Promise<Record<string, unknown>> {
    const answer = await raw(emulator, method, `${path}${path.includes('?') ? '&' : '?'}api-version=${apiVersion}`, body);
    expect(status, `${method} ${path} (${apiVersion}): ${JSON.stringify(answer.body)}`).to.include(answer.status);
    return (answer.body ?? {}) as Record<string, unknown>;
  }

  it('resource groups, galleries, image definitions and versions', async () => {
    for (const [index, version] of versions.resourceGroups.entries()) {
      const created = await ok('PUT', `/subscriptions/${subscriptionId}/resourcegroups/wire-rg-${index}`, version, { location: 'westeurope' });
      expect(created).to.include({ name: `wire-rg-${index}`, type: 'Microsoft.Resources/resourceGroups' });
    }
    await ok('PUT', group.replace('resourceGroups', 'resourcegroups'), versions.resourceGroups[2]!, { location: 'westeurope' });
    const vm = `${compute}/virtualMachines/source`;
    await ok('PUT', vm, versions.virtualMachines[2]!, {
      location: 'westeurope',
      properties: {
        hardwareProfile: { vmSize: 'Standard_D2s_v5' },
        storageProfile: { imageReference: { publisher: 'canonical', offer: 'ubuntu-24_04-lts', sku: 'server', version: 'latest' } },
        osProfile: { computerName: 'source', adminUsername: 'labadmin', adminPassword: 'not-a-real-secret-1A!' },
      },
    });
    for (const [index, version] of versions.galleries.entries()) {
      const gallery = `${compute}/galleries/wire${index}`;
      expect(await ok('PUT', gallery, version, { location: 'westeurope', properties: {} })).to.have.nested.property('properties.provisioningState');
      const image = `${gallery}/images/linux`;
      await ok('PUT', image, version, { location: 'westeurope', properties: { osType: 'Linux', osState: 'Generalized', identifier: { publisher: 'p', offer: 'o', sku: 's' } } });
      await ok('PUT', `${image}/versions/1.0.0`, version, {
        location: 'westeurope',
        properties: { publishingProfile: { targetRegions: [{ name: 'westeurope' }] }, storageProfile: { source: { virtualMachineId: vm } } },
      });
      const got = await ok('GET', `${image}/versions/1.0.0?$expand=ReplicationStatus`, version);
      expect(got).to.have.nested.property('properties.replicationStatus.aggregatedState');
    }
    const listed = await ok('GET', `/subscriptions/${subscriptionId}/providers/Microsoft.Compute/galleries`, versions.galleries[0]!);
    expect((listed.value as unknown[]).length).to.equal(3);
  });

  it('VMs, and the disks and NICs they make', async () => {
    for (const [index, version] of versions.virtualMachines.entries()) {
      const vm = await ok('PUT', `${compute}/virtualMachines/vm${index}`, version, {
        location: 'westeurope',
        properties: {
          hardwareProfile: { vmSize: 'Standard_D2s_v5' },
          storageProfile: {
            imageReference: { publisher: 'canonical', offer: 'ubuntu-24_04-lts', sku: 'server', version: 'latest' },
            dataDisks: [{ lun: 0, createOption: 'Empty', diskSizeGB: 64 }],
          },
          osProfile: { computerName: `vm${index}`, adminUsername: 'labadmin', adminPassword: 'not-a-real-secret-1A!' },
          networkProfile: {
            networkApiVersion: '2020-11-01',
            networkInterfaceConfigurations: [{ name: `vm${index}-nic`, properties: { primary: true, ipConfigurations: [{ name: 'ip', properties: { subnet: { id: `${group}/providers/Microsoft.Network/virtualNetworks/v/subnets/s` } } }] } }],
          },
        },
      });
      expect(vm).to.have.nested.property('properties.storageProfile.osDisk.managedDisk.id');
      expect(vm).to.have.nested.property('properties.networkProfile.networkInterfaces[0].id');
    }
    for (const version of versions.disks) {
      const listed = await ok('GET', `${compute}/disks`, version);
      // Each VM's OS disk and empty data disk, and the source VM's OS disk from the test before.
      const states = (listed.value as { properties: { diskState: string } }[]).map((disk) => disk.properties.diskState);
      expect(states).to.have.length(7);
      expect(new Set(states)).to.deep.equal(new Set(['Attached']));
      const bySubscription = await ok('GET', `/subscriptions/${subscriptionId}/providers/Microsoft.Compute/disks`, version);
      expect((bySubscription.value as unknown[]).length).to.be.at.least(6);
    }
    for (const version of versions.networkInterfaces) {
      const nic = await ok('GET', `${group}/providers/Microsoft.Network/networkInterfaces/vm0-nic`, version);
      expect(nic).to.have.nested.property('properties.virtualMachine.id');
      const listed = await ok('GET', `/subscriptions/${subscriptionId}/providers/Microsoft.Network/networkInterfaces`, version);
      expect((listed.value as unknown[]).length).to.be.at.least(3);
    }
    for (const [index, version] of versions.virtualMachines.entries()) {
      const deleted = await raw(emulator, 'DELETE', `${compute}/virtualMachines/vm${index}?api-version=${version}`);
      expect(deleted.status).to.equal(202);
      expect(deleted.headers).to.include.keys('location', 'azure-asyncoperation');
    }
  });

  it('refuses versions that were never published, whatever the type', async () => {
    for (const path of [`${compute}/disks`, `${group}/providers/Microsoft.Network/networkInterfaces`, `${compute}/virtualMachines`, `/subscriptions/${subscriptionId}/resourcegroups`]) {
      const answer = await raw(emulator, 'GET', `${path}?api-version=2024-11-02`);
      expect(answer.status, path).to.equal(400);
      expect(answer.body).to.have.nested.property('error.code', 'NoRegisteredProviderFound');
    }
  });
});
