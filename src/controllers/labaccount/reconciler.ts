// The LabAccount reconciler: the account's geography and regions, its replication defaults
// checked against them, its credentials checked with one cheap ARM read per sync period, the
// attachment that holds its gallery, and a deletion that waits for everything made through it.
import { RESOURCES, type GalleryAttachment, type ImageExport, type LabAccount, type LabTemplate } from '../../api/index.ts';
import { ArmError, isCredentialRejection } from '../../azure/index.ts';
import type { Logger } from '../../log.ts';
import { READY, findCondition, keyOf, type ObjectReader, type ReconcileContext, type Request, type Result } from '../../runtime/index.ts';
import type { OperatorContext } from '../common/context.ts';
import type { ApiClient, Connector, Recorder } from '../common/deps.ts';
import { holderOf } from '../common/holder.ts';
import { BY_ACCOUNT } from '../common/indexes.ts';
import { ObjectWriter, conditionsOf, isBeingDeleted } from '../common/object-writer.ts';
import { RELEASED, ready, retrying, type Released } from '../common/outcome.ts';
import { StalledError } from '../common/stalled.ts';
import { SyncMemo } from '../common/sync-memo.ts';
import { checkReplicationRegions, geographyOfAccount, regionChoice } from './geography.ts';
import { computeStatus, type AccountFound, type AccountOutcome } from './status.ts';

/** Holds a deleted account until its attachments, exports and templates are gone: they reach Azure through it to clean up. */
export const LAB_ACCOUNT_FINALIZER = 'labimages.io/lab-account';

export interface LabAccountDeps {
  accounts: ObjectReader<LabAccount>;
  attachments: ObjectReader<GalleryAttachment>;
  exports: ObjectReader<ImageExport>;
  templates: ObjectReader<LabTemplate>;
  client: ApiClient;
  events: Recorder;
  connector: Connector;
  settings: Pick<OperatorContext, 'syncPeriodMs' | 'stalledRecheckMs'>;
}

export class LabAccountReconciler {
  readonly #deps: LabAccountDeps;
  readonly #writer: ObjectWriter<LabAccount, AccountFound>;
  /** When each account's credentials were last checked: once per sync period. */
  readonly #checked: SyncMemo;

