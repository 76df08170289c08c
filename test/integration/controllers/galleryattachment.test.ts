import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import type { GalleryAttachment, ImageExport } from '../../../src/api/index.ts';
import { API_VERSION, RESOURCES } from '../../../src/api/index.ts';
import type { GalleryPort } from '../../../src/azure/index.ts';
import { CREATED_BY_TAG } from '../../../src/azure/index.ts';

import { requestCounts, untilDone } from '../emulator/helpers.ts';
import { eventually } from '../eventually.ts';
import { controlPlane, createTestNamespace } from '../harness.ts';
import { startTestOperator, type TestOperator } from '../operator.ts';
import {
  armPort,
  condition,
  createAccount,
  createAttachment,
  eventsAbout,
  galleryIn,
  getAccount,
  getAttachment,
  isReady,
  reconcileCount,
  stalledMessage,
  uploadImage,
} from './galleryattachment-helpers.ts';

const SYNC_PERIOD_MS = 2000;

async function readyAttachment(op: TestOperator, name: string): Promise<GalleryAttachment> {
  return await eventually(async () => {
    const a = await getAttachment(op, name);
    return isReady(a) ? a : undefined;
  }, { what: `GalleryAttachment ${name} Ready` });
}

async function readyAccount(op: TestOperator, name: string): Promise<void> {
  await eventually(async () => isReady(await getAccount(op, name)), { what: `LabAccount ${name} Ready` });
}

async function gone(op: TestOperator, name: string): Promise<void> {
  await eventually(async () => (await getAttachment(op, name)) === undefined, { what: `GalleryAttachment ${name} gone` });
}

async function createGallery(port: GalleryPort, op: TestOperator, name: string): Promise<void> {
  const done = await untilDone(port, await port.createGallery(galleryIn(op, name), { location: 'westeurope' }));
  expect(done.state).to.equal('Succeeded');
}

