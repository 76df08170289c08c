// Where a lab account lives and may replicate: its geography, judged from its spec alone.
import type { LabAccountSpec } from '../../api/index.ts';
import { geographyOf, isKnownRegion, normalizeRegion, regionsOfGeography } from '../../azure/index.ts';
import { StalledError } from '../common/stalled.ts';

/** The account's geography and its regions; Stalled when the location is unknown. */
export function geographyOfAccount(spec: LabAccountSpec): { geography: string; regions: string[] } {
  const geography = geographyOf(spec.location);
  if (!geography) {
    throw new StalledError('UnknownLocation', `spec.location ${JSON.stringify(spec.location)} is not a known Azure region: use a programmatic region name such as westeurope`);
  }
  return { geography, regions: regionsOfGeography(geography) };
}

/** Replication defaults must stay inside the geography (a lab platform's rule); names the first region that does not. */
export function checkReplicationRegions(spec: LabAccountSpec, geography: string, regions: readonly string[]): void {
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
