import { REPO_ROOT } from '../support/paths';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { GENERATED_MARKER, REPORT_TITLE, renderReport } from '../../scripts/bench/report';
import { REPORT_PATH } from '../../scripts/bench/options';
import { brokenLinks, markdownUnder, prose, relativeLinks } from './markdown';

/*
 * Measured figures live in one report, docs/figures.md, which `npm run bench -- --write-report`
 * writes; the docs link to it instead of quoting figures that drift.
 *
 * A figure stated by hand (HAND_FIGURE) is, in the prose of a document (outside fenced code
 * blocks and inline code spans):
 * - a number, or a range of two, followed by ms, MB, KB, GB, events/s, ev/s or %
 *   (`72 ms`, `5.1–8.4 ms`, `354–494 MB`, `77–83 %`);
 * - a number with a decimal point followed by s, min or h (`0.62 s`, `1.9 h`). Whole seconds are
 *   not counted: the docs state settings in them (a `120 s` wait, a backoff from `10 s` to `600 s`);
 * - a ratio, a number followed by × (`4.4×`);
 * unless it follows ≤, ≥, < or >: that is a target or a limit (`≤ 300 ms`).
 *
 * README.md and every Markdown file under docs/ state none, except the report itself, the
 * generated reference (docs/reference/, docs/api/) and the decision records. A decision record is
 * dated: figures it states are its evidence on that date, and it says so in a note that links to
 * the report for today's (FIGURES_NOTE).
 */

const REPORT = join(REPO_ROOT, REPORT_PATH);

/** The report's sections, in the order the bench writes them. */
const SECTIONS = [
  'Bundle',
  'Synth',
  'Per event',
  'Storm: every cell',
  'Storm: against the targets',
  'Storm: every call counted',
  'Storm: cold path',
  'Storm: the action budget off and on',
  'Sizing: a rollout to 10,000 VMs',
  'Test suite',
];
/** Tables whose targets are in another table: the storm's cells have theirs in its summary. */
const TARGETS_ELSEWHERE = new Set(['Storm: every cell']);

const NUMBER = String.raw`\d[\d,]*(?:\.\d+)?`;
const RANGE = String.raw`${NUMBER}(?:\s?[–-]\s?${NUMBER})?`;
/** A figure stated by hand, as the header says. */
const HAND_FIGURE = new RegExp(
  String.raw`(?<![\w.])(?:${RANGE}\s?(?:ms|MB|KB|GB|events/s|ev/s|%)(?!\w)|\d[\d,]*\.\d+(?:\s?[–-]\s?${NUMBER})?\s?(?:s|min|h)(?!\w)|${RANGE}×)`,
  'gu',
);
/** The note of a decision record that states figures: the date they were measured, and the report. */
const FIGURES_NOTE = /^> The figures here were measured on \d{4}-\d{2}-\d{2}\b.*\]\(\.\.\/figures\.md\)/m;

/** Documents that send a reader to the report for the figures they used to quote. */
const LINKING = ['README.md', 'docs/README.md', 'docs/performance.md', 'docs/sizing.md', 'docs/testing.md'];

const DOCUMENTS = [join(REPO_ROOT, 'README.md'), ...markdownUnder(join(REPO_ROOT, 'docs'))];
const under = (file: string, dir: string) => !relative(join(REPO_ROOT, dir), file).startsWith('..');
const HAND_WRITTEN = DOCUMENTS.filter((f) => f !== REPORT && !under(f, 'docs/adr') && !under(f, 'docs/reference') && !under(f, 'docs/api'));
const ADRS = DOCUMENTS.filter((f) => under(f, 'docs/adr'));

/** Every figure stated by hand in `text`, as `file:line: figure`. */
function handFigures(file: string, text: string): string[] {
  return prose(text).flatMap((line, i) =>
    [...line.matchAll(HAND_FIGURE)]
      .filter((m) => !/[≤≥<>]\s?$/.test(line.slice(0, m.index)))
      .map((m) => `${relative(REPO_ROOT, file)}:${i + 1}: ${m[0]}`),
  );
}

