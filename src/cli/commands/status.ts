import type { KubernetesObject } from '@kubernetes/client-node';
import type { Command } from 'commander';
import { IMAGE_EXPORT, LAB_TEMPLATE, RESOURCES, type ImageExport, type LabTemplate } from '../../api/index.ts';
import { ObjectClient, type ResourceType, type RestConfig } from '../../runtime/index.ts';
import { addClusterOptions, outputOption, resolveCluster, type ClusterOptions, type MachineFormat } from '../cluster-options.ts';
import { formatDocument } from '../output.ts';
import { renderStatus, statusDocument, type StatusDocument } from '../status-view.ts';

interface StatusOptions extends ClusterOptions {
  output: 'text' | MachineFormat;
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

/** Reads the exports and templates `labimage status` shows; `name` keeps only objects of that name. */
export async function readStatus(restConfig: RestConfig, namespace: string | undefined, name?: string): Promise<StatusDocument> {
  const client = new ObjectClient(restConfig);
  const [exports, templates] = await Promise.all([
    listAll<ImageExport>(client, RESOURCES[IMAGE_EXPORT.kind], namespace),
    listAll<LabTemplate>(client, RESOURCES[LAB_TEMPLATE.kind], namespace),
  ]);
  const named = <T extends KubernetesObject>(objects: T[]) => (name === undefined ? objects : objects.filter((obj) => obj.metadata?.name === name));
  return statusDocument(named(exports), named(templates));
}

export function registerStatusCommand(program: Command): void {
  const command: Command = program
    .command('status')
    .description('show image exports (per-region replication, phase, version, cost) and lab templates (image, VM)')
    .argument('[name]', 'only the ImageExport and LabTemplate of this name');
  addClusterOptions(command, { allNamespaces: true })
    .addOption(outputOption('text'))
    .action(async (name: string | undefined, options: StatusOptions) => {
      const { restConfig, namespace } = resolveCluster(options, command);
      const doc = await readStatus(restConfig, namespace, name);
      if (name !== undefined && doc.exports.length === 0 && doc.templates.length === 0) {
        command.error(`error: no ImageExport or LabTemplate named ${name} ${namespace === undefined ? 'in any namespace' : `in namespace ${namespace}`}`);
      }
      process.stdout.write(options.output === 'text' ? renderStatus(doc, { showNamespace: namespace === undefined }) : formatDocument(doc, options.output));
    });
}
