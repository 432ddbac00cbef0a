import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/**
 * The README and docs/*.md name files of this repository in backticks (`src/db/database.ts`) and in
 * links ([delivery.md](delivery.md#metrics)). A file that moves leaves them pointing at nothing;
 * this test finds every such path and checks that it exists, and that a link's `#anchor` names a
 * heading of the file it points to.
 *
 * Checked: inline code spans naming a path under one of `ROOTS` (from the repository root), and
 * relative links (from the file's own folder). Not checked: fenced code blocks (commands and
 * pictures, which may name files a command creates), bare file names (`fair-slots.ts`, relative
 * to a folder the text names), and names with a wildcard or an ellipsis (`*.entity.ts`, `src/…`).
 */

const ROOT = join(__dirname, '..', '..');

/** Folders whose paths the docs name in backticks, from the repository root. */
const ROOTS = ['src', 'test', 'docs', 'bench', 'scripts', '.ci'];

/** Paths a run writes (ignored by git), named as where to find its output. */
const GENERATED = ['bench/results/'];

export interface Reference {
  /** The markdown file, relative to the repository root. */
  file: string;
  /** What the text says, as written. */
  text: string;
  /** The path it names, relative to the repository root. */
  path: string;
  /** For a link, the `#anchor` after the path (empty when none). */
  anchor: string;
}

function withoutFencedBlocks(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
}

const PATH_IN_SPAN = new RegExp(`(?:^|[\\s(=,])((?:${ROOTS.map((root) => root.replace('.', '\\.')).join('|')})/[^\\s\`'"(),;]*)`, 'g');

/** Every path a markdown file names in inline code spans and relative links. */
export function referencesIn(file: string, markdown: string): Reference[] {
  const text = withoutFencedBlocks(markdown);
  const references: Reference[] = [];
  for (const span of text.matchAll(/`([^`\n]+)`/g)) {
    for (const match of span[1].matchAll(PATH_IN_SPAN)) {
      const named = match[1].replace(/:\d+(-\d+)?$/, '').replace(/[.:]$/, '');
      if (/[…*<>{}$]/.test(named)) continue;
      references.push({ file, text: span[0], path: named, anchor: '' });
    }
  }
  for (const link of text.matchAll(/\[[^\]\n]*\]\(([^)\s]+)\)/g)) {
    const target = link[1];
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
    const [path, anchor = ''] = target.split('#');
    const resolved = path === '' ? file : relative(ROOT, join(ROOT, dirname(file), path));
    references.push({ file, text: link[0], path: resolved, anchor });
  }
  return references;
}

/**
 * Names with a slash in fenced blocks (`src/db/`, `delivery/sender.ts`): the README's layout and its
 * picture, whose paths are written from the root or from `src/`. Not URLs (`http://localhost:4000/…`).
 */
export function namesInFencedBlocks(markdown: string): string[] {
  const names: string[] = [];
  for (const block of markdown.matchAll(/^(```|~~~)[^\n]*\n([\s\S]*?)^\1[^\n]*$/gm)) {
    for (const match of block[2].matchAll(/(?<![\w./:-])([A-Za-z][\w-]*\/(?:[\w-]+\/)*[\w.-]*)/g)) {
      names.push(match[1].replace(/[.,:]$/, ''));
    }
  }
  return names;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const heading of withoutFencedBlocks(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(heading[1]);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** What is wrong with each reference, against the files under `root`. */
export function brokenReferences(references: readonly Reference[], root: string = ROOT): string[] {
  const problems: string[] = [];
  for (const reference of references) {
    if (GENERATED.some((prefix) => reference.path.startsWith(prefix))) continue;
    const where = `${reference.file}: ${reference.text}`;
    const full = join(root, reference.path);
    if (!existsSync(full)) {
      problems.push(`${where} names ${reference.path}, which does not exist`);
      continue;
    }
    if (reference.anchor !== '' && reference.path.endsWith('.md')) {
      if (!anchorsOf(readFileSync(full, 'utf8')).has(reference.anchor)) {
        problems.push(`${where} links to #${reference.anchor}, which is no heading of ${reference.path}`);
      }
    }
  }
  return problems;
}

function documents(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => join('docs', name));
  return ['README.md', ...docs];
}

describe('paths named by the README and docs/', () => {
  const files = documents();

  it('reads the README and every docs/*.md', () => {
    expect(files).toContain('README.md');
    expect(files).toContain(join('docs', 'delivery.md'));
  });

  it.each(files)('%s names only paths that exist', (file) => {
    const references = referencesIn(file, readFileSync(join(ROOT, file), 'utf8'));
    expect(brokenReferences(references)).toEqual([]);
  });

  it("the README's layout and picture name folders and files that exist (from the root, or under src/)", () => {
    const named = namesInFencedBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    expect(named).toEqual(expect.arrayContaining(['src/config.ts', 'events/outbox.ts', 'delivery/sender.ts']));
    const missing = named.filter((name) => !existsSync(join(ROOT, name)) && !existsSync(join(ROOT, 'src', name)));
    expect(missing).toEqual([]);
  });

  describe('the check itself', () => {
    const sample = [
      'The bus is `src/events/event-bus.ts`; see `src/config.ts:12` and `npm test -- test/config.test.ts`.',
      'Details: [delivery](docs/delivery.md#no-such-heading), [the queue](docs/delivery.md#the-queue-leases-fairness-at-least-once),',
      '[missing](docs/nowhere.md), [site](https://example.com/src/x.ts), [here](#quick-start).',
      'Layout: `src/…`, `*.entity.ts`, `bench/results/latest.json`.',
      '```sh',
      'npx typeorm migration:generate src/db/migrations/AddSomething',
      '```',
      '## Quick start',
    ].join('\n');
    const references = referencesIn('README.md', sample);

    it('finds paths in code spans and links, and leaves out fenced blocks, URLs and wildcards', () => {
      expect(references.map((reference) => `${reference.path}#${reference.anchor}`)).toEqual([
        'src/events/event-bus.ts#',
        'src/config.ts#',
        'test/config.test.ts#',
        'bench/results/latest.json#',
        'docs/delivery.md#no-such-heading',
        'docs/delivery.md#the-queue-leases-fairness-at-least-once',
        'docs/nowhere.md#',
        'README.md#quick-start',
      ]);
    });

    it('reports a missing file and a missing heading, and nothing that exists', () => {
      const problems = brokenReferences(references);
      expect(problems).toEqual([
        'README.md: `src/events/event-bus.ts` names src/events/event-bus.ts, which does not exist',
        'README.md: [delivery](docs/delivery.md#no-such-heading) links to #no-such-heading, which is no heading of docs/delivery.md',
        'README.md: [missing](docs/nowhere.md) names docs/nowhere.md, which does not exist',
      ]);
    });
  });
});
