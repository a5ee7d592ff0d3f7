import { templateParts } from './hcl';
import type { Json } from './hcl';
import type { Doc } from './merge';

/*
 * What a merged module amounts to for given values of its choices, worked out without Terraform:
 * every expression is read, the references to the choices replaced by their values, and the
 * operators over known values applied (`? :`, `==`, `!=`, `!`, `&&`, `||`); anything else stays
 * as written. Resources whose `count` comes to 0 are dropped, the others lose `count` and their
 * `[0]`, `depends_on` keeps what exists, and the preconditions that come to `false` are the
 * combination's refusal. The result compares with the construct's plan for the same settings.
 * Written apart from the merge (which renders, this reads), so a test of one checks the other.
 */

/** A `given` choice that is set: its value is the caller's, known only not to be null. */
export const SET = { set: true } as const;

/** Values of the choices, by variable name: a string, a boolean, null, or {@link SET}. */
export type ChoiceValues = Readonly<Record<string, string | boolean | null | typeof SET>>;

/** A value known at this point: a literal, or an expression left as written (its source text), perhaps known not to be null. */
type Value = { readonly literal: Json } | { readonly text: string; readonly notNull?: true; readonly branch?: true };

class Parser {
  private i = 0;
  constructor(
    private readonly src: string,
    private readonly values: ChoiceValues,
  ) {}

  parse(): Value {
    const v = this.conditional();
    this.space();
    if (this.i !== this.src.length) throw new Error(`unexpected '${this.src.slice(this.i)}' in ${this.src}`);
    return v;
  }

  private space(): void {
    while (/\s/.test(this.src[this.i] ?? '')) this.i++;
  }

  private peek(token: string): boolean {
    this.space();
    return this.src.startsWith(token, this.i);
  }

  private take(token: string): boolean {
    if (!this.peek(token)) return false;
    this.i += token.length;
    return true;
  }

  private text(start: number): { text: string } {
    return { text: this.src.slice(start, this.i).trim() };
  }

  private conditional(): Value {
    this.space();
    const start = this.i;
    const condition = this.or();
    if (!this.take('?')) return condition;
    const yes = this.conditional();
    if (!this.take(':')) throw new Error(`expected ':' in ${this.src}`);
    const no = this.conditional();
    if ('literal' in condition && typeof condition.literal === 'boolean') {
      const chosen = condition.literal ? yes : no;
      return 'text' in chosen ? { ...chosen, branch: true } : chosen;
    }
    return this.text(start);
  }

  private or(): Value {
    return this.binary(
      ['||'],
      () => this.and(),
      (a, b) => a || b,
    );
  }

  private and(): Value {
    return this.binary(
      ['&&'],
      () => this.equality(),
      (a, b) => a && b,
    );
  }

  private binary(ops: readonly string[], operand: () => Value, apply: (a: boolean, b: boolean) => boolean): Value {
    this.space();
    const start = this.i;
    let left = operand();
    let known = true;
    // `false || x` and `true && x` are x; `true || x` and `false && x` are known whatever x is.
    const identity = apply(false, true) !== apply(false, false) ? false : true;
    const bool = (v: Value) => ('literal' in v && typeof v.literal === 'boolean' ? v.literal : undefined);
    while (ops.some((op) => this.peek(op))) {
      this.i += 2;
      const right = operand();
      if (!known) continue;
      const [l, r] = [bool(left), bool(right)];
      if (l !== undefined && r !== undefined) left = { literal: apply(l, r) };
      else if (l === !identity || r === !identity) left = { literal: !identity };
      else if (l === identity) left = 'text' in right ? { ...right, branch: true } : right;
      else if (r !== identity) known = false;
    }
    return known ? left : this.text(start);
  }

  private equality(): Value {
    this.space();
    const start = this.i;
    const left = this.comparison();
    for (const op of ['==', '!=']) {
      if (this.take(op)) {
        const right = this.comparison();
        let same: boolean | undefined;
        if ('literal' in left && 'literal' in right) same = JSON.stringify(left.literal) === JSON.stringify(right.literal);
        else if (
          ('notNull' in left && 'literal' in right && right.literal === null) ||
          ('notNull' in right && 'literal' in left && left.literal === null)
        ) {
          same = false;
        }
        return same === undefined ? this.text(start) : { literal: op === '==' ? same : !same };
      }
    }
    return left;
  }

  private comparison(): Value {
    this.space();
    const start = this.i;
    const left = this.arithmetic();
    this.space();
    const op = /^(?:<=|>=|<|>)/.exec(this.src.slice(this.i));
    if (!op) return left;
    this.i += op[0].length;
    this.arithmetic();
    return this.text(start);
  }

