// Gallery image versions as Azure orders them: `x.y.z`, compared numerically, and "latest".
import type { ImageVersionObservation } from './observations.ts';

const VERSION = /^(\d+)\.(\d+)\.(\d+)$/;

export function versionParts(version: string): [number, number, number] | undefined {
  const match = VERSION.exec(version);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

function compare(a: readonly [number, number, number], b: readonly [number, number, number]): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** The highest `x.y.z` among `versions`, numerically (1.0.10 > 1.0.9); names of another shape are ignored. */
export function highestVersion(versions: Iterable<string>): string | undefined {
  let best: [number, number, number] | undefined;
  for (const version of versions) {
    const p = versionParts(version);
    if (p && (!best || compare(p, best) > 0)) best = p;
  }
  return best?.join('.');
}

/** Azure's "latest": the highest version not excluded from latest, leaving out failed ones. */
export function latestVersion(versions: readonly ImageVersionObservation[]): ImageVersionObservation | undefined {
  const candidates = versions.filter((v) => !v.excludeFromLatest && v.provisioningState !== 'Failed');
  const name = highestVersion(candidates.map((v) => v.name));
  return candidates.find((v) => v.name === name);
}
