// The README is the user's manual: its options tables must state exactly the defaults in DEFAULTS.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS } from '../lib';

const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

/**
 * The default cells of every table row documenting an option: `| \`name\` | type | default | meaning |`,
 * or a row whose default cell names `DEFAULTS.name` (an option documented under another name).
 */
function defaultCells(name: string): string[] {
  return readme
    .split('\n')
    .filter((line) => line.startsWith(`| \`${name}\` |`) || line.includes(`(\`DEFAULTS.${name}\`)`))
    .map((line) => line.split(' | ')[2] ?? '');
}

describe('README options tables', () => {
  it.each(Object.entries(DEFAULTS))('states the default of %s as in DEFAULTS', (name, value) => {
    // A default computed from the machine is documented by the expression that computes it.
    const literal =
      name === 'maxConcurrentAuthentications' && value === availableParallelism()
        ? 'os.availableParallelism()'
        : typeof value === 'string'
          ? `'${value}'`
          : String(value);
    const cells = defaultCells(name);
    expect(cells.length).toBeGreaterThan(0);
    expect(cells.some((cell) => cell.includes(`\`${literal}\``))).toBe(true);
  });
});
