// Which image version an export makes, and finding it again: from status, from what this process
// chose, from its tag (a process that crashed made it), or a new number.
import type { ImageExport } from '../../api/index.ts';
import { highestVersion, type GalleryPort, type ImageRef, type ImageVersionObservation } from '../../azure/index.ts';
import type { ObjectReader } from '../../runtime/index.ts';
import { BY_IMAGE } from '../common/indexes.ts';
import { StalledError } from '../common/stalled.ts';
import { VersionLedger } from './ledger.ts';
import { nextVersion } from './version.ts';

/**
 * A new number is chosen from a list of the image's versions at most this old (with what this
 * process's exports claim): exports created together share a list instead of a GET each. A version
 * someone else makes in those seconds is the risk; see `#choose`.
 */
const VERSION_LIST_MAX_AGE_MS = 5000;

/** The key of an image definition in this process's memos. */
export function imageKey(ref: ImageRef): string {
  return `${ref.resourceGroup}/${ref.gallery}/${ref.image}`.toLowerCase();
}

export interface ChosenVersion {
  version: string;
  /** The version in Azure; undefined when it is still to be made. */
  observed: ImageVersionObservation | undefined;
}

/**
 * Keeps, in this process only (an optimisation, rebuilt from Azure after a restart), the version
 * each export chose, so that two workers choosing at once for one image do not pick the same one
 * before the cache shows either, and the versions each image had when this process first looked.
 */
export class VersionChoice {
  readonly #exports: ObjectReader<ImageExport>;
  /** `unsent`: chosen here, and no PUT of it has left this process yet, so there is nothing in ARM to look at. */
  readonly #claims = new Map<string, { image: string; version: string; unsent?: true }>();
  /**
   * The highest version claimed of each image, claims since forgotten included: a new number comes
   * after it, so a number is never given twice by this process, and a choice reads one entry, not
   * every claim of its image.
   */
  readonly #highestClaimed = new Map<string, string>();
  readonly #ledger = new VersionLedger();
  /**
   * The highest version the cached exports of each image record in status, read at most every
   * VERSION_LIST_MAX_AGE_MS, like the gallery's list: reading them for every choice cost a pass
   * over all the image's exports per new export (quadratic: seconds of CPU at 10,000). What this
   * process writes in those seconds is in its claims.
   */
  readonly #recorded = new Map<string, { at: number; highest: string | undefined }>();

  constructor(exports: ObjectReader<ImageExport>) {
    this.#exports = exports;
  }

  /**
   * The export's version: the one status records or this process chose (one GET, none while no
   * PUT of it has been sent: one handed back by the pacing, say), else one a
   * crashed process made for it (found by its tag in the ledger), else a new one: spec.version
   * (checked free with a GET), or the next after what a recent list of the gallery has and other
   * exports claim. The choice is claimed.
   */
  async choose(exp: ImageExport, port: GalleryPort, image: ImageRef): Promise<ChosenVersion> {
    const chosen = (await this.#known(exp, port, image)) ?? (await this.#choose(exp, port, image));
    this.#claim(exp.metadata.uid ?? '', imageKey(image), chosen.version);
    return chosen;
  }

  /**
   * ARM refused to make the export's version from its source (PropertyChangeNotAllowed): someone
   * made that number from another source since the list. It is noted as taken and the claim
   * dropped, so the next pass chooses again.
   */
  async refused(exp: ImageExport, port: GalleryPort, image: ImageRef, version: string): Promise<void> {
    this.forget(exp.metadata.uid);
    await this.#ledger.record(imageKey(image), { name: version }, () => port.listImageVersions(image));
  }

  /** A PUT of the export's version left this process (whatever became of it): from now on ARM is asked. */
  sent(uid: string | undefined): void {
    const claim = uid ? this.#claims.get(uid) : undefined;
    if (claim) delete claim.unsent;
  }

  forget(uid: string | undefined): void {
    if (uid) this.#claims.delete(uid);
  }

  #claim(uid: string, image: string, version: string, unsent = false): void {
    const claim = this.#claims.get(uid);
    if (claim?.image === image && claim.version === version) return;
    this.#claims.set(uid, { image, version, ...(unsent ? { unsent } : {}) });
    const previous = this.#highestClaimed.get(image);
    const highest = highestVersion(previous ? [previous, version] : [version]);
    if (highest) this.#highestClaimed.set(image, highest);
  }

