import { expect } from 'chai';
import type { KubernetesObject } from '@kubernetes/client-node';
import { IndexedStore } from '../../../src/runtime/store.ts';
import { StringPool, internStrings } from '../../../src/runtime/string-pool.ts';

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
    const replace = (namespace: string | undefined, items: KubernetesObject[]) => {
      const relist = cache.relist(namespace);
      for (const item of items) relist.add(item);
      relist.finish();
    };
    replace(undefined, [obj('a', 'ns', '1'), obj('b', 'ns', '1'), obj('c', 'other', '1')]);
    seen.length = 0;
    replace('ns', [obj('a', 'ns', '1'), obj('b', 'ns', '2')]);
    expect(seen).to.deep.equal(['update b']);
    replace('ns', [obj('b', 'ns', '2')]);
    expect(seen).to.deep.equal(['update b', 'delete a']);
    expect(cache.list().map((o) => o.metadata?.name).sort()).to.deep.equal(['b', 'c']);
  });

  it('takes a relist page by page: listed objects are stored as they come, what the list lacked goes at the end', () => {
    const cache = new IndexedStore<KubernetesObject>();
    const obj = (name: string, resourceVersion: string) => ({ metadata: { name, namespace: 'ns', resourceVersion } });
    for (const o of [obj('a', '1'), obj('b', '1'), obj('c', '1')]) cache.upsert(o);
    const relist = cache.relist(undefined);
    relist.add(obj('a', '2'));
    expect(cache.get('a', 'ns')?.metadata?.resourceVersion, 'first page applied at once').to.equal('2');
    expect(cache.get('c', 'ns'), 'not yet known to be gone').to.not.equal(undefined);
    relist.add(obj('b', '1'));
    relist.finish();
    expect(cache.list().map((o) => `${o.metadata?.name}@${o.metadata?.resourceVersion}`).sort()).to.deep.equal(['a@2', 'b@1']);
  });

  it('keeps one copy of shared strings in a pool of bounded size, and the objects as they were', () => {
    const pool = new StringPool(100);
    for (let i = 0; i < 1000; i++) pool.intern(`value-${i}`);
    expect(pool.size).to.be.at.most(200);
    const obj = { metadata: { name: 'e1', namespace: 'ns', uid: 'u1', labels: { a: 'b' } }, spec: { regions: ['eastus', 'westus'], nested: [{ reason: 'Waiting' }] } };
    const copy = structuredClone(obj);
    internStrings(obj, pool);
    expect(obj).to.deep.equal(copy);
    expect(pool.intern('eastus')).to.equal('eastus');
  });
});

