// The judges GitOps tools apply, run as the real programs on every status the operator can write:
// kstatus built from sigs.k8s.io/cli-utils, deploy/argocd/health.lua run as Argo CD runs it, and
// `kubectl wait` against the real API server, each held to docs/health.md's table of every phase of
// every kind. The statuses come from the controllers' own computeStatus (operator-statuses.ts); a
// new phase, condition or state without its row in the table fails here. The kustomize Component
// that installs the script in argocd-cm is tested too.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import type { KubernetesObject } from '@kubernetes/client-node';
import { expect } from 'chai';
import { load } from 'js-yaml';
import { RESOURCES } from '../../../src/api/index.ts';
import { STALLED_REASONS } from '../../../src/controllers/common/stalled.ts';
import { ObjectClient } from '../../../src/runtime/index.ts';
import { controlPlane, createTestNamespace, repoRoot } from '../harness.ts';
import { readHealthTable, rowsFor, type HealthRow } from './health-table.ts';
import { argoHealthScript, judge, judgeBinaries, kubectlWait } from './judges.ts';
import { KINDS, PHASES, everyWrittenObject, type Kind, type WrittenObject } from './operator-statuses.ts';
import { runWithInput } from './with-input.ts';

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

const conditionsOf = (w: WrittenObject) => (w.object.status?.conditions ?? []) as Condition[];

/** A change of each kind's spec that the schema accepts, to move its generation on. */
const SPEC_CHANGE: Record<Kind, object> = {
  LabAccount: { replication: { replicaCount: 2 } },
  GalleryAttachment: { deletionPolicy: 'Delete' },
  ImageExport: { excludeFromLatest: true },
  LabTemplate: { title: 'changed' },
};

/** Holds an object being deleted in the API server until the test lets it go. */
const HOLD = 'labimages.io/test-hold';

