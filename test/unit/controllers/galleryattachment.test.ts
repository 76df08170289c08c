import { expect } from 'chai';
import type { GalleryAttachment, ImageExport } from '../../../src/api/index.ts';
import { latestVersion, type ImageObservation, type ImageVersionObservation } from '../../../src/azure/index.ts';
import { holderOf } from '../../../src/controllers/common/holder.ts';
import { SyncMemo } from '../../../src/controllers/common/sync-memo.ts';
import { completedRegions, exportsFingerprint, imageStatus, isImageEnabled } from '../../../src/controllers/galleryattachment/catalogue.ts';

function attachment(name: string, created: string, deleting = false): GalleryAttachment {
  return {
    apiVersion: 'labimages.io/v1alpha1',
    kind: 'GalleryAttachment',
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, creationTimestamp: created as unknown as Date, ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:09Z' as unknown as Date } : {}) },
    spec: { labAccountRef: { name: 'cs-dept' }, gallery: { name: 'g' } },
  };
}

function version(name: string, extra: Partial<ImageVersionObservation> = {}): ImageVersionObservation {
  return { id: name, name, location: 'westeurope', provisioningState: 'Succeeded', tags: {}, source: {}, dataDisks: 0, excludeFromLatest: false, targetRegions: [], ...extra };
}

const image: ImageObservation = {
  id: 'i',
  name: 'win11-cs101',
  location: 'westeurope',
  provisioningState: 'Succeeded',
  osType: 'Windows',
  osState: 'Specialized',
  hyperVGeneration: 'V2',
  identifier: { publisher: 'p', offer: 'o', sku: 's' },
  tags: {},
};

