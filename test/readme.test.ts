// The README and docs/ are the user's manual: docs/options.md's tables are the option table rendered, every TS/JS block type-checks against the library, every CLI and npm line is a real command, every relative link resolves.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, normalize, relative, dirname } from 'node:path';
import ts from 'typescript';
import { DEFAULTS } from '../lib';
import { NOUNS, extractGlobalOptions } from '../lib/cli/main';
import { parseCommandLine } from '../lib/cli/command';
import { OPTION_FAMILIES } from '../lib/options';
import { markers, optionsTable } from '../lib/options/docs';
import { ROOT, headingAnchors, manualPages, relativeLinks, shellWords, splitPage, type CodeBlock } from './support/markdown';

const optionsPage = readFileSync(join(__dirname, '..', 'docs', 'options.md'), 'utf8');

/**
 * The default cells of every table row documenting an option: `| \`name\` | type | default | meaning |`,
 * or a row whose default cell names `DEFAULTS.name` (an option documented under another name).
 */
function defaultCells(name: string): string[] {
  return optionsPage
    .split('\n')
    .filter((line) => line.startsWith(`| \`${name}\` |`) || line.includes(`(\`DEFAULTS.${name}\`)`))
    .map((line) => line.split(' | ')[2] ?? '');
}

/** docs/options.md's table of one family: the lines between its markers. */
function pageTable(family: keyof typeof OPTION_FAMILIES): string[] {
  const [open, close] = markers(family);
  const start = optionsPage.indexOf(open);
  const end = optionsPage.indexOf(close);
  if (start < 0 || end < start) return [];
  return optionsPage.slice(start + open.length, end).trim().split('\n');
}

describe('docs/options.md options tables', () => {
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
      expect(pageTable(family).map((row) => /^\| `([^`]+)`/.exec(row)?.[1] ?? row.slice(0, 20))).toEqual(
        expected.map((row) => /^\| `([^`]+)`/.exec(row)?.[1] ?? row.slice(0, 20)),
      );
    });
    it.each(Object.keys(OPTION_FAMILIES[family]))('documents %s with the table\'s type, default and description', (name) => {
      const row = expected.find((line) => line.startsWith(`| \`${name}\` |`));
      expect(pageTable(family).find((line) => line.startsWith(`| \`${name}\` |`))).toBe(row);
    });
  });
});

const pages = manualPages();
const blocks = pages.flatMap((page) => splitPage(page).blocks);

/**
 * Diagnostics that a fragment may have and a whole program would not: names the surrounding app
 * declares (`app`, `handler`, `oauth`, ...), and top-level `await` in a CommonJS-compiled block.
 */
const FRAGMENT_CODES = new Set([2304, 2552, 1375, 1378, 2580]);

/**
 * Every `js` / `ts` block of the manual, compiled together with the library (each block its own
 * module, importing the package by its published names, mapped to lib/ through package.json's
 * exports): the errors of each block, as `page:line: message`. TypeScript blocks are checked
 * `strict`, as an app would compile them; JavaScript blocks as `checkJs` without `strict`, since
 * plain JavaScript has no annotations to satisfy `noImplicitAny`.
 */
function compileBlocks(codeBlocks: CodeBlock[]): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; exports: Record<string, { default?: string } | string> };
  const paths: Record<string, string[]> = {};
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    const file = typeof target === 'string' ? target : target.default;
    if (!file?.startsWith('./dist/') || !file.endsWith('.js')) continue;
    paths[pkg.name + subpath.slice(1)] = [`lib/${file.slice('./dist/'.length, -'.js'.length)}.ts`];
  }
  const files = new Map<string, { block: CodeBlock; text: string }>();
  codeBlocks.forEach((block, i) => {
    const ext = block.lang === 'ts' || block.lang === 'typescript' ? 'ts' : 'js';
    // `export {}` makes each block a module, so blocks never see each other's names.
    files.set(join(ROOT, '.doc-blocks', `block${i}.${ext}`), { block, text: `${block.code}\nexport {};\n` });
  });
  const base: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: ['node'],
    esModuleInterop: true,
    allowJs: true,
    checkJs: true,
    noEmit: true,
    skipLibCheck: true,
    baseUrl: ROOT,
    paths,
  };
  const host = ts.createCompilerHost(base);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (name) => files.get(normalize(name))?.text ?? readFile(name);
  host.fileExists = (name) => files.has(normalize(name)) || fileExists(name);
  host.getSourceFile = (name, version, onError, create) => {
    const own = files.get(normalize(name));
    return own ? ts.createSourceFile(name, own.text, version, true) : getSourceFile(name, version, onError, create);
  };
  const errors: string[] = [];
  let previous: ts.Program | undefined;
  for (const strict of [true, false]) {
    const names = [...files.keys()].filter((name) => name.endsWith('.ts') === strict);
    if (names.length === 0) continue;
    // The second program reuses the first one's parsed library files.
    const program = ts.createProgram({ rootNames: names, options: { ...base, strict }, host, ...(previous ? { oldProgram: previous } : {}) });
    previous = program;
    for (const name of names) {
      const { block } = files.get(name)!;
      const source = program.getSourceFile(name)!;
      for (const diagnostic of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
        if (FRAGMENT_CODES.has(diagnostic.code)) continue;
        const { line } = source.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
        errors.push(`${block.page}:${block.line + 1 + line}: TS${diagnostic.code} ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`);
      }
    }
  }
  return errors;
}

