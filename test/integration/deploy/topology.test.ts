// The default install keeps its promises: deploy/ (kustomize) and the Helm chart put the ARM
// emulator's state on a PersistentVolumeClaim with exactly one writer, and every operator replica
// reaches the same emulator. Read from the rendered objects; NOTES say the same.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { expect } from 'chai';
import { load } from 'js-yaml';
import { advancedEmulatorConfigFile } from '../../../src/cli/examples.ts';
import { controlPlane } from '../harness.ts';
import { chartDir, findOrBuildHelm, helm, renderChart } from './helm.ts';
import { renderKustomize } from './rbac.ts';
import { deploymentsOf, emulatorTopology, flagValue } from './topology.ts';

describe('deploy: where the emulator and its state live (kustomize and helm, rendered)', function () {
  this.timeout(20 * 60_000); // the first run builds helm from its Go module

  let helmBinary: string;
  let helmHome: string;

  before(async () => {
    helmBinary = await findOrBuildHelm();
    helmHome = await mkdtemp(join(tmpdir(), 'labimages-helm-'));
  });

  after(async () => {
    await rm(helmHome, { recursive: true, force: true });
  });

  const render = (...sets: string[]) => renderChart(helmBinary, helmHome, 'ops', sets);

  it('deploy/: one replica, replaced not rolled, the embedded emulator with its state on the rendered claim', async () => {
    expect(emulatorTopology(await renderKustomize())).to.deep.equal({
      operator: { replicas: 1, strategy: 'Recreate', emulator: 'embedded', state: 'PersistentVolumeClaim lab-image-operator-emulator-state' },
    });
  });

  it('the chart\'s defaults: the same topology as deploy/', async () => {
    expect(emulatorTopology(await render())).to.deep.equal({
      operator: { replicas: 1, strategy: 'Recreate', emulator: 'embedded', state: 'PersistentVolumeClaim labimages-lab-image-operator-emulator-state' },
    });
  });

  it('the chart refuses more than one replica with the embedded emulator, and says what to use instead', async () => {
    const error = await render('replicaCount=2').then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error?.message).to.include('emulator.mode embedded keeps the simulated Azure inside one operator process, so replicaCount must be 1 (got 2): use emulator.mode standalone');
  });

  it('the chart with emulator.mode=standalone: every operator replica reaches one emulator pod over its Service and trusts the CA from the Secret', async () => {
    const objects = await render('emulator.mode=standalone', 'replicaCount=3');
    expect(emulatorTopology(objects)).to.deep.equal({
      operator: {
        replicas: 3,
        strategy: 'RollingUpdate',
        emulator: 'Service labimages-lab-image-operator-emulator port 8443 -> Deployment labimages-lab-image-operator-emulator',
        ca: 'Secret labimages-lab-image-operator-emulator-tls key emulator-ca.pem',
      },
      emulator: { replicas: 1, strategy: 'Recreate', state: 'PersistentVolumeClaim labimages-lab-image-operator-emulator-state' },
    });
    // More than one replica: a drain keeps one.
    expect(objects.filter((obj) => obj.kind === 'PodDisruptionBudget')).to.have.length(1);
  });

  it('without persistence the state is in an emptyDir, and with one replica there is no PodDisruptionBudget to block drains', async () => {
    const objects = await render('emulator.persistence.enabled=false');
    expect(emulatorTopology(objects).operator.state).to.equal('emptyDir');
    expect(objects.filter((obj) => obj.kind === 'PersistentVolumeClaim' || obj.kind === 'PodDisruptionBudget')).to.deep.equal([]);
  });

  it('emulator.config reaches whichever emulator runs, from a Secret: --emulator-config when embedded, --config when standalone', async () => {
    const file = advancedEmulatorConfigFile;
    for (const [mode, component, flag] of [['embedded', 'operator', 'emulator-config'], ['standalone', 'emulator', 'config']] as const) {
      const objects = await renderChart(helmBinary, helmHome, 'ops', [`emulator.mode=${mode}`], { setFiles: { 'emulator.config': file } });
      const deployment = deploymentsOf(objects).find((d) => d.metadata?.labels?.['app.kubernetes.io/component'] === component)!;
      const container = deployment.spec.template.spec.containers[0]!;
      const path = flagValue(container.args, flag) ?? '';
      const mount = container.volumeMounts?.find((m) => path.startsWith(`${m.mountPath}/`));
      const volume = deployment.spec.template.spec.volumes?.find((v) => v.name === mount?.name);
      const secret = objects.find((obj) => obj.kind === 'Secret' && obj.metadata?.name === volume?.secret?.secretName) as (KubernetesObject & { stringData: Record<string, string> }) | undefined;
      expect(load(secret?.stringData[path.slice((mount?.mountPath.length ?? 0) + 1)] ?? ''), mode).to.deep.equal(load(await readFile(file, 'utf8')));
    }
    // Without it, no Secret and no flag: the emulator's default.
    const plain = await render();
    expect(flagValue(deploymentsOf(plain)[0]!.spec.template.spec.containers[0]!.args, 'emulator-config')).to.equal(undefined);
    expect(plain.filter((obj) => obj.metadata?.name?.endsWith('-emulator-config'))).to.deep.equal([]);
  });

  it('NOTES say what actually happens', async () => {
    const notes = async (...sets: string[]) => {
      const args = ['install', 'labimages', chartDir, '--namespace', 'ops', '--dry-run=client', '--kubeconfig', controlPlane().kubeconfigPath];
      for (const set of sets) args.push('--set', set);
      const out = await helm(helmBinary, args, helmHome);
      return out.slice(out.indexOf('NOTES:')).replace(/\s+/g, ' ');
    };
    expect(await notes()).to.include(
      'use the ARM emulator inside the operator process, one replica; its galleries, image versions and VMs are kept on PersistentVolumeClaim labimages-lab-image-operator-emulator-state (kept on uninstall).',
    );
    expect(await notes('emulator.mode=standalone', 'replicaCount=2')).to.include(
      'use the emulator Deployment at https://labimages-lab-image-operator-emulator.ops.svc:8443 (one replica; state on PersistentVolumeClaim labimages-lab-image-operator-emulator-state (kept on uninstall)); the 2 operator replica(s) trust the CA in Secret labimages-lab-image-operator-emulator-tls, so a leader change loses nothing.',
    );
    expect(await notes('emulator.persistence.enabled=false')).to.include('kept in an emptyDir: a new pod starts it empty');
  });
});
