import { Option, type Command } from 'commander';
import type { LevelWithSilent } from 'pino';
import { createLogger } from '../../log.ts';
import { DEFAULT_ARM_REQUEST_TIMEOUT_MS } from '../../azure/index.ts';
import { DEFAULT_TOKEN_TIMEOUT_MS } from '../../controllers/common/account-connector.ts';
import { DEFAULT_CONCURRENCY, DEFAULT_STALLED_RECHECK_MS, emulatorAt, startOperator, type EmulatorSetting } from '../../operator.ts';
import { defaultPriceTable, loadPriceTable } from '../../pricing/price-table.ts';
import { DEFAULT_SYNC_PERIOD_MS, loadRestConfig } from '../../runtime/index.ts';
import { boolean, duration, positiveInt, seconds, shardKey } from '../arguments.ts';
import { readDocument } from '../documents.ts';
import { untilSignal } from '../signals.ts';

interface RunOptions {
  kubeconfig?: string;
  namespace: string[];
  leaderElect: boolean;
  leaderElectionNamespace?: string;
  metricsBindAddress: string;
  metricsSecure: boolean;
  healthProbeBindAddress: string;
  concurrency: number;
  syncPeriod: number;
  logLevel: LevelWithSilent;
  emulator: string;
  emulatorCa?: string;
  emulatorTokenFile?: string;
  operatorIdentityNamespaces: string[];
  armRequestTimeout: number;
  tokenTimeout: number;
  emulatorReplicationSeconds: number;
  emulatorState?: string;
  emulatorConfig?: string;
  priceTable?: string;
  regionRetries: number;
  shard?: string;
}


