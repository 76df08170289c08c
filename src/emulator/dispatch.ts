import { checkApiVersion } from './api-versions.ts';
import { ArmCore, asObject, nameAt, type ArmAnswer, type ArmRequest, type ArmTiming } from './arm.ts';
import { AttachableHandlers, diskKind, networkInterfaceKind } from './attachables.ts';
import { CloudError } from './cloud-error.ts';
import type { EmulatorConfig } from './config.ts';
import { GalleryHandlers } from './galleries.ts';
import { ImageVersionHandlers } from './image-versions.ts';
import { ResourceGroupHandlers } from './resource-groups.ts';
import type { StateStore } from './state.ts';
import { VirtualMachineHandlers } from './virtual-machines.ts';

type Handler = (request: ArmRequest) => ArmAnswer | Promise<ArmAnswer>;

/** Routes an ARM request (already authenticated, authorized and past any injected fault) to its handler. */
export class ArmDispatcher {
  readonly core: ArmCore;
  private readonly groups: ResourceGroupHandlers;
  private readonly routes: Record<string, Handler>;

  constructor(store: StateStore, timing: ArmTiming, config: () => EmulatorConfig) {
    this.core = new ArmCore(store, timing, config);
    const groups = new ResourceGroupHandlers(this.core);
    const galleries = new GalleryHandlers(this.core);
    const versions = new ImageVersionHandlers(this.core, galleries);
    const disks = new AttachableHandlers(this.core, diskKind);
    const nics = new AttachableHandlers(this.core, networkInterfaceKind);
    const vms = new VirtualMachineHandlers(this.core, versions, { disks, nics });
    this.groups = groups;
    // Key: "<scope> <types> <item|list> <METHOD>"; scope is rg (in a resource group) or sub.
    this.routes = {
      'sub resourcegroups list GET': (r) => groups.list(r),
      'sub resourcegroups item GET': (r) => groups.get(r),
      'sub resourcegroups item HEAD': (r) => groups.get(r),
      'sub resourcegroups item PUT': (r) => groups.put(r),
      'sub resourcegroups item DELETE': (r) => groups.delete(r),
      'sub operationresults item GET': (r) => groups.operationResult(r),
      'sub galleries list GET': (r) => galleries.listGalleries(r),
      'rg galleries list GET': (r) => galleries.listGalleries(r),
      'rg galleries item GET': (r) => galleries.getGallery(r),
      'rg galleries item PUT': (r) => galleries.putGallery(r),
      'rg galleries item PATCH': (r) => galleries.patchGallery(r),
      'rg galleries item DELETE': (r) => galleries.deleteGallery(r),
      'rg galleries/images list GET': (r) => galleries.listImages(r),
      'rg galleries/images item GET': (r) => galleries.getImage(r),
      'rg galleries/images item PUT': (r) => galleries.putImage(r),
      'rg galleries/images item DELETE': (r) => galleries.deleteImage(r),
      'rg galleries/images/versions list GET': (r) => versions.list(r),
      'rg galleries/images/versions item GET': (r) => versions.get(r),
      'rg galleries/images/versions item PUT': (r) => versions.put(r),
      'rg galleries/images/versions item PATCH': (r) => versions.patch(r),
      'rg galleries/images/versions item DELETE': (r) => versions.delete(r),
      'sub virtualmachines list GET': (r) => vms.list(r),
      'rg virtualmachines list GET': (r) => vms.list(r),
      'rg virtualmachines item GET': (r) => vms.get(r),
      'rg virtualmachines item PUT': (r) => vms.put(r),
      'rg virtualmachines item DELETE': (r) => vms.delete(r),
      'sub disks list GET': (r) => disks.list(r),
      'rg disks list GET': (r) => disks.list(r),
      'rg disks item GET': (r) => disks.get(r),
      'rg disks item DELETE': (r) => disks.delete(r),
      'sub networkinterfaces list GET': (r) => nics.list(r),
      'rg networkinterfaces list GET': (r) => nics.list(r),
      'rg networkinterfaces item GET': (r) => nics.get(r),
      'rg networkinterfaces item DELETE': (r) => nics.delete(r),
      'sub locations/capsoperations item GET': (r) => this.getOperation(r),
      'sub locations/operations item GET': (r) => this.getOperation(r),
    };
  }

  async dispatch(request: ArmRequest): Promise<ArmAnswer> {
    const { path } = request;
    const scope = path.resourceGroup === undefined ? 'sub' : 'rg';
    const shape = path.names.length === path.types.length ? 'item' : 'list';
    const handler = this.routes[`${scope} ${path.types.join('/')} ${shape} ${request.method}`];
    if (!handler) {
      const known = Object.keys(this.routes).some((route) => route.startsWith(`${scope} ${path.types.join('/')} ${shape} `));
      if (known) throw new CloudError(405, 'MethodNotAllowed', `The method '${request.method}' is not allowed for this resource.`);
      throw new CloudError(404, 'InvalidResourceType', `The resource type '${path.types.join('/')}' could not be found in the namespace '${path.provider}'.`);
    }
    const location = asObject(request.body).location;
    checkApiVersion(path, request.query.get('api-version'), typeof location === 'string' ? location : undefined);
    if (path.resourceGroup !== undefined) this.groups.require(request);
    return handler(request);
  }

  /** `locations/{loc}/capsOperations/{id}` (Compute) and `locations/{loc}/operations/{id}` (Network): the Azure-AsyncOperation and (with monitor=true) Location URLs. */
  private getOperation(request: ArmRequest): ArmAnswer {
    const id = nameAt(request, 1);
    const operation = this.core.state.operations[id];
    if (!operation || operation.subscriptionId.toLowerCase() !== request.path.subscriptionId.toLowerCase()) {
      throw new CloudError(404, 'OperationNotFound', `The operation '${id}' could not be found.`);
    }
    const monitor = request.query.get('monitor') === 'true';
    const done = request.now >= operation.endsAt;
    const startTime = new Date(operation.startedAt).toISOString();
    if (!done) {
      // A poll answer says where to look next and when, not where the operation is.
      const headers = Object.fromEntries(
        Object.entries(this.core.operationHeaders(request, id, operation.location, monitor, operation.endsAt)).filter(([name]) => name !== 'Azure-AsyncOperation'),
      );
      if (monitor) return { status: 202, headers };
      return { status: 200, headers, body: { name: id, startTime, status: 'InProgress' } };
    }
    if (monitor) return { status: 200 };
    return {
      status: 200,
      body: {
        name: id,
        startTime,
        endTime: new Date(operation.endsAt).toISOString(),
        status: 'Succeeded',
      },
    };
  }
}
