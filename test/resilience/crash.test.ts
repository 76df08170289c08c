import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api } from '@kubernetes/client-node';
import { expect } from 'chai';
import { API_VERSION, RESOURCES, type ImageExport, type LabTemplate } from '../../src/api/index.ts';

import { vmName } from '../../src/controllers/labtemplate/rules.ts';
import { accountName, createAccounts, galleryName, inParallel } from '../../bench/workload.ts';
import { controlPlane } from '../integration/harness.ts';
import { eventually } from '../integration/eventually.ts';
import { Rig, isReady, versionsByExport } from './rig.ts';

const TEMPLATES = RESOURCES.LabTemplate;
const EXPORTS = 100;
const TEMPLATE_COUNT = 5;
const ACCOUNTS = 2;
/** 10 kills; each restart costs a few seconds of a 2-core CI machine. */
const KILLS = 10;

const accountOf = (template: number) => accountName(template % ACCOUNTS);
const imageOf = (template: number) => `lab-${template}`;

describe('resilience: the operator SIGKILLed at random moments', function () {
  let rig: Rig;
  const log: string[] = [];
  /** Exports Ready at each kill of the export phase. */
  const readyAtKills: number[] = [];

  before(async () => {
    rig = await Rig.start('crash', { emulator: { replicationSeconds: 2, operationSeconds: 0.5 } });
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.log(`kills:\n${log.join('\n')}\noperator log:\n${rig?.operator?.recentLog.join('\n')}`);
  });
  after(async () => rig?.stop());

  /** Kills the operator `times` times, each after `before(k)` and a random 0.5–2.5 s, restarting it at once. */
  async function killRepeatedly(times: number, phase: string, before: (kill: number) => Promise<void> = async () => undefined): Promise<void> {
    for (let k = 1; k <= times; k++) {
      await before(k);
      const waitMs = 500 + Math.floor(Math.random() * 2000);
      await sleep(waitMs);
      const ready = (await rig.exports()).filter(isReady).length;
      await rig.killAndRestartOperator();
      log.push(`${phase} kill ${k} after ${waitMs} ms (${ready} exports Ready)`);
      if (phase === 'export') readyAtKills.push(ready);
    }
  }

  it(`brings every one of ${EXPORTS} exports to Ready through ${KILLS} kills, with exactly one image version each, and leaves no VM once templates are deleted`, async function () {
    const { namespace, client } = rig;
    await createAccounts(client, namespace, ACCOUNTS);
    await controlPlane().kubeConfig.makeApiClient(CoreV1Api).createNamespacedSecret({ namespace, body: { metadata: { name: 'lab-admin' }, stringData: { password: 'Crash-Test-Passw0rd!' } } });
    // Exports from lab templates: each template makes a VM, each export an image version from it.
    for (let t = 0; t < TEMPLATE_COUNT; t++) {
      await client.create<LabTemplate>(TEMPLATES, {
        apiVersion: API_VERSION,
        kind: 'LabTemplate',
        metadata: { name: `template-${t}`, namespace },
        spec: {
          labAccountRef: { name: accountOf(t) },
          image: { marketplace: { publisher: 'MicrosoftWindowsDesktop', offer: 'windows-11', sku: 'win11-24h2-pro' } },
          vm: { size: 'Standard_D2s_v5', adminUsername: 'labadmin', adminPasswordSecretRef: { name: 'lab-admin', key: 'password' } },
        },
      });
    }
    // A wave of exports before each kill, so that kills land while exports are under way (an
    // export takes at least the emulator's 0.5 s operation and 2 s replication, the wait at most 2.5 s).
    const wave = EXPORTS / KILLS;
    await killRepeatedly(KILLS, 'export', (kill) =>
      inParallel(
        Array.from({ length: wave }, (_, j) => (kill - 1) * wave + j),
        8,
        async (i) => {
          const t = i % TEMPLATE_COUNT;
          await client.create<ImageExport>(RESOURCES.ImageExport, {
            apiVersion: API_VERSION,
            kind: 'ImageExport',
            metadata: { name: `export-${i}`, namespace },
            spec: { labAccountRef: { name: accountOf(t) }, source: { labTemplateRef: { name: `template-${t}` } }, image: { name: imageOf(t), osType: 'Windows' }, deletionPolicy: 'Delete' },
          });
        },
      ),
    );
    console.log(`      exports Ready at each kill: ${readyAtKills.join(', ')}`);
    expect(readyAtKills.filter((ready, k) => ready < (k + 1) * wave), 'kills while exports were still under way').to.have.length.at.least(KILLS / 2);

    const exports = await rig.untilEveryExport(isReady, 'Ready', 300_000);
    expect(exports).to.have.length(EXPORTS);
    const images = [...Array(TEMPLATE_COUNT).keys()].map((t) => ({ resourceGroup: `labimages-${namespace}`, gallery: galleryName(t % ACCOUNTS), image: imageOf(t) }));
    const versions = await versionsByExport(rig.port, images);
    const duplicated = [...versions].filter(([, list]) => list.length > 1);
    expect(duplicated, 'exports with more than one image version').to.deep.equal([]);
    expect([...versions.keys()].sort(), 'every version belongs to exactly one export').to.deep.equal(exports.map((e) => e.metadata.uid).sort());
    for (const e of exports) expect(versions.get(e.metadata.uid ?? ''), e.metadata.name).to.deep.equal([`${galleryName(Number(e.spec.image.name.slice(4)) % ACCOUNTS)}/${e.spec.image.name}/${e.status?.version}`]);

    // Delete everything, killing the operator twice more on the way: nothing may be left in Azure.
    const templates = (await client.list<LabTemplate>(TEMPLATES, namespace)).items;
    await inParallel(exports, 8, (e) => client.delete(RESOURCES.ImageExport, namespace, e.metadata.name ?? ''));
    await inParallel(templates, 8, (t) => client.delete(TEMPLATES, namespace, t.metadata.name ?? ''));
    await killRepeatedly(2, 'delete');
    await eventually(async () => (await rig.exports()).length === 0 && (await client.list(TEMPLATES, namespace)).items.length === 0, { timeoutMs: 180_000, intervalMs: 1000, what: 'every export and template gone' });

    expect([...(await versionsByExport(rig.port, images)).values()].flat(), 'image versions left').to.deep.equal([]);
    for (const t of templates) {
      expect(await rig.port.observeVirtualMachine({ resourceGroup: `labimages-${namespace}`, name: vmName(t) }), `VM of ${t.metadata.name}`).to.equal(undefined);
    }
    expect(Object.keys((await rig.emulatorState()).virtualMachines), 'VMs in the emulator').to.deep.equal([]);
  });
});
