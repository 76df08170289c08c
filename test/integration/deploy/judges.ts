// The judges GitOps tools apply to the operator's objects, as the real programs: kstatus
// (sigs.k8s.io/cli-utils, what Flux's health checks and `wait: true` compute) and the shipped Argo
// CD health check run the way Argo CD runs it. Both are built once from their pinned Go modules in
// hack/ into the user's cache, as helm is; `judge` feeds them any number of objects in one run each.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findOrBuildGoBinaries, requiredVersion } from '../../../src/controlplane/assets.ts';
import { repoRoot } from '../harness.ts';
import { runWithInput } from './with-input.ts';

/** deploy/argocd/health.lua, the script users install in argocd-cm. */
export const argoHealthScript = join(repoRoot, 'deploy', 'argocd', 'health.lua');

export type KstatusStatus = 'InProgress' | 'Failed' | 'Current' | 'Terminating' | 'NotFound' | 'Unknown';
export type ArgoHealthStatus = 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended' | 'Missing' | 'Unknown';

export interface Verdict<S extends string> {
  status: S;
  message: string;
}

export interface Judgement {
  kstatus: Verdict<KstatusStatus>;
  argocd: Verdict<ArgoHealthStatus>;
}

interface JudgeBinaries {
  kstatus: string;
  argocdLua: string;
}

let binaries: Promise<JudgeBinaries> | undefined;

/** Builds both judges on first use (a minute or two with Go), then finds them in the cache. */
export function judgeBinaries(log: (line: string) => void = console.log): Promise<JudgeBinaries> {
  binaries ??= (async () => {
    const kstatusDir = join(repoRoot, 'hack', 'kstatus');
    const cliUtils = requiredVersion(await readFile(join(kstatusDir, 'go.mod'), 'utf8'), 'sigs.k8s.io/cli-utils', 'hack/kstatus/go.mod');
    const [kstatus, argocdLua] = await Promise.all([
      findOrBuildGoBinaries({
        moduleDir: kstatusDir,
        cacheFolder: 'kstatus',
        name: `cli-utils-${cliUtils}`,
        keyFiles: ['go.mod', 'go.sum', 'main.go'],
        binaries: [{ file: 'kstatus', what: `kstatus (cli-utils ${cliUtils})`, args: ['.'] }],
        describe: `kstatus from sigs.k8s.io/cli-utils ${cliUtils}`,
        log,
      }),
      findOrBuildGoBinaries({
        moduleDir: join(repoRoot, 'hack', 'argocd-lua'),
        cacheFolder: 'argocd-lua',
        name: 'gopher-lua',
        keyFiles: ['go.mod', 'go.sum', 'main.go'],
        binaries: [{ file: 'argocd-lua', what: 'argocd-lua', args: ['.'] }],
        describe: 'the Argo CD Lua runner',
        log,
      }),
    ]);
    return { kstatus: kstatus.binaries.kstatus, argocdLua: argocdLua.binaries['argocd-lua'] };
  })();
  return binaries;
}

/** One JSON result per line, one line per object given. */
function verdicts<T>(output: string, expected: number, what: string): T[] {
  const lines = output.split('\n').filter((line) => line.trim() !== '');
  if (lines.length !== expected) throw new Error(`${what} judged ${lines.length} objects of ${expected}:\n${output}`);
  return lines.map((line) => JSON.parse(line) as T);
}

/** What kstatus and Argo CD (with deploy/argocd/health.lua) say of each object, in order. */
export async function judge(objects: readonly object[]): Promise<Judgement[]> {
  const { kstatus, argocdLua } = await judgeBinaries();
  const input = objects.map((obj) => JSON.stringify(obj)).join('\n');
  const [computed, assessed] = await Promise.all([
    runWithInput(kstatus, [], input).then((out) => verdicts<Verdict<KstatusStatus>>(out, objects.length, 'kstatus')),
    runWithInput(argocdLua, [argoHealthScript], input).then((out) => verdicts<{ status: ArgoHealthStatus; message?: string }>(out, objects.length, 'argocd-lua')),
  ]);
  return objects.map((_, i) => ({
    kstatus: computed[i]!,
    argocd: { status: assessed[i]!.status, message: assessed[i]!.message ?? '' },
  }));
}

export type WaitVerdict = 'returns' | 'keeps waiting';

/**
 * What `kubectl wait --for=condition=Ready` does with an object as the API server holds it: returns,
 * or keeps waiting until `timeoutSeconds` pass (and exits non-zero). Only the real server will do:
 * `kubectl wait --local` crashes on a file.
 */
export async function kubectlWait(kubeconfigPath: string, obj: { kind: string; metadata: { name: string; namespace: string } }, timeoutSeconds = 1): Promise<WaitVerdict> {
  const args = ['--kubeconfig', kubeconfigPath, 'wait', '--for=condition=Ready', `--timeout=${timeoutSeconds}s`, '-n', obj.metadata.namespace, `${obj.kind.toLowerCase()}.labimages.io/${obj.metadata.name}`];
  return runWithInput('kubectl', args, '').then(
    () => 'returns',
    (err: Error) => {
      if (/timed out waiting for the condition/.test(err.message)) return 'keeps waiting';
      throw err;
    },
  );
}
