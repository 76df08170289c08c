// One container of a rendered pod template, run with Docker or Podman as the kubelet would run it:
// the container's command, args, env, security context, memory limit and volume mounts as rendered;
// the volumes made from the rendered Secrets and ConfigMaps; the service-account token, CA and
// namespace where every pod finds them; probes polled as the kubelet polls them; stopped as the
// kubelet stops a pod (SIGTERM, SIGKILL after terminationGracePeriodSeconds). A volume or field it
// does not know how to give is an error, never skipped.
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import type { KubernetesObject, V1ConfigMap, V1Container, V1PodTemplateSpec, V1Secret, V1Volume } from '@kubernetes/client-node';
import type { ContainerEngine } from '../../../hack/image/engine.ts';

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** Kubernetes' default when a pod spec names none. */
const DEFAULT_GRACE_SECONDS = 30;

export interface PodContainerSpec {
  engine: ContainerEngine;
  /** The rendered pod template (a Deployment's spec.template) and the container of it to run. */
  template: V1PodTemplateSpec;
  container: string;
  namespace: string;
  podName: string;
  /** The rendered objects volumes and env may refer to (Secrets, ConfigMaps). */
  rendered: readonly KubernetesObject[];
  /** What the kubelet projects into the pod unless automountServiceAccountToken is false. */
  serviceAccount: { token: string; caPem: string };
  /** Where the pod finds the API server (KUBERNETES_SERVICE_HOST / _PORT). */
  apiServer: URL;
  /** Cluster DNS names and the address each resolves to. */
  hosts: Readonly<Record<string, string>>;
  /** A host folder for the pod's volumes. */
  dir: string;
}

export interface RunningPodContainer {
  name: string;
  /** Runs a command in the container (`exec`), resolving with its stdout. */
  exec(command: string[]): Promise<string>;
  /** Seconds from `run` until the readiness probe first passed (polled every 100 ms). */
  untilReady(timeoutMs: number): Promise<number>;
  /** Whether the container's liveness probe passes now. */
  live(): Promise<boolean>;
  /** SIGTERM, then SIGKILL after the pod's grace period, as the kubelet does. */
  stop(): Promise<{ exitCode: number; seconds: number; graceSeconds: number }>;
  logs(): Promise<string>;
  remove(): Promise<void>;
}

/**
 * On the host's network, a server told to listen on every interface (`:8080`, `0.0.0.0`) would be
 * reachable from outside the machine; test servers listen on loopback only, so those arguments are
 * narrowed to 127.0.0.1. It is the only change made to what was rendered.
 */
export function loopbackOnly(args: readonly string[]): string[] {
  return args.map((arg) => arg.replace(/=:(\d+)$/, '=127.0.0.1:$1').replace(/=0\.0\.0\.0(?=:\d+$|$)/, '=127.0.0.1'));
}

/** A memory quantity (`256Mi`, `1G`, `1048576`) in bytes. */
export function quantityBytes(quantity: string): number {
  const match = /^(\d+)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity);
  if (!match) throw new Error(`cannot read the quantity ${quantity}`);
  const factor = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }[match[2] ?? ''] ?? 1;
  return Number(match[1]) * factor;
}

function findRendered<T extends KubernetesObject>(spec: PodContainerSpec, kind: string, name: string): T {
  const found = spec.rendered.find((obj) => obj.kind === kind && obj.metadata?.name === name);
  if (!found) throw new Error(`the pod refers to ${kind} ${name}, which the chart did not render`);
  return found as T;
}

/** Files of a Secret or ConfigMap volume: every key, or the listed items, with their modes. */
function volumeFiles(data: Record<string, Buffer>, items: { key: string; path: string; mode?: number }[] | undefined, defaultMode: number) {
  const chosen: { key: string; path: string; mode?: number }[] = items ?? Object.keys(data).map((key) => ({ key, path: key }));
  return chosen.map((item) => {
    const content = data[item.key];
    if (content === undefined) throw new Error(`the volume lists key ${item.key}, which its source does not hold`);
    return { path: item.path, content, mode: item.mode ?? defaultMode };
  });
}

/** Writes a volume's files on the host: owned by root and the pod's fsGroup, as the kubelet leaves them. */
async function writeVolume(dir: string, files: { path: string; content: Buffer | string; mode: number }[], fsGroup: number | undefined): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const file of files) {
    const path = join(dir, file.path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, file.content);
    if (fsGroup !== undefined) await chown(path, 0, fsGroup);
    await chmod(path, file.mode);
  }
}

