import type { ControllerSetup } from '../runtime/index.ts';
import type { OperatorContext } from './context.ts';

/**
 * Every controller `labimage run` starts, in one place: each kind's module exports a factory
 * taking the operator context and is listed here (LabAccount, GalleryAttachment, ImageExport, LabTemplate).
 */
export function controllers(_context: OperatorContext): ControllerSetup[] {
  return [];
}
