// No file of the project keeps a merge's conflict markers: a half-resolved merge fails here, not in a reader's eyes.
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
/** Folders that hold what we write; generated output, dependencies and stored results are not ours to check. */
const SKIP = new Set(['node_modules', 'dist', 'dist-bench', 'coverage', '.git', 'results', 'peers']);
const TEXT = /\.(ts|js|cjs|mjs|json|md|yml|yaml|sh|sql)$/;

function textFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIP.has(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return textFiles(path);
    return TEXT.test(entry.name) || entry.name === 'run' ? [path] : [];
  });
}

/** Lines that open, divide or close a conflict as git writes them. */
const MARKER = /^(<{7}( .*)?|={7}|>{7}( .*)?)$/;

describe('merges', () => {
  it('leave no conflict markers in any source, test, bench or documentation file', () => {
    const found: string[] = [];
    for (const file of textFiles(ROOT)) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (MARKER.test(line)) found.push(`${relative(ROOT, file)}:${i + 1}: ${line}`);
        });
    }
    expect(found).toEqual([]);
  });

  it('recognizes the three markers git writes', () => {
    expect(['<<<<<<< HEAD', '=======', '>>>>>>> pg'].every((line) => MARKER.test(line))).toBe(true);
    expect(MARKER.test('======== not a marker')).toBe(false);
  });
});
