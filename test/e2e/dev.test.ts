import { existsSync } from 'node:fs';
import { expect } from 'chai';
import { foreground, groupEmptied, groupMembers, repoRoot, run, type Foreground } from './processes.ts';

// A new user's first minutes: `npm start` on a checkout, kubectl against what it prints, the
// status command, then Ctrl-C. Nothing here knows the operator's internals.
describe('e2e: npm start (labimage dev) as a new user runs it', () => {
  let dev: Foreground;
  let kubeconfig = '';

  before(() => {
    dev = foreground('npm', ['start']);
  });

  after(async () => {
    // Only if a test failed before everything stopped: leave nothing running.
    const pid = dev.child.pid;
    if (pid && (await groupMembers(pid)).length > 0) process.kill(-pid, 'SIGKILL');
  });

  it('prints the kubeconfig and the kubectl commands to try', async () => {
    await dev.waitFor(/Ctrl-C stops everything/, 300_000);
    kubeconfig = /export KUBECONFIG=(\S+)/.exec(dev.output())?.[1] ?? '';
    expect(kubeconfig).to.not.equal('');
    expect(dev.output()).to.include('kubectl get labimages -A');
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
    dev.interrupt();
    // npm itself ends by the signal, as it does in a terminal; labimage stops what it started and exits 0.
    const { code, signal } = await dev.exited;
    expect(code === 0 || signal === 'SIGINT', `npm start ended with code ${code}, signal ${signal}`).to.equal(true);
    // kube-apiserver and etcd were in the group too: once it is empty, nothing is left running.
    expect(await groupEmptied(dev.child.pid!)).to.deep.equal([]);
    expect(existsSync(kubeconfig)).to.equal(false);
    // A clean stop prints no stack trace.
    expect(dev.output()).to.include('SIGINT: stopping').and.not.match(/^\s+at .+:\d+:\d+\)?$/m);
  });
});
