import { Choice, Point, coveringArray, positive, test } from './choices';
import { Json, asTemplate, isParenthesized, isReference, toExpression } from './hcl';

/*
 * One Terraform configuration from the construct's plans for every combination of the choices.
 *
 * A plan is read as leaves: each resource, data source and output (and the `terraform` and
 * `locals` sections as a whole) is an owner, present or absent; below it, every primitive value (a
 * list of primitives counts as one) is a leaf, found by its path; objects and lists of blocks are
 * walked into, their shape being a leaf of its own that must not change. For each leaf, the
 * choices it depends on are found by synthesizing a few combinations (`discover`); the merged
 * configuration then writes a leaf that never changes as it is, one that changes as a conditional
 * expression over the choices it depends on only, and an owner that exists in some combinations
 * only with `count`. A combination the construct refuses becomes a condition the module checks.
 *
 * Preconditions are the one list of blocks whose items may exist in some combinations only (a
 * check of an optional value, made only when it is given): each is known by the variable its
 * message names and its place among that variable's checks, not by its index, and one that a
 * combination lacks holds there (its condition is `true`).
 */

/** A synthesized configuration: its top-level sections. */
export type Doc = { [section: string]: Json };

/** What the construct made of one combination: a configuration, or the sentence it refused it with. */
export type Outcome = { readonly doc: Doc } | { readonly refused: string };

/** Synthesizes the construct for one combination of the choices. */
export type Synth = (point: Point) => Outcome;

type Path = readonly (string | number)[];

/** A value of a leaf in one combination, as text that compares as the value does. */
type Canonical = string;

/** Missing key below a present owner. */
const ABSENT = '<absent>';
const PRESENT = '<present>';
const OBJECT = '<object>';
const blocks = (n: number) => `<${n} blocks>`;
/** The leaf that says whether the construct accepted the combination. */
const ACCEPTED = JSON.stringify(['#accepted']);
/** Not known in a combination: refused, or its owner is absent there. */
const UNKNOWN = Symbol('unknown');
type Value = Canonical | typeof UNKNOWN;

interface Leaf {
  readonly path: Path;
  /** Key of the owner the leaf belongs to; an owner's is its own. */
  readonly owner: string;
  readonly kind: 'owner' | 'value' | 'shape' | 'dependsOn' | 'accepted' | 'check';
  /** Indexes of the choices the leaf's value depends on. */
  readonly dependsOn: Set<number>;
}

const keyOf = (path: Path): string => JSON.stringify(path);

/** The length of an owner's path at the start of `path`: a resource or data source, an output, or a section (`terraform`, `locals`). */
function ownerLength(path: Path): number {
  if (path[0] === 'resource' || path[0] === 'data') return 3;
  if (path[0] === 'output') return 2;
  return 1;
}