export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run the operator: the controllers, with in-cluster config or --kubeconfig')
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)')
    .addOption(new Option('--namespace <name>', 'watch only this namespace (repeatable)').argParser((v: string, acc: string[]) => [...acc, v]).default([], 'all'))
    .option('--leader-elect', 'elect a leader on a coordination.k8s.io Lease, so only one replica reconciles', false)
    .option('--leader-election-namespace <name>', "namespace of the leader election Lease (default: the pod's namespace)")
    .option('--metrics-bind-address <addr>', 'address /metrics listens on; 0 disables it', ':8080')
    .option('--metrics-secure [bool]', 'serve /metrics over HTTPS, to callers the API server authenticates (TokenReview) and allows get on /metrics (SubjectAccessReview)', boolean, false)
    .option('--health-probe-bind-address <addr>', 'address /healthz and /readyz listen on; 0 disables it', ':8081')
    .option('--concurrency <n>', 'workers per controller (a key is never reconciled by two at once)', positiveInt, DEFAULT_CONCURRENCY)
    .addOption(new Option('--sync-period <duration>', 'how often every object is reconciled again (drift detection, external images)').argParser(duration).default(DEFAULT_SYNC_PERIOD_MS, `${DEFAULT_SYNC_PERIOD_MS / 60_000}m`))
    .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'))
    .option('--emulator <where>', 'ARM emulator for Simulated lab accounts: embedded (in this process), the URL of a standalone one (`labimage emulator`), or off', 'embedded')
    .option('--emulator-ca <file>', "CA certificate of the standalone emulator (`labimage emulator` prints its path)")
    .option('--emulator-token-file <file>', "admin token of the standalone emulator (`labimage emulator` keeps it next to its CA): the operator's own identity there")
    .addOption(
      new Option('--operator-identity-namespaces <namespace>', "let LabAccounts of this namespace act as the operator's own identity when they have no credentials of their own (repeatable; * for every namespace)")
        .argParser((v: string, acc: string[]) => [...acc, v])
        .default([], 'none'),
    )
    .addOption(new Option('--arm-request-timeout <duration>', 'give up on an ARM request without an answer after this long').argParser(duration).default(DEFAULT_ARM_REQUEST_TIMEOUT_MS, `${DEFAULT_ARM_REQUEST_TIMEOUT_MS / 1000}s`))
    .addOption(new Option('--token-timeout <duration>', 'give up on a token from Microsoft Entra ID (or the emulator) after this long').argParser(duration).default(DEFAULT_TOKEN_TIMEOUT_MS, `${DEFAULT_TOKEN_TIMEOUT_MS / 1000}s`))
    .option('--emulator-replication-seconds <s>', 'embedded emulator: time one region takes to replicate', seconds, 60)
    .option('--emulator-state <file>', 'embedded emulator: keep its state in this file (default: in memory)')
    .option('--emulator-config <file>', 'embedded emulator: its config (principals, regions, buckets, seeds such as a VM made outside any lab; JSON or YAML, docs/emulator.md); replaces the default')
    .option('--price-table <file>', 'YAML price table for estimatedMonthlyCost (default: illustrative list prices in USD)')
    .option('--shard <key>', 'reconcile only objects labelled labimages.io/shard=KEY, with a leader election Lease of this shard\'s own (default: only objects without the label)', shardKey)
    .option('--region-retries <n>', 'attempts at a failing region before an export settles as PartiallySucceeded', positiveInt, 3)
    .action(async (options: RunOptions, command: Command) => {
      const log = createLogger(options.logLevel);
      const restConfig = loadRestConfig(options.kubeconfig);

      let leaderElection;
      if (options.leaderElect) {
        // Default: the pod's namespace in a cluster, else the kubeconfig context's.
        const namespace = options.leaderElectionNamespace ?? restConfig.namespace;
        if (!namespace) command.error('error: --leader-elect needs --leader-election-namespace when not running in a cluster');
        leaderElection = { namespace };
      }
      const operator = await startOperator({
        restConfig,
        log,
        namespaces: options.namespace,
        syncPeriodMs: options.syncPeriod,
        concurrency: options.concurrency,
        leaderElection,
        metricsBindAddress: options.metricsBindAddress,
        metricsSecure: options.metricsSecure,
        healthProbeBindAddress: options.healthProbeBindAddress,
        emulator: await emulatorSetting(options, command),
        operatorIdentityNamespaces: options.operatorIdentityNamespaces,
        timeouts: { armRequestMs: options.armRequestTimeout, tokenMs: options.tokenTimeout },
        prices: options.priceTable ? await loadPriceTable(options.priceTable) : defaultPriceTable,
        regionRetries: options.regionRetries,
        ...(options.shard === undefined ? {} : { shard: options.shard }),
        // A Stalled object whose cause we do not watch (a Secret, Azure) is looked at again this often.
        stalledRecheckMs: Math.min(options.syncPeriod, DEFAULT_STALLED_RECHECK_MS),
      });

      void untilSignal().then((signal) => {
        log.info({ signal }, 'shutting down');
        // A second signal means "now": exit without waiting, as controller-runtime does.
        void untilSignal().then(() => process.exit(1));
        void operator.stop();
      });
      await operator.done;
    });
}

async function emulatorSetting(options: RunOptions, command: Command): Promise<EmulatorSetting> {
  if (options.emulatorConfig && options.emulator !== 'embedded') {
    command.error('error: --emulator-config is for the embedded emulator; give a standalone one its config with `labimage emulator --config FILE`');
  }
  if (options.emulator === 'off') return { mode: 'off' };
  if (options.emulator === 'embedded') {
    const config = await readDocument(options.emulatorConfig);
    return {
      mode: 'embedded',
      options: {
        replicationSeconds: options.emulatorReplicationSeconds,
        ...(options.emulatorState ? { stateFile: options.emulatorState } : {}),
        ...(config === undefined ? {} : { config }),
      },
    };
  }
  if (!/^https:\/\//.test(options.emulator)) command.error(`error: --emulator must be embedded, off, or an https:// URL, not ${options.emulator}`);
  if (!options.emulatorCa) command.error('error: --emulator URL needs --emulator-ca FILE (the CA certificate `labimage emulator` printed)');
  return emulatorAt(options.emulator, options.emulatorCa, options.emulatorTokenFile);
}
