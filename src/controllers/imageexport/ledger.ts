// What this process knows of the versions in each image definition, so that choosing a version
// for a new export does not list (and parse) every version of the image each time: an image with
// a thousand versions would make a thousand exports cost a million parsed versions.
import type { ImageVersionObservation } from '../../azure/index.ts';

/** A version's name and its export-uid tag (absent on uploads from outside the operator). */
export interface KnownVersion {
  name: string;
  exportUid?: string | undefined;
}

interface Entry {
  known: Promise<Map<string, KnownVersion>>;
  /** When the list behind `known` was asked for. */
  listedAt: number;
}

/**
 * An image is listed on first use, and again when a caller needs a list younger than what the
 * ledger holds; what the process learns between lists (a version found in the way, one ARM
 * refused to make) is added. It never forgets a version, so it may hold one deleted since:
 * choosing past it only skips a number. Between lists it misses what others make.
 *
 * The first list also answers "did a process that crashed make a version for this export?": any
 * such version was made before this process started, so before the list.
 */
export class VersionLedger {
  readonly #images = new Map<string, Entry>();

  /**
   * The versions known in `image`, from a list made at most `maxAgeMs` before `now` (workers
   * asking meanwhile share it); default: any list this process made.
   */
  async versions(image: string, list: () => Promise<ImageVersionObservation[]>, maxAgeMs = Infinity, now = Date.now()): Promise<readonly KnownVersion[]> {
    let entry = this.#images.get(image);
    if (!entry || now - entry.listedAt > maxAgeMs) entry = this.#list(image, list, entry, now);
    return [...(await entry.known).values()];
  }

  /** Notes a version seen or made in `image` (listing it first if needed, so that the note is not lost to the list). */
  async record(image: string, version: KnownVersion, list: () => Promise<ImageVersionObservation[]>): Promise<void> {
    const entry = this.#images.get(image) ?? this.#list(image, list, undefined, Date.now());
    (await entry.known).set(version.name, { name: version.name, exportUid: version.exportUid });
  }

  /** Lists the image, adding what the list has to what `previous` knew. A failed list is not kept: the next caller lists again. */
  #list(image: string, list: () => Promise<ImageVersionObservation[]>, previous: Entry | undefined, now: number): Entry {
    const known = Promise.all([previous?.known ?? new Map<string, KnownVersion>(), list()]).then(([versions, listed]) => {
      for (const v of listed) versions.set(v.name, { name: v.name, exportUid: v.exportUid });
      return versions;
    });
    const entry = { known, listedAt: now };
    this.#images.set(image, entry);
    known.catch(() => {
      if (this.#images.get(image) !== entry) return;
      if (previous) this.#images.set(image, previous);
      else this.#images.delete(image);
    });
    return entry;
  }
}
