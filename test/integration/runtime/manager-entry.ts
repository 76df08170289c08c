/**
 * A manager in a child process, for the leader election and shutdown tests: the same wiring as
 * `labimage run` (signal → stop → exit 0) around the test-only Widget controller. Reports on stdout
 * as JSON lines; logs go to stderr.
 * Usage: node manager-entry.ts KUBECONFIG NAMESPACE LEASE_NAME
 */
import { untilSignal } from '../../../src/cli/signals.ts';
import { createLogger } from '../../../src/log.ts';
import { Manager, loadRestConfig } from '../../../src/runtime/index.ts';
import { widgetController } from './widget.ts';

const [kubeconfigPath, namespace, leaseName] = process.argv.slice(2) as [string, string, string];
const report = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);

const manager = new Manager({
  restConfig: loadRestConfig(kubeconfigPath),
  log: createLogger('info'),
  namespaces: [namespace],
  leaderElection: { namespace, name: leaseName },
  healthProbeBindAddress: '127.0.0.1:0',
  metricsBindAddress: '127.0.0.1:0',
});
manager.add(
  widgetController(manager, {
    started: (key) => report({ event: 'started', key }),
    reconciled: (key, value) => report({ event: 'reconciled', key, value }),
  }),
);
void untilSignal().then(() => manager.stop());
const running = manager.start();
report({ event: 'identity', identity: manager.identity });
await running;
report({ event: 'exited' });
