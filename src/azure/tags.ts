// The tags that tie what the operator makes in Azure to the object that made it. Status can be
// lost (a crash between the ARM call and the status write); Azure keeps these, so the operator
// always looks for its own resources by tag before it makes one.

/** On an image version: the uid of the ImageExport that made it. */
export const EXPORT_UID_TAG = 'labimages.io/export-uid';

/** On a gallery: the uid of the GalleryAttachment that created it (only such a gallery is ever deleted). */
export const CREATED_BY_TAG = 'labimages.io/created-by';

/** On a template VM: the uid of the LabTemplate that owns it. */
export const TEMPLATE_UID_TAG = 'labimages.io/template-uid';
