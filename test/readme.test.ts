// The README is the user's manual: its options tables are the option table (lib/options/defaults.ts) rendered, row by row, and state exactly the defaults in DEFAULTS.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS } from '../lib';
import { OPTION_FAMILIES } from '../lib/options';
import { markers, optionsTable } from '../lib/options/docs';

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

/** The README's table of one family: the lines between its markers. */
function readmeTable(family: keyof typeof OPTION_FAMILIES): string[] {
  const [open, close] = markers(family);
  const start = readme.indexOf(open);
  const end = readme.indexOf(close);
  if (start < 0 || end < start) return [];
  return readme.slice(start + open.length, end).trim().split('\n');
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

  // Row by row, so a failure names the option whose type, default or description drifted.
  // After changing lib/options/defaults.ts, `npm run docs:options` rewrites the tables.
  describe.each(Object.keys(OPTION_FAMILIES) as (keyof typeof OPTION_FAMILIES)[])('the %s table', (family) => {
    const expected = optionsTable(OPTION_FAMILIES[family]).split('\n');
    it('has the option table\'s rows in its order, nothing else', () => {
      expect(readmeTable(family).map((row) => /^\| `([^`]+)`/.exec(row)?.[1] ?? row.slice(0, 20))).toEqual(
        expected.map((row) => /^\| `([^`]+)`/.exec(row)?.[1] ?? row.slice(0, 20)),
      );
    });
    it.each(Object.keys(OPTION_FAMILIES[family]))('documents %s with the table\'s type, default and description', (name) => {
      const row = expected.find((line) => line.startsWith(`| \`${name}\` |`));
      expect(readmeTable(family).find((line) => line.startsWith(`| \`${name}\` |`))).toBe(row);
    });
  });
});
