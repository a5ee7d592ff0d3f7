import { REPO_ROOT } from '../support/paths';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * Every decision record says where it stands and since when, and names the records that changed
 * it. The status line under the title is `Status: <verb> (<date>; <clause>; …)`, where a clause is
 * - `superseded in part by ADR NNNN (<its date>): <the part>`, followed by any number of
 *   `by ADR NNNN (<its date>): <the part>` for further records that superseded a part of it;
 * - `supersedes in part ADR NNNN[, ADR NNNN][ and ADR NNNN]`, on the later record;
 * - or a remark naming no record (`revised in 0.5.0 (below)`).
 * Both records of a supersession name each other, and the date in brackets is the later
 * record's own.
 */

const ADR_DIR = join(REPO_ROOT, 'docs', 'adr');
const adrs = readdirSync(ADR_DIR)
  .filter((f) => /^\d{4}-.+\.md$/.test(f))
  .sort()
  .map((file) => ({ file, number: file.slice(0, 4), text: readFileSync(join(ADR_DIR, file), 'utf8') }));
const numbers = new Set(adrs.map((a) => a.number));

/** What one status line says. */
interface Status {
  readonly date?: string;
  /** Records that superseded a part of this one: number, the date given, the part. */
  readonly supersededBy: ReadonlyArray<{ readonly adr: string; readonly date: string; readonly part: string }>;
  /** Records this one superseded a part of. */
  readonly supersedes: readonly string[];
  /** Clauses that name a record in neither form. */
  readonly stray: readonly string[];
}

const DATE = String.raw`\d{4}-\d{2}-\d{2}`;

/** Reads a status line into its clauses. */
function parseStatus(line: string): Status {
  const m = new RegExp(String.raw`^Status: [A-Z][^(]*\((${DATE})(?:; (.*))?\)$`).exec(line);
  if (!m) return { supersededBy: [], supersedes: [], stray: [line] };
  const supersededBy: Array<Status['supersededBy'][number]> = [];
  const supersedes: string[] = [];
  const stray: string[] = [];
  let inSuperseded = false;
  for (const clause of (m[2] ?? '').split('; ').filter((c) => c !== '')) {
    const by = new RegExp(String.raw`^(superseded in part )?by ADR (\d{4}) \((${DATE})\): (\S.*)$`).exec(clause);
    if (by && (by[1] !== undefined || inSuperseded)) {
      supersededBy.push({ adr: by[2]!, date: by[3]!, part: by[4]! });
      inSuperseded = true;
      continue;
    }
    inSuperseded = false;
    const of = /^supersedes in part (ADR \d{4}(?:(?:, | and )ADR \d{4})*)$/.exec(clause);
    if (of) supersedes.push(...[...of[1]!.matchAll(/ADR (\d{4})/g)].map((n) => n[1]!));
    else if (/ADR \d{4}|supersede|amend/i.test(clause)) stray.push(clause);
  }
  return { date: m[1]!, supersededBy, supersedes, stray };
}

const statusOf = (text: string) => parseStatus(text.split('\n')[2] ?? '');
const statuses = new Map(adrs.map((a) => [a.number, statusOf(a.text)]));
const dateOf = (n: string) => statuses.get(n)?.date;

/**
 * What is wrong with how record `n`'s status names others: records that do not exist, are not
 * later (or earlier), dates that are not the other record's, and supersessions only one side names.
 */
