import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { API_VERSION, IMAGE_EXPORT, RESOURCES, renderAllCrdsYaml, type ImageExport, type ImageExportStatus } from '../../src/api/index.ts';
import { ControlPlane } from '../../src/controlplane/controlplane.ts';
import { installCrds } from '../../src/controlplane/install-crds.ts';
import { NAMESPACES, ObjectClient } from '../../src/runtime/index.ts';
import { eventually } from '../integration/eventually.ts';
import { foreground, repoRoot, run } from './processes.ts';

// The live view on a real terminal: `labimage status -w` runs in a tmux pane while the test moves
// an export along (as the operator would, through the status subresource). What the pane holds,
// screen and scrollback together, is one frame with the latest values: redrawn in place, not a
// history of frames. Into a pipe, the same command appends each new state whole.
const SESSION = 'live';

/** A tmux server of our own (its own socket), so the test never touches a user's sessions. */
function tmuxServer() {
  const socket = `labimage-${randomBytes(4).toString('hex')}`;
  const tmux = async (...args: string[]) => (await run('tmux', ['-L', socket, ...args])).stdout;
  return {
    tmux,
    /** Everything the pane holds: its scrollback history, then the screen. */
    contents: () => tmux('capture-pane', '-p', '-t', SESSION, '-S', '-', '-E', '-'),
    historySize: async () => Number((await tmux('display-message', '-p', '-t', SESSION, '#{history_size}')).trim()),
    kill: () => tmux('kill-server').catch(() => ''),
  };
}

const occurrences = (text: string, needle: string) => text.split(needle).length - 1;

describe('e2e: the live view redraws in place', () => {
  let plane: ControlPlane;
  let client: ObjectClient;
  const namespace = 'live-view';
  const server = tmuxServer();

  /** The export as the operator would report it with the westeurope replica at `progress` percent. */
  function replicating(progress: number): ImageExportStatus {
    const done = progress === 100;
    return {
      observedGeneration: 1,
      phase: done ? 'Succeeded' : 'Replicating',
      version: '1.0.0',
      progress: Math.floor((100 + progress) / 2),
      regionsReady: done ? '2/2' : '1/2',
      regions: [
        { name: 'northeurope', state: 'Completed', progress: 100, replicaCount: 1 },
        { name: 'westeurope', state: done ? 'Completed' : 'Replicating', progress, replicaCount: 1 },
      ],
    };
  }

  async function report(progress: number): Promise<void> {
    await client.mergePatchStatus(RESOURCES[IMAGE_EXPORT.kind], namespace, 'cs101-v1', { status: replicating(progress) });
  }

  before(async () => {
    plane = await ControlPlane.start({ log: (line) => console.log(line) });
    await installCrds(plane.kubeConfig(), renderAllCrdsYaml());
    client = new ObjectClient(plane.restConfig());
    await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    await client.create<ImageExport>(RESOURCES[IMAGE_EXPORT.kind], {
      apiVersion: API_VERSION,
      kind: 'ImageExport',
      metadata: { name: 'cs101-v1', namespace },
      spec: { labAccountRef: { name: 'cs-dept' }, source: { labTemplateRef: { name: 'cs101-template' } }, image: { name: 'ubuntu-cs101', osType: 'Linux' } },
    });
    await report(10);
  });

  after(async () => {
    await server.kill();
    await plane?.stop();
  });

  it('on a terminal (tmux): one frame, updated as the export moves, nothing scrolled away', async () => {
    const command = [process.execPath, `${repoRoot}src/cli/main.ts`, 'status', '-w', '-A', '--kubeconfig', plane.kubeconfigPath];
    await server.tmux('new-session', '-d', '-s', SESSION, '-x', '120', '-y', '40', '-c', repoRoot, ...command);
    await eventually(async () => (await server.contents()).includes(' 10%'), { what: 'first frame', intervalMs: 200 });

    for (const progress of [35, 60, 85, 100]) {
      await report(progress);
      const bar = `${String(progress).padStart(3)}%`;
      await eventually(async () => new RegExp(`westeurope\\s+\\S+\\s+[█░]+\\s*${bar}`).test(await server.contents()), { what: `westeurope at ${progress}%`, intervalMs: 200 });
    }

    const pane = await server.contents();
    expect(occurrences(pane, 'IMAGE EXPORTS (1)'), pane).to.equal(1);
    expect(occurrences(pane, 'LAB TEMPLATES (0)'), pane).to.equal(1);
    expect(pane).to.match(/live-view\/cs101-v1 {2}image ubuntu-cs101:1\.0\.0 {2}Succeeded/);
    expect(pane, 'no earlier frame left').to.not.match(/Replicating/);
    expect(await server.historySize(), 'lines scrolled off the screen').to.equal(0);

    // Ctrl-C ends it, leaving the last frame where it was.
    await server.tmux('send-keys', '-t', SESSION, 'C-c');
    await eventually(async () => (await server.tmux('list-sessions').catch(() => '')) === '', { what: 'the session to end', intervalMs: 200 });
  });

  it('npm start (labimage dev) on a terminal: the examples replicate under one frame, below the intro', async () => {
    await server.tmux('new-session', '-d', '-s', SESSION, '-x', '160', '-y', '70', '-c', repoRoot, 'npm', 'start', '--', '--replication-seconds', '2');
    // Both exports Succeeded and Ready, the three templates Ready.
    const everythingReady = (pane: string) => occurrences(pane.replace(/\s+/g, ' '), ' Succeeded ready True ') === 2 && (pane.match(/ Ready\s+True\s/g) ?? []).length === 3;
    await eventually(async () => everythingReady(await server.contents()), { what: 'every example Ready in the view', timeoutMs: 300_000, intervalMs: 200 });

    const pane = await server.contents();
    expect(occurrences(pane, 'Ctrl-C stops everything.'), pane).to.equal(1);
    expect(occurrences(pane, 'IMAGE EXPORTS (2)'), pane).to.equal(1);
    expect(pane, 'no earlier frame left').to.not.match(/Replicating|Exporting|Provisioning|WaitingForImage/);
    expect(await server.historySize(), 'lines scrolled off the screen').to.equal(0);

    await server.tmux('send-keys', '-t', SESSION, 'C-c');
    await eventually(async () => (await server.tmux('list-sessions').catch(() => '')) === '', { what: 'npm start to stop', timeoutMs: 60_000, intervalMs: 200 });
  });

  it('into a pipe: each new state appended whole, under the time it was seen', async () => {
    await report(20);
    const watch = foreground(process.execPath, ['src/cli/main.ts', 'status', '-w', '-n', namespace, '--kubeconfig', plane.kubeconfigPath]);
    try {
      await watch.waitFor(/westeurope\s+Replicating\s+\S+\s+20%/, 30_000);
      await report(70);
      await watch.waitFor(/westeurope\s+Replicating\s+\S+\s+70%/, 30_000);
      watch.interrupt();
      expect(await watch.exited).to.deep.equal({ code: 0, signal: null });
      const snapshots = watch.output().split(/^--- \d{4}-\d\d-\d\dT\S+Z$/m).filter((part) => part.trim());
      expect(snapshots).to.have.length(2);
      for (const snapshot of snapshots) expect(snapshot).to.include('IMAGE EXPORTS (1)').and.include('LAB TEMPLATES (0)');
    } finally {
      watch.child.kill('SIGKILL');
    }
  });
});
