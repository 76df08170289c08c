// The image catalogue of an attached gallery (GalleryAttachment status.images): every image
// definition, exported or uploaded outside any lab, with its latest version and where that version
// has finished replicating.
import { HYPERV_GENERATIONS, OS_STATES, OS_TYPES, type GalleryAttachmentSpec, type GalleryImageStatus, type ImageExport } from '../../api/index.ts';
import { latestVersion, type GalleryPort, type GalleryRef, type ImageObservation, type ImageVersionObservation } from '../../azure/index.ts';

/** Whether lab creators may use an image: its override, else `images.enableNew` (default true). */
export function isImageEnabled(name: string, images: GalleryAttachmentSpec['images']): boolean {
  return images?.overrides?.find((o) => o.name === name)?.enabled ?? images?.enableNew ?? true;
}

/** Regions where a version's replica is Completed, normalized and sorted. */
export function completedRegions(version: ImageVersionObservation | undefined): string[] {
  return [...new Set((version?.replication?.regions ?? []).filter((r) => r.state === 'Completed').map((r) => r.region))].sort();
}

function oneOf<T extends string>(values: readonly T[], value: string | undefined): T | undefined {
  return values.find((v) => v === value);
}

export interface ImageFacts {
  image: ImageObservation;
  versions: readonly ImageVersionObservation[];
  /** The latest version observed with its replication status. */
  latest: ImageVersionObservation | undefined;
}

/**
 * One catalogue entry. An image counts as made by an export when one of its versions carries the
 * export-uid tag (only the operator writes it) or an ImageExport of the account names it.
 */
export function imageStatus(facts: ImageFacts, exportedNames: ReadonlySet<string>, images: GalleryAttachmentSpec['images']): GalleryImageStatus {
  const { image, versions, latest } = facts;
  const osType = oneOf(OS_TYPES, image.osType);
  const osState = oneOf(OS_STATES, image.osState);
  const hyperVGeneration = oneOf(HYPERV_GENERATIONS, image.hyperVGeneration);
  const exported = exportedNames.has(image.name) || versions.some((v) => v.exportUid !== undefined);
  return {
    name: image.name,
    ...(osType ? { osType } : {}),
    ...(osState ? { osState } : {}),
    ...(hyperVGeneration ? { hyperVGeneration } : {}),
    enabled: isImageEnabled(image.name, images),
    ...(latest ? { latestVersion: latest.name } : {}),
    regions: completedRegions(latest),
    source: exported ? 'Export' : 'External',
  };
}

/** What of one export its account's catalogue depends on: its version, where that has replicated, whether it is going. */
export function catalogueFacts(e: ImageExport): [uid: string, image: string, version: string, completed: string[], deleting: boolean] {
  return [
    e.metadata.uid ?? '',
    e.spec?.image?.name ?? '',
    e.status?.version ?? '',
    (e.status?.regions ?? []).filter((r) => r.state === 'Completed').map((r) => r.name).sort(),
    Boolean(e.metadata.deletionTimestamp),
  ];
}

/** The exports of one account that a catalogue depends on, summed up so a change of any of them forces a read. */
export function exportsFingerprint(exports: readonly ImageExport[]): string {
  return JSON.stringify(exports.map(catalogueFacts).sort((a, b) => a[0].localeCompare(b[0])));
}

/**
 * Reads the catalogue from ARM: the images, each image's versions, and the latest version with its
 * replication status (which ARM lists do not carry). Sorted by name, so an unchanged gallery
 * gives an identical status and no write.
 */
export async function readCatalogue(port: GalleryPort, gallery: GalleryRef, exports: readonly ImageExport[], images: GalleryAttachmentSpec['images']): Promise<GalleryImageStatus[]> {
  const exportedNames = new Set(exports.map((e) => e.spec.image.name));
  const observed = (await port.listImages(gallery)).toSorted((a, b) => a.name.localeCompare(b.name));
  const entries: GalleryImageStatus[] = [];
  for (const image of observed) {
    const ref = { ...gallery, image: image.name };
    const versions = await port.listImageVersions(ref);
    const candidate = latestVersion(versions);
    const latest = candidate && (await port.observeImageVersion({ ...ref, version: candidate.name }));
    entries.push(imageStatus({ image, versions, latest }, exportedNames, images));
  }
  return entries;
}
