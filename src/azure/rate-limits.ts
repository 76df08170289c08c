// ARM's request budget as Azure publishes it (learn.microsoft.com, "Understand how Azure Resource
// Manager throttles requests", token bucket algorithm, 2024): one bucket per subscription,
// principal, ARM region and operation type, and a subscription-wide one per operation type. The
// emulator enforces these; the operator's ARM client paces itself by them (budget.ts).

export type OperationType = 'reads' | 'writes' | 'deletes';

export const OPERATION_TYPES: readonly OperationType[] = ['reads', 'writes', 'deletes'];

export function operationTypeOf(method: string): OperationType {
  const upper = method.toUpperCase();
  if (upper === 'GET' || upper === 'HEAD') return 'reads';
  return upper === 'DELETE' ? 'deletes' : 'writes';
}

export interface BucketShape {
  size: number;
  refillPerSecond: number;
}

/** A principal's bucket in a subscription, per operation type. */
export const ARM_BUCKETS: Readonly<Record<OperationType, BucketShape>> = {
  reads: { size: 250, refillPerSecond: 25 },
  writes: { size: 200, refillPerSecond: 10 },
  deletes: { size: 200, refillPerSecond: 10 },
};

/** The subscription-wide bucket of an operation type is this many times a principal's. */
export const SUBSCRIPTION_BUCKET_MULTIPLIER = 15;

/** The headers ARM answers with: tokens left in the principal's bucket, and in the subscription's. */
export function remainingHeaders(type: OperationType): { principal: string; subscription: string } {
  return { principal: `x-ms-ratelimit-remaining-subscription-${type}`, subscription: `x-ms-ratelimit-remaining-subscription-global-${type}` };
}
