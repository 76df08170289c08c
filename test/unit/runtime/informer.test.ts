import { expect } from 'chai';
import type { KubernetesObject } from '@kubernetes/client-node';
import { IndexedStore } from '../../../src/runtime/store.ts';

describe('informer cache', () => {
  it('keeps objects without their managedFields, indexed, with add and update events', () => {
    const seen: string[] = [];
    const cache = new IndexedStore<KubernetesObject>((change) => seen.push(change.type));
    cache.addIndex('byImage', (obj) => [String((obj as { spec?: { image?: string } }).spec?.image)]);
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

  it('replaces what a namespace held with a fresh list: gone objects deleted, changed ones updated, unchanged ones left', () => {
    const seen: string[] = [];
    const cache = new IndexedStore<KubernetesObject>((change) => seen.push(`${change.type} ${change.obj.metadata?.name}`));
    const obj = (name: string, namespace: string, resourceVersion: string) => ({ metadata: { name, namespace, resourceVersion } });
    cache.replace(undefined, [obj('a', 'ns', '1'), obj('b', 'ns', '1'), obj('c', 'other', '1')]);
    seen.length = 0;
    cache.replace('ns', [obj('a', 'ns', '1'), obj('b', 'ns', '2')]);
    expect(seen).to.deep.equal(['update b']);
    cache.replace('ns', [obj('b', 'ns', '2')]);
    expect(seen).to.deep.equal(['update b', 'delete a']);
    expect(cache.list().map((o) => o.metadata?.name).sort()).to.deep.equal(['b', 'c']);
  });
});
