/** An ARM request path, split: `/subscriptions/{s}[/resourceGroups/{rg}]/providers/Microsoft.Compute/{type}/{name}/...`. */
export interface ResourcePath {
  subscriptionId: string;
  resourceGroup?: string;
  /** Resource types in lower case, e.g. ['galleries', 'images']. */
  types: string[];
  /** Names as sent; one fewer than types for a collection. */
  names: string[];
}

export function parseResourcePath(pathname: string): ResourcePath | undefined {
  const segments = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (segments[0]?.toLowerCase() !== 'subscriptions' || !segments[1]) return undefined;
  let at = 2;
  let resourceGroup: string | undefined;
  if (segments[at]?.toLowerCase() === 'resourcegroups') {
    resourceGroup = segments[at + 1];
    if (!resourceGroup) return undefined;
    at += 2;
  }
  if (segments[at]?.toLowerCase() !== 'providers' || segments[at + 1]?.toLowerCase() !== 'microsoft.compute') return undefined;
  const rest = segments.slice(at + 2);
  if (rest.length === 0) return undefined;
  const types = rest.filter((_, index) => index % 2 === 0).map((type) => type.toLowerCase());
  const names = rest.filter((_, index) => index % 2 === 1);
  return { subscriptionId: segments[1], ...(resourceGroup === undefined ? {} : { resourceGroup }), types, names };
}

/** A bounded name for counting requests, e.g. `PUT galleries/{}/images/{}/versions/{}`. */
export function routeName(method: string, path: ResourcePath | undefined): string {
  if (!path) return `${method} other`;
  const parts = path.types.map((type, index) => (index < path.names.length ? `${type}/{}` : type));
  return `${method} ${path.resourceGroup === undefined ? '' : 'resourceGroups/{}/'}${parts.join('/')}`;
}
