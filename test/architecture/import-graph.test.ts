// The layers point one way: lib/core knows no framework, no option layer and no store implementation, nothing in lib/ imports in a cycle, and one module reads the environment.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const LIB = resolve(__dirname, '..', '..', 'lib');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every module specifier of a file: `import`/`export ... from`, `import('...')`, `require('...')`, type-only ones included. */
function specifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [/\b(?:import|export)\s[^'"]*?\sfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*['"]([^'"]+)['"]/g, /\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g];
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) found.push(match[1] as string);
  return found;
}

/** A relative specifier resolved to the file it names (`./x` → x.ts or x/index.ts). */
function resolveLocal(from: string, specifier: string, files: ReadonlySet<string>): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(dirname(from), specifier);
  return [`${base}.ts`, join(base, 'index.ts')].find((candidate) => files.has(candidate));
}

const files = sourceFiles(LIB);
const fileSet = new Set(files);
const imports = new Map(files.map((file) => [file, specifiers(readFileSync(file, 'utf8'))]));
const rel = (file: string) => relative(LIB, file).replace(/\\/g, '/');

/** What lib/core must never reach: frameworks, the option layer, the store implementations, the adapters. */
const FORBIDDEN_IN_CORE: { what: string; test: (specifier: string, target: string | undefined) => boolean }[] = [
  { what: 'express', test: (s) => s === 'express' || s.startsWith('express/') },
  { what: 'passport', test: (s) => /^passport(?:-|$|\/)/.test(s) },
  { what: 'lib/options', test: (_s, t) => t !== undefined && rel(t).startsWith('options/') },
  { what: 'a store implementation', test: (_s, t) => t !== undefined && /^store\/(?:sqlite|postgres|migrations)/.test(rel(t)) },
  { what: 'an adapter', test: (_s, t) => t !== undefined && /^(?:express|passport|cli)\//.test(rel(t)) },
  { what: 'better-sqlite3 or pg', test: (s) => s === 'better-sqlite3' || s === 'pg' || s.startsWith('pg-') },
];

describe('import graph of lib/', () => {
  it('finds the source files and their imports (the check below has something to check)', () => {
    expect(files.some((f) => rel(f) === 'core/issuing/authorization-server.ts')).toBe(true);
    expect(imports.get(join(LIB, 'oauth.ts'))).toContain('./core/issuing/authorization-server');
  });

  it('keeps lib/core free of express, passport, lib/options, store implementations and adapters', () => {
    const violations: string[] = [];
    for (const [file, specs] of imports) {
      if (!rel(file).startsWith('core/')) continue;
      for (const specifier of specs) {
        const target = resolveLocal(file, specifier, fileSet);
        for (const rule of FORBIDDEN_IN_CORE) if (rule.test(specifier, target)) violations.push(`${rel(file)} imports ${rule.what} (${specifier})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('reads process.env in lib/env.ts only; the default instance, the CLI and the example app go through it', () => {
    const exampleApp = resolve(__dirname, '..', '..', 'example-app');
    const readers = [...files, ...readdirSync(exampleApp).filter((f) => f.endsWith('.js')).map((f) => join(exampleApp, f))]
      .filter((file) => /process\.env\b/.test(readFileSync(file, 'utf8').replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '')))
      .map((file) => relative(resolve(LIB, '..'), file).replace(/\\/g, '/'));
    expect(readers).toEqual(['lib/env.ts']);
  });

  it('keeps the token client light: nothing it loads imports express, passport, bcrypt, better-sqlite3 or jsonwebtoken', () => {
    const heavy = /^(?:express|passport(?:-.*)?|bcrypt|better-sqlite3|jsonwebtoken|pg)$/;
    const seen = new Set<string>();
    const reached: string[] = [];
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const specifier of imports.get(file) ?? []) {
        const target = resolveLocal(file, specifier, fileSet);
        if (target) visit(target);
        else if (heavy.test(specifier)) reached.push(`${rel(file)} imports ${specifier}`);
      }
    };
    visit(join(LIB, 'client', 'index.ts'));
    expect(seen.has(join(LIB, 'options', 'client.ts'))).toBe(true);
    expect(reached).toEqual([]);
  });

  it('has no import cycles', () => {
    const graph = new Map(files.map((file) => [file, (imports.get(file) ?? []).map((s) => resolveLocal(file, s, fileSet)).filter((t): t is string => t !== undefined)]));
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string): void => {
      state.set(file, 'visiting');
      stack.push(file);
      for (const next of graph.get(file) ?? []) {
        if (state.get(next) === 'visiting') cycles.push([...stack.slice(stack.indexOf(next)), next].map(rel).join(' → '));
        else if (!state.has(next)) visit(next);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of files) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });
});
