// Reads the user's manual (README.md and docs/*.md) for test/readme.test.ts: fenced code blocks, relative links and GitHub heading anchors.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root. */
export const ROOT = join(__dirname, '..', '..');

/** One Markdown page of the manual, by its path from the repository root. */
export interface Page {
  path: string;
  text: string;
}

/** README.md and every docs/*.md, read once. */
export function manualPages(): Page[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs].map((path) => ({ path, text: readFileSync(join(ROOT, path), 'utf8') }));
}

/** A fenced code block: its info string's first word (`ts`, `sh`, ...; '' when none), its body, and where it starts. */
export interface CodeBlock {
  page: string;
  line: number;
  lang: string;
  code: string;
}

/** Fence lines (``` or ~~~, indented up to a list item's depth), CommonMark §4.5. */
const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/;

/**
 * The fenced code blocks of a page, and its prose lines (outside any block) with their line numbers:
 * headings and links count only in prose.
 */
export function splitPage(page: Page): { blocks: CodeBlock[]; prose: { line: number; text: string }[] } {
  const blocks: CodeBlock[] = [];
  const prose: { line: number; text: string }[] = [];
  const lines = page.text.split('\n');
  let open: { fence: string; indent: number; lang: string; line: number; body: string[] } | undefined;
  lines.forEach((text, i) => {
    const fence = FENCE.exec(text);
    if (open) {
      if (fence && fence[2]!.startsWith(open.fence) && text.trim() === fence[2]) {
        blocks.push({ page: page.path, line: open.line, lang: open.lang, code: open.body.join('\n') });
        open = undefined;
      } else {
        open.body.push(text.slice(Math.min(open.indent, text.length - text.trimStart().length)));
      }
      return;
    }
    if (fence) {
      open = { fence: fence[2]!, indent: fence[1]!.length, lang: fence[3]!.toLowerCase(), line: i + 1, body: [] };
      return;
    }
    prose.push({ line: i + 1, text });
  });
  if (open) throw new Error(`${page.path}:${open.line}: a code block is never closed`);
  return { blocks, prose };
}

/**
 * GitHub's anchor for a heading (github-slugger): lower case, inline-code backticks and punctuation
 * dropped, spaces to hyphens; a repeated slug gets `-1`, `-2`, ...
 */
export function headingAnchors(page: Page): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text } of splitPage(page).prose) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(text);
    if (!heading) continue;
    // Link text counts, link targets do not: [text](url) reads as text.
    const title = heading[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const slug = title
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
    seen.set(slug, count + 1);
  }
  return anchors;
}

/** A relative link or image of a page's prose: `[text](target)`, its line and the target split at `#`. */
export interface Link {
  page: string;
  line: number;
  target: string;
  path: string;
  anchor: string | undefined;
}

/** The relative links of a page (absolute URLs and mail links are someone else's). */
export function relativeLinks(page: Page): Link[] {
  const links: Link[] = [];
  for (const { line, text } of splitPage(page).prose) {
    // Inline code may hold `[a](b)`-looking text that is not a link.
    const plain = text.replace(/`[^`]*`/g, '``');
    for (const match of plain.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = match[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      const hash = target.indexOf('#');
      links.push({
        page: page.path,
        line,
        target,
        path: hash < 0 ? target : target.slice(0, hash),
        anchor: hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1)),
      });
    }
  }
  return links;
}

/**
 * Splits one shell command line into words as a POSIX shell would for simple commands: single and
 * double quotes, backslash escapes; a `#` starting a word begins a comment.
 */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) word = (word ?? '') + line[++i];
      else word = (word ?? '') + c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      word ??= '';
    } else if (c === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i];
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === '#' && word === undefined) {
      break;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (quote) throw new Error(`unclosed quote in: ${line}`);
  if (word !== undefined) words.push(word);
  return words;
}
