import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { ROOT } from './support/paths';

/** Every TypeScript file of the product (what ships in dist/). */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

/** The product files a file imports (type-only imports included: they are part of the design). */
function imports(file: string): string[] {
  return ts
    .preProcessFile(readFileSync(file, 'utf8'), true, true)
    .importedFiles.map((i) => i.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => resolve(dirname(file), spec))
    .map((base) => [`${base}.ts`, join(base, 'index.ts')].find((f) => existsSync(f)))
    .filter((f): f is string => f !== undefined);
}

describe('architecture', () => {
  const files = ['lib', 'nodes', 'bin'].flatMap((d) => sources(join(ROOT, d)));
  const graph = new Map(files.map((f) => [f, imports(f)]));
  const name = (f: string) => relative(ROOT, f);

  it('nothing in lib/ imports from nodes/: shared code serves the nodes, not one node another', () => {
    const wrong = [...graph].flatMap(([f, deps]) => (name(f).startsWith('lib/') ? deps.filter((d) => name(d).startsWith('nodes/')).map((d) => `${name(f)} → ${name(d)}`) : []));
    assert.deepEqual(wrong, []);
  });

  it('no node imports another node’s files (shared code goes to lib/; a config node is reached through its *-node.ts accessor)', () => {
    const nodeOf = (f: string) => name(f).split('/')[1];
    const wrong = [...graph].flatMap(([f, deps]) =>
      name(f).startsWith('nodes/') ? deps.filter((d) => name(d).startsWith('nodes/') && nodeOf(d) !== nodeOf(f) && !name(d).endsWith('-node.ts')).map((d) => `${name(f)} → ${name(d)}`) : [],
    );
    assert.deepEqual(wrong, []);
  });

  it('has no import circle', () => {
    const state = new Map<string, 'open' | 'done'>();
    const circles: string[] = [];
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        circles.push([...path.slice(path.indexOf(f)), f].map(name).join(' → '));
        return;
      }
      state.set(f, 'open');
      for (const d of graph.get(f) ?? []) visit(d, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of files) visit(f, []);
    assert.deepEqual(circles, []);
  });
});
