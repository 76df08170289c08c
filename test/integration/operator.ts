import type { KubeConfig } from '@kubernetes/client-node';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/emulator/index.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { startOperator, type OperatorOptions, type RunningOperator } from '../../src/operator.ts';
import { defaultPriceTable } from '../../src/pricing/price-table.ts';
import type { ObjectClient, RestConfig } from '../../src/runtime/index.ts';
import { controlPlane } from './harness.ts';

export interface TestOperator extends RunningOperator {
  namespace: string;
  kubeConfig: KubeConfig;
  emulator: RunningEmulator;
  client: ObjectClient;
}

export interface TestOperatorOptions {
  /** The operator watches only this namespace, so suites sharing the control plane stay apart. */
  namespace: string;
  /** More namespaces to watch, for suites about more than one tenant. */
  alsoWatch?: string[];
  /** Who the operator is to the API server (`restConfig`) and the tests' client-node view of the same user (`kubeConfig`); default: the control plane's admin. */
  kubeConfig?: KubeConfig;
  restConfig?: RestConfig;
  /** Use this emulator (e.g. to restart the operator against the same Azure state); default: a new one, stopped with the operator. */
  emulator?: RunningEmulator;
  emulatorOptions?: Partial<EmulatorOptions>;
  /** Where the operator logs; default: TEST_LOG_LEVEL (silent) on stdout. */
  log?: Logger;
  /** Overrides of the operator's settings (sync period, region retries, prices, which namespaces may use its identity (default: the suite's), ...). */
  operator?: Partial<Omit<OperatorOptions, 'restConfig' | 'log' | 'emulator' | 'namespaces'>>;
}

/**
 * The operator in-process, as `labimage run` runs it (every controller, the real SDK), against an
 * emulator on loopback, on the shared real control plane. Replication and operations are quick so
 * suites run in seconds.
 */
export async function startTestOperator(options: TestOperatorOptions): Promise<TestOperator> {
  const kubeConfig = options.kubeConfig ?? controlPlane().kubeConfig;
  const emulator = options.emulator ?? (await startEmulator({ replicationSeconds: 2, operationSeconds: 0.2, ...options.emulatorOptions }));
  const namespaces = [options.namespace, ...(options.alsoWatch ?? [])];
  const operator = await startOperator({
    restConfig: options.restConfig ?? controlPlane().restConfig,
    log: options.log ?? createLogger((process.env.TEST_LOG_LEVEL as 'info' | undefined) ?? 'silent'),
    namespaces,
    emulator: { mode: 'url', url: emulator.url, caPem: emulator.caPem },
    prices: defaultPriceTable,
    regionRetries: 3,
    stalledRecheckMs: 1000,
    // Accounts the suites create without credentials act as the emulator's default principal.
    operatorIdentityNamespaces: namespaces,
    ...options.operator,
  });
  return {
    ...operator,
    namespace: options.namespace,
    kubeConfig,
    emulator,
    client: operator.manager.client,
    async stop() {
      await operator.stop();
      if (!options.emulator) await emulator.stop();
    },
  };
}
