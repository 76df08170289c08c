// Where a lab account lives and may replicate: its geography, judged from its spec alone.
import type { LabAccountSpec, LabAccountStatus } from '../../api/index.ts';
import { DEFAULT_CLOUD, accessRestriction, geographyOf, isKnownRegion, normalizeRegion, regionsOfGeography } from '../../azure/index.ts';
import { StalledError } from '../common/stalled.ts';

/** Where an account may replicate: its geography's regions, or, where the operator has no geography data, the regions its spec names. */
export interface AccountPlace {
  /** Absent: a region of a sovereign cloud, which the region data does not cover. */
  geography?: string;
  regions: string[];
}

/** Whether the account lives in a sovereign cloud (US Government, China), whose regions the published geography table leaves out. */
function isSovereign(spec: LabAccountSpec): boolean {
  return spec.provider === 'Azure' && (spec.azure?.cloud ?? DEFAULT_CLOUD) !== DEFAULT_CLOUD;
}

/**
 * The account's geography and its regions. A sovereign cloud's region that the data does not know
 * is taken as given: no geography, and the regions are the location and spec.replication.regions,
 * so exports replicate to those and templates may use them.
 */
export function placeOfAccount(spec: LabAccountSpec): AccountPlace | undefined {
  const geography = geographyOf(spec.location);
  if (geography) return { geography, regions: regionsOfGeography(geography) };
  if (!isSovereign(spec)) return undefined;
  return { regions: [...new Set([spec.location, ...(spec.replication?.regions ?? [])].map(normalizeRegion))].sort() };
}

/** The account's place; Stalled when the location is unknown. */
export function geographyOfAccount(spec: LabAccountSpec): AccountPlace {
  const place = placeOfAccount(spec);
  if (!place) {
    throw new StalledError('UnknownLocation', `spec.location ${JSON.stringify(spec.location)} is not a known Azure region: use a programmatic region name such as westeurope`);
  }
  return place;
}

type RegionChoice = Required<Pick<LabAccountStatus, 'availableRegions' | 'excludedRegions'>>;

const exclusionMessages = {
  RestrictedAccess: 'Azure opens it only to subscriptions with a business need, after a request to Microsoft',
  ComingSoon: 'announced by Azure, not open yet',
} as const;

/**
 * Which regions of the geography an export replicates to by default: those open to every
 * subscription, as the lab platform chooses, and the account's own location (the user chose it, so
 * it is theirs to use). Restricted-access and coming-soon regions are only used when listed.
 */
export function regionChoice(location: string, regions: readonly string[]): RegionChoice {
  const own = normalizeRegion(location);
  const availableRegions: string[] = [];
  const excludedRegions: RegionChoice['excludedRegions'] = [];
  for (const name of regions) {
    const reason = name === own ? undefined : accessRestriction(name);
    if (!reason) availableRegions.push(name);
    else excludedRegions.push({ name, reason, message: `${exclusionMessages[reason]}: list it in spec.replication.regions to replicate there once the subscription may use it` });
  }
  return { availableRegions, excludedRegions };
}

/** Replication defaults must stay inside the geography (a lab platform's rule); names the first region that does not. */
export function checkReplicationRegions(spec: LabAccountSpec, geography: string | undefined, regions: readonly string[]): void {
  // Without geography data the regions are taken as given.
  if (!geography) return;
  for (const region of spec.replication?.regions ?? []) {
    if (!isKnownRegion(region)) {
      throw new StalledError('UnknownRegion', `spec.replication.regions: ${JSON.stringify(region)} is not a known Azure region: use one of ${regions.join(', ')}`);
    }
    if (!regions.includes(normalizeRegion(region))) {
      throw new StalledError(
        'RegionOutsideGeography',
        `spec.replication.regions: ${region} is outside the geography ${geography} of spec.location ${spec.location}: use regions of ${geography} (${regions.join(', ')}), or none for all of them`,
      );
    }
  }
}
