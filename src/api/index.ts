// The labimages.io/v1alpha1 API: kinds' names, TypeScript types and CRDs, from one definition per kind.
export * from './group.ts';
export { CONDITION_REASON_PATTERN, HYPERV_GENERATIONS, OS_STATES, OS_TYPES, STORAGE_ACCOUNT_TYPES, VERSION_PATTERN } from './common.ts';
export * from './labaccount.ts';
export * from './galleryattachment.ts';
export * from './imageexport.ts';
export * from './labtemplate.ts';
export * from './crd.ts';
export * from './shard.ts';
