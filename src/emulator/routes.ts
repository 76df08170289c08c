/**
 * An ARM request path, split: `/subscriptions/{s}[/resourceGroups/{rg}]/providers/{namespace}/{type}/{name}/...`,
 * or a path of Microsoft.Resources itself: `/subscriptions/{s}/resourcegroups[/{rg}]`, `/subscriptions/{s}/operationresults/{id}`.
 */
export interface ResourcePath {
  subscriptionId: string;
  /** The resource group a resource lives in (absent for subscription-level paths and for a resource group itself). */
  resourceGroup?: string;
  /** Lower-case namespace: microsoft.compute, microsoft.network or microsoft.resources. */
  provider: string;
  /** Resource types in lower case, e.g. ['galleries', 'images']. */
  types: string[];
  /** Names as sent; one fewer than types for a collection. */
  names: string[];
}

const servedProviders = new Set(['microsoft.compute', 'microsoft.network']);

export function parseResourcePath(pathname: string): ResourcePath | undefined {
  const segments = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const subscriptionId = segments[1];
  if (segments[0]?.toLowerCase() !== 'subscriptions' || !subscriptionId) return undefined;
  const first = segments[2]?.toLowerCase();
  if ((first === 'resourcegroups' && segments.length <= 4) || (first === 'operationresults' && segments.length === 4)) {
    return { subscriptionId, provider: 'microsoft.resources', types: [first], names: segments.slice(3) };
  }
  let at = 2;
  let resourceGroup: string | undefined;
  if (first === 'resourcegroups') {
    resourceGroup = segments[3];
    at = 4;
  }
  const provider = segments[at + 1]?.toLowerCase() ?? '';
  if (segments[at]?.toLowerCase() !== 'providers' || !servedProviders.has(provider)) return undefined;
  const rest = segments.slice(at + 2);
  if (rest.length === 0) return undefined;
  const types = rest.filter((_, index) => index % 2 === 0).map((type) => type.toLowerCase());
  const names = rest.filter((_, index) => index % 2 === 1);
  return { subscriptionId, ...(resourceGroup === undefined ? {} : { resourceGroup }), provider, types, names };
}

/** A bounded name for counting requests, e.g. `PUT galleries/{}/images/{}/versions/{}`. */
export function routeName(method: string, path: ResourcePath | undefined): string {
  if (!path) return `${method} other`;
  const parts = path.types.map((type, index) => (index < path.names.length ? `${type}/{}` : type));
  return `${method} ${path.resourceGroup === undefined ? '' : 'resourceGroups/{}/'}${parts.join('/')}`;
}
