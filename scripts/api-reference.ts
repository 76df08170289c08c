// Renders docs/api.md, the API reference, from the same CRDs that crds/ holds, so the reference
// can never say something the API server does not enforce. `npm run crds` writes it;
// test/unit/api/reference.test.ts fails when the committed file drifts.
import { API_VERSION, customResourceDefinitions, type CustomResourceDefinition, type JsonSchema } from '../src/api/index.ts';

interface Rule {
  rule: string;
  message: string;
}

/** One row of a field table: the field's dotted path and what the schema says of it. */
interface FieldRow {
  path: string;
  type: string;
  required: boolean;
  description: string;
  constraints: string[];
}

function typeOf(node: JsonSchema): string {
  const type = String(node.type ?? 'object');
  if (type === 'array') return `[]${typeOf((node.items ?? {}) as JsonSchema)}`;
  if (type === 'integer' && node.format) return `integer (${String(node.format)})`;
  if (type === 'string' && node.format) return `string (${String(node.format)})`;
  return type;
}

function constraintsOf(node: JsonSchema): string[] {
  const out: string[] = [];
  if (node.default !== undefined && !(typeof node.default === 'object' && Object.keys(node.default as object).length === 0)) {
    out.push(`default \`${JSON.stringify(node.default)}\``);
  }
  if (Array.isArray(node.enum)) out.push(`one of ${node.enum.map((value) => `\`${String(value)}\``).join(', ')}`);
  if (node.pattern !== undefined) out.push(`pattern \`${String(node.pattern)}\``);
  const range = (low: unknown, high: unknown, unit: string) => {
    if (low !== undefined && high !== undefined) out.push(`${unit} ${String(low)} to ${String(high)}`);
    else if (low !== undefined) out.push(`${unit} at least ${String(low)}`);
    else if (high !== undefined) out.push(`${unit} at most ${String(high)}`);
  };
  range(node.minimum, node.maximum, 'value');
  range(node.minLength, node.maxLength, 'length');
  range(node.minItems, node.maxItems, 'items');
  for (const rule of (node['x-kubernetes-validations'] ?? []) as Rule[]) out.push(`rule: ${rule.message}`);
  return out;
}

/** Every field under `node`, depth first, in declared order. */
function fieldRows(node: JsonSchema, prefix: string): FieldRow[] {
  const container = node.type === 'array' ? ((node.items ?? {}) as JsonSchema) : node;
  const properties = (container.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((container.required ?? []) as string[]);
  const base = node.type === 'array' ? `${prefix}[]` : prefix;
  return Object.entries(properties).flatMap(([name, child]) => {
    const path = base ? `${base}.${name}` : name;
    const row: FieldRow = { path, type: typeOf(child), required: required.has(name), description: String(child.description ?? ''), constraints: constraintsOf(child) };
    return [row, ...fieldRows(child, path)];
  });
}

/** Markdown table cells cannot hold a `|` or a line break. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

function fieldTable(rows: FieldRow[]): string[] {
  return [
    '| field | type | description |',
    '| --- | --- | --- |',
    ...rows.map((row) => {
      const notes = [row.required ? 'required' : '', ...row.constraints].filter(Boolean).join('; ');
      return `| \`${row.path}\` | ${cell(row.type)} | ${cell(row.description)}${notes ? `<br>*${cell(notes)}*` : ''} |`;
    }),
  ];
}

const columnNames = (columns: readonly { name: string }[]) => columns.map((c) => c.name.toUpperCase()).join(', ');

function kindSection(crd: CustomResourceDefinition): string[] {
  const [version] = crd.spec.versions;
  if (!version) throw new Error(`${crd.metadata.name} serves no version`);
  const root = version.schema.openAPIV3Schema;
  const properties = root.properties as Record<string, JsonSchema>;
  const { kind, plural, shortNames } = crd.spec.names;
  const columns = version.additionalPrinterColumns;
  return [
    `## ${kind}`,
    '',
    String(root.description ?? ''),
    '',
    `Resource \`${plural}\`, short name \`${shortNames.join('`, `')}\`, category \`${crd.spec.names.categories.join(', ')}\`; namespaced. ` +
      `\`kubectl explain ${crd.spec.names.singular}.spec\` prints the same fields.`,
    '',
    ...((root['x-kubernetes-validations'] as Rule[] | undefined) ?? []).map((rule) => `- Rule on the whole object: ${rule.message}`),
    '',
    `\`kubectl get ${plural}\` shows ${columnNames(columns.filter((c) => !c.priority))}` +
      (columns.some((c) => c.priority) ? `; \`-o wide\` adds ${columnNames(columns.filter((c) => c.priority))}.` : '.'),
    '',
    '### spec',
    '',
    ...fieldTable(fieldRows(properties.spec ?? {}, 'spec')),
    '',
    '### status',
    '',
    ...fieldTable(fieldRows(properties.status ?? {}, 'status')),
    '',
  ];
}

export function renderApiReference(): string {
  const crds = customResourceDefinitions();
  const lines = [
    `# API reference: ${API_VERSION}`,
    '',
    '<!-- Generated from src/api/ by `npm run crds`. Do not edit: change src/api/ and run it again. -->',
    '',
    'Every field of the four kinds, with the validation the API server applies (OpenAPI and CEL rules, so',
    'a refused object names the field). [architecture.md](architecture.md) explains how the operator acts',
    'on them.',
    '',
    ...crds.map((crd) => `- [${crd.spec.names.kind}](#${crd.spec.names.kind.toLowerCase()})`),
    '',
    ...crds.flatMap(kindSection),
  ];
  return `${lines.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}