describe('code blocks of README.md and docs/*.md', () => {
  const code = blocks.filter((block) => ['js', 'ts', 'javascript', 'typescript'].includes(block.lang));

  it('finds the TypeScript and JavaScript blocks of every page that has some', () => {
    expect(code.length).toBeGreaterThan(20);
    expect(new Set(code.map((block) => block.page))).toContain('README.md');
  });

  // One program for all blocks: a renamed export, a misspelt option or a wrong argument fails here.
  it('type-checks every TS/JS block against the library as published (names the surrounding app declares allowed)', () => {
    expect(compileBlocks(code)).toEqual([]);
  }, 120_000);

  it('reports a block that names an export the package does not have (the check can fail)', () => {
    const wrong: CodeBlock = { page: 'test', line: 0, lang: 'js', code: "const { requireScopes } = require('express-client-credentials');" };
    const misspelt: CodeBlock = { page: 'test', line: 0, lang: 'ts', code: "import { createOAuth } from 'express-client-credentials';\ncreateOAuth({ issuer: 'https://a.example', accessTokenLifeTime: 5 });" };
    const errors = compileBlocks([wrong, misspelt]);
    expect(errors).toHaveLength(2);
    expect(errors.find((e) => e.includes("'requireScopes'"))).toMatch(/^test:1: TS\d+ .*no exported member/);
    expect(errors.find((e) => e.includes("'accessTokenLifeTime'"))).toMatch(/^test:2: TS\d+ .*known properties/);
  }, 120_000);
});

/**
 * The lines of shell blocks, `$ ` prompts and leading `VAR=value` assignments removed, continuation
 * lines joined, and a page's `alias name='...'` expanded in the lines after it.
 */
function shellCommands(): { where: string; words: string[] }[] {
  const commands: { where: string; words: string[] }[] = [];
  const aliases = new Map<string, string[]>();
  let page = '';
  for (const block of blocks.filter((b) => ['sh', 'shell', 'bash', 'console'].includes(b.lang))) {
    if (block.page !== page) aliases.clear();
    page = block.page;
    const lines = block.code.split('\n');
    for (let i = 0; i < lines.length; i++) {
      let text = lines[i]!;
      const start = i;
      while (text.endsWith('\\') && i + 1 < lines.length) text = text.slice(0, -1) + lines[++i];
      if (block.lang === 'console') {
        if (!text.startsWith('$ ')) continue; // program output
        text = text.slice(2);
      }
      let words = shellWords(text);
      while (words.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(words[0]!)) words.shift();
      const alias = words[0] === 'alias' ? /^([\w-]+)=(.*)$/s.exec(words[1] ?? '') : null;
      if (alias) aliases.set(alias[1]!, shellWords(alias[2]!));
      const expansion = aliases.get(words[0] ?? '');
      if (expansion) words = [...expansion, ...words.slice(1)];
      if (words.length > 0) commands.push({ where: `${block.page}:${block.line + 1 + start}`, words });
    }
  }
  return commands;
}

/** Why a command line of the CLI would be refused, or undefined when the CLI accepts its words. */
function cliRefusal(argv: string[]): string | undefined {
  // As lib/cli/main.ts reads a line: `--db` and `--json` anywhere, given back after the command's own words.
  const { rest: line, globals } = extractGlobalOptions(argv);
  const [nounName, verb, ...own] = line;
  const rest = [...own, ...globals];
  const noun = NOUNS.find((n) => n.name === nounName);
  if (!noun) return `unknown noun ${nounName}`;
  const command = verb !== undefined && Object.hasOwn(noun.commands, verb) ? noun.commands[verb] : undefined;
  if (!command) return `unknown command ${nounName} ${verb}`;
  try {
    parseCommandLine(command, rest, `${nounName} ${verb}`);
    return undefined;
  } catch (err: unknown) {
    return (err as Error).message;
  }
}

