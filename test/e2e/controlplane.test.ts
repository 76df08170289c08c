import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { foreground, groupEmptied, groupMembers, run, type Foreground } from './processes.ts';

describe('e2e: labimage controlplane --kubeconfig PATH', () => {
  let dir: string;
  let plane: Foreground;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'labimage-e2e-'));
  });

  after(async () => {
    const pid = plane?.child.pid;
    if (pid && (await groupMembers(pid)).length > 0) process.kill(-pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('serves kubectl until Ctrl-C, then leaves no process and no kubeconfig behind', async () => {
    const kubeconfig = join(dir, 'kc');
    plane = foreground(process.execPath, ['src/cli/main.ts', 'controlplane', '--kubeconfig', kubeconfig]);
    await plane.waitFor(/kube-apiserver ready at/, 300_000);
    const { stdout } = await run('kubectl', ['--kubeconfig', kubeconfig, 'get', 'namespaces', '-o', 'name']);
    expect(stdout).to.include('namespace/default');

    plane.interrupt();
    expect(await plane.exited).to.deep.equal({ code: 0, signal: null });
    expect(await groupEmptied(plane.child.pid!)).to.deep.equal([]);
    expect(existsSync(kubeconfig)).to.equal(false);
  });
});
