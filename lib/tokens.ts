import { FOR_EXPRESSION_VALUE, Fn, Op, Precondition, TerraformIterator, Tokenization, Token } from 'cdktf';

/*
 * Terraform expressions for props given as tokens, whose values exist only at plan: what the
 * construct computes or checks of a written-out value, Terraform computes or checks of these.
 */

/**
 * Id of one of a responder's custom roles, `<namePrefix>_<suffix>`: role ids take letters,
 * digits, `_` and `.`, so the prefix's hyphens become underscores (by Terraform's `replace()`
 * for a token).
 */
export function customRoleId(namePrefix: string, suffix: string): string {
  const base = Token.isUnresolved(namePrefix) ? Fn.replace(namePrefix, '-', '_') : namePrefix.replace(/-/g, '_');
  return `${base}_${suffix}`;
}

/**
 * A string that mixes text and tokens (`organizations/${id}`) as `join("", [...])` of its
 * parts. cdktf renders such a string as a template, which a function nested in another refuses
 * to read reliably (it warns "the output may be incorrect" at every synth).
 */
function withoutTemplate(value: string): string {
  const parts: unknown = Tokenization.reverseString(value).join({
    join: (left: unknown, right: unknown) => [...(Array.isArray(left) ? left : [left]), right],
  });
  return Array.isArray(parts) ? Fn.join('', parts as string[]) : value;
}

/**
 * A JavaScript pattern as Terraform's `regex()` reads it (RE2), written for a Terraform string
 * literal: the same text but for `\/`, which JavaScript writes for a slash, and with every other
 * backslash doubled, because cdktf writes a function's string argument as it is and Terraform
 * reads `\.` or `\(` in a string as an (invalid) escape.
 */
function terraformPattern(pattern: RegExp): string {
  return pattern.source.replace(/\\\//g, '/').replace(/\\/g, '\\\\');
}

/** Terraform's test that a string matches a pattern. */
export function matches(pattern: RegExp, value: string): Precondition['condition'] {
  return Fn.can(Fn.regex(terraformPattern(pattern), withoutTemplate(value)));
}

/** Terraform's test that a list is empty. */
export function isEmpty(list: readonly string[]): Precondition['condition'] {
  // `Op.eq(x, 0)` renders the 0 as `undefined` (cdktf 0.21): compared with 1 instead.
  return Op.lt(Fn.lengthOf([...list]), 1);
}

/**
 * Terraform's test that every string of a list matches a pattern, one element at a time
 * (`alltrue([for …: can(regex(…))])`): an element is never read together with its neighbours,
 * so a comma inside one cannot pass for a separator. An empty list passes.
 */
export function allMatch(pattern: RegExp, list: readonly string[]): Precondition['condition'] {
  const each = TerraformIterator.fromList([...list]);
  const test = Fn.can(Fn.regex(terraformPattern(pattern), Token.asString(FOR_EXPRESSION_VALUE)));
  return Fn.alltrue(Token.asList(each.forExpressionForList(test)));
}

/** Terraform's test that a string is none of the given patterns' matches. */
export function matchesNone(patterns: readonly RegExp[], value: string): Precondition['condition'] {
  return Op.not(patterns.map((p) => matches(p, value)).reduce((a, b) => Op.or(a, b)));
}
