import { REPO_ROOT } from '../support/paths';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

// How the docs tests read Markdown: which files, which text is prose, and which anchors a page offers.

/** Every Markdown file under `dir`, at any depth. */
export function markdownUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? markdownUnder(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : [],
  );
}

/** The text outside fenced code blocks and inline code spans, line by line (line numbers kept). */
export function prose(text: string): string[] {
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
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/<[^>]*>/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors a Markdown file offers: its headings (duplicates numbered, as GitHub does) and `<a id>`s. */
export function anchorsOf(text: string): Set<string> {
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

/** The relative links of one line of prose: each target as written (`path#fragment`). */
export function relativeLinks(line: string): string[] {
  return [...line.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

/** A relative link that leads nowhere. */
export interface BrokenLink {
  readonly at: string;
  readonly target: string;
  readonly problem: string;
}

/** Checks every relative link of one Markdown file (its text read from disk unless given). */
export function brokenLinks(file: string, text: string = readFileSync(file, 'utf8')): BrokenLink[] {
  const broken: BrokenLink[] = [];
  prose(text).forEach((line, i) => {
    for (const target of relativeLinks(line)) {
      const at = `${relative(REPO_ROOT, file)}:${i + 1}`;
      const [path, fragment] = target.split('#', 2) as [string, string | undefined];
      const destination = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
      if (!existsSync(destination)) {
        broken.push({ at, target, problem: `${relative(REPO_ROOT, destination)} does not exist` });
        continue;
      }
      if (fragment === undefined || fragment === '') continue;
      if (statSync(destination).isDirectory() || !destination.endsWith('.md')) {
        broken.push({ at, target, problem: `#${fragment} points into ${relative(REPO_ROOT, destination)}, which is not a Markdown file` });
      } else if (!anchorsOf(readFileSync(destination, 'utf8')).has(fragment)) {
        broken.push({ at, target, problem: `${relative(REPO_ROOT, destination)} has no heading or anchor '${fragment}'` });
      }
    }
  });
  return broken;
}
