import { Counter, register as defaultRegistry, type Registry } from 'prom-client';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';

const metricName = 'labimages_arm_requests_total';

/** The counter of ARM requests in `registry`, created on first use (one per registry). */
export function armRequestCounter(registry: Registry = defaultRegistry): Counter<'operation' | 'code'> {
  const existing = registry.getSingleMetric(metricName);
  if (existing) return existing as Counter<'operation' | 'code'>;
  return new Counter({
    name: metricName,
    help: 'ARM requests sent (every attempt, including retries and operation polls), by operation and HTTP status code (error: no answer; aborted: cancelled by the operator).',
    labelNames: ['operation', 'code'],
    registers: [registry],
  });
}

/** The counter of requests held back to stay within ARM's budget (budget.ts), in `registry`, created on first use. */
export function armPacingCounter(registry: Registry = defaultRegistry): Counter<'type' | 'outcome'> {
  const name = 'labimages_arm_paced_requests_total';
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<'type' | 'outcome'>;
  return new Counter({
    name,
    help: "ARM requests held back to stay within ARM's budget, by operation type (reads, writes, deletes) and outcome (waited: in-process, a moment; deferred: handed back to its reconcile, which comes back later).",
    labelNames: ['type', 'outcome'],
    registers: [registry],
  });
}

const resourceGroups: Record<string, string> = {
  galleries: 'galleries',
  'galleries/images': 'galleryImages',
  'galleries/images/versions': 'galleryImageVersions',
  virtualmachines: 'virtualMachines',
  'locations/capsoperations': 'operations',
};

/**
 * A bounded label for a request, named like the SDK's operations (`galleryImageVersions.get`),
 * derived from the method and the resource path so that retries and LRO polls are named too.
 */
export function armOperationName(method: string, url: string): string {
  const path = new URL(url, 'https://arm.invalid').pathname;
  const marker = '/providers/microsoft.compute/';
  const at = path.toLowerCase().indexOf(marker);
  if (at < 0) return microsoftResourcesOperationName(method, path);
  const segments = path.slice(at + marker.length).split('/').filter(Boolean);
  const types = segments.filter((_, index) => index % 2 === 0).map((type) => type.toLowerCase());
  const group = resourceGroups[types.join('/')];
  if (!group) return 'other';
  return `${group}.${verbOf(method, segments.length % 2 === 1)}`;
}

/** Resource groups, and the Location-only operations of Microsoft.Resources (`/subscriptions/{s}/operationresults/{id}`). */
function microsoftResourcesOperationName(method: string, path: string): string {
  const segments = path.toLowerCase().split('/').filter(Boolean);
  if (segments[0] !== 'subscriptions' || segments.length > 4) return 'other';
  if (segments[2] === 'operationresults' && segments.length === 4) return 'operations.get';
  if (segments[2] !== 'resourcegroups') return 'other';
  return `resourceGroups.${verbOf(method, segments.length === 3)}`;
}

function verbOf(method: string, isCollection: boolean): string {
  switch (method.toUpperCase()) {
    case 'GET':
      return isCollection ? 'list' : 'get';
    case 'PUT':
      return 'createOrUpdate';
    case 'PATCH':
      return 'update';
    default:
      return method.toLowerCase();
  }
}

/**
 * Counts every attempt that reaches the wire; placed after the retry policy so retries count. An
 * attempt that got no answer counts as `error`, or `aborted` when its caller cancelled it.
 */
export function armMetricsPolicy(counter: Counter<'operation' | 'code'>): PipelinePolicy {
  return {
    name: 'labimagesArmMetricsPolicy',
    async sendRequest(request, next) {
      const operation = armOperationName(request.method, request.url);
      try {
        const response = await next(request);
        counter.inc({ operation, code: String(response.status) });
        return response;
      } catch (error) {
        counter.inc({ operation, code: request.abortSignal?.aborted ? 'aborted' : 'error' });
        throw error;
      }
    },
  };
}
