import { dump } from 'js-yaml';
import type { MachineFormat } from './cluster-options.ts';

/** A document as `kubectl -o json` / `-o yaml` prints one. */
export function formatDocument(doc: unknown, format: MachineFormat): string {
  return format === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : dump(doc, { noRefs: true, lineWidth: -1 });
}
