import { expect } from 'chai';
import { regionAccess, isGenerallyAvailable } from '../../../src/azure/regions.ts';
import { actionOf, authorize, isAdministrator } from '../../../src/emulator/access.ts';
import type { CloudError } from '../../../src/emulator/cloud-error.ts';
import { ConfigError, mergeConfig, parseConfig, subscriptionConfig } from '../../../src/emulator/config.ts';
import { parseResourcePath, type ResourcePath } from '../../../src/emulator/routes.ts';
import { Throttle } from '../../../src/emulator/throttling.ts';

const versionsPath = '/subscriptions/s1/resourceGroups/rg-a/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0';

function refusal(run: () => void): CloudError {
  try {
    run();
  } catch (error) {
    return error as CloudError;
  }
  throw new Error('expected a refusal');
}

describe('emulator config', () => {
  it('fills defaults: derived object ids stable across parses, the default tenant, ARM bucket sizes', () => {
    const first = parseConfig({ principals: [{ name: 'ops' }] });
    const second = parseConfig({ principals: [{ name: 'ops' }] });
    expect(first.principals[0]?.objectId).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/).and.equal(second.principals[0]?.objectId);
    expect(first.buckets).to.deep.include({ enabled: true, scale: 1, subscriptionMultiplier: 15, reads: { size: 250, refillPerSecond: 25 } });
    expect(subscriptionConfig(first, 'any')).to.deep.equal({ regions: [], implicitResourceGroups: false });
  });

  it('refuses what it cannot use, naming the field', () => {
    expect(() => parseConfig({ principals: [{ name: 'x', roles: [{ scope: '/subscriptions/s/resourceGroups/rg', access: 'owner' }] }] })).to.throw(ConfigError, /principals\.0\.roles\.0\.access/);
    expect(() => parseConfig({ principals: [{ name: 'x' }, { name: 'x' }] })).to.throw(ConfigError, /used twice/);
    expect(() => parseConfig({ regions: [] })).to.throw(ConfigError);
  });

  it('merges updates: principals by name, subscriptions by id, the rest kept', () => {
    const base = parseConfig({ principals: [{ name: 'a', tokens: ['t'] }, { name: 'b' }], subscriptions: { s1: { regions: ['*'] } } });
    const merged = mergeConfig(base, { principals: [{ name: 'b', tokens: ['u'] }], subscriptions: { s2: { implicitResourceGroups: true } } });
    expect(merged.principals.map((principal) => [principal.name, principal.tokens])).to.deep.equal([['a', ['t']], ['b', ['u']]]);
    expect(subscriptionConfig(merged, 'S1').regions).to.deep.equal(['*']);
    expect(subscriptionConfig(merged, 's2').implicitResourceGroups).to.equal(true);
  });
});

describe('emulator authorization', () => {
  const config = parseConfig({
    principals: [
      { name: 'lab', roles: [{ scope: '/subscriptions/s1/resourceGroups/rg-a', access: 'write' }] },
      { name: 'reader', roles: [{ scope: '/subscriptions/s1', access: 'read' }] },
      { name: 'root', roles: [{ scope: '/', access: 'write' }] },
    ],
  });
  const [lab, reader, root] = config.principals;
  const path = parseResourcePath(versionsPath) as ResourcePath;

  it("names ARM's actions", () => {
    expect(actionOf('PUT', path)).to.equal('Microsoft.Compute/galleries/images/versions/write');
    expect(actionOf('GET', parseResourcePath('/subscriptions/s1/resourcegroups/rg') as ResourcePath)).to.equal('Microsoft.Resources/subscriptions/resourceGroups/read');
    expect(actionOf('DELETE', parseResourcePath('/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/n') as ResourcePath)).to.equal('Microsoft.Network/networkInterfaces/delete');
  });

  it('allows what a role assignment covers, on segment boundaries, case-insensitively', () => {
    authorize(lab!, 'PUT', path, versionsPath);
    authorize(lab!, 'GET', path, versionsPath.replace('rg-a', 'RG-A'));
    const sibling = refusal(() => authorize(lab!, 'GET', path, versionsPath.replace('rg-a', 'rg-ab')));
    expect(sibling.status).to.equal(403);
    expect(sibling.message).to.equal(
      `The client 'lab' with object id '${lab!.objectId}' does not have authorization to perform action 'Microsoft.Compute/galleries/images/versions/read' over scope '${versionsPath.replace('rg-a', 'rg-ab')}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
    );
    authorize(reader!, 'GET', path, versionsPath);
    expect(refusal(() => authorize(reader!, 'DELETE', path, versionsPath)).code).to.equal('AuthorizationFailed');
    expect([lab, reader, root].map((principal) => isAdministrator(principal!))).to.deep.equal([false, false, true]);
  });
});

describe('emulator token buckets', () => {
  const buckets = parseConfig({}).buckets;

  it('counts down per principal and per subscription, refills with time, and answers 429 with Retry-After when empty', () => {
    const throttle = new Throttle({ ...buckets, scale: 0.04 }); // reads: 10 tokens, 1 a second; subscription-wide 150
    const request = { subscriptionId: 's1', actor: 'a', region: 'r', type: 'reads' as const, now: 0 };
    const remaining = Array.from({ length: 10 }, () => throttle.take(request)['x-ms-ratelimit-remaining-subscription-reads']);
    expect(remaining).to.deep.equal(['9', '8', '7', '6', '5', '4', '3', '2', '1', '0']);
    const empty = refusal(() => throttle.take(request));
    expect(empty).to.include({ status: 429, code: 'SubscriptionRequestsThrottled' });
    expect(empty.headers['Retry-After']).to.equal('1');
    expect(throttle.take({ ...request, actor: 'b' })['x-ms-ratelimit-remaining-subscription-global-reads']).to.equal('139');
    expect(throttle.take({ ...request, type: 'deletes' })['x-ms-ratelimit-remaining-subscription-deletes']).to.equal('7');
    expect(throttle.take({ ...request, now: 2500 })['x-ms-ratelimit-remaining-subscription-reads']).to.equal('1');
  });

  it('the subscription-wide bucket throttles many principals together', () => {
    const throttle = new Throttle({ ...buckets, scale: 0.004, subscriptionMultiplier: 2 }); // 1 token each, 2 for the subscription
    throttle.take({ subscriptionId: 's', actor: 'a', region: 'r', type: 'reads', now: 0 });
    throttle.take({ subscriptionId: 's', actor: 'b', region: 'r', type: 'reads', now: 0 });
    const refused = refusal(() => throttle.take({ subscriptionId: 's', actor: 'c', region: 'r', type: 'reads', now: 0 }));
    expect(refused.message).to.match(/^Number of 'read' requests for subscription 's' exceeded/);
  });

  it('does nothing when off', () => {
    expect(new Throttle({ ...buckets, enabled: false }).take({ subscriptionId: 's', actor: 'a', region: 'r', type: 'writes', now: 0 })).to.deep.equal({});
  });
});

describe('region access flags', () => {
  it('keeps the published flags: restricted-access, coming-soon, open to all', () => {
    expect(regionAccess('Germany North')).to.deep.equal({ restrictedAccess: true, comingSoon: false });
    expect(regionAccess('denmarkeast')).to.deep.equal({ restrictedAccess: false, comingSoon: true });
    expect(['westeurope', 'germanynorth', 'denmarkeast', 'moonbase1'].map(isGenerallyAvailable)).to.deep.equal([true, false, false, false]);
    expect(regionAccess('moonbase1')).to.equal(undefined);
  });
});
