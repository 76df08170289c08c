// The ARM emulator: `startEmulator` for the embedded mode and `labimage emulator`.
export { startEmulator } from './server.ts';
export type { EmulatorOptions, RunningEmulator, RequestCounts } from './server.ts';
export type { Faults } from './faults.ts';
export { marketplaceImages } from './catalogue.ts';
export { replicationFailedMessage } from './image-versions.ts';
export { defaultConfigDocument, defaultToken, demoPrincipal, type EmulatorConfig } from './config.ts';
export { adminToken, ADMIN_TOKEN_FILE } from './admin-token.ts';
