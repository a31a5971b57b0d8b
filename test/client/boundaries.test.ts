// The calling side stays light: lib/client imports neither Express nor the server code (no better-sqlite3 or bcrypt at load).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const DIR = join(__dirname, '..', '..', 'lib', 'client');
const ALLOWED_PACKAGES = new Set(['oauth4webapi', 'lru-cache']);
// The server-side modules it shares: the typed event emitter (node:events only), the bounded LRU (lru-cache only)
// and its option table in lib/options (the toolkit and scope grammar only; test/architecture checks that nothing
// heavy loads with it).
const ALLOWED_CORE = new Set(['../core/model/recording-emitter', '../core/model/bounded-lru', '../options/client']);

describe('lib/client boundaries', () => {
  it.each(readdirSync(DIR).filter((f) => f.endsWith('.ts')))('%s imports only its siblings, node: built-ins, oauth4webapi, lru-cache, the shared event emitter and bounded LRU', (file) => {
    const source = readFileSync(join(DIR, file), 'utf8');
    const specifiers = [...source.matchAll(/^(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm)].map((m) => m[1] as string);
    for (const spec of specifiers) {
      const ok = spec.startsWith('./') || spec.startsWith('node:') || ALLOWED_PACKAGES.has(spec) || ALLOWED_CORE.has(spec);
      expect({ file, spec, ok }).toEqual({ file, spec, ok: true });
    }
    expect(source).not.toMatch(/require\(/);
  });
});
