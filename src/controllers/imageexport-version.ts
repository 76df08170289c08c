// Choosing an export's image version: pure, so the rules can be tested without a gallery.

const VERSION = /^(\d+)\.(\d+)\.(\d+)$/;

function parts(version: string): [number, number, number] | undefined {
  const match = VERSION.exec(version);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

/** The highest `x.y.z` among `versions`, numerically (1.0.10 > 1.0.9); names of another shape are ignored. */
export function highestVersion(versions: Iterable<string>): string | undefined {
  let best: [number, number, number] | undefined;
  for (const version of versions) {
    const p = parts(version);
    if (p && (!best || compare(p, best) > 0)) best = p;
  }
  return best?.join('.');
}

function compare(a: readonly [number, number, number], b: readonly [number, number, number]): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/**
 * The version a new export of an image gets: the next patch after the highest one that exists in
 * the gallery or that another export of the image has already claimed (it may not exist in Azure
 * yet); 1.0.0 for the first.
 */
export function nextVersion(taken: Iterable<string>): string {
  const highest = parts(highestVersion(taken) ?? '');
  if (!highest) return '1.0.0';
  const [major, minor, patch] = highest;
  return `${major}.${minor}.${patch + 1}`;
}
