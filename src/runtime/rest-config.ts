// Where the API server is and who we are to it, like client-go's rest.Config: from a kubeconfig
// file or from the pod's service account.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import type { RequestOptions } from 'node:https';
import { load } from 'js-yaml';

export interface RestConfig {
  /** https://host:port */
  server: string;
  /** PEM of the CA that signs the server's certificate; absent: the system's CAs. */
  ca?: string;
  /** PEM of a client certificate and its key. */
  cert?: string;
  key?: string;
  /** A bearer token, or a file holding one (read again every minute: projected tokens rotate). */
  token?: string;
  tokenFile?: string;
  insecureSkipTlsVerify?: boolean;
  /** The server name to check the certificate against, when it differs from the URL's host. */
  tlsServerName?: string;
  /** The kubeconfig context's namespace, if any. */
  namespace?: string;
  /**
   * For users this loader does not speak (exec plugins, auth providers): sets credentials on each
   * request. Backed by client-node, loaded only for such users.
   */
  authenticate?: (options: RequestOptions) => Promise<void>;
}

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The pod's service account, as client-go's InClusterConfig; undefined outside a pod. */
function inClusterConfig(): RestConfig | undefined {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) return undefined;
  let namespace: string | undefined;
  try {
    namespace = readFileSync(join(SERVICE_ACCOUNT, 'namespace'), 'utf8').trim();
  } catch {
    namespace = undefined;
  }
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    ca: readFileSync(join(SERVICE_ACCOUNT, 'ca.crt'), 'utf8'),
    tokenFile: join(SERVICE_ACCOUNT, 'token'),
    ...(namespace ? { namespace } : {}),
  };
}

interface Named<T> {
  name: string;
  [key: string]: unknown;
  cluster?: T;
  user?: T;
  context?: T;
}

interface KubeconfigFile {
  'current-context'?: string;
  clusters?: Named<Record<string, unknown>>[];
  users?: Named<Record<string, unknown>>[];
  contexts?: Named<{ cluster?: string; user?: string; namespace?: string }>[];
}

/**
 * The configuration `kubectl` would use: `path`, else the first file of $KUBECONFIG, else
 * ~/.kube/config, else the pod's service account.
 */
export function loadRestConfig(path?: string, context?: string): RestConfig {
  const file = path ?? process.env.KUBECONFIG?.split(delimiter).find((p) => p.length > 0) ?? join(homedir(), '.kube', 'config');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const inCluster = path === undefined ? inClusterConfig() : undefined;
    if (inCluster) return inCluster;
    throw new Error(`no kubeconfig at ${file} and not running in a pod: ${(err as Error).message}`, { cause: err });
  }
  return restConfigFromKubeconfig(text, dirname(file), context);
}

/** Parses kubeconfig YAML; relative file paths in it are relative to `baseDir`. */
export function restConfigFromKubeconfig(yaml: string, baseDir: string, contextName?: string): RestConfig {
  const doc = (load(yaml) ?? {}) as KubeconfigFile;
  const current = contextName ?? doc['current-context'];
  const context = doc.contexts?.find((c) => c.name === current)?.context;
  if (!context) throw new Error(`kubeconfig: no context ${current ?? '(current-context is not set)'}`);
  const cluster = doc.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster || typeof cluster.server !== 'string') throw new Error(`kubeconfig: context ${current} names no cluster with a server`);
  const user = doc.users?.find((u) => u.name === context.user)?.user ?? {};

  const text = (value: unknown) => (typeof value === 'string' && value.length > 0 ? value : undefined);
  const fromFile = (value: unknown) => {
    const p = text(value);
    return p ? readFileSync(isAbsolute(p) ? p : join(baseDir, p), 'utf8') : undefined;
  };
  const fromData = (value: unknown) => {
    const data = text(value);
    return data ? Buffer.from(data, 'base64').toString('utf8') : undefined;
  };
  const config: RestConfig = { server: cluster.server.replace(/\/+$/, '') };
  const ca = fromData(cluster['certificate-authority-data']) ?? fromFile(cluster['certificate-authority']);
  if (ca) config.ca = ca;
  if (cluster['insecure-skip-tls-verify'] === true) config.insecureSkipTlsVerify = true;
  const serverName = text(cluster['tls-server-name']);
  if (serverName) config.tlsServerName = serverName;
  const cert = fromData(user['client-certificate-data']) ?? fromFile(user['client-certificate']);
  const key = fromData(user['client-key-data']) ?? fromFile(user['client-key']);
  if (cert && key) Object.assign(config, { cert, key });
  const token = text(user.token);
  if (token) config.token = token;
  const tokenFile = text(user.tokenFile);
  if (tokenFile) config.tokenFile = isAbsolute(tokenFile) ? tokenFile : join(baseDir, tokenFile);
  if (context.namespace) config.namespace = context.namespace;
  if (user.exec || user['auth-provider'] || (user.username && user.password)) config.authenticate = delegatedAuthentication(yaml, current ?? '');
  return config;
}

/** Exec plugins and auth providers, through client-node's KubeConfig, imported on first use. */
function delegatedAuthentication(yaml: string, context: string): (options: RequestOptions) => Promise<void> {
  let loaded: Promise<(options: RequestOptions) => Promise<void>> | undefined;
  return async (options) => {
    loaded ??= import('@kubernetes/client-node').then(({ KubeConfig }) => {
      const kc = new KubeConfig();
      kc.loadFromString(yaml);
      kc.setCurrentContext(context);
      return (opts: RequestOptions) => kc.applyToHTTPSOptions(opts);
    });
    await (await loaded)(options);
  };
}