/** The rows of the Markdown table that starts at line `from`, cells trimmed (header first, separator left out). */
function tableAt(lines: readonly string[], from: number): string[][] {
  const rows: string[][] = [];
  for (let i = from; i < lines.length && lines[i]!.startsWith('|'); i++) {
    if (i === from + 1) continue;
    rows.push(
      lines[i]!.slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
  }
  return rows;
}

/** What keeps `text` from being a report as the bench writes it for the docs: a full run, every section. */
function reportProblems(text: string): string[] {
  const lines = text.split('\n');
  const problems: string[] = [];
  if (lines[0] !== REPORT_TITLE) problems.push(`the first line is not '${REPORT_TITLE}'`);
  if (lines[2] !== GENERATED_MARKER) problems.push('the third line is not the marker the bench writes');
  const headerAt = lines.findIndex((l) => l.startsWith('| run |'));
  const header = new Map(headerAt < 0 ? [] : tableAt(lines, headerAt).map(([k, v]) => [k!, v ?? '']));
  const expectHeader = (field: string, pattern: RegExp) => {
    if (!pattern.test(header.get(field) ?? '')) problems.push(`the header's ${field} is '${header.get(field) ?? ''}', not ${pattern}`);
  };
  expectHeader('command', /^`npm run bench -- --write-report( --jest-seconds \d+(\.\d+)?)?`$/);
  expectHeader('started', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
  expectHeader('commit', /^`[0-9a-f]{40}` \(.+\)$/);
  expectHeader('machine', /^\d+ cores; load average at the start \d+\.\d+ \/ \d+\.\d+ \/ \d+\.\d+ \(1, 5, 15 min\)$/);
  expectHeader('scope', /^full$/);
  expectHeader('took', /^\d+ (min \d+ )?s$/);

  const titles = lines.filter((l) => l.startsWith('## ')).map((l) => l.slice(3));
  if (JSON.stringify(titles) !== JSON.stringify(SECTIONS))
    problems.push(`the sections are ${JSON.stringify(titles)}, not ${JSON.stringify(SECTIONS)}`);
  for (const title of titles) {
    const at = lines.indexOf(`## ${title}`);
    const tableStart = lines.findIndex((l, i) => i > at && l.startsWith('|'));
    const nextSection = lines.findIndex((l, i) => i > at && l.startsWith('## '));
    if (tableStart < 0 || (nextSection >= 0 && tableStart > nextSection)) {
      problems.push(`section '${title}' has no table`);
      continue;
    }
    const [columns, ...rows] = tableAt(lines, tableStart);
    if (rows.length === 0) problems.push(`the table of '${title}' has no rows`);
    for (const row of rows) {
      if (row.length !== columns!.length) problems.push(`a row of '${title}' has ${row.length} cells for ${columns!.length} columns`);
    }
    if (!TARGETS_ELSEWHERE.has(title) && !columns!.includes('target') && rows[0]?.[0] !== 'target') {
      problems.push(`the table of '${title}' gives no target: neither a target column nor a target row`);
    }
    if (title === 'Test suite') {
      const measured = rows[0]?.[columns!.indexOf('measured')] ?? '';
      const given = /--jest-seconds (\S+)`$/.exec(header.get('command') ?? '')?.[1];
      if (measured !== (given === undefined ? 'not given' : `${given} s`)) {
        problems.push(`the test suite's time is '${measured}' where the command gave ${given === undefined ? 'none' : `${given} s`}`);
      }
    }
  }
  return problems;
}

describe('the figures report', () => {
  it(`is at ${REPORT_PATH}, written by a full run of the bench, with every section and its targets`, () => {
    expect(existsSync(REPORT)).toBe(true);
    expect(reportProblems(readFileSync(REPORT, 'utf8'))).toEqual([]);
  });

  it('is in the shape the bench writes it', () => {
    const run = {
      command: 'npm run bench -- --write-report --jest-seconds 97.5',
      startedAt: new Date('2026-12-07T09:00:00.000Z'),
      commit: 'a'.repeat(40),
      uncommittedPaths: 0,
      cores: 2,
      loadAverage: [0.5, 0.25, 0.125],
      node: 'v20.20.2',
      scope: 'full',
      tookSeconds: 361,
    };
    const tables = SECTIONS.map((title) => ({
      title,
      about: 'What it measures.',
      columns: ['figure', 'measured', 'target'],
      rows: [[`${title} figure`, title === 'Test suite' ? '97.5 s' : '1', '-']],
    }));
    expect(reportProblems(renderReport(run, tables))).toEqual([]);
    expect(reportProblems(renderReport({ ...run, scope: 'a short storm (--quick)' }, tables.slice(1)))).toEqual([
      "the header's scope is 'a short storm (--quick)', not /^full$/",
      `the sections are ${JSON.stringify(SECTIONS.slice(1))}, not ${JSON.stringify(SECTIONS)}`,
    ]);
  });

  it('is what the documents that quoted figures link to, and every link to it resolves', () => {
    const links = DOCUMENTS.flatMap((file) =>
      prose(readFileSync(file, 'utf8')).flatMap((line) =>
        relativeLinks(line)
          .filter((t) => resolve(dirname(file), t.split('#')[0]!) === REPORT)
          .map(() => relative(REPO_ROOT, file)),
      ),
    );
    expect(LINKING.filter((d) => !links.includes(d))).toEqual([]);
    const broken = DOCUMENTS.flatMap((file) =>
      brokenLinks(file).filter((b) => /(^|\/)figures\.md(#|$)/.test(b.target) || b.problem.startsWith(relative(REPO_ROOT, REPORT))),
    );
    expect(broken).toEqual([]);
  });
});

describe('figures stated by hand', () => {
  it('are found in none of README.md and docs/, outside the report, the reference and the decision records', () => {
    expect(HAND_WRITTEN.map((f) => relative(REPO_ROOT, f))).toEqual(
      expect.arrayContaining(['README.md', 'docs/performance.md', 'docs/sizing.md']),
    );
    expect(HAND_WRITTEN.flatMap((f) => handFigures(f, readFileSync(f, 'utf8')))).toEqual([]);
  });

  it.each(ADRS.map((f) => [relative(REPO_ROOT, f), f]))(
    '%s, where it states figures, dates them and links to the report',
    (_name, file) => {
      const text = readFileSync(file, 'utf8');
      if (handFigures(file, text).length > 0) expect(text).toMatch(FIGURES_NOTE);
    },
  );

  it('are measurements, not targets, limits or settings', () => {
    const found = (text: string) => handFigures(join(REPO_ROOT, 'docs', 'example.md'), text).map((f) => f.replace(/^.*: /, ''));
    expect(
      found('bundle 4.73 MB, cold require 72 ms (116 ms), 5.1–8.4 ms of CPU, 130–190 events/s, 77–83 % busy, 4.4× the tutorial'),
    ).toEqual(['4.73 MB', '72 ms', '116 ms', '5.1–8.4 ms', '130–190 events/s', '77–83 %', '4.4×']);
    expect(found('synth 0.62 s, 2,071 ms at worst, 1.9 h')).toEqual(['0.62 s', '2,071 ms', '1.9 h']);
    expect(found('targets ≤ 300 ms, ≤ 7 MB, ≥ 2×; a 120 s wait, backoff 10 s to 600 s; `72 ms` in code')).toEqual([]);
    expect(found('```\n72 ms\n```\n')).toEqual([]);
  });
});
