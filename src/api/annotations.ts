import { GROUP } from './group.ts';

/**
 * Set to the current time (RFC 3339) to ask the operator to reconcile an object at once, as Flux's
 * reconcile.fluxcd.io/requestedAt does; an operator that supports it echoes the value in
 * status.lastHandledReconcileAt once it has. `kubectl labimage reconcile KIND/NAME` sets it.
 */
export const RECONCILE_REQUESTED_AT = `${GROUP}/requestedAt`;