describe('health judges: every status the operator writes, judged by kstatus (cli-utils), deploy/argocd/health.lua (as Argo CD runs it) and kubectl wait, as docs/health.md says', function () {
  this.timeout(10 * 60_000); // the first run builds both judges with Go

  let rows: HealthRow[];
  let written: WrittenObject[];
  /** The one row each written object falls in (the first test fails for those with none or several). */
  const rowOf = new Map<WrittenObject, HealthRow>();

  before(async () => {
    await judgeBinaries();
    rows = await readHealthTable();
    written = everyWrittenObject();
    for (const w of written) {
      const matches = rowsFor(rows, w);
      if (matches.length === 1) rowOf.set(w, matches[0]!);
    }
  });

  it('every status the operator can write falls in exactly one row of the table, and every row holds one', () => {
    const strays: string[] = [];
    for (const w of written) {
      const matches = rowsFor(rows, w);
      if (matches.length !== 1) strays.push(`${w.kind} (${w.how}): phase ${w.object.status?.phase ?? '-'}, ${conditionsOf(w).map((c) => `${c.type}=${c.status}`).join(' ')}: ${matches.length} rows${matches.map((r) => `\n    ${r.text}`).join('')}`);
    }
    expect(strays.slice(0, 10), `${strays.length} statuses without exactly one row in docs/health.md`).to.deep.equal([]);
    const empty = rows.filter((row) => ![...rowOf.values()].includes(row)).map((row) => row.text);
    expect(empty, 'rows no status falls in').to.deep.equal([]);
    console.log(`      ${written.length} objects in ${rows.length} rows`);
  });

  it('every phase each kind declares is written, and every Stalled reason is', () => {
    for (const kind of KINDS) {
      const phases = new Set(written.filter((w) => w.kind === kind).map((w) => w.object.status?.phase).filter((p) => p !== undefined));
      expect([...phases].sort(), kind).to.deep.equal([...PHASES[kind]].sort());
    }
    const reasons = new Set(written.flatMap((w) => conditionsOf(w).filter((c) => c.type === 'Stalled').map((c) => c.reason)));
    expect(Object.keys(STALLED_REASONS).filter((reason) => !reasons.has(reason))).to.deep.equal([]);
  });

  it('kstatus and the Argo CD health check give every status the verdicts of its row, with the message that says what to fix', async () => {
    const placed = [...rowOf.keys()];
    const judged = await judge(placed.map((w) => w.object));
    const wrong: string[] = [];
    placed.forEach((w, i) => {
      const row = rowOf.get(w)!;
      const { kstatus, argocd } = judged[i]!;
      if (kstatus.status !== row.kstatus || argocd.status !== row.argocd) {
        wrong.push(`${w.kind} (${w.how}): kstatus ${kstatus.status}, Argo CD ${argocd.status}; the row says ${row.kstatus}, ${row.argocd}: ${row.text}`);
      }
      const stalled = conditionsOf(w).find((c) => c.type === 'Stalled' && c.status === 'True');
      if (stalled && row.kstatus === 'Failed') {
        if (kstatus.message !== stalled.message) wrong.push(`${w.kind} (${w.how}): kstatus says "${kstatus.message}", not the Stalled message`);
        if (argocd.message !== `${stalled.reason}: ${stalled.message}`) wrong.push(`${w.kind} (${w.how}): Argo CD says "${argocd.message}", not the Stalled reason and message`);
      }
    });
    expect(wrong.slice(0, 10), `${wrong.length} verdicts differ from docs/health.md`).to.deep.equal([]);
  });

  it('kubectl wait --for=condition=Ready does what each row says, on an object of the row stored in the real API server', async () => {
    const plane = controlPlane();
    await plane.installCrds();
    const namespace = await createTestNamespace(plane.kubeConfig, 'judges');
    const client = new ObjectClient(plane.restConfig);
    const held: { kind: Kind; name: string }[] = [];
    const verdicts: string[] = [];
    const expected: string[] = [];
    try {
      for (const [i, row] of rows.entries()) {
        const sample = written.find((w) => rowOf.get(w) === row);
        if (!sample) continue; // the first test names the row
        const name = `row-${i}`;
        const resource = RESOURCES[sample.kind];
        const { object } = sample;
        const deleting = Boolean(object.metadata.deletionTimestamp);
        const created = await client.create<KubernetesObject & { spec: object }>(resource, { apiVersion: object.apiVersion, kind: object.kind, metadata: { name, namespace, ...(deleting ? { finalizers: [HOLD] } : {}) }, spec: object.spec });
        if (deleting) held.push({ kind: sample.kind, name });
        // The API server gives a new object generation 1: the status describes that one, or an older one.
        const generation = created.metadata?.generation ?? 1;
        const seen = (observed: number | undefined) => (observed === object.metadata.generation ? generation : Math.min(observed ?? -1, generation - 1));
        const status = { ...object.status, observedGeneration: seen(object.status?.observedGeneration), conditions: conditionsOf(sample).map((c) => ({ ...c, observedGeneration: generation })) };
        await client.mergePatchStatus(resource, namespace, name, { status });
        if (row.notSeen) await client.mergePatch(resource, namespace, name, { spec: SPEC_CHANGE[sample.kind] });
        if (deleting) await client.delete(resource, namespace, name);
        verdicts.push(`${await kubectlWait(plane.kubeconfigPath, { kind: sample.kind, metadata: { name, namespace } })}: ${row.text}`);
        expected.push(`${row.kubectlWait}: ${row.text}`);
      }
    } finally {
      for (const { kind, name } of held) await client.mergePatch(RESOURCES[kind], namespace, name, { metadata: { finalizers: null } });
    }
    expect(verdicts).to.deep.equal(expected);
  });

  it('the Lua runner is as strict as Argo CD: no string library for a script from argocd-cm', async () => {
    const { argocdLua } = await judgeBinaries();
    const dir = await mkdtemp(join(tmpdir(), 'labimages-lua-'));
    try {
      const script = join(dir, 'health.lua');
      await writeFile(script, 'return {status = string.format("%s", "Healthy")}\n');
      const error = await runWithInput(argocdLua, [script], JSON.stringify(everyWrittenObject()[0]!.object)).then(
        () => undefined,
        (err: Error) => err,
      );
      expect(error?.message).to.include("attempt to index a non-table object(nil) with key 'format'");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the kustomize Component puts the script into argocd-cm for each of the four kinds', async () => {
    // An Argo CD installation as a user's kustomization has it: its own argocd-cm, plus our component.
    const dir = await mkdtemp(join(tmpdir(), 'labimages-argocd-'));
    try {
      await writeFile(join(dir, 'argocd-cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\n  namespace: argocd\ndata:\n  url: https://argocd.example\n');
      await writeFile(
        join(dir, 'kustomization.yaml'),
        `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - argocd-cm.yaml\ncomponents:\n  - ${relative(dir, join(repoRoot, 'deploy', 'argocd'))}\n`,
      );
      const { stdout } = await promisify(execFile)('kubectl', ['kustomize', dir]);
      const configMap = load(stdout) as { metadata: { name: string }; data: Record<string, string> };
      const lua = await readFile(argoHealthScript, 'utf8');
      expect(configMap.metadata.name).to.equal('argocd-cm');
      expect(configMap.data.url).to.equal('https://argocd.example');
      for (const kind of KINDS) expect(configMap.data[`resource.customizations.health.labimages.io_${kind}`], kind).to.equal(lua);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
