// The options tables of docs/options.md, rendered from the option table (lib/options/defaults.ts): scripts/docs-options.js writes them, test/readme.test.ts checks them.
import { OPTION_FAMILIES } from './defaults';
import type { OptionSpec, OptionTable } from './validate';

/** The default cell of one option in docs/options.md: the computed default's text, or the literal (naming `DEFAULTS.x` when the key differs). */
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

/** The marker pair around a family's table in docs/options.md. */
export function markers(family: keyof typeof OPTION_FAMILIES): [string, string] {
  return [`<!-- options:${family} (generated from the option tables in lib/options: npm run docs:options) -->`, `<!-- /options:${family} -->`];
}

/** `page` (docs/options.md) with every family's table between its markers replaced by the rendering of the table; throws when markers are missing. */
export function renderOptionTables(page: string): string {
  let out = page;
  for (const family of Object.keys(OPTION_FAMILIES) as (keyof typeof OPTION_FAMILIES)[]) {
    const [open, close] = markers(family);
    const start = out.indexOf(open);
    const end = out.indexOf(close);
    if (start < 0 || end < start) throw new Error(`docs/options.md lacks the markers of the ${family} options table`);
    out = `${out.slice(0, start + open.length)}\n${optionsTable(OPTION_FAMILIES[family])}\n${out.slice(end)}`;
  }
  return out;
}