describe('GalleryAttachment controller', function () {
  let op: TestOperator;
  let port: GalleryPort;

  before(async function () {
    await controlPlane().installCrds();
    op = await startTestOperator({ namespace: await createTestNamespace(controlPlane().kubeConfig, 'gattach'), operator: { syncPeriodMs: SYNC_PERIOD_MS } });
    port = armPort(op);
    await createAccount(op, 'cs-dept');
    await readyAccount(op, 'cs-dept');
  });

  after(async function () {
    await op?.stop();
  });

  it('creates the gallery in the account\'s resource group, tagged with its uid, and attaches it', async function () {
    const created = await createAttachment(op, 'shared-images', { gallery: { name: 'labgallery' } });
    const attachment = await readyAttachment(op, 'shared-images');
    expect(condition(attachment, 'Ready')?.reason).to.equal('GalleryAttached');
    expect(attachment.metadata.finalizers).to.include('labimages.io/finalizer');
    expect(attachment.status?.images).to.deep.equal([]);
    const gallery = await port.observeGallery(galleryIn(op, 'labgallery'));
    expect(gallery?.id).to.equal(attachment.status?.galleryId);
    expect(gallery?.tags[CREATED_BY_TAG]).to.equal(created.metadata.uid);
    expect(gallery?.location).to.equal('westeurope');
    await eventually(async () => (await getAccount(op, 'cs-dept'))?.status?.gallery?.id === gallery?.id, { what: 'the account to show the gallery' });
    const events = await eventsAbout(op, created);
    expect(events.map((e) => e.reason)).to.include.members(['CreatingGallery', 'GalleryAttached']);
  });

  it('lists an image uploaded straight into the gallery through ARM within a sync period, as External', async function () {
    await uploadImage(port, galleryIn(op, 'labgallery'), 'ubuntu-outside', { regions: ['westeurope', 'North Europe'] });
    const images = await eventually(async () => {
      const entry = (await getAttachment(op, 'shared-images'))?.status?.images?.find((i) => i.name === 'ubuntu-outside');
      return entry?.regions?.length === 2 ? entry : undefined;
    }, { what: 'ubuntu-outside in status.images, replicated', timeoutMs: 30_000 });
    expect(images).to.deep.equal({
      name: 'ubuntu-outside',
      osType: 'Linux',
      osState: 'Generalized',
      hyperVGeneration: 'V2',
      enabled: true,
      latestVersion: '1.0.0',
      regions: ['northeurope', 'westeurope'],
      source: 'External',
    });
  });

  it('follows the latest version, marks versions an export made as Export, and applies enableNew and overrides', async function () {
    await uploadImage(port, galleryIn(op, 'labgallery'), 'ubuntu-outside', { version: '1.0.10', regions: ['westeurope'] });
    await uploadImage(port, galleryIn(op, 'labgallery'), 'ubuntu-outside', { version: '1.0.9', regions: ['westeurope'] });
    await uploadImage(port, galleryIn(op, 'labgallery'), 'exported-img', { regions: ['westeurope'], exportUid: 'some-export-uid' });
    await op.client.mergePatch(RESOURCES.GalleryAttachment, op.namespace, 'shared-images', { spec: { images: { enableNew: false, overrides: [{ name: 'ubuntu-outside', enabled: true }] } } });
    const images = await eventually(async () => {
      const a = await getAttachment(op, 'shared-images');
      const list = a?.status?.images ?? [];
      return isReady(a) && list.length === 2 && list.every((i) => i.regions?.includes('westeurope')) && list[1]?.latestVersion === '1.0.10' ? list : undefined;
    }, { what: 'both images, latest replicated', timeoutMs: 30_000 });
    expect(images.map((i) => i.name)).to.deep.equal(['exported-img', 'ubuntu-outside']);
    expect(images[0]).to.include({ source: 'Export', enabled: false });
    expect(images[1]).to.include({ source: 'External', enabled: true, latestVersion: '1.0.10' });
    expect(images[1]?.regions).to.deep.equal(['westeurope']);
  });

  it('writes nothing to a Ready account and attachment while refreshing them again and again', async function () {
    const account = await getAccount(op, 'cs-dept');
    const attachment = await readyAttachment(op, 'shared-images');
    // Let replication and the catalogue settle, then watch several sync periods.
    await sleep(SYNC_PERIOD_MS);
    const [accountVersion, attachmentVersion] = [(await getAccount(op, 'cs-dept'))?.metadata.resourceVersion, (await getAttachment(op, 'shared-images'))?.metadata.resourceVersion];
    const reconciles = await reconcileCount(op, 'galleryattachment');
    const armGets = (await requestCounts(op.emulator)).byMethod.GET ?? 0;
    await sleep(3 * SYNC_PERIOD_MS);
    expect(await reconcileCount(op, 'galleryattachment')).to.be.greaterThan(reconciles);
    expect((await requestCounts(op.emulator)).byMethod.GET ?? 0).to.be.greaterThan(armGets);
    expect((await getAccount(op, 'cs-dept'))?.metadata.resourceVersion).to.equal(accountVersion);
    expect((await getAttachment(op, 'shared-images'))?.metadata.resourceVersion).to.equal(attachmentVersion);
    expect(account?.metadata.uid).to.equal((await getAccount(op, 'cs-dept'))?.metadata.uid);
    expect(attachment.metadata.uid).to.equal((await getAttachment(op, 'shared-images'))?.metadata.uid);
  });

  it('lets exactly one of two attachments created at once hold the account, and hands it over when the holder goes', async function () {
    await createAccount(op, 'race-dept');
    const [a, b] = await Promise.all([
      createAttachment(op, 'race-a', { labAccountRef: { name: 'race-dept' }, gallery: { name: 'racegallerya' } }),
      createAttachment(op, 'race-b', { labAccountRef: { name: 'race-dept' }, gallery: { name: 'racegalleryb' } }),
    ]);
    const order = (x: GalleryAttachment) => `${String(x.metadata.creationTimestamp)}/${x.metadata.name}`;
    const [holder, other] = order(a) <= order(b) ? ['race-a', 'race-b'] : ['race-b', 'race-a'];
    await readyAttachment(op, holder);
    const message = await eventually(async () => stalledMessage(await getAttachment(op, other), 'AccountAlreadyAttached'), { what: `${other} AccountAlreadyAttached` });
    expect(message).to.contain(holder).and.contain('race-dept');
    const stalled = await getAttachment(op, other);
    expect(stalled?.status?.galleryId).to.equal(undefined);
    await eventually(async () => (await getAccount(op, 'race-dept'))?.status?.gallery?.attachment === holder, { what: 'the account to name the holder' });

    await op.client.delete(RESOURCES.GalleryAttachment, op.namespace, holder);
    await gone(op, holder);
    const next = await readyAttachment(op, other);
    expect(condition(next, 'Stalled')).to.equal(undefined);
    await eventually(async () => {
      const gallery = (await getAccount(op, 'race-dept'))?.status?.gallery;
      return gallery?.attachment === other && gallery.id === next.status?.galleryId;
    }, { what: 'the account to name the new holder' });
    // Detach (the default) leaves the old holder's gallery in Azure.
    expect(await port.observeGallery(galleryIn(op, holder === 'race-a' ? 'racegallerya' : 'racegalleryb'))).not.to.equal(undefined);
  });

  it('with create: false is Stalled GalleryNotFound until the gallery exists, then adopts it; Delete keeps what it adopted', async function () {
    await createAccount(op, 'adopt-dept');
    const created = await createAttachment(op, 'adopter', { labAccountRef: { name: 'adopt-dept' }, gallery: { name: 'existinggallery', create: false }, deletionPolicy: 'Delete' });
    const message = await eventually(async () => stalledMessage(await getAttachment(op, 'adopter'), 'GalleryNotFound'), { what: 'GalleryNotFound' });
    expect(message).to.contain('existinggallery').and.contain('spec.gallery.create');
    expect(await port.observeGallery(galleryIn(op, 'existinggallery'))).to.equal(undefined);

    // Created in Azure by someone else: found on the operator's own recheck.
    await createGallery(port, op, 'existinggallery');
    const adopted = await readyAttachment(op, 'adopter');
    expect(condition(adopted, 'Ready')?.message).to.contain('adopted');

    await op.client.delete(RESOURCES.GalleryAttachment, op.namespace, 'adopter');
    await gone(op, 'adopter');
    expect(await port.observeGallery(galleryIn(op, 'existinggallery'))).not.to.equal(undefined);
    const kept = await eventually(async () => (await eventsAbout(op, created)).find((e) => e.reason === 'GalleryKept'), { what: 'a GalleryKept Event' });
    expect(kept.type).to.equal('Warning');
    expect(kept.note).to.contain('not created by this attachment');
  });

  it('with deletionPolicy Delete deletes the empty gallery it created', async function () {
    await createAccount(op, 'del-dept');
    const created = await createAttachment(op, 'deleter', { labAccountRef: { name: 'del-dept' }, gallery: { name: 'emptygallery' }, deletionPolicy: 'Delete' });
    await readyAttachment(op, 'deleter');
    expect(await port.observeGallery(galleryIn(op, 'emptygallery'))).not.to.equal(undefined);
    await op.client.delete(RESOURCES.GalleryAttachment, op.namespace, 'deleter');
    await gone(op, 'deleter');
    expect(await port.observeGallery(galleryIn(op, 'emptygallery'))).to.equal(undefined);
    const reasons = (await eventsAbout(op, created)).map((e) => e.reason);
    expect(reasons).to.include.members(['GalleryDeleted', 'Detached']);
  });

  it('with deletionPolicy Delete keeps a gallery that holds images, with a Warning Event saying why', async function () {
    await createAccount(op, 'keep-dept');
    const created = await createAttachment(op, 'keeper', { labAccountRef: { name: 'keep-dept' }, gallery: { name: 'fullgallery' }, deletionPolicy: 'Delete' });
    await readyAttachment(op, 'keeper');
    await uploadImage(port, galleryIn(op, 'fullgallery'), 'kept-image', { regions: ['westeurope'] });
    await op.client.delete(RESOURCES.GalleryAttachment, op.namespace, 'keeper');
    await gone(op, 'keeper');
    expect(await port.observeGallery(galleryIn(op, 'fullgallery'))).not.to.equal(undefined);
    const kept = await eventually(async () => (await eventsAbout(op, created)).find((e) => e.reason === 'GalleryKept'), { what: 'a GalleryKept Event' });
    expect(kept.type).to.equal('Warning');
    expect(kept.note).to.contain('kept-image');
  });

  it('waits for its account: Reconciling while it is missing, Stalled while it is Stalled, attached once it is Ready', async function () {
    await createAttachment(op, 'early', { labAccountRef: { name: 'late-dept' }, gallery: { name: 'lategallery' } });
    await eventually(async () => {
      const a = await getAttachment(op, 'early');
      return isReady(a, 'Unknown', 'AccountNotFound') && condition(a, 'Reconciling')?.status === 'True';
    }, { what: 'AccountNotFound' });

    await createAccount(op, 'late-dept', { location: 'atlantis1' });
    const message = await eventually(async () => stalledMessage(await getAttachment(op, 'early'), 'AccountNotReady'), { what: 'AccountNotReady' });
    expect(message).to.contain('late-dept').and.contain('UnknownLocation');

    // spec.location is immutable: replace the account.
    await op.client.delete(RESOURCES.LabAccount, op.namespace, 'late-dept');
    await eventually(async () => (await getAccount(op, 'late-dept')) === undefined, { what: 'late-dept gone' });
    await createAccount(op, 'late-dept');
    await readyAttachment(op, 'early');
  });
});

