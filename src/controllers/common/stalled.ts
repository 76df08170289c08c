// Every reason an object can be Stalled for, in one table with where its cause lies, which decides
// whether the object is looked at again on a timer: a cause in the object's spec or in another
// object the controllers watch brings a reconcile by itself when it changes; a Secret (the
// operator only gets Secrets, it does not watch them) or something in Azure does not.

/** Where the fix of a Stalled object happens. */
export type StalledCause =
  /** The object's own spec: its change is an event. */
  | 'spec'
  /** Another object a controller watches (an account, an attachment, an export): its change is an event. */
  | 'watched'
  /** The operator's own flags: a change restarts it, and a restart reconciles everything. */
  | 'operator'
  /** A Secret, read but not watched. */
  | 'secret'
  /** Something in Azure. */
  | 'azure';

export const STALLED_REASONS = {
  // Reaching Azure (any kind)
  EmulatorDisabled: 'operator',
  // No credential of any scope: neither spec.azure.credentials, nor the namespace's Secret, nor the
  // operator's identity for this namespace. The likeliest fix is a Secret, so it is looked at again.
  NoCredentials: 'secret',
  CredentialsNotFound: 'secret',
  CredentialsRejected: 'azure',
  // An ARM id in a spec outside the account's subscription or spec.azure.allowedScopes.
  OutOfScope: 'watched',
  // LabAccount
  UnknownLocation: 'spec',
  UnknownRegion: 'spec',
  RegionOutsideGeography: 'spec', // and ImageExport: spec.replication.regions against the account's geography
  ResourceGroupNotFound: 'azure',
  // GalleryAttachment
  AccountAlreadyAttached: 'watched',
  AccountNotReady: 'watched',
  GalleryNotFound: 'azure',
  GalleryFailed: 'azure',
  // ImageExport
  VersionInUse: 'spec',
  PartiallySucceeded: 'spec', // a failed region's retries are spent: the user removes it from spec.replication.regions and adds it back
  SourceMissing: 'azure',
  ImageDefinitionMismatch: 'azure',
  ExportFailed: 'azure',
  // LabTemplate
  LocationOutsideGeography: 'spec',
  SubnetRequired: 'spec',
  LabAccountNotReady: 'watched',
  LabAccountMismatch: 'spec',
  ImageExportDeleting: 'watched',
  NotReplicatedToLocation: 'azure',
  ReplicationFailed: 'azure',
  ImageDisabled: 'watched',
  ImageTooLarge: 'spec',
  DataDisksNotSupported: 'spec',
  CredentialsNotAllowed: 'spec',
  CredentialsRequired: 'spec',
  AdminPasswordSecretNotFound: 'secret',
  AdminPasswordKeyNotFound: 'secret',
  VirtualMachineNameTaken: 'azure',
  VirtualMachineFailed: 'azure',
} as const satisfies Record<string, StalledCause>;

export type StalledReason = keyof typeof STALLED_REASONS;

/**
 * Whether a Stalled object is looked at again after `stalledRecheckMs`: when its cause lies where
 * no event comes from. A reason not in the table is ARM's code for a refusal: its cause is in Azure.
 */
export function isRechecked(reason: string): boolean {
  const cause: StalledCause = (STALLED_REASONS as Record<string, StalledCause>)[reason] ?? 'azure';
  return cause === 'secret' || cause === 'azure';
}

/**
 * How long after an object is created a Secret it names may be missing before that is Stalled. A
 * sync (kubectl apply, Flux, Argo CD) creates the object and its Secret together, in any order; in
 * between the object waits (Reconciling) rather than fail a health check that fails fast on
 * Stalled, as a Deployment is Progressing until its progressDeadlineSeconds.
 */
export const SECRET_DEADLINE_MS = 60_000;

/** Whether a Stalled reason is a missing Secret still within its deadline (`ageMs`: the object's age, absent when unknown). */
export function isAwaitedSecret(reason: string, ageMs: number | undefined): boolean {
  return (STALLED_REASONS as Record<string, StalledCause>)[reason] === 'secret' && ageMs !== undefined && ageMs < SECRET_DEADLINE_MS;
}

/**
 * A problem only the user can fix, thrown from deep inside a pass (a helper that cannot return an
 * Outcome) and turned into Stalled=True with this reason and message by the result finalizer.
 */
export class StalledError extends Error {
  override readonly name = 'StalledError';
  readonly reason: StalledReason;

  constructor(reason: StalledReason, message: string) {
    super(message);
    this.reason = reason;
  }
}
