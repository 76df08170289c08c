import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig, VersionApi, loadAllYaml, type KubernetesObject, type V1CustomResourceDefinition, type V1Namespace, type V1Secret } from '@kubernetes/client-node';
import type { Command } from 'commander';
import { loadAll } from 'js-yaml';
import { pino } from 'pino';
import { IMAGE_EXPORT, LAB_TEMPLATE, RESOURCES, renderAllCrdsYaml, type ImageExport, type LabTemplate } from '../../api/index.ts';
import { createArmCredential, createGalleryPort } from '../../azure/index.ts';
import { marketplaceImages } from '../../emulator/index.ts';
import { ControlPlane } from '../../controlplane/controlplane.ts';
import { installCrds } from '../../controlplane/install-crds.ts';
import { startOperator, type RunningOperator } from '../../operator.ts';
import { defaultPriceTable } from '../../pricing/price-table.ts';
import { ObjectClient, isAlreadyExists, type ResourceType } from '../../runtime/index.ts';
import { untilSignal } from '../signals.ts';
import { renderStatus, statusDocument } from '../status-view.ts';

const examplesDir = fileURLToPath(new URL('../../../examples/', import.meta.url));

interface DevOptions {
  useCurrentContext: boolean;
  replicationSeconds: number;
  examples: boolean;
}

export function registerDevCommand(program: Command): void {
  program
    .command('dev')
    .description('everything on this machine: a local control plane, the CRDs, the operator with its embedded ARM emulator, and examples/, with live progress until Ctrl-C')
    .option('--use-current-context', "run against the kubeconfig's current context instead of a local control plane", false)
    .option('--replication-seconds <s>', 'how long the emulator takes to replicate to one region', Number, 30)
    .option('--no-examples', 'do not apply examples/')
    .action(async (options: DevOptions) => {
      const work = await mkdtemp(join(tmpdir(), 'labimage-dev-'));
      const say = (line: string) => console.error(line);
      let plane: ControlPlane | undefined;
      let operator: RunningOperator | undefined;
      let stopView: () => void = () => undefined;
      const stopped = untilSignal();
      try {
        let kubeConfig: KubeConfig;
        let kubeconfigPath: string;
        if (options.useCurrentContext) {
          kubeConfig = new KubeConfig();
          kubeConfig.loadFromDefault();
          await kubeConfig.makeApiClient(VersionApi).getCode();
          kubeconfigPath = process.env.KUBECONFIG ?? '~/.kube/config';
          say(`using the current context ${kubeConfig.getCurrentContext()} (${kubeConfig.getCurrentCluster()?.server})`);
        } else {
          say('starting a local control plane (kube-apiserver + etcd)...');
          plane = await ControlPlane.start({ kubeconfigPath: join(work, 'kubeconfig'), log: say });
          kubeConfig = plane.kubeConfig();
          kubeconfigPath = plane.kubeconfigPath;
        }

        say('installing the CRDs...');
        await installCrds(kubeConfig, loadAllYaml(renderAllCrdsYaml()) as V1CustomResourceDefinition[]);

        const logFile = join(work, 'operator.log');
        operator = await startOperator({
          kubeConfig,
          log: pino({ level: 'info', base: undefined }, createWriteStream(logFile)),
          emulator: { mode: 'embedded', options: { replicationSeconds: options.replicationSeconds, operationSeconds: 2 } },
          prices: defaultPriceTable,
          regionRetries: 3,
          stalledRecheckMs: 5000,
          metricsBindAddress: '0',
          healthProbeBindAddress: '0',
        });

        if (options.examples) {
          const documents = await readExamples();
          if (operator.emulator) await seedExternalVms(operator.emulator, documents);
          await applyExamples(kubeConfig, documents, say);
        }

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
        stopView = showProgress(operator);
        const signal = await stopped;
        say(`${signal}: stopping`);
      } finally {
        stopView();
        await operator?.stop();
        await plane?.stop();
        await rm(work, { recursive: true, force: true });
      }
    });
}

