import type { IntegrityResponderProps } from '../../lib';
import { IntegrityResponderPropsError, resolveProps } from '../../lib/props';
import type { Json } from './hcl';
import { quoted } from './hcl';
import type { Doc } from './merge';
import { ELEMENT_PATTERNS, ENUMERATED, Input, ModuleSpec, UNCHECKED_PATTERNS, probeProps } from './spec';

/*
 * The validation blocks of a module's variables, each a rule of the construct or the contract,
 * never written again here: the values an enumerated prop accepts and the range of a number are
 * what the construct accepts when asked (resolveProps); a pattern is the contract's, tested as
 * the construct tests one in Terraform (lib/tokens.ts); a check the construct makes of a
 * Terraform value at plan (a precondition) that reads one variable only is lifted onto that
 * variable, with the construct's sentence. Error messages are the construct's sentences.
 */

/** A `validation` block, or a precondition. */
export interface Check {
  readonly condition: string;
  readonly error_message: string;
}

/** What the construct says of the props, or undefined when it accepts them. */
function refusal(props: IntegrityResponderProps): string | undefined {
  try {
    resolveProps(props);
    return undefined;
  } catch (e) {
    if (e instanceof IntegrityResponderPropsError) return e.detail;
    throw e;
  }
}

/** The construct's sentence without the value it quotes (`, got 'x'`). */
const withoutValue = (detail: string) => detail.replace(/, got .*$/s, '');

const list = (values: readonly string[]) => `[${values.map(quoted).join(', ')}]`;
const said = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');

/** The integers the construct accepts for a number prop: from the default, outwards, by bisection. */
function integerRange(props: IntegrityResponderProps, prop: keyof IntegrityResponderProps): { min: number; max: number } {
  const accepts = (n: number) => refusal({ ...props, [prop]: n }) === undefined;
  const start = (resolveProps(props) as unknown as Record<string, number>)[prop]!;
  const edge = (towards: number) => {
    let [inside, outside] = [start, towards];
    while (Math.abs(outside - inside) > 1) {
      const middle = Math.trunc((inside + outside) / 2);
      if (accepts(middle)) inside = middle;
      else outside = middle;
    }
    return inside;
  };
  return { min: edge(-(2 ** 31)), max: edge(2 ** 31) };
}

/** The vCPU values the construct accepts for `availableCpu` with the module's memory, and those that also allow concurrency above 1. */
function cpuRules(props: IntegrityResponderProps): { accepted: string[]; concurrent: string[] } {
  const named = /must be one of (.*)$/.exec(withoutValue(refusal({ ...props, availableCpu: 'none' }) ?? ''))?.[1];
  if (named === undefined) throw new Error('the construct no longer names the vCPU values it accepts');
  const all = [...named.matchAll(/'([^']*)'/g)].map((m) => m[1]!);
  const accepted = all.filter((cpu) => refusal({ ...props, availableCpu: cpu }) === undefined);
  const concurrent = accepted.filter((cpu) => refusal({ ...props, availableCpu: cpu, maxInstanceRequestConcurrency: 2 }) === undefined);
  return { accepted, concurrent };
}

/**
 * Terraform's test that a variable matches a pattern, as the construct writes one (`matches()` in
 * lib/tokens.ts: the pattern's source without the `\\/` JavaScript writes for a slash), but with
 * the backslashes of the source escaped in the string literal: cdktf writes a string argument of
 * a function as it is, so `\\(` reached Terraform as an invalid escape. None of the construct's own
 * token checks has a backslash; the database id's `\\(default\\)` has.
 */
function patternTest(pattern: RegExp, variable: string): string {
  return `can(regex(${regexLiteral(pattern)}, var.${variable}))`;
}

