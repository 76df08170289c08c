import type { Registry } from 'prom-client';
import type { PriceTable } from '../../pricing/price-table.ts';
import type { Connector } from './deps.ts';
import type { HoldBack } from './object-writer.ts';

/** What every controller gets besides the manager: how to reach galleries, and the operator's settings. */
export interface OperatorContext {
  accounts: Connector;
  prices: PriceTable;
  /** How often images uploaded outside a lab are looked for, and drift checked (`--sync-period`). */
  syncPeriodMs: number;
  /** Attempts at a failing region before an export settles as PartiallySucceeded (`--region-retries`). */
  regionRetries: number;
  /** How often a Stalled object whose cause lies outside our watches (a Secret, an Azure resource) is looked at again. */
  stalledRecheckMs: number;
  /** When an export's in-progress status waits for its next pass (ObjectWriter's hold-back); absent: it is always written. */
  statusHoldBack?: HoldBack;
  registry?: Registry;
}
