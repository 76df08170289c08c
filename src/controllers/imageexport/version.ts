// The export's image version: which number a new export gets, and which of its publishing flags
// differ from Azure. Pure, so the rules are tested without a gallery.
import type { ImageExport } from '../../api/index.ts';
import { highestVersion, type ImageVersionObservation } from '../../azure/index.ts';

/**
 * The version a new export of an image gets: the next patch after the highest one that exists in
 * the gallery or that another export of the image has already claimed (it may not exist in Azure
 * yet); 1.0.0 for the first.
 */
export function nextVersion(taken: Iterable<string>): string {
  const [major, minor, patch] = highestVersion(taken)?.split('.').map(Number) ?? [];
  if (major === undefined || minor === undefined || patch === undefined) return '1.0.0';
  return `${major}.${minor}.${patch + 1}`;
}

export interface PublishingChanges {
  excludeFromLatest?: boolean;
  endOfLifeDate?: Date;
}

/**
 * spec.excludeFromLatest and spec.endOfLifeDate where they differ from the version in Azure, or
 * undefined when both match. A removed endOfLifeDate is left in Azure: ARM's PATCH cannot unset it.
 */
export function publishingChanges(exp: ImageExport, observed: ImageVersionObservation): PublishingChanges | undefined {
  const changes: PublishingChanges = {};
  const excludeFromLatest = exp.spec.excludeFromLatest ?? false;
  if (excludeFromLatest !== observed.excludeFromLatest) changes.excludeFromLatest = excludeFromLatest;
  const endOfLife = exp.spec.endOfLifeDate ? new Date(exp.spec.endOfLifeDate) : undefined;
  if (endOfLife && endOfLife.getTime() !== observed.endOfLifeDate?.getTime()) changes.endOfLifeDate = endOfLife;
  return Object.keys(changes).length > 0 ? changes : undefined;
}