  private arithmetic(): Value {
    this.space();
    const start = this.i;
    const left = this.unary();
    let known = true;
    for (;;) {
      this.space();
      if (!/^[-+*/%](?![=>])/.test(this.src.slice(this.i))) break;
      this.i++;
      this.unary();
      known = false;
    }
    return known ? left : this.text(start);
  }

  private unary(): Value {
    this.space();
    const start = this.i;
    if (this.src[this.i] === '!' && this.src[this.i + 1] !== '=') {
      this.i++;
      const v = this.unary();
      return 'literal' in v && typeof v.literal === 'boolean' ? { literal: !v.literal } : this.text(start);
    }
    if (this.src[this.i] === '-') {
      this.i++;
      this.unary();
      return this.text(start);
    }
    return this.postfix();
  }

  private postfix(): Value {
    this.space();
    const start = this.i;
    const v = this.primary();
    let extended = false;
    for (;;) {
      if (this.src[this.i] === '.' && /[A-Za-z_*]/.test(this.src[this.i + 1] ?? '')) {
        this.i++;
        while (/[\w*-]/.test(this.src[this.i] ?? '')) this.i++;
      } else if (this.src.startsWith('[*]', this.i)) {
        this.i += 3;
      } else if (this.src[this.i] === '[') {
        this.i++;
        this.conditional();
        if (!this.take(']')) throw new Error(`expected ']' in ${this.src}`);
      } else if (this.src[this.i] === '(' && 'text' in v && /^[\w:]+$/.test(v.text)) {
        this.i++;
        this.list(')');
      } else break;
      extended = true;
    }
    if (!extended) return v;
    const text = this.text(start);
    const m = /^var\.([\w-]+)$/.exec(text.text);
    if (!m || !(m[1]! in this.values)) return text;
    const value = this.values[m[1]!]!;
    return value === SET ? { ...text, notNull: true } : { literal: value as string | boolean | null };
  }

  /** Items up to `close`, each read; the caller keeps only the source when it cannot use the values. */
  private list(close: string): Value[] {
    const items: Value[] = [];
    while (!this.take(close)) {
      items.push(this.conditional());
      if (this.take('...')) continue;
      if (!this.take(',') && !this.peek(close)) throw new Error(`expected ',' or '${close}' in ${this.src}`);
    }
    return items;
  }

  private primary(): Value {
    this.space();
    const start = this.i;
    const c = this.src[this.i];
    if (c === '"') return { literal: this.string() };
    if (c === '(') {
      this.i++;
      const inner = this.conditional();
      if (!this.take(')')) throw new Error(`expected ')' in ${this.src}`);
      return 'literal' in inner || inner.branch ? inner : this.text(start);
    }
    if ((c === '[' || c === '{') && /^[[{]\s*for\s/.test(this.src.slice(this.i))) return this.skipBalanced(start);
    if (this.src.startsWith('[*]', this.i)) {
      this.i += 3;
      return this.text(start);
    }
    if (c === '[') {
      this.i++;
      const items = this.list(']');
      return { literal: items.map((v) => ('literal' in v ? v.literal : `\${${v.text}}`)) };
    }
    if (c === '{') return this.skipBalanced(start);
    const number = /^\d+(?:\.\d+)?/.exec(this.src.slice(this.i));
    if (number) {
      this.i += number[0].length;
      return { literal: Number(number[0]) };
    }
    const word = /^[A-Za-z_][\w-]*(?:::[\w-]+)*/.exec(this.src.slice(this.i));
    if (!word) throw new Error(`unexpected '${this.src.slice(this.i)}' in ${this.src}`);
    this.i += word[0].length;
    if (word[0] === 'true' || word[0] === 'false') return { literal: word[0] === 'true' };
    if (word[0] === 'null') return { literal: null };
    return this.text(start);
  }

  /** An object constructor or a `for` expression, left as written. */
  private skipBalanced(start: number): Value {
    let depth = 0;
    do {
      const c = this.src[this.i];
      if (c === '"') {
        this.string();
        continue;
      }
      if (c === '{' || c === '[' || c === '(') depth++;
      if (c === '}' || c === ']' || c === ')') depth--;
      this.i++;
    } while (depth > 0 && this.i < this.src.length);
    return this.text(start);
  }

  /** A quoted template at the cursor, as a plan writes it: escapes undone in its text, its interpolations as written. */
  private string(): string {
    const start = ++this.i;
    while (this.src[this.i] !== '"') {
      if (this.i >= this.src.length) throw new Error(`unterminated string in ${this.src}`);
      if (this.src[this.i] === '\\') this.i += 2;
      else if (
        (this.src[this.i] === '$' || this.src[this.i] === '%') &&
        this.src[this.i + 1] === '{' &&
        this.src[this.i - 1] !== this.src[this.i]
      ) {
        this.i += 2;
        this.conditional();
        if (!this.take('}')) throw new Error(`expected '}' in ${this.src}`);
      } else this.i++;
    }
    const raw = this.src.slice(start, this.i++);
    return templateParts(raw)
      .map((p) =>
        'text' in p
          ? p.text.replace(/\\(.)/g, (_, e: string) => ({ n: '\n', r: '\r', t: '\t' })[e] ?? e)
          : `${p.directive ? '%' : '$'}{${p.expression}}`,
      )
      .join('');
  }
}

/** A plan's value with its expression read at the given choices. */
function evaluated(value: string, values: ChoiceValues): Json {
  const parts = templateParts(value);
  if (parts.length !== 1 || !('expression' in parts[0]!) || parts[0].directive) return value;
  const v = new Parser(parts[0].expression, values).parse();
  if ('literal' in v) return v.literal;
  const text = v.text;
  // A value the merge chose and wrapped in parentheses: unwrapped, as the construct wrote it.
  return `\${${v.branch && isWrapped(text) ? text.slice(1, -1) : text}}`;
}

/** Whether a text is one parenthesized group. */
function isWrapped(text: string): boolean {
  if (!text.startsWith('(') || !text.endsWith(')')) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0 && i < text.length - 1) return false;
  }
  return true;
}

