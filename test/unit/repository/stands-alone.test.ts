import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

// A user's clone holds nothing beside it: no tracked file may read or link a path outside the
// repository, and tools come from PATH, never from a path that exists only on some machine.

const root = resolve(import.meta.dirname, '..', '..', '..');

/** Tracked files and new ones not ignored, so that a file about to be committed is judged too. */
function repositoryFiles(): string[] {
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' });
  return [...new Set(listed.split('\0').filter(Boolean))].sort();
}

function textOf(file: string): string | undefined {
  let content: Buffer;
  try {
    content = readFileSync(join(root, file));
  } catch {
    return undefined; // deleted in the work tree, not yet in the index
  }
  return content.includes(0) ? undefined : content.toString('utf8');
}

/** `../` sequences (with what follows them) that are not part of a longer name. */
const RELATIVE_PATH = /(?<![\w./])(?:\.\/)?(?:\.\.\/)+[\w@.\-/]*/g;
/** A tool or file named by where it lives on one machine; `#!/usr/bin/env` shebangs are the portable way and allowed. */
const MACHINE_PATH = /(?<!#!)(?<![\w.-])\/(?:usr\/(?:local\/)?bin|opt|work|root|home)\/[\w.-]+/g;
/** Inside a container image, absolute paths are the image's own layout, not the machine's. */
const IMAGE_FILES = new Set(['Dockerfile']);

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

describe('the repository stands alone', () => {
  const files = repositoryFiles();

  it('lists the files it checks', () => {
    expect(files).to.include.members(['package.json', 'README.md', 'test/fixtures/SOURCES.md']);
  });

  it('has no relative path that leaves the repository', () => {
    const leaving: string[] = [];
    for (const file of files) {
      const text = textOf(file);
      if (text === undefined) continue;
      for (const match of text.matchAll(RELATIVE_PATH)) {
        const target = resolve(root, dirname(file), match[0]);
        const inside = relative(root, target);
        if (inside === '..' || inside.startsWith(`..${sep}`)) leaving.push(`${file}:${lineOf(text, match.index)}: ${match[0]}`);
      }
    }
    expect(leaving, 'paths outside the repository').to.deep.equal([]);
  });

  it('finds tools on PATH, not at absolute paths of one machine', () => {
    const pinned: string[] = [];
    for (const file of files) {
      if (IMAGE_FILES.has(file)) continue;
      const text = textOf(file);
      if (text === undefined) continue;
      for (const match of text.matchAll(MACHINE_PATH)) pinned.push(`${file}:${lineOf(text, match.index)}: ${match[0]}`);
    }
    expect(pinned, 'absolute paths of one machine').to.deep.equal([]);
  });

  it('judges its own patterns right', () => {
    const outside = ['..', 'notes', 'PLAN.md'].join('/'); // a folder beside the checkout, which no file here may name
    expect(`see [plan](${outside})`.match(RELATIVE_PATH)).to.deep.equal([outside]);
    expect("import x from '../../src/a.ts'".match(RELATIVE_PATH)).to.deep.equal(['../../src/a.ts']);
    expect('a/b/../c and x.../y'.match(RELATIVE_PATH)).to.equal(null);
    const kubectl = ['', 'usr', 'bin', 'kubectl'].join('/'); // spelled out, this file would judge itself
    expect(`run('${kubectl}')`.match(MACHINE_PATH)).to.deep.equal([kubectl]);
    expect('#!/usr/bin/env bash'.match(MACHINE_PATH)).to.equal(null);
  });
});
