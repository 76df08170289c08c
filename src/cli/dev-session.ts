// `labimage dev`: a local control plane, the CRDs, the operator with its embedded emulator and
// examples/, with live progress until Ctrl-C. Imported only when `dev` runs.
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig, VersionApi } from '@kubernetes/client-node';
import { pino } from 'pino';
import { IMAGE_EXPORT, LAB_TEMPLATE, RESOURCES, renderAllCrdsYaml, type ImageExport, type LabTemplate } from '../api/index.ts';
import { ControlPlane } from '../controlplane/controlplane.ts';
import { installCrds } from '../controlplane/install-crds.ts';
import { DEFAULT_CONCURRENCY, startOperator, type RunningOperator } from '../operator.ts';
import { defaultPriceTable } from '../pricing/price-table.ts';
import { loadRestConfig, type RestConfig } from '../runtime/index.ts';
import { untilSignal } from './signals.ts';
import { applyExamples, readAdvancedEmulatorConfig, readExamples } from './examples.ts';
import { showLive, type LiveView } from './live-view.ts';
import { statusDocument } from './status-view.ts';

export interface DevOptions {
  useCurrentContext: boolean;
  replicationSeconds: number;
  examples: boolean;
}

export async function runDevSession(options: DevOptions): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'labimage-dev-'));
  const say = (line: string) => console.error(line);
  let plane: ControlPlane | undefined;
  let operator: RunningOperator | undefined;
  let view: LiveView | undefined;
  const stopped = untilSignal();
  try {
    let kubeConfig: KubeConfig;
    let restConfig: RestConfig;
    let kubeconfigPath: string;
    if (options.useCurrentContext) {
      kubeConfig = new KubeConfig();
      kubeConfig.loadFromDefault();
      restConfig = loadRestConfig();
      await kubeConfig.makeApiClient(VersionApi).getCode();
      kubeconfigPath = process.env.KUBECONFIG ?? '~/.kube/config';
      say(`using the current context ${kubeConfig.getCurrentContext()} (${kubeConfig.getCurrentCluster()?.server})`);
    } else {
      say('starting a local control plane (kube-apiserver + etcd)...');
      plane = await ControlPlane.start({ kubeconfigPath: join(work, 'kubeconfig'), log: say });
      kubeConfig = plane.kubeConfig();
      restConfig = plane.restConfig();
      kubeconfigPath = plane.kubeconfigPath;
    }

    say('installing the CRDs...');
    await installCrds(kubeConfig, renderAllCrdsYaml());

    const logFile = join(work, 'operator.log');
    operator = await startOperator({
      restConfig,
      concurrency: DEFAULT_CONCURRENCY,
      log: pino({ level: 'info', base: undefined }, createWriteStream(logFile)),
      // With the seeds examples/advanced/ needs, as a user would start it (examples/advanced/README.md).
      emulator: { mode: 'embedded', options: { replicationSeconds: options.replicationSeconds, operationSeconds: 2, config: await readAdvancedEmulatorConfig() } },
      prices: defaultPriceTable,
      regionRetries: 3,
      stalledRecheckMs: 5000,
      metricsBindAddress: '0',
      healthProbeBindAddress: '0',
    });

    if (options.examples) await applyExamples(restConfig, await readExamples({ advanced: true }), { say });

    say('');
    say('lab-image-operator is running: the operator, its embedded ARM emulator, and the examples.');
    say(`  export KUBECONFIG=${kubeconfigPath}`);
    say('  kubectl get labimages -A');
    say('  kubectl describe imageexport -n labs cs101-v1');
    say('  kubectl wait --for=condition=Ready imageexports --all -n labs --timeout=10m');
    say(`  npx labimage status -A --kubeconfig ${kubeconfigPath}`);
    say(`operator log: ${logFile}`);
    say('Ctrl-C stops everything.');
    say('');
    view = showProgress(operator);
    const signal = await stopped;
    // The last frame stays on the screen; what follows goes below it.
    view.stop();
    say(`${signal}: stopping`);
  } finally {
    view?.stop();
    await operator?.stop();
    await plane?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

/** The live view over the operator's own caches (no API requests). */
function showProgress(operator: RunningOperator): LiveView {
  const exports = operator.manager.informer<ImageExport>(RESOURCES[IMAGE_EXPORT.kind]);
  const templates = operator.manager.informer<LabTemplate>(RESOURCES[LAB_TEMPLATE.kind]);
  return showLive(() => statusDocument([...exports.list()], [...templates.list()]), { showNamespace: true });
}
