// The controller runtime's public surface: what controllers and the CLI import.
export { NAMESPACES, ObjectClient, SECRETS, apiVersionOf, keyOf, objectKey, splitKey, type ResourceType } from './client.ts';
export { Conditions, READY, RECONCILING, STALLED, findCondition, isConditionTrue, metaTime, type Condition, type ConditionStatus } from './conditions.ts';
export { parseDuration } from './duration.ts';
export { apiStatus, isAlreadyExists, isConflict, isGone, isNotFound, type ApiStatus } from './errors.ts';
export { EVENTS, EventRecorder, type EventType } from './events.ts';
export {
  generationChanged,
  type ControllerDefinition,
  type ReconcileContext,
  type Request,
  type Result,
  type UpdatePredicate,
  type WatchSource,
} from './controller.ts';
export { addFinalizer, hasFinalizer, removeFinalizer, type FinalizerClient } from './finalizers.ts';
export { Informer, type EventHandler } from './informer.ts';
export {
  DEFAULT_GRACEFUL_SHUTDOWN_TIMEOUT_MS,
  DEFAULT_LEASE_NAME,
  DEFAULT_RECONCILE_TIMEOUT_MS,
  DEFAULT_SYNC_PERIOD_MS,
  Manager,
  type ControllerSetup,
  type LeaderElectionConfig,
  type ManagerOptions,
} from './manager.ts';
export { createMergePatch } from './mergepatch.ts';
export { ApiError, RestClient } from './rest-client.ts';
export { loadRestConfig, restConfigFromKubeconfig, type RestConfig } from './rest-config.ts';
export { patchStatus } from './status.ts';
export { IndexedStore, type IndexFunc, type ObjectReader } from './store.ts';