function isObject(value: Json): value is { [key: string]: Json } {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Whether a value is written as one leaf: a primitive or a list without objects. */
function isPrimitive(value: Json): boolean {
  return !isObject(value) && !(Array.isArray(value) && value.some((v) => v !== null && typeof v === 'object'));
}

/** The list of checks of a resource's lifecycle, whose items may exist in some combinations only. */
const isChecks = (path: Path) => path[path.length - 1] === 'precondition' && path[path.length - 2] === 'lifecycle';

/** Below a list of checks, an item's key: the word its message starts with (the variable it blames) and its place among those. */
const CHECK = /^#check:/;

/** Whether a path is a check's own value (its condition or message). */
const inCheck = (path: Path) => path.length >= 2 && CHECK.test(String(path[path.length - 2]));

/** The keys of a list of checks, in order: `#check:<word>:<n>`. */
function checkKeys(list: readonly Json[]): string[] {
  const seen = new Map<string, number>();
  return list.map((item) => {
    const message = isObject(item) ? item.error_message : undefined;
    const word = (typeof message === 'string' && /^[\w.]+/.exec(message)?.[0]) || '?';
    const n = seen.get(word) ?? 0;
    seen.set(word, n + 1);
    return `#check:${word}:${n}`;
  });
}

/** Adds the keys of one combination's list of checks to the order of that list in every combination (new keys after their predecessor). */
function mergeOrder(order: string[], keys: readonly string[]): void {
  let at = -1;
  for (const key of keys) {
    const found = order.indexOf(key);
    if (found >= 0) at = found;
    else order.splice(++at, 0, key);
  }
}

/** The leaves of a configuration: canonical values by key, and each leaf's path and kind. */
function leavesOf(
  doc: Doc,
  found: Map<string, { path: Path; kind: Leaf['kind'] }>,
  checkOrders: Map<string, string[]>,
): Map<string, Canonical> {
  const values = new Map<string, Canonical>();
  const add = (path: Path, kind: Leaf['kind'], value: Canonical) => {
    const key = keyOf(path);
    values.set(key, value);
    if (!found.has(key)) found.set(key, { path, kind });
  };
  const walk = (path: Path, value: Json) => {
    const depth = path.length - ownerLength(path);
    if (depth === 0) add(path, 'owner', PRESENT);
    else if (depth === 1 && path[path.length - 1] === 'depends_on') return add(path, 'dependsOn', JSON.stringify(value));
    if (isObject(value)) {
      if (depth > 0) add(path, CHECK.test(String(path[path.length - 1])) ? 'check' : 'shape', OBJECT);
      for (const [k, v] of Object.entries(value)) walk([...path, k], v);
    } else if (isChecks(path) && Array.isArray(value)) {
      const keys = checkKeys(value);
      add(path, 'shape', '<checks>');
      const order = checkOrders.get(keyOf(path)) ?? [];
      mergeOrder(order, keys);
      checkOrders.set(keyOf(path), order);
      value.forEach((v, i) => walk([...path, keys[i]!], v));
    } else if (!isPrimitive(value)) {
      const list = value as Json[];
      add(path, 'shape', blocks(list.length));
      list.forEach((v, i) => walk([...path, i], v));
    } else add(path, 'value', JSON.stringify(value));
  };
  for (const [section, body] of Object.entries(doc)) {
    const owners = ownerLength([section]);
    if (owners === 1) walk([section], body);
    else if (owners === 2) for (const [name, v] of Object.entries(body as Record<string, Json>)) walk([section, name], v);
    else {
      for (const [type, byId] of Object.entries(body as Record<string, Record<string, Json>>)) {
        for (const [id, v] of Object.entries(byId)) walk([section, type, id], v);
      }
    }
  }
  return values;
}

/** The choices' values and the leaves of each combination synthesized so far. */
export interface Discovery {
  readonly choices: readonly Choice[];
  /** Leaves by key, with the choices each depends on. */
  readonly leaves: ReadonlyMap<string, Leaf>;
  /** Each synthesized combination: its leaves, or the construct's refusal. */
  readonly outcomes: ReadonlyMap<string, { readonly point: Point; readonly leaves?: Map<string, Canonical>; readonly refused?: string }>;
  /** The construct's refusals: for each sentence, the fewest values (the rest at their defaults) that make it refuse. */
  readonly refusals: ReadonlyMap<string, readonly Point[]>;
  /** Each list of checks, by key: its items' keys, in an order that is each combination's. */
  readonly checkOrders: ReadonlyMap<string, readonly string[]>;
}

const pointKey = (p: Point) => p.join(',');

/**
 * Finds the choices each leaf depends on, from the combinations synthesized: the defaults, each
 * choice changed alone, and a covering array of `strength` (every `strength` choices seen in all
 * the combinations of their values the construct accepts). Two synthesized combinations that
 * agree on the choices a leaf depends on must agree on its value; where two do not, the
 * combinations between them, one choice changed at a time, name the choice that made the
 * difference, which the leaf then depends on. Each combination of a leaf's choices (the others at
 * their defaults) is synthesized too, since its expression is written from them. Until nothing
 * changes.
 */
export function discover(choices: readonly Choice[], synth: Synth, strength: number, seed = 1): Discovery {
  const kinds = new Map<string, { path: Path; kind: Leaf['kind'] }>([[ACCEPTED, { path: ['#accepted'], kind: 'accepted' }]]);
  const checkOrders = new Map<string, string[]>();
  const outcomes = new Map<string, { point: Point; leaves?: Map<string, Canonical>; refused?: string }>();
  const leaves = new Map<string, Leaf>();
  const base: Point = choices.map(() => 0);

  const visit = (point: Point) => {
    const key = pointKey(point);
    const known = outcomes.get(key);
    if (known) return known;
    const outcome = synth(point);
    const entry = 'refused' in outcome ? { point, refused: outcome.refused } : { point, leaves: leavesOf(outcome.doc, kinds, checkOrders) };
    outcomes.set(key, entry);
    for (const [k, { path, kind }] of kinds) {
      if (!leaves.has(k)) {
        const owner = kind === 'accepted' ? k : keyOf(path.slice(0, ownerLength(path)));
        leaves.set(k, { path, owner, kind, dependsOn: new Set(leaves.get(owner)?.dependsOn ?? []) });
      }
    }
    return entry;
  };
  const valueAt = (point: Point, leaf: Leaf, key: string): Value => {
    const o = visit(point);
    if (leaf.kind === 'accepted') return o.refused ?? 'accepted';
    if (o.leaves === undefined) return UNKNOWN;
    if (leaf.kind !== 'owner' && !o.leaves.has(leaf.owner)) return UNKNOWN;
    return o.leaves.get(key) ?? ABSENT;
  };
  const changed = (point: Point, c: number, v: number): Point => point.map((x, i) => (i === c ? v : x));

  visit(base);
  choices.forEach((c, i) => c.values.forEach((_, v) => v > 0 && visit(changed(base, i, v))));
  // A refused row covers nothing, and the rows holding the values it was refused for are left out.
  const causes: Point[] = [];
  const holds = (cause: Point, p: Point) => cause.every((v, c) => v === 0 || p[c] === v);
  coveringArray(
    choices,
    strength,
    seed,
    (p) => {
      const { refused } = visit(p);
      if (refused !== undefined) causes.push(causeOf(p, refused));
      return refused === undefined;
    },
    (p) => !causes.some((cause) => holds(cause, p)),
  );
  for (let grew = true; grew;) {
    grew = false;
    for (const [key, leaf] of [...leaves]) {
      // A value is known only where its owner exists: it depends on what the owner does.
      for (const c of leaves.get(leaf.owner)?.dependsOn ?? []) {
        if (!leaf.dependsOn.has(c)) {
          leaf.dependsOn.add(c);
          grew = true;
        }
      }
      grew = reconcile(key, leaf) || grew;
      const before = outcomes.size;
      fill(leaf);
      grew = grew || outcomes.size > before;
    }
  }
  return { choices, leaves, outcomes, refusals: refusals(), checkOrders };

  /**
   * The combinations the construct refused, by its sentence: for each refused combination, the
   * fewest of its values that still make the construct refuse (each other value put back to its
   * default, one at a time), so that a condition names only the choices that matter.
   */
  function refusals(): Map<string, Point[]> {
    const found = new Map<string, Point[]>();
    for (const { point, refused } of [...outcomes.values()]) {
      if (refused === undefined) continue;
      const cause = causeOf(point, refused);
      const known = found.get(refused) ?? [];
      if (!known.some((p) => pointKey(p) === pointKey(cause))) known.push(cause);
      found.set(refused, known);
    }
    return found;
  }

  /** The refused combination with each value put back to its default, one at a time, wherever the construct still refuses it so. */
  function causeOf(point: Point, refused: string): Point {
    let cause = point;
    for (let c = 0; c < choices.length; c++) {
      if (cause[c] !== 0 && visit(changed(cause, c, 0)).refused === refused) cause = changed(cause, c, 0);
    }
    return cause;
  }

  /** Synthesizes each combination of the leaf's choices (the others at their defaults), which its expression is written from. */
  function fill(leaf: Leaf): void {
    for (const point of combinations(choices, [...leaf.dependsOn], base)) visit(point);
  }

  /** Two synthesized combinations that agree on the leaf's choices and not on its value: adds the choice that made the difference. */
  function reconcile(key: string, leaf: Leaf): boolean {
    const seen = new Map<string, { point: Point; value: Canonical }>();
    for (const { point } of [...outcomes.values()]) {
      const value = valueAt(point, leaf, key);
      if (value === UNKNOWN) continue;
      const restricted = [...leaf.dependsOn].map((c) => point[c]).join(',');
      const other = seen.get(restricted);
      if (other === undefined) {
        seen.set(restricted, { point, value });
        continue;
      }
      if (other.value === value) continue;
      // Walk from one to the other a choice at a time: the step where the value changes names the
      // choice. A step the construct refuses tells nothing, so the walk is tried in both orders.
      for (const order of [choices.map((_, c) => c), choices.map((_, c) => choices.length - 1 - c)]) {
        let at = other.point;
        let before = other.value;
        for (const c of order) {
          if (at[c] === point[c]) continue;
          const next = changed(at, c, point[c]!);
          const after = valueAt(next, leaf, key);
          if (after !== UNKNOWN && after !== before && !leaf.dependsOn.has(c)) {
            leaf.dependsOn.add(c);
            return true;
          }
          at = next;
          if (after !== UNKNOWN) before = after;
        }
      }
      throw new Error(`cannot tell which choice changes ${leaf.path.join('.')} between [${other.point}] and [${point}]`);
    }
    return false;
  }
}

/** Every point that varies the given choices over their values, the others at `base`'s. */
function combinations(choices: readonly Choice[], varying: readonly number[], base: Point): Point[] {
  return varying.reduce<Point[]>(
    (points, c) => points.flatMap((p) => choices[c]!.values.map((_, v) => p.map((x, i) => (i === c ? v : x)))),
    [base],
  );
}

/** A value as a function of some choices: a value, or a choice's values each leading on. */
type Tree = { readonly value: Canonical } | { readonly choice: number; readonly branches: readonly (Tree | typeof UNKNOWN)[] };

/** Two trees as one where either is unknown, or undefined when they differ. */
function unify(a: Tree | typeof UNKNOWN, b: Tree | typeof UNKNOWN): Tree | typeof UNKNOWN | undefined {
  if (a === UNKNOWN) return b;
  if (b === UNKNOWN) return a;
  if ('value' in a && 'value' in b) return a.value === b.value ? a : undefined;
  if ('choice' in a && 'choice' in b && a.choice === b.choice) {
    const branches: (Tree | typeof UNKNOWN)[] = [];
    for (let i = 0; i < a.branches.length; i++) {
      const u = unify(a.branches[i]!, b.branches[i]!);
      if (u === undefined) return undefined;
      branches.push(u);
    }
    return { choice: a.choice, branches };
  }
  return undefined;
}

/** The decision tree of a value table, deciding the choices in `order`, with branches that agree made one. */
function treeOf(
  order: readonly number[],
  lookup: (assigned: Map<number, number>) => Value,
  choices: readonly Choice[],
): Tree | typeof UNKNOWN {
  const build = (i: number, assigned: Map<number, number>): Tree | typeof UNKNOWN => {
    if (i === order.length) {
      const v = lookup(assigned);
      return v === UNKNOWN ? UNKNOWN : { value: v };
    }
    const c = order[i]!;
    const branches = choices[c]!.values.map((_, v) => build(i + 1, new Map([...assigned, [c, v]])));
    let one: Tree | typeof UNKNOWN | undefined = UNKNOWN;
    for (const b of branches) {
      one = unify(one, b);
      if (one === undefined) break;
    }
    return one !== undefined ? one : { choice: c, branches };
  };
  return build(0, new Map());
}

/** An operand of `&&` or `||`, in parentheses unless it is one term. */
function parenthesized(expression: string): string {
  return isReference(expression) || /^!?[\w.]+$/.test(expression) || isParenthesized(expression) ? expression : `(${expression})`;
}

/** A branch of a conditional, in parentheses when it is a conditional itself. */
function branch(expression: string): string {
  return /\?/.test(expression) && !isParenthesized(expression) ? `(${expression})` : expression;
}

/** A tree as a Terraform expression; `leaf` writes a value. Boolean trees are written with `&&`, `||` and `!`. */
function render(tree: Tree, choices: readonly Choice[], leaf: (value: Canonical) => string): string {
  if ('value' in tree) return leaf(tree.value);
  const choice = choices[tree.choice]!;
  const known = tree.branches.find((b): b is Tree => b !== UNKNOWN)!;
  const parts = tree.branches.map((b) => render(b === UNKNOWN ? known : b, choices, leaf));
  const v = `var.${choice.variable}`;
  if (choice.kind === 'enum' && parts.every((p, i) => p === toExpression(choice.values[i]!))) return v;
  if (parts.length === 2) {
    const pos = positive(choice);
    const [yes, no] = [parts[pos]!, parts[1 - pos]!];
    const t = test(choice, pos);
    const not = test(choice, 1 - pos);
    if (yes === 'true' && no === 'false') return t;
    if (yes === 'false' && no === 'true') return not;
    if (no === 'false') return `${t} && ${parenthesized(yes)}`;
    if (yes === 'false') return `${not} && ${parenthesized(no)}`;
    if (yes === 'true') return `${t} || ${parenthesized(no)}`;
    if (no === 'true') return `${not} || ${parenthesized(yes)}`;
    return `${t} ? ${branch(yes)} : ${no}`;
  }
  // More than two values: one test per group of values that lead to the same expression.
  const groups = [...new Set(parts)].map((expression) => ({
    expression,
    tests: parts.flatMap((p, i) => (p === expression ? [test(choice, i)] : [])),
  }));
  return groups
    .slice(0, -1)
    .map((g) => `${g.tests.length === 1 ? g.tests[0] : `(${g.tests.join(' || ')})`} ? ${branch(g.expression)} : `)
    .join('')
    .concat(groups[groups.length - 1]!.expression);
}

/** Every order of a few choices (all of them up to four, else the given one). */
function orders(choices: readonly number[]): number[][] {
  if (choices.length <= 1 || choices.length > 4) return [[...choices]];
  return choices.flatMap((c) => orders(choices.filter((d) => d !== c)).map((rest) => [c, ...rest]));
}

/** The shortest expression of a leaf's values over the choices it depends on. */
function expressionOf(
  discovery: Discovery,
  key: string,
  leaf: Leaf,
  write: (value: Canonical) => string,
): { readonly constant: Canonical } | { readonly expression: string } | undefined {
  const table = new Map<string, Canonical>();
  const own = [...leaf.dependsOn].sort((a, b) => a - b);
  for (const { point, leaves, refused } of discovery.outcomes.values()) {
    let value: Value;
    if (leaf.kind === 'accepted') value = refused ?? 'accepted';
    else if (leaves === undefined || (leaf.kind !== 'owner' && !leaves.has(leaf.owner))) continue;
    else value = leaves.get(key) ?? ABSENT;
    // A check a combination lacks holds there; what it would say there matters to no one.
    if (value === ABSENT && inCheck(leaf.path)) {
      if (leaf.path[leaf.path.length - 1] !== 'condition') continue;
      value = JSON.stringify(true);
    }
    const at = own.map((c) => point[c]).join(',');
    if (!table.has(at)) table.set(at, value);
  }
  let best: Tree | typeof UNKNOWN = UNKNOWN;
  let bestText: string | undefined;
  for (const order of orders(own)) {
    const tree = treeOf(order, (assigned) => table.get(own.map((c) => assigned.get(c)).join(',')) ?? UNKNOWN, discovery.choices);
    if (tree === UNKNOWN) return undefined;
    if ('value' in tree) return { constant: tree.value };
    const text = render(tree, discovery.choices, write);
    if (bestText === undefined || text.length < bestText.length) [best, bestText] = [tree, text];
  }
  return best === UNKNOWN ? undefined : { expression: bestText! };
}

/** A combination the construct refuses, and the choices' values that make it refuse. */
export interface Refusal {
  /** The construct's sentence. */
  readonly message: string;
  /** The Terraform condition that holds when the combination is one the construct accepts. */
  readonly condition: string;
}

/** The merged configuration, and the combinations the construct refuses. */
export interface Merged {
  readonly doc: Doc;
  readonly refusals: readonly Refusal[];
  /** Keys (`resource.<type>.<id>`, `data.<type>.<id>`) of the owners that exist in some combinations only. */
  readonly counted: readonly string[];
}

/**
 * Writes the discovered leaves as one configuration: constants as they are, changing leaves as
 * conditionals over the choices they depend on, owners present in some combinations only with
 * `count` (and every reference to them indexed `[0]`), and each `depends_on` as the union of its
 * combinations' (Terraform orders after a resource whose count is 0 at no cost).
 */
export function merge(discovery: Discovery): Merged {
  const doc: Record<string, Json> = {};
  const counted: string[] = [];
  const { leaves, outcomes } = discovery;
  const write = (value: Canonical) => (value === ABSENT ? 'null' : toExpression(JSON.parse(value) as Json));
  const set = (path: Path, value: Json) => {
    let node = doc as Record<string | number, Json>;
    path.forEach((segment, i) => {
      if (i === path.length - 1) node[segment] = value;
      else {
        if (node[segment] === undefined) node[segment] = typeof path[i + 1] === 'number' ? [] : {};
        node = node[segment] as Record<string | number, Json>;
      }
    });
  };

  const sorted = [...leaves].sort(([a], [b]) => compareKeys(leaves.get(a)!.path, leaves.get(b)!.path));
  for (const [key, leaf] of sorted) {
    if (leaf.kind === 'accepted' || leaf.kind === 'check') continue;
    if (leaf.kind === 'dependsOn') {
      const union: string[] = [];
      for (const { leaves: values } of outcomes.values()) {
        const v = values?.get(key);
        if (v !== undefined) for (const d of JSON.parse(v) as string[]) if (!union.includes(d)) union.push(d);
      }
      set(leaf.path, union);
      continue;
    }
    const writer = leaf.kind === 'owner' ? (v: Canonical) => String(v === PRESENT) : leaf.kind === 'shape' ? (v: Canonical) => v : write;
    const found = expressionOf(discovery, key, leaf, writer);
    if (found === undefined) continue;
    if (leaf.kind === 'owner') {
      if ('constant' in found) {
        if (found.constant === PRESENT) set(leaf.path, {});
        continue;
      }
      counted.push(leaf.path.join('.'));
      set(leaf.path, { count: asTemplate(`${found.expression} ? 1 : 0`) });
      continue;
    }
    if (leaf.kind === 'shape') {
      if ('constant' in found) continue;
      throw new Error(`${leaf.path.join('.')} has a different shape in different combinations; only values may change`);
    }
    if ('constant' in found) {
      if (found.constant !== ABSENT) set(leaf.path, JSON.parse(found.constant) as Json);
    } else set(leaf.path, asTemplate(found.expression));
  }

  const refusals = refusalsOf(discovery);
  return { doc: indexCounted(asCheckLists(doc, discovery.checkOrders), counted), refusals, counted };
}

/** Each list of checks, merged by key, as a list again, in the order of every combination's. */
function asCheckLists(doc: Doc, checkOrders: ReadonlyMap<string, readonly string[]>): Doc {
  for (const [key, order] of checkOrders) {
    const path = JSON.parse(key) as Path;
    let parent = doc as Record<string | number, Json>;
    for (const segment of path.slice(0, -1)) {
      parent = parent?.[segment] as Record<string | number, Json>;
      if (parent === undefined) break;
    }
    const last = path[path.length - 1]!;
    const byKey = parent?.[last] as Record<string, Json> | undefined;
    if (byKey === undefined) continue;
    parent[last] = order.map((k) => byKey[k]!).filter((c) => c !== undefined);
  }
  return doc;
}

/** Paths in the order of the plan: sections, then names, then keys as they sort, list items by index. */
function compareKeys(a: Path, b: Path): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const [x, y] = [a[i]!, b[i]!];
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return a.length - b.length;
}

