import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { accessRestriction, allRegions, findRegion, geographyOf, isKnownRegion, normalizeRegion, regionDisplayName, regionsOfGeography, sameRegion } from '../../../src/azure/regions.ts';

describe('regions', () => {
  it('normalizes display names and programmatic names to one spelling', () => {
    expect(normalizeRegion('West Europe')).to.equal('westeurope');
    expect(normalizeRegion('westeurope')).to.equal('westeurope');
    expect(normalizeRegion('WestEurope')).to.equal('westeurope');
    expect(sameRegion('West US 2', 'westus2')).to.equal(true);
    expect(sameRegion('West US', 'westus2')).to.equal(false);
  });

  it('answers with ARM display names', () => {
    expect(regionDisplayName('westus')).to.equal('West US');
    expect(regionDisplayName('North Europe')).to.equal('North Europe');
    expect(findRegion('australiacentral2')?.displayName).to.equal('Australia Central 2');
  });

  it('uses data-residency geographies: Europe is north and west Europe only', () => {
    expect(regionsOfGeography('Europe')).to.deep.equal(['northeurope', 'westeurope']);
    expect(geographyOf('France Central')).to.equal('France');
    expect(geographyOf('swedencentral')).to.equal('Sweden');
    expect(regionsOfGeography('United States')).to.include.members(['eastus', 'westus', 'westus3']);
    expect(regionsOfGeography('Atlantis')).to.deep.equal([]);
  });

  it('tells why a region is not open to every subscription', () => {
    expect(accessRestriction('francesouth')).to.equal('RestrictedAccess');
    expect(accessRestriction('francecentral')).to.equal(undefined);
    expect(accessRestriction('denmarkeast')).to.equal('ComingSoon');
    expect(accessRestriction('moonbase1')).to.equal(undefined);
  });

  it('knows the regions of the published list and no others', () => {
    expect(isKnownRegion('West Europe')).to.equal(true);
    expect(isKnownRegion('moonbase1')).to.equal(false);
    expect(geographyOf('moonbase1')).to.equal(undefined);
  });

  it('matches the fixture it was generated from', () => {
    const fixture = JSON.parse(readFileSync(new URL('../../fixtures/azure-geographies.json', import.meta.url), 'utf8')) as {
      geographies: Record<string, string[]>;
    };
    for (const [geography, regions] of Object.entries(fixture.geographies)) {
      expect(regionsOfGeography(geography), geography).to.have.members(regions);
    }
    expect(allRegions().length).to.equal(Object.values(fixture.geographies).flat().length);
  });
});
