import { expect } from 'chai';
import { mergeFaults, takeRegionFailure, takeRequestFault, type Faults } from '../../../src/emulator/faults.ts';
import { parseResourcePath, routeName } from '../../../src/emulator/routes.ts';

describe('emulator faults', () => {
  it('merges a faults document key by key and clears with [] or null', () => {
    let faults: Faults = { regionFailures: [] };
    faults = mergeFaults(faults, { regionFailures: [{ region: 'North Europe', times: 2 }] });
    faults = mergeFaults(faults, { throttle: { requests: 3, retryAfterSeconds: 2 } });
    expect(faults).to.deep.equal({ regionFailures: [{ region: 'northeurope', times: 2 }], throttle: { requests: 3, retryAfterSeconds: 2 } });
    faults = mergeFaults(faults, { regionFailures: [], throttle: null });
    expect(faults).to.deep.equal({ regionFailures: [] });
    expect(() => mergeFaults(faults, { throttle: { requests: -1 } })).to.throw(/throttle.requests/);
    expect(() => mergeFaults(faults, [])).to.throw(/object/);
  });

  it('consumes region failures and request faults one at a time', () => {
    const faults: Faults = {
      regionFailures: [{ region: 'northeurope', times: 1 }],
      throttle: { requests: 1, retryAfterSeconds: 5 },
      serverErrors: { requests: 1 },
      authorizationFailures: { requests: 1 },
    };
    expect(takeRegionFailure(faults, 'westeurope')).to.equal(undefined);
    expect(takeRegionFailure(faults, 'North Europe')).to.be.a('number');
    expect(takeRegionFailure(faults, 'northeurope')).to.equal(undefined);
    expect(takeRequestFault(faults)).to.deep.equal({ kind: 'throttle', retryAfterSeconds: 5 });
    expect(takeRequestFault(faults)).to.deep.equal({ kind: 'serverError' });
    expect(takeRequestFault(faults)).to.deep.equal({ kind: 'authorizationFailure' });
    expect(takeRequestFault(faults)).to.equal(undefined);
  });

  it('parses ARM paths case-insensitively and names routes without names', () => {
    const path = parseResourcePath('/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/Images/i/Versions/1.0.0');
    expect(path).to.deep.equal({ subscriptionId: 's', resourceGroup: 'rg', provider: 'microsoft.compute', types: ['galleries', 'images', 'versions'], names: ['g', 'i', '1.0.0'] });
    expect(routeName('PUT', path)).to.equal('PUT resourceGroups/{}/galleries/{}/images/{}/versions/{}');
    const list = parseResourcePath('/subscriptions/s/providers/Microsoft.Compute/galleries');
    expect(routeName('GET', list)).to.equal('GET galleries');
    expect(parseResourcePath('/subscriptions/s/resourcegroups/rg')).to.deep.equal({ subscriptionId: 's', provider: 'microsoft.resources', types: ['resourcegroups'], names: ['rg'] });
    expect(parseResourcePath('/subscriptions/s/providers/Microsoft.Storage/storageAccounts')).to.equal(undefined);
  });
});
