import { expect } from 'chai';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';

// No module of src/ imports one that imports it back, type imports included: a circle makes load
// order matter and layers blur. The project imports only statically, by relative `.ts` paths, so
// reading the import lines is enough; a dependency-graph package would add more than it saves.

const root = resolve(import.meta.dirname, '..', '..', '..');
const IMPORT = /^(?:import|export)\s[^'"]*?\sfrom\s+'(\.{1,2}\/[^']+\.ts)'/gm;

function modules(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? modules(path) : entry.name.endsWith('.ts') ? [path] : [];
  });
}

function importCycles(files: string[]): string[][] {
  const imports = new Map(files.map((file) => [file, [...readFileSync(file, 'utf8').matchAll(IMPORT)].map((m) => resolve(dirname(file), m[1] ?? ''))]));
  const visiting = new Set<string>();
  const done = new Set<string>();
  const cycles: string[][] = [];
  const visit = (file: string, path: string[]) => {
    visiting.add(file);
    for (const next of imports.get(file) ?? []) {
      if (visiting.has(next)) cycles.push([...path.slice(path.indexOf(next)), file, next].map((f) => relative(root, f)));
      else if (!done.has(next)) visit(next, [...path, file]);
    }
    visiting.delete(file);
    done.add(file);
  };
  for (const file of files) if (!done.has(file)) visit(file, []);
  return cycles;
}

describe('imports', function () {
  it('form no circle in src/', function () {
    expect(importCycles(modules(join(root, 'src'))).map((cycle) => cycle.join(' -> '))).to.deep.equal([]);
  });

  it('are seen in a circle when there is one, a type import too', function () {
    const dir = mkdtempSync(join(tmpdir(), 'import-cycles-'));
    try {
      writeFileSync(join(dir, 'a.ts'), "import { b } from './b.ts';\nexport const a = b;\n");
      writeFileSync(join(dir, 'b.ts'), "import type { C } from './c.ts';\nexport const b: C = 1;\n");
      writeFileSync(join(dir, 'c.ts'), "import { a } from './a.ts';\nexport type C = typeof a;\n");
      expect(importCycles(modules(dir)).map((cycle) => cycle.map((f) => f.split('/').pop()).join(' -> '))).to.deep.equal(['a.ts -> b.ts -> c.ts -> a.ts']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
