import { quoted } from './hcl';

/**
 * A module variable whose value decides what the construct writes: which resources exist, or a
 * value it computes at synth. The construct takes it written out, so each of its values is a
 * separate synth, and the module chooses between their results in Terraform.
 */
export interface Choice {
  /** The module variable. */
  readonly variable: string;
  /**
   * `enum`: one of a list of strings; `bool`: true or false; `given`: null (values[0], false) or
   * set (values[1], true), as for an optional id whose presence changes what is created.
   */
  readonly kind: 'enum' | 'bool' | 'given';
  /** Its values, the module's default first. */
  readonly values: readonly (string | boolean)[];
}

/** One value per choice, as an index into its `values`: a combination of settings. */
export type Point = readonly number[];

/** The Terraform condition that holds when the choice has its `index`-th value. */
export function test(choice: Choice, index: number): string {
  const value = choice.values[index]!;
  const v = `var.${choice.variable}`;
  switch (choice.kind) {
    case 'enum':
      return `${v} == ${quoted(String(value))}`;
    case 'bool':
      return value === true ? v : `!${v}`;
    case 'given':
      return value === true ? `${v} != null` : `${v} == null`;
  }
}

/**
 * The index of the value a two-valued choice's conditions are written for (`var.x ? a : b`):
 * true for a boolean, set for an optional id, the value other than the default for a string.
 */
export function positive(choice: Choice): number {
  if (choice.kind === 'enum') return 1;
  return choice.values.indexOf(true);
}

/** The point a choice's values are described by, as a sentence's words: `failure_action = "suspend"`. */
export function describePoint(choices: readonly Choice[], point: Point): string {
  return choices
    .map((c, i) => {
      const value = c.values[point[i]!]!;
      return c.kind === 'given' ? `${c.variable} ${value ? 'set' : 'null'}` : `${c.variable} = ${JSON.stringify(value)}`;
    })
    .join(', ');
}

/** Every point of the choices' product, the first value of the first choice varying slowest. */
export function everyPoint(choices: readonly Choice[]): Point[] {
  return choices.reduce<Point[]>((points, c) => points.flatMap((p) => c.values.map((_, i) => [...p, i])), [[]]);
}

/** A small deterministic pseudo-random generator (mulberry32), so that a design is the same at every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every set of `t` distinct choice indexes out of `k`, in increasing order. */
function subsets(k: number, t: number, from = 0): number[][] {
  if (t === 0) return [[]];
  const found: number[][] = [];
  for (let i = from; i <= k - t; i++) for (const rest of subsets(k, t - 1, i + 1)) found.push([i, ...rest]);
  return found;
}

/**
 * A covering array of strength `t`: combinations such that, for any `t` of the choices, every
 * combination of their values appears in at least one of them, so that a rule depending on at
 * most `t` choices is seen in every case it distinguishes. Built greedily: of many random
 * candidates, the one covering the most value combinations not yet covered, until all are.
 * `take` is told each row chosen and answers whether it counts: a combination the construct
 * refuses covers nothing, and `allowed` should then leave out the rows that would repeat it.
 */
export function coveringArray(
  choices: readonly Choice[],
  t: number,
  seed: number,
  take: (p: Point) => boolean = () => true,
  allowed: (p: Point) => boolean = () => true,
): Point[] {
  const next = random(seed);
  const sets = subsets(choices.length, Math.min(t, choices.length));
  const keyOf = (set: readonly number[], p: Point) => `${set.join(',')}=${set.map((c) => p[c]).join(',')}`;
  const uncovered = new Set<string>();
  for (const set of sets)
    for (const values of everyPoint(set.map((c) => choices[c]!))) uncovered.add(`${set.join(',')}=${values.join(',')}`);
  const rows: Point[] = [];
  // Combinations no allowed candidate covers stay uncovered: stop after many attempts in a row cover nothing.
  for (let idle = 0; uncovered.size > 0 && idle < 64;) {
    let best: { point: Point; covers: number } | undefined;
    for (let candidate = 0; candidate < 64; candidate++) {
      const point = choices.map((c) => Math.floor(next() * c.values.length));
      if (!allowed(point)) continue;
      const covers = sets.filter((set) => uncovered.has(keyOf(set, point))).length;
      if (best === undefined || covers > best.covers) best = { point, covers };
    }
    if (best === undefined || best.covers === 0 || !take(best.point)) {
      idle++;
      continue;
    }
    idle = 0;
    rows.push(best.point);
    for (const set of sets) uncovered.delete(keyOf(set, best.point));
  }
  return rows;
}
