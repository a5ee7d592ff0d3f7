import { REPO_ROOT } from '../support/paths';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/*
 * Every relative link of README.md and docs/**\/*.md leads somewhere: to a file or directory of
 * the repository and, with a `#fragment` into a Markdown file, to a heading or an `<a id>` there,
 * as GitHub names them.
 */

const root = REPO_ROOT;

function markdownUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? markdownUnder(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : [],
  );
}

/** README.md and every Markdown file under docs/. */
const DOCUMENTS = [join(root, 'README.md'), ...markdownUnder(join(root, 'docs'))];

/** The text outside fenced code blocks and inline code spans, line by line (line numbers kept). */
function prose(text: string): string[] {
  let fenced = false;
  return text.split('\n').map((line) => {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : line.replace(/`[^`]*`/g, '');
  });
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/<[^>]*>/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors a Markdown file offers: its headings (duplicates numbered, as GitHub does) and `<a id>`s. */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of text.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    if (fenced) continue;
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const base = slug(heading[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1'));
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(m[1]!);
  }
  return anchors;
}

/** A relative link that leads nowhere. */
interface BrokenLink {
  readonly at: string;
  readonly target: string;
  readonly problem: string;
}

/** Checks every relative link of one Markdown file. */
function brokenLinks(file: string, text: string = readFileSync(file, 'utf8')): BrokenLink[] {
  const broken: BrokenLink[] = [];
  prose(text).forEach((line, i) => {
    for (const m of line.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      const at = `${relative(root, file)}:${i + 1}`;
      const [path, fragment] = target.split('#', 2) as [string, string | undefined];
      const destination = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
      if (!existsSync(destination)) {
        broken.push({ at, target, problem: `${relative(root, destination)} does not exist` });
        continue;
      }
      if (fragment === undefined || fragment === '') continue;
      if (statSync(destination).isDirectory() || !destination.endsWith('.md')) {
        broken.push({ at, target, problem: `#${fragment} points into ${relative(root, destination)}, which is not a Markdown file` });
      } else if (!anchorsOf(readFileSync(destination, 'utf8')).has(fragment)) {
        broken.push({ at, target, problem: `${relative(root, destination)} has no heading or anchor '${fragment}'` });
      }
    }
  });
  return broken;
}

describe('the links of the README and docs/', () => {
  it('finds the documents', () => {
    expect(DOCUMENTS.map((d) => relative(root, d))).toEqual(
      expect.arrayContaining(['README.md', 'docs/how-it-decides.md', 'docs/reference/README.md', 'docs/adr/0024-generated-reference.md']),
    );
  });

  it.each(DOCUMENTS.map((d) => [relative(root, d), d]))('every relative link of %s resolves', (_name, file) => {
    expect(brokenLinks(file)).toEqual([]);
  });
});

describe('the link check', () => {
  const doc = join(root, 'docs', 'example.md');

  it('names a link to a file that does not exist', () => {
    expect(brokenLinks(doc, 'See [the runbook](operating/runbok.md).\n')).toEqual([
      { at: 'docs/example.md:1', target: 'operating/runbok.md', problem: 'docs/operating/runbok.md does not exist' },
    ]);
  });

  it('names a link to a heading that does not exist, and accepts one that does', () => {
    expect(brokenLinks(doc, '[a](how-it-decides.md#dry-run) [b](how-it-decides.md#dry-runs)\n')).toEqual([
      {
        at: 'docs/example.md:1',
        target: 'how-it-decides.md#dry-runs',
        problem: "docs/how-it-decides.md has no heading or anchor 'dry-runs'",
      },
    ]);
  });

  it('ignores links inside code and to other sites', () => {
    expect(brokenLinks(doc, '`[x](nowhere.md)`\n```\n[y](nowhere.md)\n```\n[z](https://example.com/nowhere)\n')).toEqual([]);
  });

  it('names headings as GitHub does', () => {
    expect([
      ...anchorsOf('# Managing baselines: `integrity-baselines`\n## Delivery, retries and dead letters\n## Notes\n## Notes\n'),
    ]).toEqual(['managing-baselines-integrity-baselines', 'delivery-retries-and-dead-letters', 'notes', 'notes-1']);
  });
});