function walk(value: Json, values: ChoiceValues): Json {
  if (typeof value === 'string') return evaluated(value, values);
  if (Array.isArray(value)) return value.map((v) => walk(v, values));
  if (value !== null && typeof value === 'object') {
    const result: Record<string, Json> = {};
    for (const [k, v] of Object.entries(value)) {
      const w = walk(v, values);
      // A null argument is an argument not set.
      if (w !== null) result[k] = w;
    }
    return result;
  }
  return value;
}

/** The configuration for the choices' values, and the sentences of the preconditions that fail for them. */
export function evaluateModule(doc: Doc, values: ChoiceValues): { readonly doc: Doc; readonly refused: readonly string[] } {
  const { output, ...configuration } = doc as Record<string, Json>;
  const result = walk(configuration, values) as Record<string, Record<string, Record<string, Record<string, Json>>>>;
  // An output's value comes to null where the choices make it so: a value, not an argument left unset.
  if (output !== undefined) {
    const outputs: Record<string, Record<string, Json>> = {};
    for (const [name, o] of Object.entries(output as Record<string, Record<string, Json>>)) {
      const value = o.value ?? null;
      outputs[name] = {
        ...(walk(o, values) as Record<string, Json>),
        value: typeof value === 'string' ? evaluated(value, values) : walk(value, values),
      };
    }
    (result as Record<string, unknown>).output = outputs;
  }
  const absent: string[] = [];
  const present: string[] = [];
  for (const section of ['resource', 'data']) {
    for (const [type, byId] of Object.entries(result[section] ?? {})) {
      for (const [id, body] of Object.entries(byId)) {
        const address = `${section === 'data' ? 'data.' : ''}${type}.${id}`;
        if (!('count' in body)) continue;
        if (body.count === 0) {
          delete byId[id];
          if (Object.keys(byId).length === 0) delete result[section]![type];
          absent.push(address);
        } else if (body.count === 1) {
          delete body.count;
          present.push(address);
        } else throw new Error(`${address}: count ${JSON.stringify(body.count)} is not 0 or 1 for these values`);
      }
    }
  }
  const refused: string[] = [];
  const index = new RegExp(`(?<![\\w.-])(${present.map((a) => a.replace(/\./g, '\\.')).join('|') || '(?!)'})\\[0\\]`, 'g');
  const tidy = (value: Json, key?: string): Json => {
    if (typeof value === 'string') return value.replace(index, '$1');
    if (Array.isArray(value)) {
      if (key === 'depends_on') return value.filter((d) => !absent.includes(String(d)));
      if (key === 'precondition') {
        return value
          .filter((p) => {
            const check = p as { condition: Json; error_message: Json };
            if (typeof check.condition !== 'boolean') return true;
            if (!check.condition) refused.push(String(check.error_message));
            return false;
          })
          .map((v) => tidy(v));
      }
      return value.map((v) => tidy(v));
    }
    if (value !== null && typeof value === 'object') {
      // A `depends_on` or a list of preconditions left empty is none, and so is a lifecycle left empty.
      return Object.fromEntries(
        Object.entries(value)
          .map(([k, v]) => [k, tidy(v, k)] as const)
          .filter(([k, v]) => !(['depends_on', 'precondition'].includes(k) && (v as Json[]).length === 0))
          .filter(([k, v]) => k !== 'lifecycle' || Object.keys(v as object).length > 0),
      );
    }
    return value;
  };
  return { doc: tidy(result as unknown as Json) as Doc, refused };
}
