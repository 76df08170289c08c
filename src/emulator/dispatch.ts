import { ArmCore, nameAt, type ArmAnswer, type ArmRequest, type ArmTiming } from './arm.ts';
import { CloudError } from './cloud-error.ts';
import { GalleryHandlers } from './galleries.ts';
import { ImageVersionHandlers } from './image-versions.ts';
import type { StateStore } from './state.ts';
import { VirtualMachineHandlers } from './virtual-machines.ts';

/**
 * The api-versions answered: the published examples' and those the installed
 * @azure/arm-compute (25.1.1) sends, read from its dist/esm/api/{galleries,virtualMachines}/operations.js.
 */
export const supportedApiVersions: Record<string, readonly string[]> = {
  galleries: ['2025-03-03', '2025-12-03'],
  virtualmachines: ['2025-03-03', '2026-04-01'],
};

type Handler = (request: ArmRequest) => ArmAnswer | Promise<ArmAnswer>;

/** Routes an ARM request (already authenticated and past any injected fault) to its handler. */
export class ArmDispatcher {
  private readonly core: ArmCore;
  private readonly routes: Record<string, Handler>;

  constructor(store: StateStore, timing: ArmTiming) {
    this.core = new ArmCore(store, timing);
    const galleries = new GalleryHandlers(this.core);
    const versions = new ImageVersionHandlers(this.core, galleries);
    const vms = new VirtualMachineHandlers(this.core, versions);
    // Key: "<scope> <types> <item|list> <METHOD>"; scope is rg (resource group) or sub.
    this.routes = {
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
      'rg virtualmachines list GET': (r) => vms.list(r),
      'rg virtualmachines item GET': (r) => vms.get(r),
      'rg virtualmachines item PUT': (r) => vms.put(r),
      'rg virtualmachines item DELETE': (r) => vms.delete(r),
      'sub locations/capsoperations item GET': (r) => this.getOperation(r),
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
      throw new CloudError(404, 'InvalidResourceType', `The resource type '${path.types.join('/')}' could not be found in the namespace 'Microsoft.Compute'.`);
    }
    if (path.types[0] !== 'locations') this.checkApiVersion(request);
    return handler(request);
  }

  private checkApiVersion(request: ArmRequest): void {
    const apiVersion = request.query.get('api-version');
    if (!apiVersion) {
      throw new CloudError(400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
    }
    const family = request.path.types[0] ?? '';
    const supported = supportedApiVersions[family] ?? [];
    if (!supported.includes(apiVersion)) {
      const location = typeof (request.body as { location?: unknown } | undefined)?.location === 'string' ? (request.body as { location: string }).location : 'global';
      throw new CloudError(
        400,
        'NoRegisteredProviderFound',
        `No registered resource provider found for location '${location}' and API version '${apiVersion}' for type '${family}'. The supported api-versions are '${supported.join(', ')}'.`,
      );
    }
  }

  /** `locations/{loc}/capsOperations/{id}`: the Azure-AsyncOperation and (with monitor=true) Location URLs. */
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