/** The volume on the host: a folder holding what the kubelet would put in it. */
async function materialize(spec: PodContainerSpec, volume: V1Volume, fsGroup: number | undefined): Promise<string> {
  const dir = join(spec.dir, 'volumes', volume.name);
  if (volume.emptyDir) {
    await mkdir(dir, { recursive: true });
    await chmod(dir, 0o777);
  } else if (volume.persistentVolumeClaim) {
    // A fresh claim, group-owned by fsGroup with the setgid bit, as the kubelet prepares one.
    await mkdir(dir, { recursive: true });
    if (fsGroup !== undefined) await chown(dir, 0, fsGroup);
    await chmod(dir, fsGroup === undefined ? 0o755 : 0o2775);
  } else if (volume.secret) {
    const secret = findRendered<V1Secret>(spec, 'Secret', volume.secret.secretName!);
    const data = Object.fromEntries([
      ...Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')] as const),
      ...Object.entries(secret.stringData ?? {}).map(([key, value]) => [key, Buffer.from(value)] as const),
    ]);
    await writeVolume(dir, volumeFiles(data, volume.secret.items, volume.secret.defaultMode ?? 0o644), fsGroup);
  } else if (volume.configMap) {
    const configMap = findRendered<V1ConfigMap>(spec, 'ConfigMap', volume.configMap.name!);
    const data = Object.fromEntries(Object.entries(configMap.data ?? {}).map(([key, value]) => [key, Buffer.from(value)] as const));
    await writeVolume(dir, volumeFiles(data, volume.configMap.items, volume.configMap.defaultMode ?? 0o644), fsGroup);
  } else {
    throw new Error(`volume ${volume.name}: this test does not know how to provide ${Object.keys(volume).filter((key) => key !== 'name').join(', ')}`);
  }
  return dir;
}

/** The container's environment: what the kubelet adds, then the container's own entries. */
function environment(spec: PodContainerSpec, container: V1Container): string[] {
  const env: string[] = [`KUBERNETES_SERVICE_HOST=${spec.apiServer.hostname}`, `KUBERNETES_SERVICE_PORT=${spec.apiServer.port}`];
  if (container.envFrom?.length) throw new Error(`container ${container.name}: envFrom is not supported by this test`);
  const fields: Record<string, string> = {
    'metadata.name': spec.podName,
    'metadata.namespace': spec.namespace,
    'spec.serviceAccountName': spec.template.spec?.serviceAccountName ?? 'default',
    'status.podIP': '127.0.0.1',
  };
  for (const entry of container.env ?? []) {
    const from = entry.valueFrom;
    let value: string | undefined = entry.value ?? '';
    if (from?.fieldRef) value = fields[from.fieldRef.fieldPath];
    else if (from?.secretKeyRef) {
      const data = findRendered<V1Secret>(spec, 'Secret', from.secretKeyRef.name!).data?.[from.secretKeyRef.key];
      value = data === undefined ? undefined : Buffer.from(data, 'base64').toString('utf8');
    } else if (from?.configMapKeyRef) value = findRendered<V1ConfigMap>(spec, 'ConfigMap', from.configMapKeyRef.name!).data?.[from.configMapKeyRef.key];
    else if (from) throw new Error(`env ${entry.name}: this test does not know how to provide ${Object.keys(from).join(', ')}`);
    if (value === undefined) throw new Error(`env ${entry.name}: its source holds no such value`);
    env.push(`${entry.name}=${value}`);
  }
  return env;
}

/** The engine's run arguments for the container: user, groups, root filesystem, capabilities, limits, mounts. */
async function runArguments(spec: PodContainerSpec, name: string): Promise<string[]> {
  const pod = spec.template.spec;
  const container = pod?.containers.find((c) => c.name === spec.container);
  if (!pod || !container) throw new Error(`the pod template has no container ${spec.container}`);
  const podSecurity = pod.securityContext ?? {};
  const security = container.securityContext ?? {};
  const user = security.runAsUser ?? podSecurity.runAsUser;
  const group = security.runAsGroup ?? podSecurity.runAsGroup;
  const fsGroup = podSecurity.fsGroup;
  const args = ['run', '--detach', '--name', name, '--hostname', spec.podName, '--network', 'host'];

  if (security.runAsNonRoot ?? podSecurity.runAsNonRoot) {
    // The kubelet refuses to start a container that would run as root, or as a user it cannot verify.
    const imageUser = (await spec.engine.run(['image', 'inspect', '--format', '{{.Config.User}}', container.image!])).trim();
    const uid = user ?? (/^\d+/.exec(imageUser) ? Number(imageUser.split(':')[0]) : undefined);
    if (uid === undefined || uid === 0) throw new Error(`container ${container.name} must run as non-root, but would run as ${uid ?? `"${imageUser}"`}`);
  }
  if (user !== undefined) args.push('--user', group === undefined ? String(user) : `${user}:${group}`);
  for (const extra of [...(fsGroup === undefined ? [] : [fsGroup]), ...(podSecurity.supplementalGroups ?? [])]) args.push('--group-add', String(extra));
  if (security.readOnlyRootFilesystem) args.push('--read-only', ...(spec.engine.name === 'podman' ? ['--read-only-tmpfs=false'] : []));
  if (security.allowPrivilegeEscalation === false) args.push('--security-opt', 'no-new-privileges');
  if (security.privileged) throw new Error(`container ${container.name} asks to be privileged`);
  for (const cap of security.capabilities?.drop ?? []) args.push('--cap-drop', cap);
  for (const cap of security.capabilities?.add ?? []) args.push('--cap-add', cap);
  const seccomp = (security.seccompProfile ?? podSecurity.seccompProfile)?.type;
  if (seccomp && seccomp !== 'RuntimeDefault') throw new Error(`seccomp profile ${seccomp}: this test runs the engine's default profile only`);
  const memory = container.resources?.limits?.memory;
  if (memory) args.push('--memory', String(quantityBytes(memory)));

  for (const [host, address] of Object.entries(spec.hosts)) args.push('--add-host', `${host}:${address}`);
  for (const variable of environment(spec, container)) args.push('--env', variable);

  const volumes = new Map<string, string>();
  for (const volume of pod.volumes ?? []) volumes.set(volume.name, await materialize(spec, volume, fsGroup));
  for (const mount of container.volumeMounts ?? []) {
    const source = volumes.get(mount.name);
    if (!source) throw new Error(`container ${container.name} mounts ${mount.name}, which the pod does not define`);
    args.push('--volume', `${mount.subPath ? join(source, mount.subPath) : source}:${mount.mountPath}${mount.readOnly ? ':ro' : ''}`);
  }
  if (pod.automountServiceAccountToken !== false) {
    const dir = join(spec.dir, 'serviceaccount');
    const files = [
      { path: 'token', content: spec.serviceAccount.token, mode: 0o644 },
      { path: 'ca.crt', content: spec.serviceAccount.caPem, mode: 0o644 },
      { path: 'namespace', content: spec.namespace, mode: 0o644 },
    ];
    await writeVolume(dir, files, fsGroup);
    args.push('--volume', `${dir}:${SERVICE_ACCOUNT_DIR}:ro`);
  }

  if (container.workingDir) args.push('--workdir', container.workingDir);
  if (container.command) args.push('--entrypoint', JSON.stringify(container.command));
  args.push(container.image!, ...loopbackOnly(container.args ?? []));
  return args;
}

