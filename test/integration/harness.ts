import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';

import { ControlPlane } from '../../src/controlplane/controlplane.ts';
import { installCrds as installCrdObjects } from '../../src/controlplane/install-crds.ts';
import type { RestConfig } from '../../src/runtime/index.ts';

/** One control plane per test run, shared by every integration suite (started by setup.ts). */
let shared: ControlPlane | undefined;

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export async function startSharedControlPlane(): Promise<ControlPlane> {
  shared = await ControlPlane.start({ log: (line) => console.log(line) });
  return shared;
}

export async function stopSharedControlPlane(): Promise<void> {
  await shared?.stop();
  shared = undefined;
}

export interface SharedControlPlane {
  plane: ControlPlane;
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  /** The same admin, for the operator's runtime (Manager, ObjectClient). */
  restConfig: RestConfig;
  /** The API server's audit log: ServiceAccounts' requests (ControlPlane.auditLogPath). */
  auditLogPath: string;
  restartApiServer(): Promise<void>;
  compactEtcd(): Promise<number>;
  installCrds(): Promise<void>;
}

export function controlPlane(): SharedControlPlane {
  const plane = shared;
  if (!plane) throw new Error('the shared control plane is not running: run integration tests with --config test/integration/.mocharc.json');
  return {
    plane,
    kubeconfigPath: plane.kubeconfigPath,
    kubeConfig: plane.kubeConfig(),
    restConfig: plane.restConfig(),
    auditLogPath: plane.auditLogPath,
    restartApiServer: () => plane.restartApiServer(),
    compactEtcd: () => plane.compactEtcd(),
    installCrds: async () => installCrdObjects(plane.kubeConfig(), await readProjectCrdsYaml()),
  };
}

/** The CRDs as committed in crds/, as a user would apply them. */
async function readProjectCrdsYaml(): Promise<string> {
  const dir = join(repoRoot, 'crds');
  const files = (await readdir(dir).catch(() => [])).filter((file) => file.endsWith('.yaml')).sort();
  const texts = await Promise.all(files.map((file) => readFile(join(dir, file), 'utf8')));
  return texts.join('\n---\n');
}

/** A fresh namespace for one suite, so suites sharing the control plane never see each other's objects. */
export async function createTestNamespace(kc: KubeConfig, prefix: string): Promise<string> {
  const name = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return name;
}
