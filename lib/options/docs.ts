// The README's options tables, rendered from the option table (lib/options/defaults.ts): scripts/readme-options.js writes them, test/readme.test.ts checks them.
import { OPTION_FAMILIES } from './defaults';
import type { OptionSpec, OptionTable } from './validate';

/** The README's default cell of one option: the computed default's text, or the literal (naming `DEFAULTS.x` when the key differs). */
export function defaultCell(name: string, spec: OptionSpec): string {
  if (spec.defaultText !== undefined) return spec.defaultText;
  if (spec.default === undefined) return 'unset';
  const literal = typeof spec.default === 'string' ? `'${spec.default}'` : String(spec.default);
  return spec.defaultsKey !== undefined && spec.defaultsKey !== name ? `\`${literal}\` (\`DEFAULTS.${spec.defaultsKey}\`)` : `\`${literal}\``;
}

/** One family's options as a Markdown table: `| Option | Type | Default | Meaning |`. */
export function optionsTable(table: OptionTable): string {
  const rows = Object.entries(table).map(
    ([name, spec]) => `| \`${name}\` | ${spec.type} | ${defaultCell(name, spec as OptionSpec)} | ${spec.description} |`,
  );
  return ['| Option | Type | Default | Meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** The marker pair around a family's table in the README. */
export function markers(family: keyof typeof OPTION_FAMILIES): [string, string] {
  return [`<!-- options:${family} (generated from the option tables in lib/options: npm run docs:options) -->`, `<!-- /options:${family} -->`];
}

/** `readme` with every family's table between its markers replaced by the rendering of the table; throws when markers are missing. */
export function renderReadmeOptions(readme: string): string {
  let out = readme;
  for (const family of Object.keys(OPTION_FAMILIES) as (keyof typeof OPTION_FAMILIES)[]) {
    const [open, close] = markers(family);
    const start = out.indexOf(open);
    const end = out.indexOf(close);
    if (start < 0 || end < start) throw new Error(`README lacks the markers of the ${family} options table`);
    out = `${out.slice(0, start + open.length)}\n${optionsTable(OPTION_FAMILIES[family])}\n${out.slice(end)}`;
  }
  return out;
}
