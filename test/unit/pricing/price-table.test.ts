import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { defaultPriceTable, loadPriceTable, monthlyReplicaCost } from '../../../src/pricing/price-table.ts';

describe('price table', () => {
  it('costs replicas × size × price per storage type', () => {
    const cost = monthlyReplicaCost(defaultPriceTable, 127, [
      { replicaCount: 1, storageAccountType: 'Standard_LRS' },
      { replicaCount: 2, storageAccountType: 'Premium_LRS' },
    ]);
    expect(cost).to.deep.equal({ amount: (127 * 0.05 + 2 * 127 * 0.12).toFixed(2), currency: 'USD' });
  });

  it('is zero with no replicas', () => {
    expect(monthlyReplicaCost(defaultPriceTable, 127, []).amount).to.equal('0.00');
  });

  describe('from a file', () => {
    let dir: string;
    beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'prices-'))));
    afterEach(() => rm(dir, { recursive: true, force: true }));

    it('reads currency and prices, keeping defaults for types it does not name', async () => {
      await writeFile(join(dir, 'p.yaml'), 'currency: EUR\nperGiBMonth:\n  Standard_LRS: 0.04\n');
      const table = await loadPriceTable(join(dir, 'p.yaml'));
      expect(table).to.deep.equal({ currency: 'EUR', perGiBMonth: { ...defaultPriceTable.perGiBMonth, Standard_LRS: 0.04 } });
    });

    it('refuses an unknown storage type, naming it', async () => {
      await writeFile(join(dir, 'p.yaml'), 'currency: USD\nperGiBMonth:\n  Ultra_SSD: 1\n');
      const error = await loadPriceTable(join(dir, 'p.yaml')).catch((err: Error) => err);
      expect(String(error)).to.include('Ultra_SSD');
    });

    it('refuses a table without a currency code', async () => {
      await writeFile(join(dir, 'p.yaml'), 'perGiBMonth: {}\n');
      const error = await loadPriceTable(join(dir, 'p.yaml')).catch((err: Error) => err);
      expect(String(error)).to.include('currency');
    });
  });
});
