import type { KubernetesObject } from '@kubernetes/client-node';
import type { Command } from 'commander';
import { IMAGE_EXPORT, LAB_TEMPLATE, RESOURCES, type ImageExport, type LabTemplate } from '../../api/index.ts';
import { createLogger } from '../../log.ts';
import { Informer, ObjectClient, RestClient, type ResourceType, type RestConfig } from '../../runtime/index.ts';
import { addClusterOptions, outputOption, resolveCluster, type ClusterOptions, type MachineFormat } from '../cluster-options.ts';
import { showLive } from '../live-view.ts';
import { formatDocument } from '../output.ts';
import { untilSignal } from '../signals.ts';
import { statusDocument, renderStatus, type StatusDocument } from '../status-view.ts';

interface StatusOptions extends ClusterOptions {
  output: 'text' | MachineFormat;
  watch: boolean;
}

/** Every object of a kind, following `continue` tokens; `namespace` undefined lists all namespaces. */
async function listAll<T extends KubernetesObject>(client: ObjectClient, resource: ResourceType, namespace: string | undefined): Promise<T[]> {
  const items: T[] = [];
  let token: string | undefined;
  do {
    const page = await client.list<T>(resource, namespace, { limit: 500, ...(token ? { continue: token } : {}) });
    items.push(...page.items);
    token = page.metadata.continue || undefined;
  } while (token);
  return items;
}

/** The status document of these exports and templates; `name` keeps only objects of that name. */
function documentOf(exports: readonly ImageExport[], templates: readonly LabTemplate[], name: string | undefined): StatusDocument {
  const named = <T extends KubernetesObject>(objects: readonly T[]) => (name === undefined ? objects : objects.filter((obj) => obj.metadata?.name === name));
  return statusDocument(named(exports), named(templates));
}

/** Reads the exports and templates `labimage status` shows. */
export async function readStatus(restConfig: RestConfig, namespace: string | undefined, name?: string): Promise<StatusDocument> {
  const client = new ObjectClient(restConfig);
  const [exports, templates] = await Promise.all([
    listAll<ImageExport>(client, RESOURCES[IMAGE_EXPORT.kind], namespace),
    listAll<LabTemplate>(client, RESOURCES[LAB_TEMPLATE.kind], namespace),
  ]);
  return documentOf(exports, templates, name);
}

/** `status -w`: the live view over two informers (list once, then watch), until Ctrl-C. */
async function watchStatus(restConfig: RestConfig, namespace: string | undefined, name: string | undefined): Promise<void> {
  const rest = new RestClient(restConfig);
  // Silent: a log line would scribble over the view; the informers reconnect by themselves.
  const options = { namespaces: namespace === undefined ? [] : [namespace], log: createLogger('silent') };
  const exports = new Informer<ImageExport>(rest, RESOURCES[IMAGE_EXPORT.kind], options);
  const templates = new Informer<LabTemplate>(rest, RESOURCES[LAB_TEMPLATE.kind], options);
  const stopped = untilSignal();
  exports.start();
  templates.start();
  try {
    await Promise.race([Promise.all([exports.waitForSync(), templates.waitForSync()]), stopped]);
    const view = showLive(() => documentOf(exports.list(), templates.list(), name), { showNamespace: namespace === undefined });
    await stopped;
    view.stop();
  } finally {
    await Promise.all([exports.stop(), templates.stop()]);
  }
}

export function registerStatusCommand(program: Command): void {
  const command: Command = program
    .command('status')
    .description('show image exports (per-region replication, phase, version, cost) and lab templates (image, VM)')
    .argument('[name]', 'only the ImageExport and LabTemplate of this name');
  addClusterOptions(command, { allNamespaces: true })
    .addOption(outputOption('text'))
    .option('-w, --watch', 'keep showing them as they change (one screen redrawn in place on a terminal), until Ctrl-C', false)
    .action(async (name: string | undefined, options: StatusOptions) => {
      if (options.watch && options.output !== 'text') command.error('error: --watch shows the text view: leave out -o');
      const { restConfig, namespace } = resolveCluster(options, command);
      const doc = await readStatus(restConfig, namespace, name);
      if (name !== undefined && doc.exports.length === 0 && doc.templates.length === 0) {
        command.error(`error: no ImageExport or LabTemplate named ${name} ${namespace === undefined ? 'in any namespace' : `in namespace ${namespace}`}`);
      }
      if (options.watch) await watchStatus(restConfig, namespace, name);
      else process.stdout.write(options.output === 'text' ? renderStatus(doc, { showNamespace: namespace === undefined }) : formatDocument(doc, options.output));
    });
}
