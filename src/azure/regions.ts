import catalogue from './geographies.json' with { type: 'json' };

/** An Azure public-cloud region and the data-residency geography it belongs to. */
export interface Region {
  /** Programmatic name, e.g. `westeurope`. */
  name: string;
  /** What ARM answers with, e.g. `West Europe`. */
  displayName: string;
  geography: string;
}

/** Whether a region is open to every subscription, as the published region table marks it. */
export interface RegionAccess {
  /** Restricted access: only for customers with a business need, after a request to Microsoft. */
  restrictedAccess: boolean;
  /** Announced, not yet open. */
  comingSoon: boolean;
}

const regions: readonly Region[] = catalogue.regions.map(({ name, displayName, geography }) => ({ name, displayName, geography }));
const byName = new Map(regions.map((region) => [region.name, region]));
const accessByName = new Map<string, RegionAccess>(catalogue.regions.map(({ name, restrictedAccess, comingSoon }) => [name, { restrictedAccess, comingSoon }]));

/**
 * ARM accepts `West Europe`, `westeurope` and `WestEurope` alike; this is the one spelling we
 * store and compare. Unknown names are normalized the same way so they can still be compared.
 */
export function normalizeRegion(region: string): string {
  return region.replace(/\s+/g, '').toLowerCase();
}

export function findRegion(region: string): Region | undefined {
  return byName.get(normalizeRegion(region));
}

export function isKnownRegion(region: string): boolean {
  return byName.has(normalizeRegion(region));
}

/** The display name ARM uses in answers; the normalized name when the region is unknown. */
export function regionDisplayName(region: string): string {
  return findRegion(region)?.displayName ?? normalizeRegion(region);
}

export function geographyOf(region: string): string | undefined {
  return findRegion(region)?.geography;
}

/** The regions of a geography, sorted by name; empty for an unknown geography. */
export function regionsOfGeography(geography: string): string[] {
  return regions.filter((region) => region.geography === geography).map((region) => region.name);
}

export function sameRegion(a: string, b: string): boolean {
  return normalizeRegion(a) === normalizeRegion(b);
}

export function allRegions(): readonly Region[] {
  return regions;
}

/** The region's access flags; undefined for an unknown region. */
export function regionAccess(region: string): RegionAccess | undefined {
  return accessByName.get(normalizeRegion(region));
}

/** Open to every subscription: neither restricted-access nor coming-soon. */
export function isGenerallyAvailable(region: string): boolean {
  const access = regionAccess(region);
  return access !== undefined && !access.restrictedAccess && !access.comingSoon;
}

/** Why a known region is not open to every subscription (the published table's flags), or undefined when it is (or is unknown). */
export function accessRestriction(region: string): 'RestrictedAccess' | 'ComingSoon' | undefined {
  const access = regionAccess(region);
  if (access?.restrictedAccess) return 'RestrictedAccess';
  return access?.comingSoon ? 'ComingSoon' : undefined;
}
