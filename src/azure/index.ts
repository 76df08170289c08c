// The gallery port: what controllers import.
export { GalleryPort, createGalleryPort } from './gallery-port.ts';
export type { GalleryRef, ImageRef, ImageVersionRef, VirtualMachineRef, GallerySpec, ImageSpec, ImageVersionSpec, ImageVersionPublishing, VirtualMachineSpec } from './gallery-port.ts';
export { createArmClient, azureEndpoint } from './client.ts';
export type { ArmClient, ArmClientConfig } from './client.ts';
export { createArmCredential, simulatedCredential, secretKeys, MissingCredentialKeysError } from './credentials.ts';
export type { ArmCredentialSource } from './credentials.ts';
export { ArmError, classifyArmError } from './errors.ts';
export { exportUidTag } from './observations.ts';
export type * from './observations.ts';
export type { OperationHandle, OperationStatus } from './operations.ts';
export { armRequestCounter } from './metrics.ts';
export * from './regions.ts';
