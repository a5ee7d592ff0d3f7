import { SETTINGS, UNLIMITED } from '../../function/contract';

/*
 * What a move into the module would change without a word: the values a stack's responder was
 * configured with, compared with the module's. The module writes some of them as literals (the
 * fixed values, which only a module generated with `--set` changes) and takes the others from its
 * variables; either way a difference lands on the function's in-place update, which the plan shows
 * in every migration (docs/migrating-from-cdktf.md). So the fixed values that differ are refused,
 * and the function's settings are listed, with the module inputs they map to where the module's
 * expression can be read backwards without a guess.
 */

/** The props the construct computes with, which the Terraform module holds fixed (the generator's `FIXED` is this list). */
export const FIXED_PROPS = [
  'memoryMib',
  'timeoutSeconds',
  'maxEventAgeSeconds',
  'relearnMaxAgeSeconds',
  'maxActionsPerWindow',
  'actionWindowSeconds',
  'iamPropagationSeconds',
] as const;

/** A prop the module holds fixed. */
export type FixedProp = (typeof FIXED_PROPS)[number];

const FUNCTION_TYPE = 'google_cloudfunctions2_function';
const ENV = 'service_config.environment_variables';
const whole = (v: string) => (/^[0-9]+$/.test(v) ? v : undefined);
const withUnit = (unit: string) => (v: string) => new RegExp(`^([0-9]+)${unit}$`).exec(v)?.[1];

/**
 * Where the construct writes each fixed prop, by resource type and attribute path: `value` reads
 * the prop's `--set` value back from the attribute; `derived` places follow a prop (the Compute
 * deadline and the subscription's ack deadline follow the function timeout) and have no `--set`.
 */
const FIXED_PLACES: Readonly<Record<string, { readonly prop: FixedProp; readonly value?: (v: string) => string | undefined }>> = {
  [`${FUNCTION_TYPE} service_config.available_memory`]: { prop: 'memoryMib', value: withUnit('Mi') },
  [`${FUNCTION_TYPE} service_config.timeout_seconds`]: { prop: 'timeoutSeconds', value: whole },
  [`${FUNCTION_TYPE} ${ENV}.${SETTINGS.maxEventAgeSeconds.env}`]: { prop: 'maxEventAgeSeconds', value: whole },
  [`${FUNCTION_TYPE} ${ENV}.${SETTINGS.relearnMaxAgeSeconds.env}`]: { prop: 'relearnMaxAgeSeconds', value: whole },
  [`${FUNCTION_TYPE} ${ENV}.${SETTINGS.maxActionsPerWindow.env}`]: {
    prop: 'maxActionsPerWindow',
    value: (v) => (v === UNLIMITED ? v : whole(v)),
  },
  [`${FUNCTION_TYPE} ${ENV}.${SETTINGS.actionWindowSeconds.env}`]: { prop: 'actionWindowSeconds', value: whole },
  [`${FUNCTION_TYPE} ${ENV}.${SETTINGS.computeTimeoutSeconds.env}`]: { prop: 'timeoutSeconds' },
  'google_pubsub_subscription ack_deadline_seconds': { prop: 'timeoutSeconds' },
  'time_sleep create_duration': { prop: 'iamPropagationSeconds', value: withUnit('s') },
};

