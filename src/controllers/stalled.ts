/**
 * A problem only the user can fix (bad reference, missing Secret, a rule the schema cannot judge).
 * Thrown from deep inside a reconcile and turned into Stalled=True with this reason and message,
 * never into an error backoff loop.
 */
export class StalledError extends Error {
  override readonly name = 'StalledError';
  readonly reason: string;

  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
  }
}
