// The narrow dependencies of a reconciler, so that a unit test can satisfy each with a plain object.
import type { LabAccount } from '../../api/index.ts';
import type { GalleryPort } from '../../azure/index.ts';
import type { EventRecorder, ObjectClient } from '../../runtime/index.ts';

/** What reconcilers ask of the API server: merge patches on objects and their status, and gets (Secrets). */
export type ApiClient = Pick<ObjectClient, 'mergePatch' | 'mergePatchStatus' | 'get'>;

/** Where reconcilers record Events. */
export type Recorder = Pick<EventRecorder, 'event'>;

/** A lab account's way into its galleries: the port, and where in Azure its resources live. */
export interface AccountConnection {
  /** Its calls are cancelled by the signal `connect` was given. */
  port: GalleryPort;
  subscriptionId: string;
  resourceGroup: string;
  /** Which credential it acts with, for messages (never a value of it). */
  credentials: string;
}

export interface ConnectOptions {
  /** Look for the account's credential again (its Secrets are read): a changed one is used from this call on. */
  recheck?: boolean;
}

/** Reaches a lab account's galleries (AccountConnector; a fake in unit tests). */
export interface Connector {
  /** Throws StalledError when the account cannot reach Azure (no credentials, no emulator). */
  connect(account: LabAccount, signal?: AbortSignal, options?: ConnectOptions): Promise<AccountConnection>;
}