/** Keys of a resource that are Terraform's, not the resource's settings; `//` is cdktf's metadata. */
const META = new Set(['//', 'depends_on', 'provider', 'count', 'for_each', 'lifecycle', 'dynamic']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether a value holds a Terraform expression anywhere. */
const isExpression = (v: unknown): boolean => JSON.stringify(v ?? null).includes('${');

/** The leaves of a resource's body (an array is a leaf), by attribute path, Terraform's keys left out. */
function leaves(value: unknown, path: readonly string[] = []): [readonly string[], unknown][] {
  if (!isObject(value)) return [[path, value]];
  return Object.entries(value)
    .filter(([k]) => !META.has(k))
    .flatMap(([k, v]) => leaves(v, [...path, k]));
}

/** The value at an attribute path; undefined when any part is absent. */
function at(value: unknown, path: readonly string[]): unknown {
  let v = value;
  for (const k of path) v = isObject(v) ? v[k] : undefined;
  return v;
}

/** Whether two values are the same to Terraform: `60` and `"60"` are. */
function same(a: unknown, b: unknown): boolean {
  const scalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
  if (scalar(a) && scalar(b)) return String(a) === String(b);
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A value as the messages and the header show it: text as it is, anything else as JSON; `not set` when absent. */
export function shown(v: unknown): string {
  if (v === undefined) return 'not set';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** One resource of the responder beside its counterpart in the module. */
export interface Pair {
  /** The resource's type. */
  readonly type: string;
  /** How messages name it: its construct path below the responder, e.g. `Function`. */
  readonly name: string;
  readonly stack: unknown;
  readonly module: unknown;
}

/** A value the module writes as a literal that the stack has otherwise. */
export interface FixedDifference {
  /** `<resource>: <attribute path>`, e.g. `Function: service_config.available_memory`. */
  readonly setting: string;
  readonly stack: unknown;
  readonly module: unknown;
  /** The fixed prop it is, or follows; undefined for a value no `--set` changes. */
  readonly prop?: FixedProp;
  /** The `--set` that gives the module the stack's value, where the attribute is the prop itself. */
  readonly set?: string;
}

/** Every value the module writes as a literal (no `${`) that the stack's resource has otherwise, in the pairs' order. */
export function fixedDifferences(pairs: readonly Pair[]): FixedDifference[] {
  const found: FixedDifference[] = [];
  for (const pair of pairs) {
    for (const [path, moduleValue] of leaves(pair.module)) {
      if (isExpression(moduleValue)) continue;
      const stackValue = at(pair.stack, path);
      if (same(stackValue, moduleValue)) continue;
      const place = FIXED_PLACES[`${pair.type} ${path.join('.')}`];
      const value = place?.value !== undefined && typeof stackValue !== 'object' ? place.value(String(stackValue)) : undefined;
      found.push({
        setting: `${pair.name}: ${path.join('.')}`,
        stack: stackValue,
        module: moduleValue,
        ...(place !== undefined && { prop: place.prop }),
        ...(place !== undefined && value !== undefined && { set: `--set ${place.prop}=${value}` }),
      });
    }
  }
  return found;
}

/** A module's variable, as its variables.tf.json declares it. */
interface Variable {
  readonly type?: string;
  readonly default?: unknown;
}

/** One setting of the stack's function that the module computes from its variables. */
export interface FunctionSetting {
  /** `ENFORCEMENT` for an environment variable, the attribute path otherwise (`service_config.max_instance_count`). */
  readonly name: string;
  /** The stack's value; undefined when the stack does not set it. */
  readonly value: unknown;
  /** The module's variables its expression reads. */
  readonly reads: readonly string[];
}

/** The function's settings the module takes as inputs, and the inputs they give where that is certain. */
export interface FunctionInputs {
  readonly settings: readonly FunctionSetting[];
  /** Input values read back from the settings, in the module's order of variables. */
  readonly mapped: ReadonlyMap<string, unknown>;
  /** The settings whose expression is not read backwards here, or whose value is the stack's own expression. */
  readonly unmapped: readonly FunctionSetting[];
  /** Variables to which two settings give different values: none of them is mapped. */
  readonly conflicts: ReadonlyMap<string, readonly unknown[]>;
  /** The module's variables, in its order, with their defaults: what the suggested call leaves out. */
  readonly variables: ReadonlyMap<string, Variable>;
}

const VAR = /\bvar\.([A-Za-z_][A-Za-z0-9_-]*)/g;
const NAME = '([A-Za-z_][A-Za-z0-9_-]*)';
/** `${var.x}` and nothing else. */
const WHOLE = new RegExp(`^\\$\\{var\\.${NAME}\\}$`);
/** `${var.x ? "a" : "b"}`, both plain text. */
const CHOICE = new RegExp(`^\\$\\{var\\.${NAME} \\? "([^"\\\\$%]*)" : "([^"\\\\$%]*)"\\}$`);
/** `${var.c != null ? var.x : null}`: x, where c is set; unset otherwise. */
const WHEN_SET = new RegExp(`^\\$\\{var\\.${NAME} != null \\? var\\.${NAME} : null\\}$`);
/** `${merge(var.x, {"k" = "v", "l" = var.y})}`: the caller's map under keys of the module's own. */
const MERGE = new RegExp(`^\\$\\{merge\\(var\\.${NAME}, \\{(.*)\\}\\)\\}$`);
/** One entry of MERGE's map: a quoted key, then plain text or a variable. */
const ENTRY = new RegExp(`^"([^"\\\\$%]*)" = (?:"([^"\\\\$%]*)"|var\\.${NAME})$`);

/**
 * What `${merge(var.x, {…})}` says of its variables: x is the stack's map without the module's
 * keys (which x may not hold, the module checks), each `var.y` the value under its key; undefined
 * when a plain value of the module's differs from the stack's or an entry is not of this form.
 */
function readBackMerge(name: string, entries: string, value: unknown): Record<string, unknown> | undefined {
  if (!isObject(value)) return undefined;
  const own: Record<string, unknown> = { ...value };
  const found: Record<string, unknown> = {};
  for (const entry of entries.split(', ')) {
    const m = ENTRY.exec(entry);
    if (m === null) return undefined;
    const [, key, text, variable] = m as unknown as [string, string, string | undefined, string | undefined];
    if (!(key in own)) return undefined;
    if (variable !== undefined) found[variable] = own[key];
    else if (own[key] !== text) return undefined;
    delete own[key];
  }
  return { [name]: own, ...found };
}

/**
 * What the stack's value of one setting says of the variables, when the module's expression is
 * one that can be read backwards without a guess: `${var.x}`; text around one `${var.x}`;
 * `${var.x ? "a" : "b"}`; `${var.c != null ? var.x : null}`. Undefined otherwise, and when the
 * stack's own value is an expression.
 */
function readBack(expression: string, value: unknown): Record<string, unknown> | undefined {
  if (isExpression(value)) return undefined;
  const wholeVar = WHOLE.exec(expression);
  if (wholeVar !== null) return value === undefined ? undefined : { [wholeVar[1]!]: value };
  const choice = CHOICE.exec(expression);
  if (choice !== null) {
    const [, name, yes, no] = choice as unknown as [string, string, string, string];
    return value === yes ? { [name]: true } : value === no ? { [name]: false } : undefined;
  }
  const merge = MERGE.exec(expression);
  if (merge !== null) return readBackMerge(merge[1]!, merge[2]!, value);
  const whenSet = WHEN_SET.exec(expression);
  if (whenSet !== null) {
    const [, condition, name] = whenSet as unknown as [string, string, string];
    if (value !== undefined) return { [name]: value };
    return condition === name ? { [name]: null } : {};
  }
  // Text around one interpolation of a variable, nothing else that Terraform would evaluate.
  const template = new RegExp(`^([^$%]*)\\$\\{var\\.${NAME}\\}([^$%]*)$`).exec(expression);
  if (template !== null && typeof value === 'string') {
    const [, before, name, after] = template as unknown as [string, string, string, string];
    if (value.length > before.length + after.length && value.startsWith(before) && value.endsWith(after)) {
      return { [name]: value.slice(before.length, value.length - after.length) };
    }
  }
  return undefined;
}

/** A value as a variable of this type takes it; undefined when it does not fit. */
function typed(value: unknown, type: string | undefined): unknown {
  if (value === null) return null;
  switch (type) {
    case 'number':
      return typeof value === 'number'
        ? value
        : typeof value === 'string' && /^-?[0-9]+(\.[0-9]+)?$/.test(value)
          ? Number(value)
          : undefined;
    case 'bool':
      return typeof value === 'boolean' ? value : value === 'true' ? true : value === 'false' ? false : undefined;
    case 'string':
      return typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
    default:
      return value;
  }
}

/**
 * The stack's function settings that the module computes from its variables (`module`: the module's
 * function, `variables`: its variables.tf.json `variable`), and the inputs they give.
 */
export function functionInputs(stack: unknown, module: unknown, variables: unknown): FunctionInputs {
  const declared = new Map<string, Variable>(
    Object.entries(isObject(variables) ? variables : {}).map(([name, v]) => [name, isObject(v) ? (v as Variable) : {}]),
  );
  const settings: FunctionSetting[] = [];
  const unmapped: FunctionSetting[] = [];
  const given = new Map<string, unknown[]>();
  for (const [path, expression] of leaves(module)) {
    if (typeof expression !== 'string' || !isExpression(expression)) continue;
    const reads = [...new Set([...expression.matchAll(VAR)].map((m) => m[1]!))];
    if (reads.length === 0) continue;
    const name = path.slice(0, -1).join('.') === ENV ? path[path.length - 1]! : path.join('.');
    const setting: FunctionSetting = { name, value: at(stack, path), reads };
    settings.push(setting);
    const back = readBack(expression, setting.value);
    const values = back === undefined ? undefined : Object.entries(back).map(([v, x]) => [v, typed(x, declared.get(v)?.type)] as const);
    if (values === undefined || values.some(([v, x]) => !declared.has(v) || x === undefined)) {
      unmapped.push(setting);
      continue;
    }
    for (const [v, x] of values) given.set(v, [...(given.get(v) ?? []), x]);
  }
  // The environment after the function's other settings, as the plan shows them.
  const isEnv = (s: FunctionSetting) => /^[A-Z]/.test(s.name);
  settings.sort((a, b) => Number(isEnv(a)) - Number(isEnv(b)));
  unmapped.sort((a, b) => Number(isEnv(a)) - Number(isEnv(b)));
  const mapped = new Map<string, unknown>();
  const conflicts = new Map<string, unknown[]>();
  for (const name of declared.keys()) {
    const values = given.get(name);
    if (values === undefined) continue;
    const distinct = values.filter((v, i) => values.findIndex((w) => same(v, w) && typeof v === typeof w) === i);
    if (distinct.length === 1) mapped.set(name, distinct[0]);
    else conflicts.set(name, distinct);
  }
  return { settings, mapped, unmapped, conflicts, variables: declared };
}

/** Whether a mapped value is the variable's default (an absent default is none: the input is required). */
export function isDefault(variable: Variable | undefined, value: unknown): boolean {
  return variable !== undefined && 'default' in variable && JSON.stringify(variable.default) === JSON.stringify(value);
}

/** A value as HCL writes it: text quoted, with Terraform's `${` and `%{` escaped. */
export function hcl(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value).replace(/([$%])\{/g, (_, c: string) => `${c}${c}{`);
  if (Array.isArray(value)) return `[${value.map(hcl).join(', ')}]`;
  if (isObject(value))
    return `{ ${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)} = ${hcl(v)}`)
      .join(', ')} }`;
  return JSON.stringify(value ?? null);
}
