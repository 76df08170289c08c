// Azure, as the controllers see it: the gallery port and its data, ARM ids, ownership tags,
// errors, operations, credentials, regions.
export { armGalleryPort, createGalleryPort } from './gallery-port.ts';
export type * from './port.ts';
export { ArmBudget, type ArmBudgetOptions } from './budget.ts';
export { createArmClient, azureEndpoint } from './client.ts';
export type { ArmClient, ArmClientConfig } from './client.ts';
export { createArmCredential, simulatedCredential, secretKeys, MissingCredentialKeysError } from './credentials.ts';
export type { ArmCredentialSource } from './credentials.ts';
export { ArmError, classifyArmError, isCredentialRejection } from './errors.ts';
export { galleryId, imageId, imageVersionId, parseGalleryId, parseImageVersionId, parseVirtualMachineId, virtualMachineId } from './ids.ts';
export type * from './observations.ts';
export { MIN_REQUEUE_MS, requeueAfter, retryAfter } from './operations.ts';
export type { OperationHandle, OperationStatus } from './operations.ts';
export { armRequestCounter } from './metrics.ts';
export * from './regions.ts';
export { CREATED_BY_TAG, EXPORT_UID_TAG, TEMPLATE_UID_TAG } from './tags.ts';
export { highestVersion, latestVersion } from './versions.ts';
