import { CloudError } from './cloud-error.ts';
import type { EmulatorConfig, PrincipalConfig, RoleAssignment } from './config.ts';
import type { ResourcePath } from './routes.ts';
import type { TokenIssuer } from './tokens.ts';

/** Canonical spellings of the types served, for action names (`Microsoft.Compute/virtualMachines/read`). */
const canonicalTypes: Record<string, string> = {
  galleries: 'galleries',
  images: 'images',
  versions: 'versions',
  virtualmachines: 'virtualMachines',
  disks: 'disks',
  networkinterfaces: 'networkInterfaces',
  resourcegroups: 'subscriptions/resourceGroups',
  locations: 'locations',
  capsoperations: 'operations',
  operations: 'operations',
  operationresults: 'operationresults',
};
const canonicalProviders: Record<string, string> = { 'microsoft.compute': 'Microsoft.Compute', 'microsoft.network': 'Microsoft.Network', 'microsoft.resources': 'Microsoft.Resources' };

/** The principal a bearer token stands for: a configured static token, or a token the emulator issued. */
export async function authenticate(config: EmulatorConfig, issuer: TokenIssuer, authorization: string | undefined, nowMs: number): Promise<PrincipalConfig> {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  if (!token) throw new CloudError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.");
  const byStaticToken = config.principals.find((principal) => principal.tokens.includes(token));
  if (byStaticToken) return byStaticToken;
  const verification = await issuer.verify(token, nowMs);
  if (!verification.valid) {
    if (verification.expiredAt !== undefined) {
      throw new CloudError(
        401,
        'ExpiredAuthenticationToken',
        `The access token expiry UTC time '${new Date(verification.expiredAt).toUTCString()}' is earlier than current UTC time '${new Date(nowMs).toUTCString()}'.`,
      );
    }
    throw new CloudError(401, 'InvalidAuthenticationToken', 'The access token is invalid.');
  }
  const { oid, tid } = verification.claims;
  const principal = config.principals.find((candidate) => candidate.objectId === oid && candidate.tenantId.toLowerCase() === tid.toLowerCase());
  // A token of a principal removed since it was issued: Entra would not have issued it.
  if (!principal) throw new CloudError(401, 'InvalidAuthenticationToken', 'The access token is invalid.');
  return principal;
}

/** ARM's action for a request, e.g. `Microsoft.Compute/galleries/images/versions/write`. */
export function actionOf(method: string, path: ResourcePath): string {
  const provider = canonicalProviders[path.provider] ?? path.provider;
  const types = path.types.map((type) => canonicalTypes[type] ?? type).join('/');
  const verb = method === 'GET' || method === 'HEAD' ? 'read' : method === 'DELETE' ? 'delete' : method === 'POST' ? 'action' : 'write';
  return `${provider}/${types}/${verb}`;
}

/** The scope a request acts on: its resource id, without a trailing slash. */
export function scopeOf(pathname: string): string {
  return pathname.replace(/\/+$/, '');
}

function covers(role: RoleAssignment, scope: string, readOnly: boolean): boolean {
  if (role.access === 'read' && !readOnly) return false;
  const granted = role.scope.toLowerCase().replace(/\/+$/, '');
  const wanted = scope.toLowerCase();
  return granted === '' || wanted === granted || wanted.startsWith(`${granted}/`);
}

/** Whether the principal may manage the emulator itself (`/_emulator/*`): write access at `/`. */
export function isAdministrator(principal: PrincipalConfig): boolean {
  return principal.roles.some((role) => role.scope === '/' && role.access === 'write');
}

/** Refuses a request outside the principal's role assignments, as ARM does (403 AuthorizationFailed). */
export function authorize(principal: PrincipalConfig, method: string, path: ResourcePath, pathname: string): void {
  const scope = scopeOf(pathname);
  const readOnly = method === 'GET' || method === 'HEAD';
  if (principal.roles.some((role) => covers(role, scope, readOnly))) return;
  throw new CloudError(
    403,
    'AuthorizationFailed',
    `The client '${principal.name}' with object id '${principal.objectId}' does not have authorization to perform action '${actionOf(method, path)}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
  );
}
