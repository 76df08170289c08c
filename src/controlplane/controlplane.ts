import { generateKeyPairSync } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { dump } from 'js-yaml';
import { freeLoopbackPort } from '../net/ports.ts';
import { createCertificateAuthority, issueCertificate } from '../tls/certificates.ts';
import { findOrBuildAssets, type ControlPlaneAssets, type ProgressLog } from './assets.ts';
import { ServerProcess } from './process.ts';
import { restConfigFromKubeconfig, type RestConfig } from '../runtime/rest-config.ts';

export interface ControlPlaneOptions {
  /** Where to write the admin kubeconfig; default: inside the control plane's temporary folder. */
  kubeconfigPath?: string;
  log?: ProgressLog;
}

interface Credentials {
  caPem: string;
  adminCertPem: string;
  adminKeyPem: string;
}

const contextName = 'labimage-local';

/** Temporary folders of control planes still running, removed synchronously if the process exits first. */
const liveDirs = new Set<string>();
process.once('exit', () => {
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * A real kube-apiserver and etcd on loopback ports, set up as controller-runtime's envtest sets
 * them up: generated serving certificates, service-account signing keys, RBAC authorization and
 * an admin client certificate in system:masters. Each instance has its own ports and folder, so
 * several can run at once.
 */
export class ControlPlane {
  readonly kubeconfigPath: string;
  readonly apiServerUrl: string;
  readonly etcdUrl: string;
  readonly assets: ControlPlaneAssets;
  private readonly dir: string;
  private readonly credentials: Credentials;
  private readonly etcd: ServerProcess;
  private readonly apiServer: ServerProcess;
  private readonly apiServerArgs: string[];
  private stopped: Promise<void> | undefined;

  private constructor(init: {
    dir: string;
    kubeconfigPath: string;
    apiServerUrl: string;
    etcdUrl: string;
    assets: ControlPlaneAssets;
    credentials: Credentials;
    apiServerArgs: string[];
  }) {
    this.dir = init.dir;
    this.kubeconfigPath = init.kubeconfigPath;
    this.apiServerUrl = init.apiServerUrl;
    this.etcdUrl = init.etcdUrl;
    this.assets = init.assets;
    this.credentials = init.credentials;
    this.apiServerArgs = init.apiServerArgs;
    this.etcd = new ServerProcess('etcd', join(init.dir, 'etcd.log'));
    this.apiServer = new ServerProcess('kube-apiserver', join(init.dir, 'kube-apiserver.log'));
  }

  static async start(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const log = options.log ?? (() => undefined);
    const assets = await findOrBuildAssets(log);
    const dir = await mkdtemp(join(tmpdir(), 'labimage-controlplane-'));
    liveDirs.add(dir);
    try {
      const [etcdPort, etcdPeerPort, apiPort] = await Promise.all([freeLoopbackPort(), freeLoopbackPort(), freeLoopbackPort()]);
      const apiServerUrl = `https://127.0.0.1:${apiPort}`;
      const etcdUrl = `http://127.0.0.1:${etcdPort}`;
      const credentials = await writeCertificates(dir);
      await writeFile(join(dir, 'audit-policy.yaml'), dump(auditPolicy));
      const plane = new ControlPlane({
        dir,
        kubeconfigPath: options.kubeconfigPath ?? join(dir, 'kubeconfig'),
        apiServerUrl,
        etcdUrl,
        assets,
        credentials,
        apiServerArgs: apiServerFlags({ dir, apiPort, apiServerUrl, etcdUrl }),
      });
      try {
        await plane.startEtcd(etcdPort, etcdPeerPort);
        await plane.startApiServer();
        await writeFile(plane.kubeconfigPath, plane.kubeconfigYaml(), { mode: 0o600 });
      } catch (error) {
        await plane.stop();
        throw error;
      }
      return plane;
    } catch (error) {
      liveDirs.delete(dir);
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * The API server's audit log (JSON lines): every request of a ServiceAccount, at level Metadata
   * (who, verb, resource, answer), and nothing else. Tests read it to see exactly what the
   * operator, running as its ServiceAccount, asked the API server for.
   */
  get auditLogPath(): string {
    return join(this.dir, 'audit.log');
  }

  /** A client configuration as the admin user (system:masters). */
  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromString(this.kubeconfigYaml());
    return kc;
  }

  /** The same, for the operator's runtime (RestClient, Manager). */
  restConfig(): RestConfig {
    return restConfigFromKubeconfig(this.kubeconfigYaml(), this.dir);
  }

  /** Stops kube-apiserver and starts it again on the same port and etcd: clients see a dropped connection and watch errors. */
  async restartApiServer(): Promise<void> {
    await this.apiServer.stop();
    await this.startApiServer();
  }

  /** Compacts etcd to its current revision, so watches from older resourceVersions get 410 Gone. */
  async compactEtcd(): Promise<number> {
    // etcd's JSON gateway: a range read returns the store's current revision in its header.
    const range = await postJson(`${this.etcdUrl}/v3/kv/range`, { key: Buffer.from('/').toString('base64'), limit: 1 });
    const revision = Number((range as { header?: { revision?: string } }).header?.revision);
    if (!Number.isFinite(revision)) throw new Error('etcd did not report its revision');
    await postJson(`${this.etcdUrl}/v3/kv/compaction`, { revision: String(revision), physical: true });
    return revision;
  }

  /** Stops both servers and removes the folder and the kubeconfig; safe to call more than once. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await this.apiServer.stop();
      await this.etcd.stop();
      // The kubeconfig names a server that no longer exists; it goes too, wherever it was written.
      await rm(this.kubeconfigPath, { force: true });
      await rm(this.dir, { recursive: true, force: true });
      liveDirs.delete(this.dir);
    })();
    return this.stopped;
  }

  private async startEtcd(port: number, peerPort: number): Promise<void> {
    const clientUrl = `http://127.0.0.1:${port}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    this.etcd.start(this.assets.etcd, [
      '--name=default',
      `--data-dir=${join(this.dir, 'etcd-data')}`,
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=default=${peerUrl}`,
      // A throwaway store: durability buys nothing and fsync costs seconds per test run.
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ]);
    await this.etcd.waitUntil(async () => {
      const response = await fetch(`${clientUrl}/health`);
      return response.ok && ((await response.json()) as { health?: string }).health === 'true';
    }, 30_000);
  }

  private async startApiServer(): Promise<void> {
    this.apiServer.start(this.assets.kubeApiServer, this.apiServerArgs);
    await this.apiServer.waitUntil(() => this.isReady(), 90_000);
  }

  private isReady(): Promise<boolean> {
    return new Promise((resolve) => {
      const req = request(`${this.apiServerUrl}/readyz`, {
        ca: this.credentials.caPem,
        cert: this.credentials.adminCertPem,
        key: this.credentials.adminKeyPem,
        timeout: 2000,
      });
      req.on('response', (response) => {
        response.resume();
        resolve(response.statusCode === 200);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
      req.end();
    });
  }

  private kubeconfigYaml(): string {
    const base64 = (pem: string) => Buffer.from(pem).toString('base64');
    return dump({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: contextName, cluster: { server: this.apiServerUrl, 'certificate-authority-data': base64(this.credentials.caPem) } }],
      users: [
        {
          name: `${contextName}-admin`,
          user: { 'client-certificate-data': base64(this.credentials.adminCertPem), 'client-key-data': base64(this.credentials.adminKeyPem) },
        },
      ],
      contexts: [{ name: contextName, context: { cluster: contextName, user: `${contextName}-admin`, namespace: 'default' } }],
      'current-context': contextName,
    });
  }
}

/** ServiceAccounts' requests at level Metadata, without the RequestReceived stage; nobody else's. */
const auditPolicy = {
  apiVersion: 'audit.k8s.io/v1',
  kind: 'Policy',
  omitStages: ['RequestReceived'],
  rules: [{ level: 'Metadata', userGroups: ['system:serviceaccounts'] }, { level: 'None' }],
};

function apiServerFlags(at: { dir: string; apiPort: number; apiServerUrl: string; etcdUrl: string }): string[] {
  const file = (name: string) => join(at.dir, 'pki', name);
  return [
    `--etcd-servers=${at.etcdUrl}`,
    `--secure-port=${at.apiPort}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--cert-dir=${join(at.dir, 'pki')}`,
    `--tls-cert-file=${file('apiserver.crt')}`,
    `--tls-private-key-file=${file('apiserver.key')}`,
    `--client-ca-file=${file('ca.crt')}`,
    `--service-account-issuer=${at.apiServerUrl}/`,
    `--service-account-key-file=${file('sa.pub')}`,
    `--service-account-signing-key-file=${file('sa.key')}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--authorization-mode=RBAC',
    '--allow-privileged=true',
    `--audit-policy-file=${join(at.dir, 'audit-policy.yaml')}`,
    `--audit-log-path=${join(at.dir, 'audit.log')}`,
    '--audit-log-format=json',
    '--audit-log-maxsize=100',
    '--audit-log-maxbackup=1',
    // As envtest: nothing runs the token controller here, and the plugin would refuse pods without it.
    '--disable-admission-plugins=ServiceAccount',
  ];
}

async function writeCertificates(dir: string): Promise<Credentials> {
  const pki = join(dir, 'pki');
  await mkdir(pki, { recursive: true });
  const ca = await createCertificateAuthority('labimage-controlplane-ca');
  const serving = await issueCertificate(ca, {
    commonName: 'kube-apiserver',
    dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
    ipAddresses: ['127.0.0.1', '10.0.0.1'],
    usage: 'server',
  });
  const admin = await issueCertificate(ca, { commonName: 'admin', organization: 'system:masters', usage: 'client' });
  const serviceAccountKeys = generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const files: Record<string, string> = {
    'ca.crt': ca.certPem,
    'apiserver.crt': serving.certPem,
    'apiserver.key': serving.keyPem,
    'sa.pub': serviceAccountKeys.publicKey,
    'sa.key': serviceAccountKeys.privateKey,
  };
  await Promise.all(Object.entries(files).map(([name, content]) => writeFile(join(pki, name), content, { mode: 0o600 })));
  return { caPem: ca.certPem, adminCertPem: admin.certPem, adminKeyPem: admin.keyPem };
}

async function postJson(url: string, body: unknown): Promise<unknown> {
  const response = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${await response.text()}`);
  return response.json();
}