type Probe = NonNullable<V1Container['readinessProbe']>;

/** One probe attempt from the host, as the kubelet makes it (the container shares the host's network). */
async function probeOnce(container: V1Container, probe: Probe): Promise<boolean> {
  const portOf = (port: number | string) => (typeof port === 'number' ? port : container.ports?.find((p) => p.name === port)?.containerPort);
  if (probe.httpGet) {
    const port = portOf(probe.httpGet.port);
    const scheme = (probe.httpGet.scheme ?? 'HTTP').toLowerCase();
    const response = await fetch(`${scheme}://127.0.0.1:${port}${probe.httpGet.path ?? '/'}`, { signal: AbortSignal.timeout(1_000) }).catch(() => undefined);
    return response !== undefined && response.status >= 200 && response.status < 400;
  }
  if (probe.tcpSocket) {
    const port = portOf(probe.tcpSocket.port);
    return new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: port! });
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
  }
  throw new Error(`container ${container.name}: this test polls httpGet and tcpSocket probes only`);
}

export async function startPodContainer(spec: PodContainerSpec): Promise<RunningPodContainer> {
  const name = `labimages-${spec.podName}-${randomBytes(3).toString('hex')}`;
  const container = spec.template.spec!.containers.find((c) => c.name === spec.container)!;
  const graceSeconds = spec.template.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
  const args = await runArguments(spec, name);
  const started = Date.now();
  await spec.engine.run(args);
  const engine = spec.engine;
  // Both streams, as `kubectl logs` shows them.
  const logs = async () => {
    const lines: string[] = [];
    await engine.run(['logs', name], { onLine: (line) => lines.push(line) }).catch((err: Error) => lines.push(err.message));
    return lines.join('\n');
  };
  return {
    name,
    exec: (command) => engine.run(['exec', name, ...command]),
    async untilReady(timeoutMs) {
      const probe = container.readinessProbe;
      if (!probe) throw new Error(`container ${container.name} has no readiness probe`);
      while (!(await probeOnce(container, probe))) {
        const state = (await engine.run(['inspect', '--format', '{{.State.Status}}', name])).trim();
        if (state !== 'running') throw new Error(`container ${container.name} is ${state}:\n${await logs()}`);
        if (Date.now() - started > timeoutMs) throw new Error(`container ${container.name} not ready after ${timeoutMs / 1000} s`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return (Date.now() - started) / 1000;
    },
    async live() {
      if (!container.livenessProbe) throw new Error(`container ${container.name} has no liveness probe`);
      return probeOnce(container, container.livenessProbe);
    },
    async stop() {
      const stopping = Date.now();
      await engine.run(['stop', '--time', String(graceSeconds), name]);
      const seconds = (Date.now() - stopping) / 1000;
      const exitCode = Number((await engine.run(['inspect', '--format', '{{.State.ExitCode}}', name])).trim());
      return { exitCode, seconds, graceSeconds };
    },
    logs,
    async remove() {
      await engine.run(['rm', '--force', name]).catch(() => undefined);
    },
  };
}
