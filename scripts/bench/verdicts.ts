// Whether a run met a table's targets, one line per target, as the storm's budget section prints
// them under its tables and the report lists them. Figures, not pass/fail: a missed target is
// printed and reported, and the bench still exits 0, as it does for every other target.

/** One target of a table, and whether the run met it. */
export interface Verdict {
  /** The target, in words: what was checked and against what. */
  readonly target: string;
  readonly met: boolean;
  /** What the run measured against it: the figure it was judged on, or where it missed. */
  readonly detail: string;
}

/** A verdict as a line: `target — met (detail)` or `target — MISSED (detail)`. */
export const verdictText = (v: Verdict) => `${v.target} — ${v.met ? 'met' : 'MISSED'} (${v.detail})`;

/** The verdicts as report notes: a short list under the table. */
export const verdictNotes = (verdicts: readonly Verdict[]): string[] => [
  'Against the targets (figures, not pass/fail: a missed target does not fail the run):',
  '',
  ...verdicts.map((v) => `- ${verdictText(v)}`),
];

/** The median: the middle value, or the mean of the two middle values of an even count; NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Where a target was missed, as a verdict's detail: the first few misses, and how many more. */
export function missesText(misses: readonly string[], shown = 3): string {
  const more = misses.length - shown;
  return `${misses.slice(0, shown).join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
}

/** "1 round", "3 rounds". */
export const rounds = (n: number) => `${n} round${n === 1 ? '' : 's'}`;
