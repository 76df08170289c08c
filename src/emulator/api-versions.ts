import published from './data/api-versions.json' with { type: 'json' };
import { CloudError } from './cloud-error.ts';
import type { ResourcePath } from './routes.ts';

/** Every published stable api-version of each resource type served (src/emulator/data/api-versions.json says where from). */
export const publishedApiVersions: Readonly<Record<string, readonly string[]>> = published.resourceTypes;

/** The resource type whose api-versions a request is judged by; undefined for operation polls, which take any. */
export function resourceTypeOf(path: ResourcePath): string | undefined {
  const [first] = path.types;
  if (path.provider === 'microsoft.resources') return first === 'resourcegroups' ? 'Microsoft.Resources/resourceGroups' : undefined;
  if (path.provider === 'microsoft.network') return first === 'networkinterfaces' ? 'Microsoft.Network/networkInterfaces' : undefined;
  return { galleries: 'Microsoft.Compute/galleries', virtualmachines: 'Microsoft.Compute/virtualMachines', disks: 'Microsoft.Compute/disks' }[first ?? ''];
}

/** The newest api-version of a resource type (what seeds are created with). */
export function newestApiVersion(resourceType: string): string {
  const versions = publishedApiVersions[resourceType] ?? [];
  return [...versions].sort().at(-1) ?? '';
}

/** ARM's answers to a missing or unpublished api-version. */
export function checkApiVersion(path: ResourcePath, apiVersion: string | null, location: string | undefined): void {
  const resourceType = resourceTypeOf(path);
  if (!resourceType) return;
  if (!apiVersion) throw new CloudError(400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
  const supported = publishedApiVersions[resourceType] ?? [];
  if (supported.includes(apiVersion)) return;
  const type = resourceType.slice(resourceType.indexOf('/') + 1);
  throw new CloudError(
    400,
    'NoRegisteredProviderFound',
    `No registered resource provider found for location '${location ?? 'global'}' and API version '${apiVersion}' for type '${type}'. The supported api-versions are '${supported.join(', ')}'.`,
  );
}
