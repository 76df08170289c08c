import { expect } from 'chai';
import { pino } from 'pino';
import { Informer } from '../../../src/runtime/informer.ts';
import { RestClient } from '../../../src/runtime/rest-client.ts';

describe('informer cache', () => {
  function informer(): Informer {
    return new Informer(new RestClient({ server: 'https://127.0.0.1:1' }), { group: 'labimages.io', version: 'v1alpha1', plural: 'imageexports', kind: 'ImageExport' }, { log: pino({ level: 'silent' }) });
  }

  it('keeps objects without their managedFields, indexed, with add and update events', () => {
    const cache = informer();
    cache.addIndex('byImage', (obj) => [String((obj as { spec?: { image?: string } }).spec?.image)]);
    const seen: string[] = [];
    cache.addEventHandler({ add: () => seen.push('add'), update: () => seen.push('update') });
    const object = (resourceVersion: string) => ({
      metadata: { name: 'e1', namespace: 'ns', resourceVersion, managedFields: [{ manager: 'kubectl', operation: 'Update' }] },
      spec: { image: 'win11' },
    });
    cache.upsert(object('1'));
    cache.upsert(object('2'));
    expect(cache.get('e1', 'ns')?.metadata?.managedFields).to.equal(undefined);
    expect(cache.byIndex('byImage', 'win11').map((o) => o.metadata?.resourceVersion)).to.deep.equal(['2']);
    expect(seen).to.deep.equal(['add', 'update']);
  });
});
