import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { load } from 'js-yaml';
import { ControlPlane } from '../../src/controlplane/controlplane.ts';
import type { StatusDocument } from '../../src/cli/status-view.ts';
import { installAsReadmeSays, repoRoot, run } from './processes.ts';

// `kubectl labimage` on a machine where the project was installed as the README says (`npm ci`,
// which builds dist/, then `npm install -g .`), into a temporary prefix, and run through the real
// kubectl against a local control plane, with the flags and KUBECONFIG a kubectl user passes.
describe('e2e: kubectl labimage, installed as the README says', () => {
  let plane: ControlPlane;
  let prefix: string;
  let env: NodeJS.ProcessEnv;

  const kubectl = (...args: string[]) => run('kubectl', args, { env });

  before(async () => {
    prefix = await mkdtemp(join(tmpdir(), 'labimage-prefix-'));
    plane = await ControlPlane.start({ log: (line) => console.log(line) });
    env = { ...(await installAsReadmeSays(prefix)), KUBECONFIG: plane.kubeconfigPath };

    // A user's first steps: the CRDs, then the examples (no operator runs here: they stay Pending).
    const { stdout: crds } = await run('labimage', ['crds'], { env });
    const crdFile = join(prefix, 'crds.yaml');
    await writeFile(crdFile, crds);
    await kubectl('apply', '-f', crdFile);
    await kubectl('wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all');
    await kubectl('apply', '-f', join(repoRoot, 'examples'));
  });

  after(async () => {
    await plane?.stop();
    await rm(prefix, { recursive: true, force: true });
  });

  it('kubectl finds the plugin on PATH', async () => {
    const { stdout } = await kubectl('plugin', 'list');
    expect(stdout).to.include(join(prefix, 'bin', 'kubectl-labimage'));
    const { stdout: help } = await kubectl('labimage', '--help');
    expect(help).to.match(/^Usage: kubectl labimage /);
  });

  it('kubectl labimage status -A lists every namespace\'s exports and templates, from KUBECONFIG', async () => {
    const { stdout } = await kubectl('labimage', 'status', '-A');
    expect(stdout).to.include('IMAGE EXPORTS (1)');
    expect(stdout).to.match(/labs\/cs101-v1 {2}image ubuntu-cs101 {2}Pending/);
    expect(stdout).to.match(/labs\s+cs101-template\s+Pending/);
  });

  it('takes --kubeconfig, --context, -n and -o yaml as kubectl does', async () => {
    const { stdout: context } = await kubectl('config', 'current-context');
    // KUBECONFIG names a file that does not exist: --kubeconfig replaces it, as it does for kubectl.
    const elsewhere = { ...env, KUBECONFIG: join(prefix, 'missing') };
    const { stdout } = await run('kubectl', ['labimage', 'status', '--kubeconfig', plane.kubeconfigPath, '--context', context.trim(), '-n', 'labs', '-o', 'yaml'], { env: elsewhere });
    const doc = load(stdout) as StatusDocument;
    expect(doc.kind).to.equal('LabImageStatus');
    expect(doc.exports.map((e) => e.name)).to.deep.equal(['cs101-v1']);
    const { stdout: json } = await kubectl('labimage', 'status', '-n', 'default', '-o', 'json');
    expect((JSON.parse(json) as StatusDocument).exports).to.deep.equal([]);
  });

  it('kubectl labimage reconcile KIND/NAME sets labimages.io/requestedAt to the current time', async () => {
    const before = Date.now();
    const { stdout } = await kubectl('labimage', 'reconcile', 'imgexp/cs101-v1', '-n', 'labs');
    const requestedAt = /^imageexport\.labimages\.io\/cs101-v1 reconcile requested at (\S+)$/m.exec(stdout)?.[1];
    expect(Date.parse(requestedAt ?? '')).to.be.within(before - 1000, Date.now());
    const { stdout: annotation } = await kubectl('get', 'imageexport', 'cs101-v1', '-n', 'labs', '-o', 'jsonpath={.metadata.annotations.labimages\\.io/requestedAt}');
    expect(annotation).to.equal(requestedAt);
  });

  it('reconcile --wait gives up at --timeout when no operator handles the request, and says why', async () => {
    const error = await kubectl('labimage', 'reconcile', 'labtemplate/cs101-template', '-n', 'labs', '--wait', '--timeout', '2s').then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(error?.code).to.equal(1);
    expect(error?.stderr).to.include('status.lastHandledReconcileAt is unset (an operator that does not support labimages.io/requestedAt never sets it)');
    const missing = await kubectl('labimage', 'reconcile', 'imgexp/nope', '-n', 'labs').then(
      () => undefined,
      (err: { stderr: string }) => err.stderr,
    );
    expect(missing).to.include('imageexport.labimages.io/nope not found in namespace labs');
  });
});
