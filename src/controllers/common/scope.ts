// Where a lab account's objects may point in Azure. Every ARM id a spec names (an export's source
// VM, a template's subnet, an attachment's gallery resource group) is judged here, from the specs
// alone, before any ARM call: in the account's subscription unless the account lists its scopes
// (spec.azure.allowedScopes), and always in the account's own resource group. An id is used as
// given, never re-rooted in the account's subscription; whether the credential can reach it is
// then Azure's to say (a 403 is reported as such).
import type { LabAccount } from '../../api/index.ts';
import { isWithinScope, locateArmId, scopeId, simulatedSubscriptionId, type ArmLocation } from '../../azure/index.ts';
import { simulatedResourceGroup } from './account-connector.ts';
import { stalled, type Outcome } from './outcome.ts';

/** The scopes an account's objects may name ids in. */
export function accountScopes(account: LabAccount): ArmLocation[] {
  const subscriptionId = account.spec.azure?.subscriptionId ?? simulatedSubscriptionId;
  const listed = account.spec.azure?.allowedScopes ?? [];
  if (listed.length === 0) return [{ subscriptionId }];
  const own = { subscriptionId, resourceGroup: account.spec.azure?.resourceGroup ?? simulatedResourceGroup(account) };
  // CEL admits only well-formed scopes, so every listed one locates.
  return [own, ...listed.map(locateArmId).filter((scope): scope is ArmLocation => !('problem' in scope))];
}

function describeScopes(account: LabAccount): string {
  const scopes = accountScopes(account).map(scopeId).join(', ');
  return account.spec.azure?.allowedScopes?.length ? `its spec.azure.allowedScopes and own resource group (${scopes})` : `its subscription (${scopes})`;
}

/** Stalled OutOfScope, naming `field`, when `id` lies outside the account's scopes or is no ARM id to use; undefined when it may be used. */
export function checkScope<F>(account: LabAccount, id: string, field: string): Outcome<F> | undefined {
  const location = locateArmId(id);
  const name = account.metadata.name ?? '';
  if ('problem' in location) return stalled('OutOfScope', `${field} ${id} ${location.problem}: name the resource by its ARM id`);
  if (accountScopes(account).some((scope) => isWithinScope(location, scope))) return undefined;
  return stalled(
    'OutOfScope',
    `${field} ${id} lies outside LabAccount ${name}'s scope, ${describeScopes(account)}: name a resource there, or add its scope to the account's spec.azure.allowedScopes`,
  );
}

/** A resource group by name, in the account's subscription (an attachment's gallery). */
export function checkResourceGroupScope<F>(account: LabAccount, resourceGroup: string, field: string): Outcome<F> | undefined {
  const subscriptionId = account.spec.azure?.subscriptionId ?? simulatedSubscriptionId;
  return checkScope(account, scopeId({ subscriptionId, resourceGroup }), field);
}
