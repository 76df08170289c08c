// What the LabAccount and GalleryAttachment suites share: making objects, reading conditions and
// Events, and reaching the operator's emulator through ARM as someone outside any lab would.
import { EventsV1Api, type KubernetesObject } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import type { GalleryAttachment, GalleryAttachmentSpec, LabAccount, LabAccountSpec } from '../../../src/api/index.ts';
import { createGalleryPort, simulatedSubscriptionId, staticTokenCredential, type GalleryPort, type GalleryRef } from '../../../src/azure/index.ts';
import { simulatedResourceGroup } from '../../../src/controllers/common/account-connector.ts';

import { API_VERSION, RESOURCES } from '../../../src/api/index.ts';
import { untilDone } from '../emulator/helpers.ts';
import type { TestOperator } from '../operator.ts';


export function createAccount(op: TestOperator, name: string, spec: Partial<LabAccountSpec> = {}): Promise<LabAccount> {
  return op.client.create<LabAccount>(RESOURCES.LabAccount, {
    apiVersion: API_VERSION,
    kind: 'LabAccount',
    metadata: { name, namespace: op.namespace },
    spec: { location: 'westeurope', ...spec },
  });
}

export function createAttachment(op: TestOperator, name: string, spec: Partial<GalleryAttachmentSpec> & { gallery: GalleryAttachmentSpec['gallery'] }): Promise<GalleryAttachment> {
  return op.client.create<GalleryAttachment>(RESOURCES.GalleryAttachment, {
    apiVersion: API_VERSION,
    kind: 'GalleryAttachment',
    metadata: { name, namespace: op.namespace },
    spec: { labAccountRef: { name: 'cs-dept' }, ...spec },
  });
}

export function getAccount(op: TestOperator, name: string): Promise<LabAccount | undefined> {
  return op.client.get<LabAccount>(RESOURCES.LabAccount, op.namespace, name);
}

export function getAttachment(op: TestOperator, name: string): Promise<GalleryAttachment | undefined> {
  return op.client.get<GalleryAttachment>(RESOURCES.GalleryAttachment, op.namespace, name);
}

type WithConditions = { metadata?: { generation?: number }; status?: { observedGeneration?: number; conditions?: { type: string; status: string; reason: string; message: string }[] } };

export function condition(obj: WithConditions | undefined, type: string) {
  return obj?.status?.conditions?.find((c) => c.type === type);
}

/** True once the operator has looked at this generation and Ready has `status` (and `reason`, when given). */
export function isReady(obj: WithConditions | undefined, status = 'True', reason?: string): boolean {
  const ready = condition(obj, 'Ready');
  return obj?.status?.observedGeneration === obj?.metadata?.generation && ready?.status === status && (reason === undefined || ready.reason === reason);
}

/** Stalled=True with this reason at the current generation; returns its message. */
export function stalledMessage(obj: WithConditions | undefined, reason: string): string | false {
  const stalled = condition(obj, 'Stalled');
  return obj?.status?.observedGeneration === obj?.metadata?.generation && stalled?.status === 'True' && stalled.reason === reason && stalled.message;
}

/** The message of Reconciling=True with `reason` and Ready=False for the current generation (a wait the operator retries), or false. */
export function waitingMessage(obj: WithConditions | undefined, reason: string): string | false {
  const reconciling = condition(obj, 'Reconciling');
  return obj?.status?.observedGeneration === obj?.metadata?.generation && condition(obj, 'Ready')?.status === 'False' && reconciling?.status === 'True' && reconciling.reason === reason && reconciling.message;
}

/** Events about one object, as `kubectl describe` shows them. */
export async function eventsAbout(op: TestOperator, obj: KubernetesObject): Promise<{ type: string; reason: string; note: string }[]> {
  const list = await op.kubeConfig.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: op.namespace });
  return list.items
    .filter((e) => e.regarding?.uid === obj.metadata?.uid)
    .map((e) => ({ type: e.type ?? '', reason: e.reason ?? '', note: e.note ?? '' }));
}

/** ARM as someone outside any lab reaches the operator's emulator: the SDK, trusting its CA. */
export function armPort(op: TestOperator): GalleryPort {
  return createGalleryPort({ subscriptionId: simulatedSubscriptionId, credential: staticTokenCredential(), endpoint: op.emulator.url, caPem: op.emulator.caPem, registry: new Registry() });
}

/** Where a Simulated account without spec.azure keeps its galleries. */
export function galleryIn(op: TestOperator, gallery: string): GalleryRef {
  return { resourceGroup: simulatedResourceGroup({ metadata: { namespace: op.namespace } } as LabAccount), gallery };
}

/** Uploads an image straight into a gallery: a definition, a VM from the marketplace, and a version made from it. */
export async function uploadImage(
  port: GalleryPort,
  gallery: GalleryRef,
  image: string,
  options: { version?: string; regions?: string[]; exportUid?: string; osState?: 'Generalized' | 'Specialized'; diskGiB?: number } = {},
): Promise<void> {
  const ref = { ...gallery, image };
  const ok = async (handle: Parameters<typeof untilDone>[1]) => {
    const done = await untilDone(port, handle);
    if (done.state !== 'Succeeded') throw new Error(`ARM operation failed: ${done.error.message}`);
  };
  if (!(await port.observeImage(ref))) {
    await ok(await port.createImage(ref, { location: 'westeurope', osType: 'Linux', osState: options.osState ?? 'Generalized', hyperVGeneration: 'V2', identifier: { publisher: 'outside', offer: image, sku: 'v1' } }));
  }
  const vm = { resourceGroup: gallery.resourceGroup, name: `src-${image}`.slice(0, 60) };
  if (!(await port.observeVirtualMachine(vm))) {
    await ok(
      await port.createVirtualMachine(vm, {
        location: 'westeurope',
        size: 'Standard_D2s_v5',
        image: { marketplace: { publisher: 'canonical', offer: 'ubuntu-24_04-lts', sku: 'server', version: 'latest' } },
        admin: { username: 'labadmin', password: 'Test-Passw0rd!' },
        ...(options.diskGiB ? { osDiskSizeGiB: options.diskGiB } : {}),
      }),
    );
  }
  await ok(
    await port.createImageVersion(
      { ...ref, version: options.version ?? '1.0.0' },
      {
        location: 'westeurope',
        source: { virtualMachineId: port.virtualMachineId(vm) },
        targetRegions: (options.regions ?? ['westeurope', 'northeurope']).map((name) => ({ name })),
        ...(options.exportUid ? { exportUid: options.exportUid } : {}),
      },
    ),
  );
}

/** Reconciles a controller has finished so far (any result). */
export async function reconcileCount(op: TestOperator, controller: string): Promise<number> {
  const metric = await op.manager.metrics.registry.getSingleMetric('controller_runtime_reconcile_total')?.get();
  return (metric?.values ?? []).filter((v) => v.labels.controller === controller).reduce((sum, v) => sum + v.value, 0);
}
