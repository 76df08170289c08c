import type { ArmClient } from '../client.ts';
import { armErrorFromResponse } from '../errors.ts';
import type { ResourceGroups } from '../port.ts';

/**
 * Microsoft.Resources' api-version for resource groups. Sent through the compute client's
 * pipeline rather than @azure/arm-resources: one PUT does not warrant loading a second SDK client
 * (memory counts: the operator's budget is 150 MiB).
 */
const RESOURCE_GROUPS_API_VERSION = '2024-11-01';

export function armResourceGroups(client: ArmClient, signal?: AbortSignal): ResourceGroups {
  return {
    createResourceGroup: async (name, spec) => {
      const path = `/subscriptions/${client.subscriptionId}/resourcegroups/${encodeURIComponent(name)}?api-version=${RESOURCE_GROUPS_API_VERSION}`;
      const body = { location: spec.location, ...(spec.tags ? { tags: spec.tags } : {}) };
      const response = await client.send('PUT', path, { body, ...(signal ? { signal } : {}) });
      if (response.status >= 400) throw armErrorFromResponse(response);
    },
  };
}
