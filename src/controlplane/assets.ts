import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the pinned versions live: src/controlplane/ and dist/controlplane/ are both two levels below the package root. */
export const controlPlaneModuleDir = fileURLToPath(new URL('../../hack/controlplane/', import.meta.url));

export interface ControlPlaneAssets {
  kubeApiServer: string;
  etcd: string;
  /** Where the binaries came from, for the log line a person reads. */
  origin: 'KUBEBUILDER_ASSETS' | 'TEST_ASSET_*' | 'cache' | 'built';
}

export type ProgressLog = (line: string) => void;

/**
 * Finds kube-apiserver and etcd as controller-runtime's envtest does (KUBEBUILDER_ASSETS, then
 * TEST_ASSET_KUBE_APISERVER / TEST_ASSET_ETCD), else builds them once from hack/controlplane/go.mod
 * into a cache folder keyed by that module's content, so a version bump builds afresh.
 */
export async function findOrBuildAssets(log: ProgressLog): Promise<ControlPlaneAssets> {
  const assetsDir = process.env.KUBEBUILDER_ASSETS;
  if (assetsDir) {
    return requireExisting({ kubeApiServer: join(assetsDir, 'kube-apiserver'), etcd: join(assetsDir, 'etcd'), origin: 'KUBEBUILDER_ASSETS' });
  }
  const { TEST_ASSET_KUBE_APISERVER: kubeApiServer, TEST_ASSET_ETCD: etcd } = process.env;
  if (kubeApiServer && etcd) return requireExisting({ kubeApiServer, etcd, origin: 'TEST_ASSET_*' });

  const goMod = await readFile(join(controlPlaneModuleDir, 'go.mod'), 'utf8');
  const kubernetes = requiredVersion(goMod, 'k8s.io/kubernetes', 'hack/controlplane/go.mod');
  const etcdVersion = requiredVersion(goMod, 'go.etcd.io/etcd/server/v3', 'hack/controlplane/go.mod');
  const { binaries, built } = await findOrBuildGoBinaries({
    moduleDir: controlPlaneModuleDir,
    cacheFolder: 'controlplane',
    name: `kubernetes-${kubernetes}-etcd-${etcdVersion}`,
    keyFiles: ['go.mod', 'go.sum', 'etcd/main.go'],
    keyExtras: [versionLdflags(kubernetes)],
    binaries: [
      { file: 'etcd', what: 'etcd', args: ['./etcd'] },
      { file: 'kube-apiserver', what: 'kube-apiserver', args: ['-ldflags', versionLdflags(kubernetes), 'k8s.io/kubernetes/cmd/kube-apiserver'] },
    ],
    describe: `kube-apiserver ${kubernetes} and etcd ${etcdVersion}`,
    alternative: 'set KUBEBUILDER_ASSETS',
    log,
  });
  return { kubeApiServer: binaries['kube-apiserver'], etcd: binaries.etcd, origin: built ? 'built' : 'cache' };
}

function requireExisting(assets: ControlPlaneAssets): ControlPlaneAssets {
  for (const path of [assets.kubeApiServer, assets.etcd]) {
    if (!existsSync(path)) throw new Error(`${assets.origin} names ${path}, which does not exist`);
  }
  return assets;
}

/** The version a go.mod requires of a module, such as v1.34.4; `where` names the file in the error. */
export function requiredVersion(goMod: string, module: string, where: string): string {
  const match = new RegExp(`^\\s*(?:require\\s+)?${module.replace(/[./]/g, '\\$&')} (v\\S+)`, 'm').exec(goMod);
  if (!match?.[1]) throw new Error(`${where} does not require ${module}`);
  return match[1];
}

/**
 * A module build does not stamp the release into the binary as Kubernetes' own build does; without
 * it kube-apiserver reports v0.0.0-master to clients (and to kubectl's version-skew logic).
 */
