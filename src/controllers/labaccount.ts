// The LabAccount controller: the account's geography and regions, its replication defaults
// checked against them, its credentials checked with one cheap ARM read per sync period, and the
// attachment that holds its gallery.
import { RESOURCES } from '../api/index.ts';
import type { GalleryAttachment, LabAccount, LabAccountSpec, LabAccountStatus } from '../api/index.ts';
import { ArmError, geographyOf, isKnownRegion, normalizeRegion, regionsOfGeography } from '../azure/index.ts';
import type { Logger } from '../log.ts';
import { Conditions, generationChanged, objectKey, type ControllerSetup, type Request, type Result } from '../runtime/index.ts';
import type { OperatorContext } from './context.ts';
import {
  BY_ACCOUNT_INDEX,
  SyncMemo,
  armFailure,
  conditionsOf,
  holderOf,
  indexByAccount,
  isCredentialRejection,
  writeStatus,
} from './shared.ts';
import { StalledError } from './stalled.ts';

/** The account's geography and its regions; Stalled when the location is unknown. */
export function geographyOfAccount(spec: LabAccountSpec): { geography: string; regions: string[] } {
  const geography = geographyOf(spec.location);
  if (!geography) {
    throw new StalledError('UnknownLocation', `spec.location ${JSON.stringify(spec.location)} is not a known Azure region: use a programmatic region name such as westeurope`);
  }
  return { geography, regions: regionsOfGeography(geography) };
}

/** Replication defaults must stay inside the geography (a lab platform's rule); names the first region that does not. */
export function checkReplicationRegions(spec: LabAccountSpec, geography: string, regions: readonly string[]): void {
  for (const region of spec.replication?.regions ?? []) {
    if (!isKnownRegion(region)) {
      throw new StalledError('UnknownRegion', `spec.replication.regions: ${JSON.stringify(region)} is not a known Azure region: use one of ${regions.join(', ')}`);
    }
    if (!regions.includes(normalizeRegion(region))) {
      throw new StalledError(
        'RegionOutsideGeography',
        `spec.replication.regions: ${region} is outside the geography ${geography} of spec.location ${spec.location}: use regions of ${geography} (${regions.join(', ')}), or none for all of them`,
      );
    }
  }
}

function credentialsSource(account: LabAccount): string {
  const secret = account.spec.azure?.credentials?.secretRef?.name;
  return secret ? `the service principal in Secret ${secret} (spec.azure.credentials.secretRef)` : 'the operator\'s own identity';
}

export function labAccountController(ctx: OperatorContext): ControllerSetup {
  return (mgr) => {
    const accounts = mgr.informer<LabAccount>(RESOURCES.LabAccount);
    const attachments = mgr.informer<GalleryAttachment>(RESOURCES.GalleryAttachment);
    indexByAccount(attachments);
    const recorder = mgr.eventRecorder('labaccount-controller');
    const checked = new SyncMemo(ctx.syncPeriodMs);

    /** One cheap ARM read that needs working credentials: the galleries of the account's resource group. */
    async function checkCredentials(account: LabAccount, log: Logger): Promise<void> {
      const connection = await ctx.accounts.connect(account);
      try {
        await connection.port.listGalleries(connection.resourceGroup);
      } catch (err) {
        if (!(err instanceof ArmError)) throw err;
        if (isCredentialRejection(err)) {
          // A rotated Secret must be read again: drop the cached port.
          ctx.accounts.forget(account);
          throw new StalledError('CredentialsRejected', `Azure refused ${credentialsSource(account)} (${err.code}): fix the credentials or the identity's role assignments on resource group ${connection.resourceGroup}`);
        }
        if (err.code === 'ResourceGroupNotFound') {
          throw new StalledError('ResourceGroupNotFound', `resource group ${connection.resourceGroup} (spec.azure.resourceGroup) does not exist in subscription ${connection.subscriptionId}: create it`);
        }
        throw err;
      }
      log.debug({ resourceGroup: connection.resourceGroup }, 'credentials accepted by ARM');
    }

    async function reconcile({ namespace, name }: Request, log: Logger): Promise<Result> {
      const account = accounts.get(name, namespace);
      if (!account) {
        checked.forget(namespace, name);
        return {};
      }
      const generation = account.metadata.generation ?? 0;
      const conditions = new Conditions(conditionsOf(account), generation);
      const status: LabAccountStatus = { observedGeneration: generation };
      const holder = holderOf(attachments.byIndex(BY_ACCOUNT_INDEX, objectKey(namespace, name)));
      if (holder) status.gallery = { attachment: holder.metadata.name ?? '', ...(holder.status?.galleryId ? { id: holder.status.galleryId } : {}) };

      let result: Result = {};
      let rethrow: unknown;
      try {
        const { geography, regions } = geographyOfAccount(account.spec);
        status.geography = geography;
        status.regions = regions;
        checkReplicationRegions(account.spec, geography, regions);
        // Ready at this generation and read within the sync period: nothing in Azure to look at yet.
        const fingerprint = String(generation);
        let dueIn = conditions.isTrue('Ready') ? checked.dueIn(account, () => fingerprint) : 0;
        if (dueIn === 0) {
          await checkCredentials(account, log);
          checked.remember(account, fingerprint);
          dueIn = checked.periodMs;
        }
        conditions.ready('AccountReady', `${account.spec.location} is in geography ${geography} (${regions.join(', ')}); ARM accepts ${credentialsSource(account)}`);
        result = { requeueAfter: dueIn };
      } catch (err) {
        checked.forget(namespace, name);
        if (err instanceof StalledError) {
          conditions.stalled(err.reason, err.message);
          // A spec problem waits for a spec change (which we watch); a missing Secret or Azure's refusal does not.
          if (!['UnknownLocation', 'UnknownRegion', 'RegionOutsideGeography'].includes(err.reason)) result = { requeueAfter: ctx.stalledRecheckMs };
        } else if (err instanceof ArmError) {
          const failure = armFailure(err, conditions, `checking ${credentialsSource(account)}`, ctx.stalledRecheckMs);
          result = failure.result;
          if (failure.rethrow) rethrow = err;
        } else {
          throw err;
        }
      }

      await writeStatus(mgr.client, RESOURCES.LabAccount, recorder, account, { ...status, conditions: conditions.list() }, log);
      if (rethrow) throw rethrow;
      return result;
    }

    return {
      name: 'labaccount',
      for: RESOURCES.LabAccount,
      forPredicate: generationChanged,
      watches: [
        {
          resource: RESOURCES.GalleryAttachment,
          map: (obj) => {
            const ref = (obj as GalleryAttachment).spec?.labAccountRef?.name;
            return ref ? [{ namespace: obj.metadata?.namespace ?? '', name: ref }] : [];
          },
        },
      ],
      reconcile,
    };
  };
}
