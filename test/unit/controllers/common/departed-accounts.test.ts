import { expect } from 'chai';
import { API_VERSION, type LabAccount } from '../../../../src/api/index.ts';
import { DepartedAccounts } from '../../../../src/controllers/common/departed-accounts.ts';
import { IndexedStore, type EventHandler } from '../../../../src/runtime/index.ts';

const account = (name: string, uid: string): LabAccount => ({ apiVersion: API_VERSION, kind: 'LabAccount', metadata: { name, namespace: 'ns', uid }, spec: { location: 'westeurope' } });

describe('DepartedAccounts: accounts as their dependents\' deletions read them', function () {
  it('answers the account of that name now, else the last state of the one deleted', () => {
    const handlers: EventHandler<LabAccount>[] = [];
    const cache = new IndexedStore<LabAccount>();
    const accounts = new DepartedAccounts({ get: (name, namespace) => cache.get(name, namespace), addEventHandler: (handler) => void handlers.push(handler) });
    const first = account('cs', 'uid-1');
    cache.upsert(first);
    expect(accounts.get('cs', 'ns')).to.equal(first);
    cache.remove(first);
    for (const handler of handlers) handler.delete?.(first);
    expect(accounts.get('cs', 'ns'), 'deleted').to.equal(first);
    expect(accounts.get('cs', 'other'), 'another namespace').to.equal(undefined);
    // A new account of the same name is the one a deletion pass reaches Azure through.
    const second = account('cs', 'uid-2');
    cache.upsert(second);
    expect(accounts.get('cs', 'ns')).to.equal(second);
  });
});
