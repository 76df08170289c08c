// Azure, as the controllers see it: the gallery port and its data, ARM ids, ownership tags,
// errors, operations, credentials, regions.
export { armGalleryPort, createGalleryPort } from './gallery-port.ts';
export type * from './port.ts';
export { ARM_BUDGET_EXHAUSTED, ArmBudget, type ArmBudgetOptions } from './budget.ts';
export { createArmClient, DEFAULT_ARM_REQUEST_TIMEOUT_MS } from './client.ts';
export type { ArmClient, ArmClientConfig } from './client.ts';
export { armScopeOf, azureCloud, CLOUD_NAMES, DEFAULT_CLOUD } from './clouds.ts';
export type { AzureCloud, CloudName } from './clouds.ts';
export {
  CREDENTIAL_KEYS,
  CREDENTIAL_KEYS_HINT,
  InvalidCredentialSecretError,
  operatorIdentityCredential,
  servicePrincipalCredential,
  servicePrincipalOf,
  staticTokenCredential,
  withTokenTimeout,
} from './credentials.ts';
export type { IdentityEndpoint, ServicePrincipal } from './credentials.ts';
export { EMULATOR_DEFAULT_TOKEN, simulatedSubscriptionId } from './simulated.ts';
export { ArmError, classifyArmError, isCredentialRejection } from './errors.ts';
export { galleryId, imageId, imageVersionId, isWithinScope, locateArmId, parseGalleryId, parseImageVersionId, parseVirtualMachineId, scopeId, virtualMachineId } from './ids.ts';
export type { ArmLocation } from './ids.ts';
export type * from './observations.ts';
export { MIN_REQUEUE_MS, requeueAfter, retryAfter } from './operations.ts';
export type { OperationHandle, OperationStatus } from './operations.ts';
export { armRequestCounter } from './metrics.ts';
export * from './regions.ts';
export { CREATED_BY_TAG, EXPORT_UID_TAG, TEMPLATE_UID_TAG } from './tags.ts';
export { highestVersion, latestVersion } from './versions.ts';
