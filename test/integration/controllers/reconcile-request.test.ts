// Reconcile on demand, Flux's way, through the real CLI: `labimage reconcile KIND/NAME --wait`
// sets labimages.io/requestedAt and returns once status.lastHandledReconcileAt echoes it, for every
// kind, with a sync period far longer than the test; and an image uploaded outside any lab is in the
// attachment's catalogue as soon as the request for the attachment is handled.
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { RECONCILE_REQUESTED_AT } from '../../../src/api/annotations.ts';
import { API_VERSION, RESOURCES, type GalleryAttachment, type ImageExport, type LabTemplate } from '../../../src/api/index.ts';
import type { GalleryPort } from '../../../src/azure/index.ts';
import { type Condition, isConditionTrue } from '../../../src/runtime/index.ts';
import { eventually } from '../eventually.ts';
import { controlPlane, createTestNamespace, repoRoot } from '../harness.ts';
import { startTestOperator, type TestOperator } from '../operator.ts';
import { galleryIn, uploadImage } from './galleryattachment-helpers.ts';
import { ACCOUNT, GALLERY, createAccountWithGallery, createSourceVm, exportManifest, isReady, portFor, untilExport } from './imageexport-fixtures.ts';

const run = promisify(execFile);

describe('reconcile on demand: labimage reconcile KIND/NAME --wait (labimages.io/requestedAt)', function () {
  let op: TestOperator;
  let ns: string;
  let port: GalleryPort;

  const reconcile = (target: string) =>
    run(process.execPath, ['src/cli/main.ts', 'reconcile', target, '-n', ns, '--wait', '--timeout', '60s', '--kubeconfig', controlPlane().kubeconfigPath], { cwd: repoRoot });

  before(async () => {
    await controlPlane().installCrds();
    ns = await createTestNamespace(controlPlane().kubeConfig, 'reconcile');
    // Nothing is read again on a timer during the test: only a request can bring news.
    op = await startTestOperator({ namespace: ns, operator: { syncPeriodMs: 3_600_000 } });
    port = portFor(op.emulator);
    await createAccountWithGallery(op.client, ns);
    const vmId = await createSourceVm(port, ns, 'source-vm');
    await op.client.create(RESOURCES.ImageExport, exportManifest(ns, 'cs101-v1', { source: { virtualMachineId: vmId } }));
    await untilExport(op.client, ns, 'cs101-v1', isReady, 'Ready');
    await op.client.create<LabTemplate>(RESOURCES.LabTemplate, {
      apiVersion: API_VERSION,
      kind: 'LabTemplate',
      metadata: { name: 'cs101', namespace: ns },
      spec: { labAccountRef: { name: ACCOUNT }, image: { imageExportRef: { name: 'cs101-v1' } } },
    });
    await eventually(async () => isConditionTrue((await op.client.get<LabTemplate>(RESOURCES.LabTemplate, ns, 'cs101'))?.status?.conditions as Condition[] | undefined, 'Ready'), {
      what: 'LabTemplate cs101 Ready',
    });
  });
  after(async () => op?.stop());

  for (const [kind, name] of [['labaccount', ACCOUNT], ['galleryattachment', 'shared-images'], ['imageexport', 'cs101-v1'], ['labtemplate', 'cs101']] as const) {
    it(`returns for a ${kind} once the operator has handled the request, which status echoes`, async () => {
      const { stdout } = await reconcile(`${kind}/${name}`);
      expect(stdout).to.match(new RegExp(`^${kind}\\.labimages\\.io/${name} reconciled: Ready=True`, 'm'));
      const obj = await op.client.get<GalleryAttachment>(RESOURCES[({ labaccount: 'LabAccount', galleryattachment: 'GalleryAttachment', imageexport: 'ImageExport', labtemplate: 'LabTemplate' } as const)[kind]], ns, name);
      expect(obj?.status?.lastHandledReconcileAt).to.equal(obj?.metadata.annotations?.[RECONCILE_REQUESTED_AT]);
    });
  }

  it('lists an image uploaded outside any lab in the catalogue right after the attachment is asked to look, not at the next sync period', async () => {
    const catalogue = async () => ((await op.client.get<GalleryAttachment>(RESOURCES.GalleryAttachment, ns, 'shared-images'))?.status?.images ?? []).map((i) => i.name);
    // The catalogue as read just now, with nothing of the account changing since: what status says stands for the sync period.
    await reconcile('gattach/shared-images');
    await sleep(6000);
    await uploadImage(port, galleryIn(op, GALLERY), 'uploaded-outside', { regions: ['eastus'] });
    await sleep(1000);
    expect(await catalogue(), 'before the request').to.not.include('uploaded-outside');
    await reconcile('gattach/shared-images');
    expect(await catalogue(), 'once the request is handled').to.include('uploaded-outside');
    // The export is still what it was.
    expect((await op.client.get<ImageExport>(RESOURCES.ImageExport, ns, 'cs101-v1'))?.status?.phase).to.equal('Succeeded');
  });
});