  /** The version status records or this process chose, or one a crashed process made; undefined when there is none. */
  async #known(exp: ImageExport, port: GalleryPort, image: ImageRef): Promise<ChosenVersion | undefined> {
    const uid = exp.metadata.uid ?? '';
    const key = imageKey(image);
    const list = () => port.listImageVersions(image);
    const own = this.#claims.get(uid);
    const known = exp.status?.version ?? (own?.image === key ? own.version : undefined);
    if (known && known === own?.version && own.unsent) return { version: known, observed: undefined };
    if (known) {
      const observed = await port.observeImageVersion({ ...image, version: known });
      if (!observed || observed.exportUid === uid) return { version: known, observed };
      await this.#ledger.record(key, observed, list);
      if (exp.spec.version) throw new StalledError('VersionInUse', `version ${known} of image ${image.image} belongs to another export or upload: choose another spec.version`);
    }
    const made = (await this.#ledger.versions(key, list)).find((v) => v.exportUid === uid);
    return made ? { version: made.name, observed: await port.observeImageVersion({ ...image, version: made.name }) } : undefined;
  }

  /**
   * spec.version is the user's number: it may exist already (an upload, another export), so it is
   * looked at before it is made. A number of our own choosing is the next after a list at most a
   * few seconds old and every claim this process knows, with no GET: another writer would have to
   * make that very number in those seconds. From another source, ARM refuses our PUT
   * (PropertyChangeNotAllowed, see `refused`); from the same VM, ARM would take our PUT as an update
   * of theirs, which is why one gallery's exports belong to one operator (one shard: README, Decisions).
   */
  async #choose(exp: ImageExport, port: GalleryPort, image: ImageRef): Promise<ChosenVersion> {
    const uid = exp.metadata.uid ?? '';
    const key = imageKey(image);
    const list = () => port.listImageVersions(image);
    if (exp.spec.version) {
      const inTheWay = await port.observeImageVersion({ ...image, version: exp.spec.version });
      if (!inTheWay || inTheWay.exportUid === uid) return { version: exp.spec.version, observed: inTheWay };
      await this.#ledger.record(key, inTheWay, list);
      throw new StalledError('VersionInUse', `version ${exp.spec.version} of image ${image.image} already exists and was not made by this export: choose another spec.version`);
    }
    const existing = (await this.#ledger.versions(key, list, VERSION_LIST_MAX_AGE_MS)).map((v) => v.name);
    const version = nextVersion(new Set([...existing, ...this.#claimed(exp, key)]));
    // Claimed before any await: workers choosing at once resume one after another from the same list.
    this.#claim(uid, key, version, true);
    return { version, observed: undefined };
  }

  /** The highest versions of the image that exports hold in status, and that this process has chosen. */
  #claimed(exp: ImageExport, key: string): string[] {
    return [this.#recordedHighest(exp.spec.image.name.toLowerCase(), Date.now()), this.#highestClaimed.get(key)].filter((v) => v !== undefined);
  }

  #recordedHighest(image: string, now: number): string | undefined {
    const memo = this.#recorded.get(image);
    if (memo && now - memo.at < VERSION_LIST_MAX_AGE_MS) return memo.highest;
    const versions: string[] = [];
    for (const e of this.#exports.byIndex(BY_IMAGE, image)) if (e.status?.version) versions.push(e.status.version);
    const highest = highestVersion(versions);
    this.#recorded.set(image, { at: now, highest });
    return highest;
  }
}