async function readExamples(): Promise<KubernetesObject[]> {
  const files = (await readdir(examplesDir)).filter((file) => file.endsWith('.yaml')).sort();
  const documents = await Promise.all(files.map(async (file) => loadAll(await readFile(join(examplesDir, file), 'utf8')) as KubernetesObject[]));
  return documents.flat().filter((doc) => doc?.kind);
}

/** The examples include an export of a VM made outside any lab; in the embedded emulator it exists only if we make it. */
async function seedExternalVms(emulator: { url: string; caPem: string }, documents: KubernetesObject[]): Promise<void> {
  const image = marketplaceImages[0];
  for (const doc of documents) {
    const id = doc.kind === IMAGE_EXPORT.kind ? (doc as ImageExport).spec.source.virtualMachineId : undefined;
    const match = id ? /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/virtualMachines\/([^/]+)$/i.exec(id) : null;
    if (!match || !image) continue;
    const [, subscriptionId = '', resourceGroup = '', name = ''] = match;
    const port = createGalleryPort({ subscriptionId, credential: createArmCredential({ provider: 'Simulated' }), endpoint: emulator.url, caPem: emulator.caPem });
    if (await port.observeVirtualMachine({ resourceGroup, name })) continue;
    await port.createVirtualMachine(
      { resourceGroup, name },
      {
        location: 'westeurope',
        size: 'Standard_D2s_v5',
        image: { marketplace: { publisher: image.publisher, offer: image.offer, sku: image.sku, version: 'latest' } },
        // A marketplace image is generalized, so ARM wants an admin account; nobody logs in to this one.
        admin: { username: 'labadmin', password: randomBytes(18).toString('base64') },
      },
    );
  }
}

/** Creates each example object, leaving ones that already exist as they are (a second `dev` on the same cluster). */
async function applyExamples(kubeConfig: KubeConfig, documents: KubernetesObject[], say: (line: string) => void): Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const objects = new ObjectClient(kubeConfig);
  const byKind = new Map<string, ResourceType>(Object.values(RESOURCES).map((resource) => [resource.kind, resource]));
  for (const doc of documents) {
    const namespace = doc.metadata?.namespace ?? 'default';
    try {
      if (doc.kind === 'Namespace') await core.createNamespace({ body: doc as V1Namespace });
      else if (doc.kind === 'Secret') await core.createNamespacedSecret({ namespace, body: doc as V1Secret });
      else {
        const resource = byKind.get(doc.kind ?? '');
        if (!resource) throw new Error(`examples/ holds a ${doc.kind}, which dev does not know how to create`);
        await objects.create(resource, doc);
      }
      say(`created ${doc.kind} ${doc.metadata?.namespace ? `${namespace}/` : ''}${doc.metadata?.name}`);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
}

/** Redraws the exports and templates from the operator's own caches (no API requests) once a second. */
function showProgress(operator: RunningOperator): () => void {
  const exports = operator.manager.informer<ImageExport>(RESOURCES[IMAGE_EXPORT.kind]);
  const templates = operator.manager.informer<LabTemplate>(RESOURCES[LAB_TEMPLATE.kind]);
  const interactive = process.stdout.isTTY;
  let previous = '';
  let previousLines = 0;
  const draw = () => {
    let text = renderStatus(statusDocument([...exports.list()], [...templates.list()]), { showNamespace: true });
    // On a terminal, lines are cut to its width (a wrapped line would throw off the redraw) and the
    // view is redrawn in place; into a file or a pipe, each new state is appended whole.
    if (interactive) text = text.split('\n').map((line) => line.slice(0, Math.max(20, process.stdout.columns - 1))).join('\n');
    if (text === previous) return;
    if (interactive && previousLines > 0) process.stdout.write(`\x1b[${previousLines}F\x1b[J`);
    process.stdout.write(`${text}\n${interactive ? '' : '\n'}`);
    previous = text;
    previousLines = text.split('\n').length;
  };
  draw();
  const timer = setInterval(draw, 1000);
  return () => clearInterval(timer);
}
