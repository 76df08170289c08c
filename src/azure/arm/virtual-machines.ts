import type { VirtualMachine } from '@azure/arm-compute';
import type { ArmClient } from '../client.ts';
import { virtualMachineId } from '../ids.ts';
import { observeVirtualMachineModel } from '../observations.ts';
import { startOperation } from '../operations.ts';
import type { VirtualMachineRef, VirtualMachineSpec, VirtualMachines } from '../port.ts';
import { callOptions, collect, observe, optional, startDelete } from './calls.ts';

/**
 * The template VM's body. Its OS disk and NIC go with it (`deleteOption: Delete`): ARM's default is
 * Detach, which would leave both behind, billed, every time a LabTemplate is deleted. Templates
 * take images with a single OS disk only, so there are no data disks to declare.
 */
function virtualMachineBody(ref: VirtualMachineRef, spec: VirtualMachineSpec): VirtualMachine {
  return {
    location: spec.location,
    ...optional('tags', spec.tags),
    hardwareProfile: { vmSize: spec.size },
    storageProfile: {
      imageReference: 'imageVersionId' in spec.image ? { id: spec.image.imageVersionId } : spec.image.marketplace,
      osDisk: { createOption: 'FromImage', deleteOption: 'Delete', ...optional('diskSizeGB', spec.osDiskSizeGiB) },
    },
    ...(spec.admin ? { osProfile: { computerName: ref.name.slice(0, 15), adminUsername: spec.admin.username, adminPassword: spec.admin.password } } : {}),
    ...(spec.subnetId
      ? {
          networkProfile: {
            networkApiVersion: '2020-11-01',
            networkInterfaceConfigurations: [
              { name: `${ref.name}-nic`, primary: true, deleteOption: 'Delete', ipConfigurations: [{ name: 'ipconfig1', subnet: { id: spec.subnetId } }] },
            ],
          },
        }
      : {}),
  };
}

export function armVirtualMachines(client: ArmClient, signal?: AbortSignal): VirtualMachines {
  const options = callOptions(signal);
  const id: VirtualMachines['virtualMachineId'] = (ref) => virtualMachineId(client.subscriptionId, ref);
  // A VM named by an ARM id is looked for where the id says, never re-rooted in our subscription.
  const vms = (ref: VirtualMachineRef) => client.computeIn(ref.subscriptionId ?? client.subscriptionId).virtualMachines;
  return {
    virtualMachineId: id,
    observeVirtualMachine: (ref) => observe(async () => observeVirtualMachineModel(await vms(ref).get(ref.resourceGroup, ref.name, { ...options, expand: 'instanceView' }))),
    listVirtualMachines: (resourceGroup) =>
      collect(resourceGroup ? client.compute.virtualMachines.list(resourceGroup, options) : client.compute.virtualMachines.listAll(options), observeVirtualMachineModel),
    createVirtualMachine: (ref, spec) =>
      startOperation('virtualMachines.createOrUpdate', id(ref), (lro) => vms(ref).createOrUpdate(ref.resourceGroup, ref.name, virtualMachineBody(ref, spec), lro), signal),
    deleteVirtualMachine: (ref) => startDelete('virtualMachines.delete', id(ref), (lro) => vms(ref).delete(ref.resourceGroup, ref.name, lro), signal),
  };
}
