import { expect } from 'chai';
import type { LabAccountSpec } from '../../../src/api/index.ts';
import { checkReplicationRegions, geographyOfAccount, regionChoice } from '../../../src/controllers/labaccount/geography.ts';
import { StalledError } from '../../../src/controllers/common/stalled.ts';

function stalled(fn: () => unknown): StalledError {
  try {
    fn();
  } catch (err) {
    if (err instanceof StalledError) return err;
    throw err;
  }
  throw new Error('expected a StalledError');
}

describe('LabAccount rules', function () {
  it('gives a region its data-residency geography and every region of it', function () {
    expect(geographyOfAccount({ location: 'westeurope' })).to.deep.equal({ geography: 'Europe', regions: ['northeurope', 'westeurope'] });
    expect(geographyOfAccount({ location: 'francecentral' }).geography).to.not.equal('Europe');
  });

  it('Stalls an unknown location, naming spec.location', function () {
    const err = stalled(() => geographyOfAccount({ location: 'moonbase1' }));
    expect(err.reason).to.equal('UnknownLocation');
    expect(err.message).to.contain('spec.location').and.contain('moonbase1');
  });

  it('accepts replication regions inside the geography, and none at all', function () {
    const spec: LabAccountSpec = { location: 'westeurope', replication: { regions: ['northeurope', 'westeurope'] } };
    expect(() => checkReplicationRegions(spec, 'Europe', ['northeurope', 'westeurope'])).not.to.throw();
    expect(() => checkReplicationRegions({ location: 'westeurope' }, 'Europe', ['northeurope', 'westeurope'])).not.to.throw();
  });

  it('names the first region outside the geography, and an unknown one', function () {
    const outside = stalled(() => checkReplicationRegions({ location: 'westeurope', replication: { regions: ['westeurope', 'swedencentral'] } }, 'Europe', ['northeurope', 'westeurope']));
    expect(outside.reason).to.equal('RegionOutsideGeography');
    expect(outside.message).to.contain('spec.replication.regions').and.contain('swedencentral').and.contain('Europe');
    const unknown = stalled(() => checkReplicationRegions({ location: 'westeurope', replication: { regions: ['narnia1'] } }, 'Europe', ['northeurope', 'westeurope']));
    expect(unknown.reason).to.equal('UnknownRegion');
    expect(unknown.message).to.contain('narnia1');
  });

  it('replicates by default to the available regions only, and says why each other one is left out', function () {
    const { regions } = geographyOfAccount({ location: 'francecentral' });
    expect(regions).to.deep.equal(['francecentral', 'francesouth']);
    const choice = regionChoice('francecentral', regions);
    expect(choice.availableRegions).to.deep.equal(['francecentral']);
    expect(choice.excludedRegions).to.have.length(1);
    expect(choice.excludedRegions[0]).to.include({ name: 'francesouth', reason: 'RestrictedAccess' });
    expect(choice.excludedRegions[0]?.message).to.contain('spec.replication.regions');
    expect(regionChoice('westeurope', ['northeurope', 'westeurope'])).to.deep.equal({ availableRegions: ['northeurope', 'westeurope'], excludedRegions: [] });
  });

  it('keeps the account\'s own location among the available regions, even a restricted one', function () {
    expect(regionChoice('francesouth', ['francecentral', 'francesouth']).availableRegions).to.deep.equal(['francecentral', 'francesouth']);
  });
});