describe('GalleryAttachment rules', function () {
  describe('holderOf', function () {
    it('picks the oldest attachment, then the first name, among those not being deleted', function () {
      const a = attachment('b-second', '2026-01-01T00:00:01Z');
      const b = attachment('a-first', '2026-01-01T00:00:01Z');
      const c = attachment('old', '2026-01-01T00:00:00Z', true);
      const d = attachment('young', '2026-01-01T00:00:02Z');
      expect(holderOf([d, a, c, b])?.metadata.name).to.equal('a-first');
      expect(holderOf([d, c])?.metadata.name).to.equal('young');
      expect(holderOf([c])).to.equal(undefined);
    });
  });

  describe('the catalogue', function () {
    it('takes the highest version not excluded from latest and not failed as latest', function () {
      const versions = [version('1.0.9'), version('1.0.10'), version('2.0.0', { excludeFromLatest: true }), version('1.1.0', { provisioningState: 'Failed' })];
      expect(latestVersion(versions)?.name).to.equal('1.0.10');
      expect(latestVersion([version('1.0.0', { excludeFromLatest: true })])).to.equal(undefined);
    });

    it('lists the regions where a version finished replicating, normalized, sorted and once', function () {
      const v = version('1.0.0', {
        replication: {
          aggregatedState: 'InProgress',
          regions: [
            { region: 'westeurope', state: 'Completed', progress: 100, details: '' },
            { region: 'northeurope', state: 'Completed', progress: 100, details: '' },
            { region: 'swedencentral', state: 'Replicating', progress: 40, details: '' },
          ],
        },
      });
      expect(completedRegions(v)).to.deep.equal(['northeurope', 'westeurope']);
      expect(completedRegions(undefined)).to.deep.equal([]);
    });

    it('enables an image by its override, else by enableNew (default true)', function () {
      expect(isImageEnabled('x', undefined)).to.equal(true);
      expect(isImageEnabled('x', { enableNew: false })).to.equal(false);
      expect(isImageEnabled('x', { enableNew: false, overrides: [{ name: 'x', enabled: true }] })).to.equal(true);
      expect(isImageEnabled('x', { overrides: [{ name: 'x', enabled: false }] })).to.equal(false);
    });

    it('calls an image Export when an export names it or one of its versions carries the export tag, else External', function () {
      const latest = version('1.0.0');
      expect(imageStatus({ image, versions: [latest], latest }, new Set(), undefined)).to.deep.equal({
        name: 'win11-cs101',
        osType: 'Windows',
        osState: 'Specialized',
        hyperVGeneration: 'V2',
        enabled: true,
        latestVersion: '1.0.0',
        regions: [],
        source: 'External',
      });
      expect(imageStatus({ image, versions: [latest], latest }, new Set(['win11-cs101']), undefined).source).to.equal('Export');
      const tagged = version('1.0.1', { exportUid: 'e-1' });
      expect(imageStatus({ image, versions: [tagged], latest: tagged }, new Set(), undefined).source).to.equal('Export');
    });

    it('leaves out OS facts ARM answers with outside the schema\'s enums, and the latest version when there is none', function () {
      const odd = imageStatus({ image: { ...image, osType: 'Unknown', hyperVGeneration: undefined }, versions: [], latest: undefined }, new Set(), undefined);
      expect(odd).to.not.have.any.keys('osType', 'hyperVGeneration', 'latestVersion');
    });

    it('changes the exports fingerprint only for what the catalogue shows', function () {
      const e = (uid: string, version: string, completed: string[]): ImageExport =>
        ({
          metadata: { uid },
          spec: { labAccountRef: { name: 'a' }, source: {}, image: { name: 'img', osType: 'Linux' } },
          status: { version, progress: 50, regions: [...completed.map((name) => ({ name, state: 'Completed' })), { name: 'x', state: 'Replicating', progress: 50 }] },
        }) as unknown as ImageExport;
      const base = exportsFingerprint([e('1', '1.0.0', ['westeurope']), e('2', '1.0.1', [])]);
      expect(exportsFingerprint([e('2', '1.0.1', []), e('1', '1.0.0', ['westeurope'])])).to.equal(base);
      expect(exportsFingerprint([e('1', '1.0.0', ['westeurope', 'northeurope']), e('2', '1.0.1', [])])).to.not.equal(base);
      expect(exportsFingerprint([e('1', '1.0.0', ['westeurope'])])).to.not.equal(base);
    });
  });

  describe('SyncMemo', function () {
    const obj = { metadata: { namespace: 'ns', name: 'a', uid: 'u1' } };

    it('is due at once for what it has not seen, then after (nearly) a period, or when the fingerprint or uid changes', function () {
      const memo = new SyncMemo(1000);
      expect(memo.dueIn(obj, () => 'g1', 0)).to.equal(0);
      memo.remember(obj, 'g1', 0);
      expect(memo.dueIn(obj, () => 'g1', 400)).to.equal(600);
      expect(memo.dueIn(obj, () => 'g1', 950)).to.equal(0);
      expect(memo.dueIn(obj, () => 'g2', 400)).to.equal(0);
      expect(memo.dueIn({ metadata: { ...obj.metadata, uid: 'u2' } }, () => 'g1', 400)).to.equal(0);
      memo.forget('ns', 'a');
      expect(memo.dueIn(obj, () => 'g1', 400)).to.equal(0);
    });

    it('reads a changed fingerprint at most once per coalescing window, and only computes it when the window is over', function () {
      const memo = new SyncMemo(10_000, { coalesceMs: 500 });
      let computed = 0;
      const print = (value: string) => () => (computed++, value);
      memo.remember(obj, 'exports-1', 0);
      expect(memo.dueIn(obj, print('exports-2'), 200)).to.equal(300);
      expect(computed).to.equal(0);
      expect(memo.dueIn(obj, print('exports-3'), 500)).to.equal(0);
      memo.remember(obj, 'exports-3', 500);
      expect(memo.dueIn(obj, print('exports-3'), 900)).to.equal(100);
      expect(memo.dueIn(obj, print('exports-3'), 1000)).to.equal(9500);
      expect(computed).to.equal(2);
    });
  });
});
