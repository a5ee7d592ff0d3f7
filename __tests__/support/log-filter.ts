/*
 * A small evaluator of Cloud Logging query filters, for the alerting tests: it tells which
 * real-shaped log entries a log-based metric's filter counts.
 *
 * It knows only the part of the Logging query language the construct's metric filters use:
 * comparisons `path = value`, `path = ("a" OR "b")`, `path:*`, the operators AND, OR and NOT,
 * and parentheses. As the language defines it, OR binds tighter than AND and NOT tighter than
 * both; string comparisons ignore case. Anything else is refused, so a filter written in a
 * syntax this file does not understand fails the test instead of being misread.
 *
 * One point is a guess, and the metric the stop/suspend alert uses does not rely on it: a
 * comparison with a field the entry lacks is false, so `NOT` of it is true.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

type Token = { kind: 'word' | 'string'; text: string } | { kind: 'op'; text: '(' | ')' | '=' | ':' | '*' };

type Node =
  | { kind: 'and' | 'or'; parts: Node[] }
  | { kind: 'not'; part: Node }
  | { kind: 'equals'; path: string[]; values: Json[] }
  | { kind: 'present'; path: string[] };

function tokenize(filter: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < filter.length) {
    const c = filter[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"') {
      let text = '';
      i++;
      while (i < filter.length && filter[i] !== '"') {
        if (filter[i] === '\\') i++;
        text += filter[i];
        i++;
      }
      if (i >= filter.length) throw new Error(`unterminated string in ${filter}`);
      i++;
      tokens.push({ kind: 'string', text });
    } else if ('()=:*'.includes(c)) {
      tokens.push({ kind: 'op', text: c as '(' | ')' | '=' | ':' | '*' });
      i++;
    } else {
      const word = /^[A-Za-z0-9_.-]+/.exec(filter.slice(i))?.[0];
      if (word === undefined) throw new Error(`unsupported character '${c}' in ${filter}`);
      tokens.push({ kind: 'word', text: word });
      i += word.length;
    }
  }
  return tokens;
}

/** Parses a filter into a tree; throws on anything outside the subset described above. */
export function parseFilter(filter: string): Node {
  const tokens = tokenize(filter);
  let at = 0;
  const peek = () => tokens[at];
  const isWord = (text: string) => peek()?.kind === 'word' && peek()!.text === text;
  const isOp = (text: string) => peek()?.kind === 'op' && peek()!.text === text;
  const expect = (text: string) => {
    if (!isOp(text)) throw new Error(`expected '${text}' at token ${at} of ${filter}`);
    at++;
  };
  const literal = (): Json => {
    const t = tokens[at++];
    if (t === undefined) throw new Error(`value missing at the end of ${filter}`);
    if (t.kind === 'string') return t.text;
    if (t.kind === 'word' && (t.text === 'true' || t.text === 'false')) return t.text === 'true';
    if (t.kind === 'word' && /^-?[0-9]+(\.[0-9]+)?$/.test(t.text)) return Number(t.text);
    throw new Error(`unsupported value at token ${at - 1} of ${filter}`);
  };
  const comparison = (): Node => {
    const t = tokens[at++];
    if (t?.kind !== 'word' || ['AND', 'OR', 'NOT'].includes(t.text)) throw new Error(`expected a field at token ${at - 1} of ${filter}`);
    const path = t.text.split('.');
    if (isOp(':')) {
      at++;
      expect('*');
      return { kind: 'present', path };
    }
    expect('=');
    if (!isOp('(')) return { kind: 'equals', path, values: [literal()] };
    at++;
    const values = [literal()];
    while (isWord('OR')) {
      at++;
      values.push(literal());
    }
    expect(')');
    return { kind: 'equals', path, values };
  };
  const unary = (): Node => {
    if (isWord('NOT')) {
      at++;
      return { kind: 'not', part: unary() };
    }
    if (isOp('(')) {
      at++;
      const inner = conjunction();
      expect(')');
      return inner;
    }
    return comparison();
  };
  const disjunction = (): Node => {
    const parts = [unary()];
    while (isWord('OR')) {
      at++;
      parts.push(unary());
    }
    return parts.length === 1 ? parts[0]! : { kind: 'or', parts };
  };
  const conjunction = (): Node => {
    const parts = [disjunction()];
    while (isWord('AND')) {
      at++;
      parts.push(disjunction());
    }
    return parts.length === 1 ? parts[0]! : { kind: 'and', parts };
  };
  const tree = conjunction();
  if (at !== tokens.length) throw new Error(`unexpected token ${at} of ${filter}`);
  return tree;
}

function lookup(entry: Json, path: string[]): Json | undefined {
  let value: Json | undefined = entry;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = value[key];
  }
  return value;
}

function same(actual: Json | undefined, wanted: Json): boolean {
  if (actual === undefined) return false;
  if (typeof actual === 'string' && typeof wanted === 'string') return actual.toLowerCase() === wanted.toLowerCase();
  return actual === wanted;
}

function holds(node: Node, entry: Json): boolean {
  switch (node.kind) {
    case 'and':
      return node.parts.every((p) => holds(p, entry));
    case 'or':
      return node.parts.some((p) => holds(p, entry));
    case 'not':
      return !holds(node.part, entry);
    case 'present':
      return lookup(entry, node.path) !== undefined;
    case 'equals':
      return node.values.some((v) => same(lookup(entry, node.path), v));
  }
}

/** Whether a log entry (as Cloud Logging stores it: `resource`, `severity`, `jsonPayload`…) matches the filter. */
export function matchesFilter(filter: string, entry: Record<string, unknown>): boolean {
  return holds(parseFilter(filter), entry as Json);
}

/** The value a label extractor `EXTRACT(path)` takes from an entry, as a string; '' when the field is missing. */
export function extract(extractor: string, entry: Record<string, unknown>): string {
  const path = /^EXTRACT\(([A-Za-z0-9_.]+)\)$/.exec(extractor)?.[1];
  if (path === undefined) throw new Error(`unsupported extractor ${extractor}`);
  const value = lookup(entry as Json, path.split('.'));
  return value === undefined || value === null ? '' : String(value);
}
