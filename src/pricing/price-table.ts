import { readFile } from 'node:fs/promises';
import { load } from 'js-yaml';
import { STORAGE_ACCOUNT_TYPES } from '../api/index.ts';

export type StorageAccountType = (typeof STORAGE_ACCOUNT_TYPES)[number];

/** What one GiB of image replica costs per month, by storage account type, in one currency. */
export interface PriceTable {
  currency: string;
  perGiBMonth: Record<StorageAccountType, number>;
}

/**
 * Illustrative list prices only (USD per GiB-month of snapshot-backed replica storage); they are
 * not a quote and go stale. Replace them with your agreement's prices: `--price-table FILE`.
 */
export const defaultPriceTable: PriceTable = {
  currency: 'USD',
  perGiBMonth: { Standard_LRS: 0.05, Standard_ZRS: 0.0625, Premium_LRS: 0.12 },
};

/** Reads a price table from YAML: `{currency: EUR, perGiBMonth: {Standard_LRS: 0.046, ...}}`; missing types keep the defaults. */
export async function loadPriceTable(file: string): Promise<PriceTable> {
  const doc = load(await readFile(file, 'utf8')) as { currency?: unknown; perGiBMonth?: Record<string, unknown> } | null;
  if (!doc || typeof doc.currency !== 'string' || !/^[A-Z]{3}$/.test(doc.currency)) {
    throw new Error(`${file}: currency must be a three-letter ISO 4217 code, e.g. USD`);
  }
  const perGiBMonth = { ...defaultPriceTable.perGiBMonth };
  for (const [type, price] of Object.entries(doc.perGiBMonth ?? {})) {
    if (!(STORAGE_ACCOUNT_TYPES as readonly string[]).includes(type)) throw new Error(`${file}: unknown storage account type ${type} (one of ${STORAGE_ACCOUNT_TYPES.join(', ')})`);
    if (typeof price !== 'number' || !(price >= 0)) throw new Error(`${file}: perGiBMonth.${type} must be a non-negative number`);
    perGiBMonth[type as StorageAccountType] = price;
  }
  return { currency: doc.currency, perGiBMonth };
}

export interface ReplicaSet {
  replicaCount: number;
  storageAccountType: StorageAccountType;
}

/** Monthly cost of an image version's replicas: Σ replicas × size × price, as a decimal string with cents. */
export function monthlyReplicaCost(table: PriceTable, sizeGiB: number, replicas: readonly ReplicaSet[]): { amount: string; currency: string } {
  const total = replicas.reduce((sum, set) => sum + set.replicaCount * sizeGiB * table.perGiBMonth[set.storageAccountType], 0);
  return { amount: total.toFixed(2), currency: table.currency };
}
