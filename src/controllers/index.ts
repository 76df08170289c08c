import type { ControllerSetup } from '../runtime/index.ts';
import type { OperatorContext } from './common/context.ts';
import { galleryAttachmentController } from './galleryattachment/controller.ts';
import { imageExportController } from './imageexport/controller.ts';
import { labAccountController } from './labaccount/controller.ts';
import { labTemplateController } from './labtemplate/controller.ts';

/**
 * Every controller `labimage run` starts, in one place: each kind's folder has a controller.ts
 * (the wiring) whose factory takes the operator context, and a reconciler.ts (the logic).
 */
export function controllers(context: OperatorContext): ControllerSetup[] {
  return [labAccountController(context), galleryAttachmentController(context), imageExportController(context), labTemplateController(context)];
}
