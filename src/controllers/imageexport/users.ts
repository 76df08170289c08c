// What still uses an export's image version, so that deleting an export never deletes a version in
// use: LabTemplates in every namespace the operator serves (from the cache), and VMs that ARM
// reports made from it (templates the operator cannot see, and VMs made outside any lab).
import type { ImageExport, LabAccount, LabTemplate } from '../../api/index.ts';
import { ArmError, isCredentialRejection, type GalleryPort } from '../../azure/index.ts';
import type { ObjectReader } from '../../runtime/index.ts';

/** The gallery an image version id lies in, in lower case (ARM ids compare without case). */
function galleryOfVersion(versionId: string): string {
  const id = versionId.toLowerCase();
  return id.slice(0, id.indexOf('/images/'));
}

/**
 * Templates that use the export: by reference (its own namespace), by the version they resolved to
 * (any namespace), or pinned to its version of its image on an account of the same gallery (any
 * namespace) before they resolved it.
 */
export function templatesUsing(exp: ImageExport, templates: ObjectReader<LabTemplate>, accounts: ObjectReader<LabAccount>): LabTemplate[] {
  const namespace = exp.metadata.namespace;
  const { version, imageVersionId } = exp.status ?? {};
  const versionId = imageVersionId?.toLowerCase();
  const gallery = versionId ? galleryOfVersion(versionId) : undefined;
  return templates.list().filter((t) => {
    const image = t.spec?.image ?? {};
    const sameNamespace = t.metadata.namespace === namespace;
    if (sameNamespace && image.imageExportRef?.name === exp.metadata.name) return true;
    if (versionId && t.status?.image?.versionId?.toLowerCase() === versionId) return true;
    if (!version || image.galleryImage?.name !== exp.spec.image.name || image.galleryImage.version !== version) return false;
    if (sameNamespace && t.spec.labAccountRef.name === exp.spec.labAccountRef.name) return true;
    return gallery !== undefined && accounts.get(t.spec.labAccountRef.name, t.metadata.namespace)?.status?.gallery?.id?.toLowerCase() === gallery;
  });
}

/** How a deletion that waits names a template: by name in the export's namespace, `namespace/name` elsewhere. */
export function describeTemplate(t: LabTemplate, namespace: string | undefined): string {
  return `LabTemplate ${t.metadata.namespace === namespace ? '' : `${t.metadata.namespace}/`}${t.metadata.name}`;
}

/**
 * VMs that ARM reports made from the version, in the whole subscription. A principal that may read
 * only some resource groups is refused the subscription's list: then only `resourceGroups` (where
 * the account's template VMs are) are looked at.
 */
export async function virtualMachinesUsing(port: GalleryPort, versionId: string, resourceGroups: readonly string[]): Promise<string[]> {
  const id = versionId.toLowerCase();
  let vms;
  try {
    vms = await port.listVirtualMachines();
  } catch (err) {
    if (!(err instanceof ArmError && isCredentialRejection(err))) throw err;
    vms = (await Promise.all([...new Set(resourceGroups.map((g) => g.toLowerCase()))].map((group) => port.listVirtualMachines(group)))).flat();
  }
  return vms
    .filter((vm) => vm.image.id?.toLowerCase() === id)
    .map((vm) => `VM ${vm.name}`)
    .sort();
}