describe('GalleryAttachment controller: catalogue refresh on ImageExport changes', function () {
  let op: TestOperator;

  before(async function () {
    await controlPlane().installCrds();
    // The default sync period (minutes): only an export's change can refresh the catalogue in this test.
    op = await startTestOperator({ namespace: await createTestNamespace(controlPlane().kubeConfig, 'gattach-exp') });
  });

  after(async function () {
    await op?.stop();
  });

  it('marks an image as Export as soon as an ImageExport of the account names it', async function () {
    const port = armPort(op);
    await createGallery(port, op, 'teamgallery');
    await uploadImage(port, galleryIn(op, 'teamgallery'), 'win11-cs101', { regions: ['westeurope'] });
    await createAccount(op, 'cs-dept');
    await createAttachment(op, 'team', { gallery: { name: 'teamgallery', create: false } });
    const before = await readyAttachment(op, 'team');
    expect(before.status?.images?.map((i) => [i.name, i.source])).to.deep.equal([['win11-cs101', 'External']]);

    await op.client.create<ImageExport>(RESOURCES.ImageExport, {
      apiVersion: API_VERSION,
      kind: 'ImageExport',
      metadata: { name: 'cs101-v2', namespace: op.namespace },
      spec: { labAccountRef: { name: 'cs-dept' }, source: { labTemplateRef: { name: 'cs101-template' } }, image: { name: 'win11-cs101', osType: 'Windows' } },
    } as ImageExport);
    await eventually(async () => (await getAttachment(op, 'team'))?.status?.images?.[0]?.source === 'Export', { what: 'source Export', timeoutMs: 30_000 });
  });
});