function versionLdflags(kubernetes: string): string {
  const [major, minor] = kubernetes.replace(/^v/, '').split('.');
  return ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']
    .flatMap((pkg) => [`-X ${pkg}.gitVersion=${kubernetes}`, `-X ${pkg}.gitMajor=${major}`, `-X ${pkg}.gitMinor=${minor}`, `-X ${pkg}.gitTreeState=clean`])
    .join(' ');
}

export interface GoBinary<F extends string = string> {
  /** File name in the cache folder. */
  file: F;
  /** For log lines. */
  what: string;
  /** `go build` arguments after `-o FILE`: flags, then the package. */
  args: string[];
}

export interface GoBuildSpec<F extends string = string> {
  /** Folder of the go.mod that pins the versions; builds run there. */
  moduleDir: string;
  /** Folder under $XDG_CACHE_HOME/lab-image-operator/ that holds one subfolder per pinned set. */
  cacheFolder: string;
  /** Readable part of the cache key (the versions). */
  name: string;
  /** Files of moduleDir whose content keys the cache (go.mod, go.sum ...), so any change builds afresh. */
  keyFiles: string[];
  /** More text the binaries depend on (such as -ldflags), keyed likewise. */
  keyExtras?: string[];
  binaries: GoBinary<F>[];
  /** What is being built, for the log line a person reads. */
  describe: string;
  /** How to do without Go, for the error a person reads when Go is missing (such as "set KUBEBUILDER_ASSETS"). */
  alternative?: string;
  log: ProgressLog;
}

/**
 * Finds binaries built from a pinned Go module in the user's cache, or builds them there once
 * with the machine's Go toolchain, keyed by the content of the key files and extras.
 */
export async function findOrBuildGoBinaries<F extends string>(spec: GoBuildSpec<F>): Promise<{ binaries: Record<F, string>; built: boolean }> {
  const contents = await Promise.all(spec.keyFiles.map((file) => readFile(join(spec.moduleDir, file), 'utf8')));
  const digest = createHash('sha256').update([...contents, ...(spec.keyExtras ?? [])].join('\0')).digest('hex').slice(0, 12);
  const dir = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'lab-image-operator', spec.cacheFolder, `${spec.name}-${digest}`);
  const binaries = Object.fromEntries(spec.binaries.map((binary) => [binary.file, join(dir, binary.file)])) as Record<F, string>;
  if (spec.binaries.every((binary) => existsSync(binaries[binary.file]))) return { binaries, built: false };

  spec.log(`building ${spec.describe} with Go into ${dir} (first run only; several minutes)`);
  await mkdir(dir, { recursive: true });
  // Build into a private folder and rename into place, so a concurrent or interrupted build never leaves half a binary.
  const staging = await mkdtemp(join(dir, '.build-'));
  try {
    for (const binary of spec.binaries) {
      await goBuild(spec, ['-o', join(staging, binary.file), ...binary.args], binary.what);
    }
    for (const binary of spec.binaries) await rename(join(staging, binary.file), join(dir, binary.file));
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  spec.log(`${spec.describe} built and cached`);
  return { binaries, built: true };
}

function goBuild({ moduleDir, alternative, log }: GoBuildSpec, args: string[], what: string): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('go', ['build', '-buildvcs=false', ...args], {
      cwd: moduleDir,
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    // Go prints module downloads on stderr; pass them on so a first build visibly moves.
    let stderrTail = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-4000);
      for (const line of chunk.split('\n')) if (line.trim()) log(`  ${line}`);
    });
    const heartbeat = setInterval(() => log(`  still building ${what} (${Math.round((Date.now() - started) / 1000)} s)`), 30_000);
    child.on('error', (error) => {
      clearInterval(heartbeat);
      reject(new Error(`cannot run the Go toolchain to build ${what} (${error.message}); install Go${alternative ? ` or ${alternative}` : ''}`));
    });
    child.on('exit', (code) => {
      clearInterval(heartbeat);
      if (code === 0) {
        log(`  built ${what} in ${Math.round((Date.now() - started) / 1000)} s`);
        resolve();
      } else {
        reject(new Error(`go build of ${what} failed (exit ${code}):\n${stderrTail}`));
      }
    });
  });
}
