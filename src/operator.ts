import { readFile } from 'node:fs/promises';
import { shardSelector } from './api/index.ts';
import { AccountConnector, type ConnectorTimeouts, type EmulatorTarget } from './controllers/common/account-connector.ts';
import type { OperatorContext } from './controllers/common/context.ts';
import type { HoldBack } from './controllers/common/object-writer.ts';
import { controllers } from './controllers/index.ts';
import type { EmulatorOptions, RunningEmulator } from './emulator/index.ts';
import type { PriceTable } from './pricing/price-table.ts';
import { DEFAULT_LEASE_NAME, Manager, type LeaderElectionConfig, type ManagerOptions } from './runtime/index.ts';

/** Where Simulated accounts' galleries live (`--emulator`). */
export type EmulatorSetting =
  | { mode: 'embedded'; options: EmulatorOptions }
  | { mode: 'url'; url: string; caPem: string; token?: string }
  | { mode: 'off' };

/**
 * Workers per controller of `labimage run` and `labimage dev`. Reconciles wait on ARM and the API
 * server far more than on CPU: 1,000 exports took 28 s with 4 workers and 25 to 27 s with 8 on a
 * two-core machine (`npm run bench`). A key is never reconciled by two workers at once.
 */
export const DEFAULT_CONCURRENCY = 8;

/** How often a Stalled object whose cause lies outside our watches (a Secret, Azure) is looked at again. */
export const DEFAULT_STALLED_RECHECK_MS = 30_000;

/**
 * An export's pass that ends in progress and looks again within a second does not write its status,
 * unless what it holds back is 5 s old: no one polling sees a phase that short, and it saves the API
 * server a write per export where ARM answers within a second (README, Decisions).
 */
export const DEFAULT_STATUS_HOLD_BACK: HoldBack = { withinMs: 1000, atMostMs: 5000 };

export interface OperatorOptions extends Omit<ManagerOptions, 'labelSelector'> {
  /**
   * This replica's shard (`--shard`): it caches and reconciles only objects labelled
   * labimages.io/shard=KEY, and elects its leader on a Lease of its own. Absent: the objects without
   * the label.
   */
  shard?: string;
  emulator: EmulatorSetting;
  /** Namespaces whose LabAccounts without credentials of their own may act as the operator itself (`*`: all); default none. */
  operatorIdentityNamespaces?: readonly string[];
  /** ARM request and token timeouts; default: the connector's. */
  timeouts?: Partial<ConnectorTimeouts>;
  prices: PriceTable;
  regionRetries: number;
  /** How often a Stalled object whose cause lies outside our watches is looked at again; default DEFAULT_STALLED_RECHECK_MS. */
  stalledRecheckMs?: number;
  /** Default DEFAULT_STATUS_HOLD_BACK; `{withinMs: 0, atMostMs: 0}`: every status is written at once. */
  statusHoldBack?: HoldBack;
}

export interface RunningOperator {
  manager: Manager;
  context: OperatorContext;
  /** The embedded emulator, when the operator started one. */
  emulator?: RunningEmulator;
  /** Settles when the manager has stopped (rejects if it lost leadership). */
  done: Promise<void>;
  stop(): Promise<void>;
}

/** Reads the standalone emulator's CA and admin token for `--emulator URL --emulator-ca FILE [--emulator-token-file FILE]`. */
export async function emulatorAt(url: string, caFile: string, tokenFile?: string): Promise<EmulatorSetting> {
  const [caPem, token] = await Promise.all([readFile(caFile, 'utf8'), tokenFile ? readFile(tokenFile, 'utf8') : undefined]);
  return { mode: 'url', url, caPem, ...(token?.trim() ? { token: token.trim() } : {}) };
}

/**
 * The whole operator: manager, every controller, and the gallery backend. `labimage run`,
 * `labimage dev` and the integration tests all start it here, so they run the same thing.
 */
export async function startOperator(options: OperatorOptions): Promise<RunningOperator> {
  const { emulator: setting, operatorIdentityNamespaces, timeouts, prices, regionRetries, stalledRecheckMs = DEFAULT_STALLED_RECHECK_MS, statusHoldBack = DEFAULT_STATUS_HOLD_BACK, shard, ...rest } = options;
  const managerOptions: ManagerOptions = { ...rest, labelSelector: shardSelector(shard), ...(rest.leaderElection ? { leaderElection: shardLease(rest.leaderElection, shard) } : {}) };
  let emulator: RunningEmulator | undefined;
  let target: EmulatorTarget | undefined;
  if (setting.mode === 'embedded') {
    // Imported only when embedded: an operator that talks to Azure or a standalone emulator carries none of it.
    const { startEmulator } = await import('./emulator/index.ts');
    emulator = await startEmulator({ log: managerOptions.log.child({ component: 'emulator' }), ...setting.options });
    target = { url: emulator.url, caPem: emulator.caPem };
    managerOptions.log.info({ url: emulator.url }, 'embedded ARM emulator started');
  } else if (setting.mode === 'url') {
    target = { url: setting.url, caPem: setting.caPem, ...(setting.token ? { token: setting.token } : {}) };
  }

  const manager = new Manager(managerOptions);
  if (shard !== undefined) managerOptions.log.info({ shard, labelSelector: managerOptions.labelSelector }, 'running as a shard');
  const registry = manager.metrics.registry;
  const context: OperatorContext = {
    accounts: new AccountConnector({
      client: manager.client,
      ...(target ? { emulator: target } : {}),
      ...(operatorIdentityNamespaces ? { operatorIdentityNamespaces } : {}),
      ...(timeouts ? { timeouts } : {}),
      registry,
    }),
    prices,
    syncPeriodMs: manager.syncPeriodMs,
    regionRetries,
    stalledRecheckMs,
    statusHoldBack,
    registry,
  };
  await manager.setup(controllers(context));
  const done = manager.start().finally(() => emulator?.stop());
  return {
    manager,
    context,
    emulator,
    done,
    async stop() {
      await manager.stop();
      await done.catch(() => undefined);
    },
  };
}

/** Each shard elects its own leader: the Lease's name carries the shard key (unless one was given). */
function shardLease(config: LeaderElectionConfig, shard: string | undefined): LeaderElectionConfig {
  return shard === undefined || config.name ? config : { ...config, name: `${DEFAULT_LEASE_NAME}-${shard}` };
}
