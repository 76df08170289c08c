// What `labimage status` shows: a plain document (for -o json) and its text rendering. Pure
// functions of the objects as the API server returns them, so `labimage dev` can reuse them.
import { API_VERSION, type ImageExport, type ImageExportStatus, type LabTemplate, type LabTemplateStatus } from '../api/index.ts';
import { READY, findCondition, type Condition, type ConditionStatus } from '../runtime/index.ts';

export interface ExportSummary {
  namespace: string;
  name: string;
  image: string;
  /** Status of the Ready condition; Unknown until the operator has written one. */
  ready: ConditionStatus;
  status: ImageExportStatus;
}

export interface TemplateSummary {
  namespace: string;
  name: string;
  ready: ConditionStatus;
  status: LabTemplateStatus;
}

/** The machine-readable document `labimage status -o json` prints. */
export interface StatusDocument {
  apiVersion: typeof API_VERSION;
  kind: 'LabImageStatus';
  exports: ExportSummary[];
  templates: TemplateSummary[];
}

function readyOf(conditions: readonly Condition[] | undefined): ConditionStatus {
  return findCondition(conditions, READY)?.status ?? 'Unknown';
}

function byNamespaceAndName(a: { namespace: string; name: string }, b: { namespace: string; name: string }): number {
  return a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);
}

export function statusDocument(exports: readonly ImageExport[], templates: readonly LabTemplate[]): StatusDocument {
  return {
    apiVersion: API_VERSION,
    kind: 'LabImageStatus',
    exports: exports
      .map((obj) => ({
        namespace: obj.metadata.namespace ?? '',
        name: obj.metadata.name ?? '',
        image: obj.spec.image.name,
        ready: readyOf(obj.status?.conditions as Condition[] | undefined),
        status: obj.status ?? {},
      }))
      .sort(byNamespaceAndName),
    templates: templates
      .map((obj) => ({
        namespace: obj.metadata.namespace ?? '',
        name: obj.metadata.name ?? '',
        ready: readyOf(obj.status?.conditions as Condition[] | undefined),
        status: obj.status ?? {},
      }))
      .sort(byNamespaceAndName),
  };
}

const BAR_CELLS = 20;

/** A fixed-width bar such as `████████░░░░░░░░░░░░  40%`. */
export function progressBar(percent: number | undefined): string {
  const value = Math.min(100, Math.max(0, Math.round(percent ?? 0)));
  const filled = Math.round((value / 100) * BAR_CELLS);
  return `${'█'.repeat(filled)}${'░'.repeat(BAR_CELLS - filled)} ${String(value).padStart(3)}%`;
}

/** Left-aligned columns, two spaces apart; the last column is not padded. */
export function table(rows: readonly (readonly string[])[], indent = ''): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
}

function why(conditions: readonly Condition[] | undefined): string {
  const ready = findCondition(conditions, READY);
  if (!ready || ready.status === 'True') return '';
  return ready.message ? `${ready.reason}: ${ready.message}` : ready.reason;
}

function renderExport(summary: ExportSummary, showNamespace: boolean): string[] {
  const { status } = summary;
  const cost = status.estimatedMonthlyCost ? `${status.estimatedMonthlyCost.currency} ${status.estimatedMonthlyCost.amount}/month` : '-';
  const title = showNamespace ? `${summary.namespace}/${summary.name}` : summary.name;
  const lines = [
    `${title}  image ${summary.image}${status.version ? `:${status.version}` : ''}  ${status.phase ?? 'Pending'}  ` +
      `ready ${summary.ready}  ${progressBar(status.progress)}  regions ${status.regionsReady ?? '-'}  cost ${cost}`,
  ];
  const reason = why(status.conditions as Condition[] | undefined);
  if (reason) lines.push(`  ${reason}`);
  const regions = status.regions ?? [];
  if (regions.length > 0) {
    lines.push(
      ...table(
        [
          ['REGION', 'STATE', 'PROGRESS', 'REPLICAS', ''],
          ...regions.map((region) => [region.name, region.state, progressBar(region.progress), String(region.replicaCount ?? '-'), region.message ?? '']),
        ],
        '  ',
      ),
    );
  }
  return lines;
}

/** The text `labimage status` prints; `showNamespace` for -A. */
export function renderStatus(doc: StatusDocument, options: { showNamespace: boolean }): string {
  const lines: string[] = [];
  lines.push(`IMAGE EXPORTS (${doc.exports.length})`);
  if (doc.exports.length === 0) lines.push('  none');
  for (const summary of doc.exports) lines.push(...renderExport(summary, options.showNamespace).map((line) => `  ${line}`), '');

  lines.push(`LAB TEMPLATES (${doc.templates.length})`);
  if (doc.templates.length === 0) {
    lines.push('  none');
  } else {
    lines.push(
      ...table(
        [
          [...(options.showNamespace ? ['NAMESPACE'] : []), 'NAME', 'PHASE', 'READY', 'IMAGE', 'VM', 'MESSAGE'],
          ...doc.templates.map((summary) => {
            const { image, vm, phase, conditions } = summary.status;
            const imageText = image?.version ? `${image.version}${image.osState ? ` (${image.osState})` : ''}` : '-';
            const vmText = vm?.provisioningState ? `${vm.provisioningState}${vm.powerState ? `/${vm.powerState}` : ''}` : '-';
            return [
              ...(options.showNamespace ? [summary.namespace] : []),
              summary.name,
              phase ?? 'Pending',
              summary.ready,
              imageText,
              vmText,
              why(conditions as Condition[] | undefined),
            ];
          }),
        ],
        '  ',
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}
