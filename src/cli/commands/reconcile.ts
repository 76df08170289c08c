import type { KubernetesObject } from '@kubernetes/client-node';
import { Option, type Command } from 'commander';
import { GROUP } from '../../api/index.ts';
import { RECONCILE_REQUESTED_AT } from '../../api/annotations.ts';
import { ObjectClient, READY, findCondition, isNotFound, parseDuration, type Condition } from '../../runtime/index.ts';
import { duration } from '../arguments.ts';
import { addClusterOptions, resolveCluster, type ClusterOptions, type MachineFormat } from '../cluster-options.ts';
import { parseKindName } from '../kinds.ts';
import { formatDocument } from '../output.ts';

interface ReconcileOptions extends ClusterOptions {
  wait: boolean;
  timeout: number;
  output?: MachineFormat;
}

export interface Reconcilable extends KubernetesObject {
  status?: { lastHandledReconcileAt?: string; conditions?: Condition[] };
}

/**
 * Polls `read` until the object's status.lastHandledReconcileAt equals `requestedAt`. One object,
 * one GET a second: simpler than a watch, and nothing to resume when one expires.
 */
export async function waitUntilHandled(
  read: () => Promise<Reconcilable | undefined>,
  requestedAt: string,
  options: { timeoutMs: number; pollMs?: number; what: string },
): Promise<Reconcilable> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const obj = await read();
    if (!obj) throw new Error(`${options.what} is gone`);
    const handled = obj.status?.lastHandledReconcileAt;
    if (handled === requestedAt) return obj;
    if (Date.now() >= deadline) {
      throw new Error(
        `timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for the operator to handle the request of ${requestedAt}: ` +
          `status.lastHandledReconcileAt is ${handled ?? 'unset'} (an operator that does not support ${RECONCILE_REQUESTED_AT} never sets it)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(options.pollMs ?? 1000, Math.max(0, deadline - Date.now()))));
  }
}

export function registerReconcileCommand(program: Command): void {
  const command: Command = program
    .command('reconcile')
    .description(`ask the operator to reconcile an object at once: sets the ${RECONCILE_REQUESTED_AT} annotation to the current time, as flux reconcile does`)
    .argument('<kind/name>', 'such as imageexport/cs101-v1; the kind by name, plural or short name (lacct, gattach, imgexp, labtmpl)');
  addClusterOptions(command, { allNamespaces: false })
    .option('--wait', 'wait until the operator reports the request handled (status.lastHandledReconcileAt); needs an operator that supports it', false)
    .addOption(new Option('--timeout <duration>', 'how long --wait waits').argParser(duration).default(parseDuration('5m'), '5m'))
    .addOption(new Option('-o, --output <format>', 'print the object instead of a line').choices(['json', 'yaml']))
    .action(async (target: string, options: ReconcileOptions) => {
      const parsed = parseKindName(target);
      if (!parsed) command.error(`error: ${target} is not KIND/NAME of a ${GROUP} kind (LabAccount, GalleryAttachment, ImageExport, LabTemplate)`);
      const { names, name } = parsed;
      const { restConfig, namespace = 'default' } = resolveCluster(options, command);
      const client = new ObjectClient(restConfig);
      const what = `${names.singular}.${GROUP}/${name}`;
      const requestedAt = new Date().toISOString();
      let obj: Reconcilable;
      try {
        obj = await client.mergePatch<Reconcilable>(names.resource, namespace, name, { metadata: { annotations: { [RECONCILE_REQUESTED_AT]: requestedAt } } });
      } catch (err) {
        if (isNotFound(err)) command.error(`error: ${what} not found in namespace ${namespace}`);
        throw err;
      }
      if (!options.output) console.log(`${what} reconcile requested at ${requestedAt}`);
      if (options.wait) {
        try {
          obj = await waitUntilHandled(() => client.get<Reconcilable>(names.resource, namespace, name), requestedAt, { timeoutMs: options.timeout, what });
        } catch (err) {
          command.error(`error: ${what}: ${(err as Error).message}`);
        }
        const ready = findCondition(obj.status?.conditions, READY);
        if (!options.output) console.log(`${what} reconciled: Ready=${ready?.status ?? 'Unknown'}${ready?.reason ? ` ${ready.reason}` : ''}${ready?.message ? `: ${ready.message}` : ''}`);
      }
      if (options.output) process.stdout.write(formatDocument(obj, options.output));
    });
}