function supersessionProblems(n: string, status: Status, all: ReadonlyMap<string, Status> = statuses): string[] {
  const problems = status.stray.map((c) => `'${c}' names a record outside a 'superseded in part by' or 'supersedes in part' clause`);
  for (const { adr, date } of status.supersededBy) {
    if (!numbers.has(adr)) problems.push(`superseded in part by ADR ${adr}, which does not exist`);
    else if (adr <= n) problems.push(`superseded in part by ADR ${adr}, which is not a later record`);
    else if (date !== all.get(adr)?.date) problems.push(`ADR ${adr} is dated ${all.get(adr)?.date}, the status says ${date}`);
    else if (!all.get(adr)?.supersedes.includes(n)) problems.push(`ADR ${adr} does not say it supersedes in part ADR ${n}`);
  }
  for (const adr of status.supersedes) {
    if (!numbers.has(adr)) problems.push(`supersedes in part ADR ${adr}, which does not exist`);
    else if (adr >= n) problems.push(`supersedes in part ADR ${adr}, which is not an earlier record`);
    else if (!all.get(adr)?.supersededBy.some((s) => s.adr === n))
      problems.push(`ADR ${adr} does not say it was superseded in part by ADR ${n}`);
  }
  return problems;
}

describe('the decision records', () => {
  it('are found', () => {
    expect(adrs.length).toBeGreaterThanOrEqual(27);
  });

  it.each(adrs.map((a) => [a.file, a.text] as const))('%s has a status with its date under its title', (file, text) => {
    const [title, blank, status] = text.split('\n');
    expect({ file, title: /^# \d{4} — \S/.test(title!), blank }).toEqual({ file, title: true, blank: '' });
    expect(status).toMatch(/^Status: (Accepted|Proposed|Rejected|Superseded by ADR \d{4}) \(\d{4}-\d{2}-\d{2}[;)]/);
  });

  it.each(adrs.map((a) => [a.file, a.text] as const))('%s names only records that exist in its status', (_file, text) => {
    const status = text.split('\n')[2]!;
    for (const [, n] of status.matchAll(/ADR (\d{4})/g)) expect(numbers).toContain(n);
  });

  it.each(adrs.map((a) => [a.file, a.number] as const))(
    '%s names each record that superseded part of it, with that record’s date and the part, and each names it back',
    (_file, n) => {
      expect(supersessionProblems(n, statuses.get(n)!)).toEqual([]);
    },
  );

  it('records that ADR 0017 superseded the ledger’s transport of ADR 0006', () => {
    expect(statuses.get('0006')!.supersededBy).toEqual([
      { adr: '0017', date: dateOf('0017'), part: expect.stringMatching(/ledger.*gRPC/) },
    ]);
  });
});

describe('the status check', () => {
  const check = (n: string, line: string) => supersessionProblems(n, parseStatus(line));

  it('reads each superseding record, its date and the part it changed', () => {
    expect(
      parseStatus(
        'Status: Accepted (2026-11-22; revised in 0.5.0 (below); superseded in part by ADR 0015 (2026-12-02): a; by ADR 0017 (2026-12-02): b)',
      ),
    ).toEqual({
      date: '2026-11-22',
      supersededBy: [
        { adr: '0015', date: '2026-12-02', part: 'a' },
        { adr: '0017', date: '2026-12-02', part: 'b' },
      ],
      supersedes: [],
      stray: [],
    });
  });

  it('names a superseding record that does not exist', () => {
    expect(check('0006', 'Status: Accepted (2026-11-22; superseded in part by ADR 0999 (2026-12-02): the ledger)')).toEqual([
      'superseded in part by ADR 0999, which does not exist',
    ]);
  });

  it('names a date that is not the superseding record’s', () => {
    expect(check('0006', 'Status: Accepted (2026-11-22; superseded in part by ADR 0017 (2026-12-01): the ledger)')).toEqual([
      'ADR 0017 is dated 2026-12-02, the status says 2026-12-01',
    ]);
  });

  it('names a supersession without its date or part, and one the other record does not name', () => {
    expect(check('0006', 'Status: Accepted (2026-11-22; superseded in part by ADR 0017)')).toEqual([
      "'superseded in part by ADR 0017' names a record outside a 'superseded in part by' or 'supersedes in part' clause",
    ]);
    expect(check('0005', 'Status: Accepted (2026-11-22; superseded in part by ADR 0017 (2026-12-02): the ledger)')).toEqual([
      'ADR 0017 does not say it supersedes in part ADR 0005',
    ]);
  });
});
