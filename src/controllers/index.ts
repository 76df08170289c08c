import type { ControllerSetup } from '../runtime/index.ts';
import type { OperatorContext } from './context.ts';
import { galleryAttachmentController } from './galleryattachment.ts';
import { imageExportController } from './imageexport.ts';
import { labAccountController } from './labaccount.ts';
import { labTemplateController } from './labtemplate.ts';

/**
 * Every controller `labimage run` starts, in one place: each kind's module exports a factory
 * taking the operator context and is listed here (LabAccount, GalleryAttachment, ImageExport, LabTemplate).
 */
export function controllers(context: OperatorContext): ControllerSetup[] {
  return [
    labAccountController(context),
    galleryAttachmentController(context),
    imageExportController(context),
    labTemplateController(context),
  ];
}
