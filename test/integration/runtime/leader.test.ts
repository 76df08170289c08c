import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { freeLoopbackPort } from '../../../src/net/ports.ts';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CoordinationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { controlPlane, createTestNamespace, repoRoot } from '../harness.ts';
import { ObjectClient } from '../../../src/runtime/index.ts';
import { WIDGET, eventually, httpGet, installTestCrd, widget, type Widget } from './widget.ts';

const entry = fileURLToPath(new URL('./manager-entry.ts', import.meta.url));
const cli = `${repoRoot}src/cli/main.ts`;

interface Child {
  proc: ChildProcess;
  events: Record<string, unknown>[];
  /** The last lines of stderr, to tell what went wrong when a test fails. */
  stderr: string[];
  exit: Promise<number | null>;
}

/** Runs node (v24, as `npx node` resolves it) on a script; stdout JSON lines are collected. */
function run(args: string[]): Child {
  const proc = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  const events: Record<string, unknown>[] = [];
  createInterface(proc.stdout!).on('line', (line) => {
    try {
      events.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not a report line
    }
  });
  const stderr: string[] = [];
  createInterface(proc.stderr!).on('line', (line) => {
    stderr.push(line);
    if (stderr.length > 50) stderr.shift();
  });
  const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, events, stderr, exit };
}

async function holder(kc: KubeConfig, namespace: string, name: string): Promise<string | undefined> {
  const lease = await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace, name });
  return lease.spec?.holderIdentity;
}

describe('runtime: leader election and shutdown (managers as child processes)', function () {
  this.timeout(180_000);
  let kc: KubeConfig;
  let kubeconfigPath: string;
  let namespace: string;
  const children: Child[] = [];

  before(async () => {
    ({ kubeConfig: kc, kubeconfigPath } = controlPlane());
    await installTestCrd(kc);
    namespace = await createTestNamespace(kc, 'rt-leader');
  });

  afterEach(async function () {
    for (const c of children) {
      if (this.currentTest?.state === 'failed') console.error(c.stderr.join('\n'));
    }
    for (const c of children.splice(0)) {
      if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
      await c.exit;
    }
  });

  it('elects exactly one leader; after kill -9 the other leads within lease duration plus a retry', async () => {
    const lease = 'rt-failover';
    const a = run([entry, kubeconfigPath, namespace, lease]);
    const b = run([entry, kubeconfigPath, namespace, lease]);
    children.push(a, b);
    const identityOf = (c: Child) => eventually(() => c.events.find((e) => e.event === 'identity')?.identity as string | undefined, 'identity');
    const ids = new Map([
      [await identityOf(a), a],
      [await identityOf(b), b],
    ]);
    const first = await eventually(async () => {
      const h = await holder(kc, namespace, lease);
      return h && ids.has(h) ? h : undefined;
    }, 'a leader');
    const leader = ids.get(first)!;
    const follower = leader === a ? b : a;

    // Only the leader reconciles.
    const client = new ObjectClient(controlPlane().restConfig);
    await client.create(WIDGET, widget(namespace, 'led', 'v1'));
    await eventually(() => leader.events.find((e) => e.event === 'reconciled' && e.key === `${namespace}/led`), 'the leader to reconcile');
    expect(follower.events.filter((e) => e.event === 'reconciled' || e.event === 'started')).to.deep.equal([]);
    expect(await holder(kc, namespace, lease)).to.equal(first);

    const killedAt = Date.now();
    leader.proc.kill('SIGKILL');
    const second = await eventually(async () => {
      const h = await holder(kc, namespace, lease);
      return h && h !== first ? h : undefined;
    }, 'the follower to take over');
    const tookMs = Date.now() - killedAt;
    expect(ids.get(second)).to.equal(follower);
    // 15 s lease + a 2 s retry (with client-go's 20 % jitter), plus a second for the requests themselves.
    expect(tookMs).to.be.below(15_000 + 2_400 + 1_000);

    // The new leader reconciles.
    await client.mergePatch(WIDGET, namespace, 'led', { spec: { value: 'v2' } });
    await eventually(() => follower.events.find((e) => e.event === 'reconciled' && e.value === 'v2'), 'the new leader to reconcile');
  });

  it('on SIGTERM finishes the reconcile in flight, releases the lease and exits 0', async () => {
    const lease = 'rt-sigterm';
    const m = run([entry, kubeconfigPath, namespace, lease]);
    children.push(m);
    const id = await eventually(() => m.events.find((e) => e.event === 'identity')?.identity as string | undefined, 'identity');
    await eventually(async () => ((await holder(kc, namespace, lease)) === id ? true : undefined), 'leadership');
    const client = new ObjectClient(controlPlane().restConfig);
    await client.create(WIDGET, widget(namespace, 'slow', 'done', { 'test/slow-ms': '3000' }));
    await eventually(() => m.events.find((e) => e.event === 'started' && e.key === `${namespace}/slow`), 'the slow reconcile to start');
    m.proc.kill('SIGTERM');
    expect(await m.exit).to.equal(0);
    expect(m.events.some((e) => e.event === 'reconciled' && e.key === `${namespace}/slow`)).to.equal(true);
    expect((await client.get<Widget>(WIDGET, namespace, 'slow'))?.status?.value).to.equal('done');
    expect(await holder(kc, namespace, lease)).to.equal('');
  });

  it('`labimage run` leads, is ready, and on SIGTERM releases the lease and exits 0', async () => {
    // The real controllers are registered: their kinds must be served for the caches to sync.
    await controlPlane().installCrds();
    const [health, metrics] = [await freeLoopbackPort(), await freeLoopbackPort()];
    const c = run([
      cli,
      'run',
      '--kubeconfig',
      kubeconfigPath,
      '--namespace',
      namespace,
      '--leader-elect',
      '--leader-election-namespace',
      namespace,
      '--health-probe-bind-address',
      `127.0.0.1:${health}`,
      '--metrics-bind-address',
      `127.0.0.1:${metrics}`,
      '--log-level',
      'warn',
    ]);
    children.push(c);
    await eventually(async () => ((await httpGet(`http://127.0.0.1:${health}/readyz`)).status === 200 ? true : undefined), '/readyz');
    const leaseName = 'lab-image-operator.labimages.io';
    await eventually(async () => ((await holder(kc, namespace, leaseName)) ? true : undefined), 'the lease');
    const { body } = await httpGet(`http://127.0.0.1:${metrics}/metrics`);
    expect(body).to.include(`leader_election_master_status{name="${leaseName}"} 1`);
    c.proc.kill('SIGTERM');
    expect(await c.exit).to.equal(0);
    expect(await holder(kc, namespace, leaseName)).to.equal('');
  });
});
