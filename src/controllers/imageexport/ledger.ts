// What this process knows of the versions in each image definition, so that choosing a version
// for a new export does not list (and parse) every version of the image each time: an image with
// a thousand versions would make a thousand exports cost a million parsed versions.
import type { ImageVersionObservation } from '../../azure/index.ts';

/** A version's name and its export-uid tag (absent on uploads from outside the operator). */
export interface KnownVersion {
  name: string;
  exportUid?: string | undefined;
}

/**
 * Each image is listed once per process, on first use; what the process learns afterwards (a
 * version found in the way, one it made) is added. It never forgets a version, so it may hold one
 * deleted since: choosing past it only skips a number. It may miss an upload made since the list,
 * which is why callers check a chosen version is free with a GET before they create it.
 *
 * The first list also answers "did a process that crashed make a version for this export?": any
 * such version was made before this process started, so before the list.
 */
export class VersionLedger {
  readonly #images = new Map<string, Promise<Map<string, KnownVersion>>>();

  /** The versions known in `image`, listing them with `list` the first time. */
  async versions(image: string, list: () => Promise<ImageVersionObservation[]>): Promise<readonly KnownVersion[]> {
    return [...(await this.#entry(image, list)).values()];
  }

  /** Notes a version seen or made in `image` (listing it first if needed, so that the note is not lost to the list). */
  async record(image: string, version: KnownVersion, list: () => Promise<ImageVersionObservation[]>): Promise<void> {
    (await this.#entry(image, list)).set(version.name, { name: version.name, exportUid: version.exportUid });
  }

  #entry(image: string, list: () => Promise<ImageVersionObservation[]>): Promise<Map<string, KnownVersion>> {
    let entry = this.#images.get(image);
    if (!entry) {
      // Workers asking at once share one list; a failed list is not kept, so the next asks again.
      entry = list().then((versions) => new Map(versions.map((v) => [v.name, { name: v.name, exportUid: v.exportUid }])));
      const listing = entry;
      listing.catch(() => this.#images.get(image) === listing && this.#images.delete(image));
      this.#images.set(image, entry);
    }
    return entry;
  }
}
