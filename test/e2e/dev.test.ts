import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Processes still alive in a process group (the way a terminal's Ctrl-C reaches a whole command). */
async function groupMembers(pgid: number): Promise<string[]> {
  const { stdout } = await run('ps', ['-eo', 'pgid=,pid=,args=']);
  return stdout
    .split('\n')
    .filter((line) => line.trim().split(/\s+/)[0] === String(pgid))
    .map((line) => line.trim());
}

// A new user's first minutes: `npm start` on a checkout, kubectl against what it prints, the
// status command, then Ctrl-C. Nothing here knows the operator's internals.
describe('e2e: npm start (labimage dev) as a new user runs it', () => {
  let dev: ChildProcess;
  let output = '';
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  before(() => {
    // Its own process group, as a shell gives a foreground job: SIGINT to the group is Ctrl-C.
    dev = spawn('npm', ['start'], { cwd: repoRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    dev.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    dev.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    exited = new Promise((resolve) => dev.once('exit', (code, signal) => resolve({ code, signal })));
  });

  after(async () => {
    // Only if a test failed before everything stopped: leave nothing running.
    if (dev.pid && (await groupMembers(dev.pid)).length > 0) process.kill(-dev.pid, 'SIGKILL');
  });

  let kubeconfig = '';

  it('prints the kubeconfig and the kubectl commands to try', async () => {
    const deadline = Date.now() + 300_000;
    while (!/Ctrl-C stops everything/.test(output)) {
      if (dev.exitCode !== null) throw new Error(`npm start exited (${dev.exitCode}):\n${output}`);
      if (Date.now() > deadline) throw new Error(`npm start did not get going:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    kubeconfig = /export KUBECONFIG=(\S+)/.exec(output)?.[1] ?? '';
    expect(kubeconfig).to.not.equal('');
    expect(output).to.include('kubectl get labimages -A');
  });

  it('takes the example export to Ready, as kubectl wait sees it', async () => {
    const { stdout } = await run('kubectl', ['--kubeconfig', kubeconfig, 'wait', '--for=condition=Ready', 'imageexport/cs101-v1', '-n', 'labs', '--timeout=300s']);
    expect(stdout).to.include('condition met');
    const { stdout: listed } = await run('kubectl', ['--kubeconfig', kubeconfig, 'get', 'labimages', '-A']);
    for (const kind of ['labaccount', 'galleryattachment', 'imageexport', 'labtemplate']) expect(listed).to.include(`${kind}.labimages.io/`);
  });

  it('shows the export per region in `labimage status -o json`', async () => {
    const { stdout } = await run(process.execPath, ['src/cli/main.ts', 'status', '-A', '-o', 'json', '--kubeconfig', kubeconfig], { cwd: repoRoot });
    const doc = JSON.parse(stdout) as { exports: { name: string; ready: string; status: { regions?: { name: string; state: string }[] } }[] };
    const exported = doc.exports.find((e) => e.name === 'cs101-v1');
    expect(exported?.ready).to.equal('True');
    expect(exported?.status.regions?.map((r) => [r.name, r.state])).to.deep.equal([
      ['northeurope', 'Completed'],
      ['westeurope', 'Completed'],
    ]);
  });

  it('stops everything on Ctrl-C and leaves nothing behind', async () => {
    expect(await groupMembers(dev.pid!)).to.not.deep.equal([]);
    process.kill(-dev.pid!, 'SIGINT');
    // npm itself ends by the signal, as it does in a terminal; labimage stops what it started and exits 0.
    const { code, signal } = await exited;
    expect(code === 0 || signal === 'SIGINT', `npm start ended with code ${code}, signal ${signal}`).to.equal(true);
    // kube-apiserver and etcd were in the group too: once it is empty, nothing is left running.
    let members = await groupMembers(dev.pid!);
    for (let i = 0; i < 150 && members.length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      members = await groupMembers(dev.pid!);
    }
    expect(members).to.deep.equal([]);
    expect(existsSync(kubeconfig)).to.equal(false);
    // A clean stop prints no stack trace.
    expect(output).to.include('SIGINT: stopping').and.not.match(/^\s+at .+:\d+:\d+\)?$/m);
  });
});
