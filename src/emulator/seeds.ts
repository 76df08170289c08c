import { newestApiVersion, resourceTypeOf } from './api-versions.ts';
import type { ArmRequest } from './arm.ts';
import type { ArmDispatcher } from './dispatch.ts';
import { CloudError } from './cloud-error.ts';
import type { Seed } from './config.ts';
import { parseResourcePath } from './routes.ts';

/**
 * Makes the resources a config declares, as the PUTs that would create them (with the newest
 * api-version), finished at once: a fresh emulator starts with them. A seed that exists already
 * (a restart with the same config) is left as it is.
 */
export async function applySeeds(dispatcher: ArmDispatcher, seeds: readonly Seed[], baseUrl: string, now: number): Promise<void> {
  for (const seed of seeds) {
    const path = parseResourcePath(seed.id);
    const resourceType = path && resourceTypeOf(path);
    if (!path || !resourceType || path.names.length !== path.types.length) throw new Error(`seed ${seed.id}: not the id of a resource the emulator serves`);
    const request = (method: string) => ({
      method,
      path,
      pathname: seed.id,
      query: new URLSearchParams({ 'api-version': newestApiVersion(resourceType) }),
      body: seed.body,
      baseUrl,
      now,
    });
    if (await exists(dispatcher, request('GET'))) continue;
    try {
      await dispatcher.dispatch(request('PUT'));
    } catch (error) {
      if (error instanceof CloudError) throw new Error(`seed ${seed.id}: ${error.code}: ${error.message}`, { cause: error });
      throw error;
    }
  }
  dispatcher.core.finishOperations(now);
  await dispatcher.core.store.commit();
}

async function exists(dispatcher: ArmDispatcher, request: ArmRequest): Promise<boolean> {
  try {
    await dispatcher.dispatch(request);
    return true;
  } catch (error) {
    if (error instanceof CloudError && error.status === 404) return false;
    throw error;
  }
}
