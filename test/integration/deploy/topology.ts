// Where rendered manifests put the ARM emulator and its state, read from the objects themselves
// (flags, mounts, volumes, Services), so a test can compare an install's topology with its promise.
import type { KubernetesObject } from '@kubernetes/client-node';

export interface Container {
  name: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string }[];
  ports?: { name?: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
}

interface Volume {
  name: string;
  persistentVolumeClaim?: { claimName: string };
  emptyDir?: object;
  secret?: { secretName: string; items?: { key: string; path: string }[] };
}

export interface Deployment extends KubernetesObject {
  spec: {
    replicas?: number;
    strategy?: { type?: string };
    template: { metadata?: { labels?: Record<string, string> }; spec: { containers: Container[]; volumes?: Volume[] } };
  };
}

interface Service extends KubernetesObject {
  spec: { selector?: Record<string, string>; ports?: { port: number; targetPort?: number | string }[] };
}

export function deploymentsOf(objects: readonly KubernetesObject[]): Deployment[] {
  return objects.filter((obj): obj is Deployment => obj.kind === 'Deployment');
}

/** The value of `--name=value` (or `--name value`) in a container's arguments. */
export function flagValue(args: readonly string[] | undefined, name: string): string | undefined {
  for (const [i, arg] of (args ?? []).entries()) {
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
    if (arg === `--${name}`) return args?.[i + 1];
  }
  return undefined;
}

/** What holds `file` in a container: the volume mounted at the longest prefix of its path. */
function storageOf(objects: readonly KubernetesObject[], deployment: Deployment, container: Container, file: string): string {
  const mount = (container.volumeMounts ?? [])
    .filter((m) => (m.subPath ? file === m.mountPath : file.startsWith(`${m.mountPath.replace(/\/$/, '')}/`)))
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  if (!mount) return 'the container\'s root filesystem';
  const volume = deployment.spec.template.spec.volumes?.find((v) => v.name === mount.name);
  if (volume?.persistentVolumeClaim) {
    const claim = volume.persistentVolumeClaim.claimName;
    const rendered = objects.some((obj) => obj.kind === 'PersistentVolumeClaim' && obj.metadata?.name === claim);
    return `PersistentVolumeClaim ${claim}${rendered ? '' : ' (not rendered)'}`;
  }
  if (volume?.secret) {
    const inVolume = mount.subPath ?? file.slice(mount.mountPath.replace(/\/$/, '').length + 1);
    const key = volume.secret.items ? volume.secret.items.find((item) => item.path === inVolume)?.key : inVolume;
    return `Secret ${volume.secret.secretName} key ${key ?? `(no item for ${inVolume})`}`;
  }
  if (volume?.emptyDir) return 'emptyDir';
  return `volume ${mount.name}`;
}

/** Follows an https://SERVICE.NAMESPACE.svc:PORT URL to the Deployment whose pods serve it. */
function servedBy(objects: readonly KubernetesObject[], url: string): string {
  const { hostname, port } = new URL(url);
  const [name, namespace] = hostname.split('.');
  const service = objects.find((obj): obj is Service => obj.kind === 'Service' && obj.metadata?.name === name && obj.metadata?.namespace === namespace);
  if (!service) return `${url}: no Service ${name} in ${namespace}`;
  const servicePort = service.spec.ports?.find((p) => String(p.port) === port);
  if (!servicePort) return `${url}: Service ${name} has no port ${port}`;
  const selector = Object.entries(service.spec.selector ?? {});
  const backends = deploymentsOf(objects).filter((d) => selector.length > 0 && selector.every(([k, v]) => d.spec.template.metadata?.labels?.[k] === v));
  const target = servicePort.targetPort ?? servicePort.port;
  const serving = backends.filter((d) => d.spec.template.spec.containers.some((c) => c.ports?.some((p) => p.name === target || p.containerPort === target)));
  return `Service ${name} port ${port} -> Deployment ${serving.map((d) => d.metadata?.name).join(', ') || '(none)'}`;
}

export interface EmulatorTopology {
  operator: { replicas: number; strategy: string; emulator: string; state?: string; ca?: string };
  emulator?: { replicas: number; strategy: string; state: string };
}

/**
 * The operator Deployment (the one whose container runs `labimage run`'s flags) and, if its
 * `--emulator` is a URL, the Deployment behind it: replicas, rollout strategy, where the state
 * file lives and where the CA comes from.
 */
export function emulatorTopology(objects: readonly KubernetesObject[]): EmulatorTopology {
  const all = deploymentsOf(objects);
  const operator = all.find((d) => flagValue(d.spec.template.spec.containers[0]?.args, 'emulator') !== undefined);
  if (!operator) throw new Error('no Deployment runs the operator with --emulator');
  const container = operator.spec.template.spec.containers[0]!;
  const setting = flagValue(container.args, 'emulator')!;
  const state = flagValue(container.args, 'emulator-state');
  const ca = flagValue(container.args, 'emulator-ca');
  const topology: EmulatorTopology = {
    operator: {
      replicas: operator.spec.replicas ?? 1,
      strategy: operator.spec.strategy?.type ?? 'RollingUpdate',
      emulator: setting.startsWith('https://') ? servedBy(objects, setting) : setting,
      ...(state ? { state: storageOf(objects, operator, container, state) } : {}),
      ...(ca ? { ca: storageOf(objects, operator, container, ca) } : {}),
    },
  };
  const standalone = all.find((d) => d !== operator && d.spec.template.spec.containers[0]?.command?.includes('emulator'));
  if (standalone) {
    const emulatorContainer = standalone.spec.template.spec.containers[0]!;
    const stateFile = flagValue(emulatorContainer.args, 'state');
    topology.emulator = {
      replicas: standalone.spec.replicas ?? 1,
      strategy: standalone.spec.strategy?.type ?? 'RollingUpdate',
      state: stateFile ? storageOf(objects, standalone, emulatorContainer, stateFile) : 'none (--state missing)',
    };
  }
  return topology;
}