  constructor(deps: LabAccountDeps) {
    this.#deps = deps;
    this.#checked = new SyncMemo(deps.settings.syncPeriodMs);
    this.#writer = new ObjectWriter({
      resource: RESOURCES.LabAccount,
      finalizer: LAB_ACCOUNT_FINALIZER,
      // The holder is read from the cache whatever the pass found, so the account always names it.
      computeStatus: (account, outcome, now) => computeStatus(account, holderOf(deps.attachments.byIndex(BY_ACCOUNT, keyOf(account))), outcome, now),
      client: deps.client,
      events: deps.events,
      stalledRecheckMs: deps.settings.stalledRecheckMs,
    });
  }

  async reconcile({ namespace, name }: Request, context: ReconcileContext): Promise<Result> {
    const account = this.#deps.accounts.get(name, namespace);
    if (!account) {
      this.#checked.forget(namespace, name);
      return {};
    }
    if (isBeingDeleted(account)) return await this.#writer.finishDeletion(account, () => this.#release(account), context);
    return await this.#writer.finish(account, () => this.#sync(account, context), context);
  }

  /**
   * One pass: the geography and the replication defaults from the spec, then (once per sync period)
   * the credentials. The finalizer goes on once the account is fit for use, before it is first
   * shown Ready: nothing can reach Azure through an account that was never Ready, so one that never
   * was (an unknown location, say) is deleted at once.
   */
  async #sync(account: LabAccount, { log, signal }: ReconcileContext): Promise<AccountOutcome> {
    const place = geographyOfAccount(account.spec);
    checkReplicationRegions(account.spec, place.geography, place.regions);
    const fingerprint = String(account.metadata.generation ?? 0);
    // Ready at this generation and checked within the sync period: what Ready says still holds.
    const readyNow = findCondition(conditionsOf(account), READY);
    const dueIn = readyNow?.status === 'True' ? this.#checked.dueIn(account, () => fingerprint) : 0;
    if (readyNow && dueIn > 0) {
      await this.#writer.ensureFinalizer(account);
      return ready(readyNow.reason, readyNow.message, { requeueAfter: dueIn });
    }
    const credentials = await this.#checkCredentials(account, log, signal);
    this.#checked.remember(account, fingerprint);
    await this.#writer.ensureFinalizer(account);
    const { availableRegions } = regionChoice(account.spec.location, place.regions);
    const where = place.geography ? `is in geography ${place.geography}` : 'has no geography data (a sovereign cloud)';
    const message = `${account.spec.location} ${where}; images replicate to ${availableRegions.join(', ')} by default; ARM accepts ${credentials}`;
    return ready('AccountReady', message, { requeueAfter: this.#checked.periodMs });
  }

  /** Deletion waits until no attachment, export or template refers to the account any more. */
  async #release(account: LabAccount): Promise<AccountOutcome | Released> {
    const key = keyOf(account);
    const dependents = [
      ...this.#deps.attachments.byIndex(BY_ACCOUNT, key).map((a) => `GalleryAttachment ${a.metadata.name}`),
      ...this.#deps.exports.byIndex(BY_ACCOUNT, key).map((e) => `ImageExport ${e.metadata.name}`),
      ...this.#deps.templates.byIndex(BY_ACCOUNT, key).map((t) => `LabTemplate ${t.metadata.name}`),
    ];
    if (dependents.length === 0) {
      this.#checked.forget(account.metadata.namespace ?? '', account.metadata.name ?? '');
      return RELEASED;
    }
    const shown = dependents.length > 10 ? [...dependents.slice(0, 10), `${dependents.length - 10} more`] : dependents;
    const message = `waiting for ${shown.join(', ')} to be deleted first: they reach Azure through this account to delete what they made`;
    return retrying('InUse', message, { found: { blockedBy: dependents } });
  }

  /**
   * One cheap ARM read that needs working credentials: the galleries of the account's resource
   * group. The credential is looked for again first (its Secrets read), so a corrected or new one is
   * used now. Its two expected refusals are this check's verdict, said in the account's terms. A
   * group the user named (spec.azure.resourceGroup) must exist; the one the operator names for a
   * Simulated account without spec.azure (labimages-<namespace>) is the operator's to create.
   * Answers which credential ARM accepted.
   */
  async #checkCredentials(account: LabAccount, log: Logger, signal: AbortSignal): Promise<string> {
    const connection = await this.#deps.connector.connect(account, signal, { recheck: true });
    const { resourceGroup, subscriptionId } = connection;
    try {
      await connection.port.listGalleries(resourceGroup);
    } catch (err) {
      if (!(err instanceof ArmError)) throw err;
      if (isCredentialRejection(err)) {
        const by = err.fromIdentity ? 'Microsoft Entra ID gave no token for' : 'Azure refused';
        throw new StalledError('CredentialsRejected', `${by} ${connection.credentials} (${err.code}: ${err.message}): fix the credentials or the identity's role assignments on resource group ${resourceGroup}`);
      }
      if (err.code !== 'ResourceGroupNotFound') throw err;
      if (account.spec.azure) {
        const create = `az group create --name ${resourceGroup} --location ${account.spec.location} --subscription ${subscriptionId}`;
        throw new StalledError('ResourceGroupNotFound', `resource group ${resourceGroup} (spec.azure.resourceGroup) does not exist in subscription ${subscriptionId}: create it (${create}), or name one that exists`);
      }
      await connection.port.createResourceGroup(resourceGroup, { location: account.spec.location });
      log.info({ resourceGroup }, 'created the resource group of the account\'s namespace');
      this.#deps.events.event(account, 'Normal', 'ResourceGroupCreated', `created resource group ${resourceGroup} in ${account.spec.location} for the lab accounts of this namespace`, 'Create');
    }
    log.debug({ resourceGroup, credentials: connection.credentials }, 'credentials accepted by ARM');
    return connection.credentials;
  }
}
