import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KubernetesObject } from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { findOrBuildGoBinaries, requiredVersion } from '../../../src/controlplane/assets.ts';
import { repoRoot } from '../harness.ts';

const helmModuleDir = join(repoRoot, 'hack', 'helm');
export const chartDir = join(repoRoot, 'helm', 'lab-image-operator');

/**
 * The helm pinned in hack/helm/go.mod, built once with Go into the user's cache (as the control
 * plane is), or the binary HELM_BINARY names.
 */
export async function findOrBuildHelm(log: (line: string) => void = console.log): Promise<string> {
  if (process.env.HELM_BINARY) return process.env.HELM_BINARY;
  const version = requiredVersion(await readFile(join(helmModuleDir, 'go.mod'), 'utf8'), 'helm.sh/helm/v3', 'hack/helm/go.mod');
  // Stamps the release, which a module build leaves at its bare default (v3.x).
  const ldflags = `-X helm.sh/helm/v3/internal/version.version=${version}`;
  const { binaries } = await findOrBuildGoBinaries({
    moduleDir: helmModuleDir,
    cacheFolder: 'helm',
    name: `helm-${version}`,
    keyFiles: ['go.mod', 'go.sum'],
    keyExtras: [ldflags],
    binaries: [{ file: 'helm', what: 'helm', args: ['-ldflags', ldflags, 'helm.sh/helm/v3/cmd/helm'] }],
    describe: `helm ${version}`,
    alternative: 'set HELM_BINARY',
    log,
  });
  return binaries.helm;
}

const run = promisify(execFile);

/** Runs helm with a private home (no user repositories, config or plugins) and returns stdout. */
export async function helm(binary: string, args: string[], home: string): Promise<string> {
  const env = { ...process.env, HELM_CACHE_HOME: join(home, 'cache'), HELM_CONFIG_HOME: join(home, 'config'), HELM_DATA_HOME: join(home, 'data') };
  const { stdout } = await run(binary, args, { env, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/**
 * `helm template` of the chart as release `labimages` in `namespace`, with `--set` for each of
 * `sets` and `--set-file` for each of `setFiles` (value name to file), as plain objects.
 */
export async function renderChart(
  binary: string,
  home: string,
  namespace: string,
  sets: readonly string[] = [],
  options: { kubeVersion?: string; includeCrds?: boolean; setFiles?: Record<string, string> } = {},
): Promise<KubernetesObject[]> {
  const args = ['template', 'labimages', chartDir, '--namespace', namespace];
  if (options.kubeVersion) args.push('--kube-version', options.kubeVersion);
  if (options.includeCrds) args.push('--include-crds');
  for (const set of sets) args.push('--set', set);
  for (const [name, file] of Object.entries(options.setFiles ?? {})) args.push('--set-file', `${name}=${file}`);
  return (loadAll(await helm(binary, args, home)) as (KubernetesObject | null)[]).filter((obj): obj is KubernetesObject => obj !== null);
}