describe('shell blocks of README.md and docs/*.md', () => {
  const commands = shellCommands();
  const cli = commands.filter(({ words }) => words[0] === 'express-client-credentials' || (words[0] === 'npx' && words[1] === 'express-client-credentials'));

  it('finds the CLI lines', () => {
    expect(cli.length).toBeGreaterThan(10);
  });

  it('gives every CLI line a command the CLI has, with options and arguments it accepts', () => {
    const refused = cli
      .map(({ where, words }) => ({ where, why: cliRefusal(words.slice(words[0] === 'npx' ? 2 : 1)) }))
      .filter(({ why }) => why !== undefined)
      .map(({ where, why }) => `${where}: ${why}`);
    expect(refused).toEqual([]);
  });

  it('refuses an unknown command, option or a missing argument (the check can fail)', () => {
    expect(cliRefusal(['client', 'remove', 'ID'])).toMatch(/unknown command/);
    expect(cliRefusal(['client', 'create', '--name', 'x', '--scopes', 'read'])).toMatch(/unknown option --scopes/);
    expect(cliRefusal(['client', 'rotate-secret'])).toMatch(/missing argument/);
  });

  it('gives every npm line a script of package.json (or an npm command)', () => {
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const builtins = new Set(['install', 'ci', 'test', 'start', 'pack', 'audit']);
    const wrong = commands
      .filter(({ words }) => words[0] === 'npm')
      .flatMap(({ where, words }) => {
        const args = words.slice(1).filter((w) => !w.startsWith('-'));
        const script = args[0] === 'run' ? args[1] : args[0];
        if (script === undefined) return [`${where}: npm without a command`];
        if (args[0] === 'run') return script in scripts ? [] : [`${where}: no script ${script}`];
        if ((script === 'test' || script === 'start') && !(script in scripts)) return [`${where}: no script ${script}`];
        return builtins.has(script) ? [] : [`${where}: npm ${script}?`];
      });
    expect(wrong).toEqual([]);
  });
});

describe('the CLI reference (docs/cli.md)', () => {
  const page = pages.find((p) => p.path === 'docs/cli.md')!;
  // The first cell of each table row, which may name several commands: `client disable ID` / `client enable ID`.
  const documented = new Set(
    splitPage(page)
      .prose.filter(({ text }) => text.startsWith('| `'))
      .flatMap(({ text }) => [...(text.slice(2).split(/(?<!\\)\|/)[0] ?? '').matchAll(/`([a-z-]+) ([a-z-]+)/g)].map((m) => `${m[1]} ${m[2]}`)),
  );
  const known = NOUNS.flatMap((noun) => Object.keys(noun.commands).map((verb) => `${noun.name} ${verb}`));

  it.each(known)('documents %s in its commands table', (command) => {
    expect(documented).toContain(command);
  });

  it('documents no command the CLI does not have', () => {
    expect([...documented].filter((command) => !known.includes(command))).toEqual([]);
  });
});

describe('relative links of README.md and docs/*.md', () => {
  const anchors = new Map(pages.map((page) => [page.path, headingAnchors(page)]));
  const links = pages.flatMap((page) => relativeLinks(page));

  it('finds links between the pages', () => {
    expect(links.filter((link) => link.page === 'README.md' && link.path.startsWith('docs/')).length).toBeGreaterThan(10);
  });

  it('points every link at an existing file, and every anchor at a heading of its page', () => {
    const broken = links.flatMap((link) => {
      const file = link.path === '' ? link.page : normalize(join(dirname(link.page), link.path));
      if (!existsSync(join(ROOT, file))) return [`${link.page}:${link.line}: ${link.target}: no file ${file}`];
      if (link.anchor === undefined) return [];
      if (!file.endsWith('.md') || statSync(join(ROOT, file)).isDirectory()) return [`${link.page}:${link.line}: ${link.target}: an anchor into a file that is not a page`];
      const known = anchors.get(relative('.', file)) ?? headingAnchors({ path: file, text: readFileSync(join(ROOT, file), 'utf8') });
      return known.has(link.anchor) ? [] : [`${link.page}:${link.line}: ${link.target}: no heading #${link.anchor} in ${file}`];
    });
    expect(broken).toEqual([]);
  });

  it('computes anchors as GitHub does (the check can fail)', () => {
    const page = { path: 'x.md', text: '# A `b(c?)` and d\n## Who sees a revocation, and when\n## Who sees a revocation, and when\n```\n# not a heading\n```' };
    expect([...headingAnchors(page)]).toEqual(['a-bc-and-d', 'who-sees-a-revocation-and-when', 'who-sees-a-revocation-and-when-1']);
  });
});
