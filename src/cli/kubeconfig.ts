// The cluster a CLI command talks to, found as kubectl finds it (client-go's clientcmd loading
// rules), so `kubectl labimage` goes where `kubectl` goes: --kubeconfig alone; else every file of
// $KUBECONFIG, merged; else ~/.kube/config; else the pod's service account. --context picks a
// context other than current-context. The runtime's loader reads one file (the operator needs no
// more); merging is written here because neither it nor client-node merges as kubectl does
// (client-node lets the last file win and refuses a name two files share).
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { dump, load } from 'js-yaml';
import { loadRestConfig, restConfigFromKubeconfig, type RestConfig } from '../runtime/index.ts';

export interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
}

type Entry = { name: string } & Record<string, unknown>;

interface KubeconfigDocument {
  'current-context'?: string;
  clusters?: Entry[];
  users?: Entry[];
  contexts?: Entry[];
  [key: string]: unknown;
}

/** The files kubectl would read: --kubeconfig alone, else those of $KUBECONFIG that exist, else ~/.kube/config if it exists. */
export function kubeconfigFiles(flags: ClusterFlags, env: NodeJS.ProcessEnv = process.env): string[] {
  if (flags.kubeconfig) return [flags.kubeconfig];
  const listed = (env.KUBECONFIG ?? '').split(delimiter).filter((file) => file.length > 0);
  if (listed.length > 0) return listed.filter((file) => existsSync(file));
  const home = join(homedir(), '.kube', 'config');
  return existsSync(home) ? [home] : [];
}

// Fields that name files, relative to the kubeconfig file that holds them.
const FILE_FIELDS = { clusters: ['certificate-authority'], users: ['client-certificate', 'client-key', 'tokenFile'] } as const;

/** One kubeconfig file with its relative file paths made absolute, so it can be merged with others. */
function readKubeconfig(file: string): KubeconfigDocument {
  const doc = (load(readFileSync(file, 'utf8')) ?? {}) as KubeconfigDocument;
  const base = dirname(file);
  for (const [section, fields] of Object.entries(FILE_FIELDS) as [keyof typeof FILE_FIELDS, readonly string[]][]) {
    const inner = section === 'clusters' ? 'cluster' : 'user';
    for (const entry of doc[section] ?? []) {
      const body = entry[inner] as Record<string, unknown> | undefined;
      for (const field of fields) {
        const value = body?.[field];
        if (body && typeof value === 'string' && value.length > 0 && !isAbsolute(value)) body[field] = join(base, value);
      }
    }
  }
  return doc;
}

/** kubectl's merge: the first file to set a value or a named cluster, user or context wins; nothing is overwritten. */
export function mergeKubeconfigs(docs: readonly KubeconfigDocument[]): KubeconfigDocument {
  const firstByName = (entries: Entry[]) => entries.filter((entry, i) => entries.findIndex((other) => other.name === entry.name) === i);
  const currentContext = docs.map((doc) => doc['current-context']).find((name) => name);
  return {
    apiVersion: 'v1',
    kind: 'Config',
    ...(currentContext ? { 'current-context': currentContext } : {}),
    clusters: firstByName(docs.flatMap((doc) => doc.clusters ?? [])),
    users: firstByName(docs.flatMap((doc) => doc.users ?? [])),
    contexts: firstByName(docs.flatMap((doc) => doc.contexts ?? [])),
  };
}

/** Where the API server is and who we are to it, as `kubectl` with the same flags and environment would decide. */
export function loadClusterConfig(flags: ClusterFlags, env: NodeJS.ProcessEnv = process.env): RestConfig {
  const files = kubeconfigFiles(flags, env);
  // No file: in a pod, its service account; elsewhere, the runtime's error naming the missing file.
  if (files.length === 0) return loadRestConfig();
  const merged = mergeKubeconfigs(files.map(readKubeconfig));
  return restConfigFromKubeconfig(dump(merged), process.cwd(), flags.context);
}
