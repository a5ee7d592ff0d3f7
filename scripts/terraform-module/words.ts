import * as contract from '../../function/contract';
import { SETTINGS } from '../../function/contract';
import type { Json } from './hcl';
import { FIXED, FixedProp, ModuleSpec } from './spec';

/*
 * The construct's documentation, read by someone writing HCL: what it names in TypeScript's or
 * the repository's terms, said in the module's. A module's reader sets inputs, not props, and has
 * the package, not the repository's docs/.
 */

/** What each fixed prop is to a module's reader (a term that reads in a sentence), and its unit. */
export const FIXED_TERMS: Readonly<Record<FixedProp, { readonly term: string; readonly meaning: string; readonly unit?: string }>> = {
  memoryMib: { term: "the function's memory", meaning: 'Memory of each function instance', unit: 'MiB' },
  timeoutSeconds: {
    term: 'the function timeout',
    meaning: 'Time one event may take before the platform retries it',
    unit: 's',
  },
  maxEventAgeSeconds: {
    term: 'the report age limit',
    meaning: 'Age beyond which a failed report is not vetted against the baselines (`stale_event_policy` decides)',
    unit: 's',
  },
  relearnMaxAgeSeconds: { term: 'the relearn age limit', meaning: 'Age beyond which a known-good report no longer relearns', unit: 's' },
  maxActionsPerWindow: { term: 'the action budget', meaning: 'Stops or suspends per window, across the responder (the action budget)' },
  actionWindowSeconds: { term: "the action budget's window", meaning: 'Window the action budget is counted in', unit: 's' },
  iamPropagationSeconds: {
    term: 'the IAM propagation wait',
    meaning: 'Wait after the IAM grants before the function and its trigger are created',
    unit: 's',
  },
};

/** A fixed prop's value with its unit. */
export function fixedValue(prop: FixedProp, value: Json): string {
  const unit = FIXED_TERMS[prop].unit;
  return typeof value === 'number' && unit !== undefined ? `${value} ${unit}` : String(value);
}

/** References to the repository's docs/, which the package does not ship: the text around them says what they would. */
const DOCS_REFERENCES = [/\s*\((?:see )?(?:ADR \d{4}|docs\/[\w./-]+?)\)/g, /\s*See (?:ADR \d{4}|docs\/[\w./-]+?)\./g];

/** Constants of the contract a documentation comment names (`MAX_EXCLUDED_PROJECTS`), by name. */
const CONSTANTS = new Map(
  Object.entries(contract as Record<string, unknown>).filter(
    (e): e is [string, number | string] => /^[A-Z][A-Z0-9_]+$/.test(e[0]) && ['number', 'string'].includes(typeof e[1]),
  ),
);

/**
 * The module's words for a text of the construct's documentation: the fixed props as what they
 * are, with the module's value; the contract's constants as their values; a function setting's
 * variable as the module's input; the construct as the module; no references to docs/.
 */
export function moduleWording(spec: ModuleSpec, fixed: Readonly<Record<FixedProp, Json>>): (text: string) => string {
  const fixedProps = new RegExp(`\`?\\b(${FIXED.join('|')})\\b\`?`, 'g');
  const inputOfEnv = new Map<string, string>();
  for (const [prop, setting] of Object.entries(SETTINGS)) {
    const input = spec.inputs.find((i) => i.prop === prop);
    if (input !== undefined) inputOfEnv.set(setting.env, input.variable);
  }
  return (text) => {
    let said = text;
    for (const reference of DOCS_REFERENCES) said = said.replace(reference, '');
    return said
      .replace(/\b([Tt])he construct\b/g, (_, t: string) => `${t}he module`)
      .replace(fixedProps, (_, prop: FixedProp) => `${FIXED_TERMS[prop].term}, fixed at ${fixedValue(prop, fixed[prop])} in this module`)
      .replace(/`([A-Z][A-Z0-9_]+)` variable/g, (whole, env: string) => (inputOfEnv.has(env) ? `\`${inputOfEnv.get(env)}\` input` : whole))
      .replace(/`([A-Z][A-Z0-9_]+)`/g, (whole, name: string) => (CONSTANTS.has(name) ? String(CONSTANTS.get(name)) : whole));
  };
}