/** Every reference to an owner with `count` indexed `[0]`, except in `depends_on`, which names the resource as a whole. */
function indexCounted(doc: Doc, counted: readonly string[]): Doc {
  if (counted.length === 0) return doc;
  const address = (key: string) => (key.startsWith('resource.') ? key.slice('resource.'.length) : key);
  const pattern = new RegExp(`(?<![\\w.-])(${counted.map((k) => address(k).replace(/\./g, '\\.')).join('|')})(?![\\w-]|\\[)`, 'g');
  const rewrite = (value: Json, key?: string): Json => {
    if (typeof value === 'string') return value.replace(pattern, '$1[0]');
    if (Array.isArray(value)) return key === 'depends_on' ? value : value.map((v) => rewrite(v));
    if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewrite(v, k)]));
    return value;
  };
  return rewrite(doc) as Doc;
}

/** A refusal as a condition that holds where the construct accepts: none of its causes. */
function refusalsOf(discovery: Discovery): Refusal[] {
  const { choices } = discovery;
  return [...discovery.refusals].map(([message, causes]) => ({
    message,
    condition: causes
      .map((cause) => {
        const terms = cause.flatMap((v, c) => (v === 0 ? [] : [test(choices[c]!, v)]));
        return `!(${terms.join(' && ')})`;
      })
      .join(' && '),
  }));
}
