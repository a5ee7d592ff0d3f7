import {
  FUNCTION_VARIABLES,
  FunctionSettings,
  NO_EXCLUDED_PROJECTS,
  OPTIONAL_VARIABLES,
  PLAYBOOK_SETTINGS,
  SETTINGS,
  settingProblem,
  settingValue,
  ApiEndpoint,
  COMPUTE_API_ENDPOINT,
  NONE,
  RESOURCE_MANAGER_API_ENDPOINT,
  ResponseMode,
  SECURITY_CENTER_API_ENDPOINT,
  parseApiEndpoint,
  parseEvidenceSteps,
} from '../contract';

/** Runtime configuration, read from environment variables once per instance. */
export interface Config extends Omit<FunctionSettings, 'responseMode'> {
  readonly mode: ResponseMode;
  /** Non-default Compute endpoint. `http:` endpoints are used without credentials. */
  readonly computeEndpoint?: ApiEndpoint;
  /** Non-default Resource Manager endpoint, for every zone's tag bindings (the quarantine). */
  readonly resourceManagerEndpoint?: ApiEndpoint;
  /** Non-default Security Command Center endpoint (the findings). */
  readonly securityCenterEndpoint?: ApiEndpoint;
}

/** A configuration problem: the function refuses to start rather than act on a guess. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Levenshtein distance, for naming the variable a misspelled one was meant to be. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length]!;
}

const KNOWN = new Set<string>([...FUNCTION_VARIABLES, ...OPTIONAL_VARIABLES]);

/** Variables that look like a misspelling of one of ours: one or two edits away. */
function misspelled(env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  for (const name of Object.keys(env)) {
    if (KNOWN.has(name) || name.length < 8) continue;
    const near = [...KNOWN].find((known) => distance(name, known) <= 2);
    if (near !== undefined) problems.push(`${name} is not a variable of this function; did you mean ${near}?`);
  }
  return problems;
}

/**
 * Reads and validates the function's environment variables against the contract the
 * construct writes them from. Every setting is required: a missing or misspelled variable
 * stops the function at start-up instead of falling back to a default nobody chose.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems = misspelled(env);
  const values: Record<string, string | number> = {};
  for (const [key, setting] of Object.entries(SETTINGS)) {
    const raw = env[setting.env];
    if (raw === undefined || raw === '') {
      // A responder without a containment playbook is given none of its variables (PLAYBOOK_SETTINGS).
      if ((PLAYBOOK_SETTINGS as readonly string[]).includes(key)) {
        values[key] = setting.default!;
        continue;
      }
      problems.push(`${setting.env} is not set (the IntegrityResponder construct sets it)`);
      continue;
    }
    const problem = settingProblem(setting, raw);
    if (problem !== undefined) problems.push(`${setting.env} ${problem}; got '${raw}'`);
    values[key] = settingValue(setting, raw);
  }
  if (
    typeof values.scope === 'string' &&
    values.scope.startsWith('projects/') &&
    typeof values.excludedProjects === 'string' &&
    values.excludedProjects !== NO_EXCLUDED_PROJECTS
  ) {
    problems.push(`EXCLUDED_PROJECTS applies to a folder or organization SCOPE only; SCOPE is '${values.scope}'`);
  }
  problems.push(...playbookProblems(values));
  const endpoints: Record<string, ApiEndpoint> = {};
  for (const [field, variable] of [
    ['computeEndpoint', COMPUTE_API_ENDPOINT],
    ['resourceManagerEndpoint', RESOURCE_MANAGER_API_ENDPOINT],
    ['securityCenterEndpoint', SECURITY_CENTER_API_ENDPOINT],
  ] as const) {
    const { endpoint, problem } = parseApiEndpoint(variable, env[variable]);
    if (problem !== undefined) problems.push(problem);
    if (endpoint !== undefined) endpoints[field] = endpoint;
  }
  if (problems.length > 0) throw new ConfigError(problems.join('; '));
  const { responseMode, ...rest } = values as unknown as FunctionSettings;
  return { mode: responseMode, ...rest, ...endpoints };
}

/**
 * The playbook's settings that only make sense together: a step needs what it acts with, and
 * what it acts with is set only for a step that uses it (ADR 0031).
 */
function playbookProblems(values: Record<string, string | number>): string[] {
  const { containmentSteps, forensicsProject, quarantineTagValue } = values;
  if (typeof containmentSteps !== 'string') return [];
  const steps = parseEvidenceSteps(containmentSteps);
  const problems: string[] = [];
  const pairs = [
    ['snapshot', 'FORENSICS_PROJECT', forensicsProject],
    ['quarantine', 'QUARANTINE_TAG_VALUE', quarantineTagValue],
  ] as const;
  for (const [step, variable, value] of pairs) {
    if (typeof value !== 'string') continue;
    if (steps.includes(step) && value === NONE)
      problems.push(`CONTAINMENT_STEPS lists ${step}, so ${variable} must be set; it is '${NONE}'`);
    if (!steps.includes(step) && value !== NONE) {
      problems.push(`${variable} is '${value}', but CONTAINMENT_STEPS ('${containmentSteps}') does not list ${step}`);
    }
  }
  return problems;
}