/** A pattern as a string literal of Terraform's `regex()`. */
const regexLiteral = (pattern: RegExp) => quoted(pattern.source.replace(/\\\//g, '/'));

/** A check of a nullable variable holds when it is null. */
const orNull = (variable: string, condition: string, nullable: boolean) =>
  nullable ? `var.${variable} == null ? true : ${condition}` : condition;

/**
 * The preconditions of some synthesized configurations that read exactly one variable and
 * nothing else, by that variable: those checks can be the variable's own.
 */
export function singleVariableChecks(docs: readonly Doc[]): Map<string, Check[]> {
  const found = new Map<string, Check[]>();
  for (const doc of docs) {
    for (const byId of Object.values((doc.resource ?? {}) as Record<string, Record<string, Record<string, Json>>>)) {
      for (const body of Object.values(byId)) {
        const lifecycle = body.lifecycle as { precondition?: Check[] } | undefined;
        for (const check of lifecycle?.precondition ?? []) {
          const references = new Set(
            [...check.condition.matchAll(/\b(?:var|local|data|each|self|[a-z]+_[a-z0-9_]+)\.[\w-]+/g)].map((m) => m[0]),
          );
          const [only] = [...references];
          if (references.size !== 1 || !only!.startsWith('var.')) continue;
          const variable = only!.slice('var.'.length);
          const checks = found.get(variable) ?? [];
          if (!checks.some((c) => c.condition === check.condition)) checks.push(check);
          found.set(variable, checks);
        }
      }
    }
  }
  return found;
}

/** The validation blocks of one input of a module. */
export function validationsOf(
  spec: ModuleSpec,
  input: Input,
  fixed: Partial<IntegrityResponderProps>,
  rename: (text: string) => string,
  lifted: ReadonlyMap<string, Check[]>,
): Check[] {
  const props = { ...probeProps(spec.kind), ...fixed };
  const v = input.variable;
  const nullable = input.choice === true && input.kind === 'given';
  const checks: Check[] = [];
  const values = ENUMERATED[input.prop];
  if (values !== undefined && input.type === 'string') {
    const accepted = values.filter((value) => refusal({ ...props, [input.prop]: value }) === undefined);
    checks.push({ condition: `contains(${list(accepted)}, var.${v})`, error_message: `${v} must be one of ${said(accepted)}.` });
  }
  if (input.type === 'number') {
    // With a vCPU that allows any concurrency, so that the range alone decides.
    const cpu = cpuRules(props).concurrent[0];
    const probe = { ...props, ...(cpu !== undefined && { availableCpu: cpu }) };
    const { min, max } = integerRange(probe, input.prop);
    checks.push({
      condition: `var.${v} == floor(var.${v}) && var.${v} >= ${min} && var.${v} <= ${max}`,
      error_message: `${rename(withoutValue(refusal({ ...probe, [input.prop]: max + 1 })!))}.`,
    });
  }
  if (input.prop === 'availableCpu') {
    const { accepted } = cpuRules(props);
    const memory = resolveProps(props).memoryMib;
    checks.push({
      condition: orNull(v, `contains(${list(accepted)}, var.${v})`, nullable),
      error_message: `${v} must be one of ${said(accepted)}: the vCPU values that allow the function's ${memory} MiB.`,
    });
  }
  const pattern = UNCHECKED_PATTERNS[input.prop];
  if (pattern !== undefined) {
    checks.push({
      condition: orNull(v, patternTest(pattern, v), nullable),
      error_message: `${rename(withoutValue(refusal({ ...props, [input.prop]: 'NOT VALID!' })!))}.`,
    });
  }
  const element = ELEMENT_PATTERNS[input.prop];
  if (element !== undefined && input.type === 'list(string)') {
    // The construct's sentence for a written-out list's first element (`excludedProjects[0] must match …`), said of every element.
    const said = rename(withoutValue(refusal({ ...props, [input.prop]: ['NOT VALID!'] })!));
    const first = new RegExp(`^${v}\\[0\\] must match `);
    if (!first.test(said)) throw new Error(`the construct no longer says ${input.prop}[0] must match a pattern: ${said}`);
    checks.push({
      condition: `alltrue([for element in var.${v} : can(regex(${regexLiteral(element)}, element))])`,
      error_message: `${said.replace(first, `${v} has an element that does not match `)}.`,
    });
  }
  // Only the checks that speak of this input: a default built from it (a location from the region) is checked under its own name.
  for (const check of (lifted.get(v) ?? []).filter((c) => c.error_message.startsWith(`${v} `))) {
    const condition = check.condition.slice(2, -1);
    checks.push({ condition: orNull(v, condition, nullable), error_message: check.error_message });
  }
  // A rule the generator states from the contract and the construct now checks too (a pattern, an enumeration) is written once.
  return checks.filter((c, i) => checks.findIndex((d) => d.condition === c.condition && d.error_message === c.error_message) === i);
}

/** Checks across variables, written as preconditions: the vCPU a concurrency above 1 needs. */
export function crossChecks(spec: ModuleSpec, fixed: Partial<IntegrityResponderProps>): Check[] {
  const { concurrent } = cpuRules({ ...probeProps(spec.kind), ...fixed });
  const detail = refusal({ ...probeProps(spec.kind), ...fixed, maxInstanceRequestConcurrency: 2 });
  const why = /\((.*)\)/.exec(detail ?? '')?.[1];
  return [
    {
      condition:
        `var.max_instance_request_concurrency <= 1 ? true : var.available_cpu == null ? false : ` +
        `contains(${list(concurrent)}, var.available_cpu)`,
      error_message: `max_instance_request_concurrency above 1 needs available_cpu of ${said(concurrent)}${why ? ` (${why})` : ''}.`,
    },
  ];
}
