// LabAccounts as their dependents' deletions need them. A GitOps prune or a namespace deletion
// deletes an account together with its attachments, exports and templates, in any order; those
// still hold galleries, image versions and VMs in Azure, and reach Azure only through their account.
// So an account deleted while they are still being deleted is remembered, as it last was, for their
// deletion passes only: a live object never sees an account that is gone.
import type { LabAccount } from '../../api/index.ts';
import { objectKey, type Informer } from '../../runtime/index.ts';

/** Long enough for the dependents deleted with an account to finish; a restart forgets sooner, and they then leave with a Warning naming what stayed. */
const REMEMBERED_MS = 60 * 60_000;

/** What a deletion pass reads of accounts: the one of that name now, else the one just deleted. */
export interface AccountsForDeletion {
  get(name: string, namespace?: string): LabAccount | undefined;
}

export class DepartedAccounts implements AccountsForDeletion {
  readonly #accounts: Pick<Informer<LabAccount>, 'get'>;
  readonly #departed = new Map<string, { account: LabAccount; at: number }>();

  constructor(accounts: Pick<Informer<LabAccount>, 'get' | 'addEventHandler'>) {
    this.#accounts = accounts;
    accounts.addEventHandler({ delete: (account) => this.#remember(account) });
  }

  get(name: string, namespace?: string): LabAccount | undefined {
    return this.#accounts.get(name, namespace) ?? this.#departed.get(objectKey(namespace, name))?.account;
  }

  #remember(account: LabAccount, now = Date.now()): void {
    for (const [key, entry] of this.#departed) if (now - entry.at > REMEMBERED_MS) this.#departed.delete(key);
    this.#departed.set(objectKey(account.metadata.namespace, account.metadata.name ?? ''), { account, at: now });
  }
}
