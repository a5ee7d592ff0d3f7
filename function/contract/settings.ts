import {
  BaselineApproval,
  BASELINE_APPROVALS,
  ENFORCEMENTS,
  Enforcement,
  FAILURE_ACTIONS,
  FailureAction,
  INSTANCE_GROUP_ACTIONS,
  InstanceGroupAction,
  LOG_LEVELS,
  LogLevel,
  RESPONSE_MODES,
  ResponseMode,
  STALE_EVENT_POLICIES,
  StaleEventPolicy,
} from './vocabulary';
import { DEFAULT_BASELINE_COLLECTION, DEFAULT_EXEMPT_LABEL } from './names';
import { COMPUTE_API_ENDPOINT, RESOURCE_MANAGER_API_ENDPOINT, SECURITY_CENTER_API_ENDPOINT } from './endpoint';
import {
  DEFAULT_SNAPSHOT_RETENTION_DAYS,
  EVIDENCE_STEPS_SETTING,
  FINDINGS_SOURCE_SETTING,
  FORENSICS_PROJECT_SETTING,
  NONE,
  TAG_VALUE_SETTING,
} from './containment';
import { COLLECTION_ID, DATABASE_ID, EXEMPT_LABEL, PROJECT_ID, PROJECT_ID_TEXT } from './patterns';

/*
 * The contract between the construct and the function: every environment variable the
 * construct sets, its allowed values and its default, declared here once. The construct
 * validates props and writes the variables from these declarations; the function reads them
 * back with the same declarations and refuses to start when one is missing or out of range.
 */

/** What `MAX_ACTIONS_PER_WINDOW` says to turn the action budget off. */
export const UNLIMITED = 'unlimited';

/** The key and value of a `key=value` exemption label. */
export function parseExemptLabel(label: string): { readonly key: string; readonly value: string } {
  const i = label.indexOf('=');
  return { key: label.slice(0, i), value: label.slice(i + 1) };
}

/**
 * Where the VMs a responder watches live: `projects/<id>`, `folders/<number>` or
 * `organizations/<number>`. Folder and organization scopes include every descendant project.
 */
export const SCOPE = new RegExp(`^(?:projects/${PROJECT_ID_TEXT}|folders/[1-9][0-9]{0,19}|organizations/[1-9][0-9]{0,19})$`);

/** A parsed scope: the kind of resource-hierarchy node and its id (project id, folder or organization number). */
export interface Scope {
  readonly kind: 'project' | 'folder' | 'organization';
  readonly id: string;
}

/**
 * The kind and id of a scope by its prefix alone, for scopes whose id is not known at synth
 * time (a token project id); undefined when the prefix is none of the three.
 */
export function scopeKindOf(scope: string): Scope | undefined {
  const slash = scope.indexOf('/');
  const kind = { projects: 'project', folders: 'folder', organizations: 'organization' }[scope.slice(0, slash)];
  return kind === undefined ? undefined : { kind: kind as Scope['kind'], id: scope.slice(slash + 1) };
}

/** Parses a {@link SCOPE} string; undefined when it is not one. */
export function parseScope(scope: string): Scope | undefined {
  return SCOPE.test(scope) ? scopeKindOf(scope) : undefined;
}

/** What `EXCLUDED_PROJECTS` holds when no project is excluded (every setting is set explicitly). */
export const NO_EXCLUDED_PROJECTS = 'none';
/**
 * Most projects one responder may exclude from a folder or organization scope. The exclusion is
 * also an IAM condition, `!(resource.name.startsWith(…) || …)`: one logical operator per
 * project, and a condition allows at most 12 (cloud.google.com/iam/docs/conditions-overview,
 * limits).
 */
export const MAX_EXCLUDED_PROJECTS = 10;
/** `none`, or project ids separated by commas. */
export const EXCLUDED_PROJECTS = new RegExp(
  `^(?:${NO_EXCLUDED_PROJECTS}|${PROJECT_ID_TEXT}(?:,${PROJECT_ID_TEXT}){0,${MAX_EXCLUDED_PROJECTS - 1}})$`,
);

/** The `EXCLUDED_PROJECTS` value of a list of project ids. */
export function formatExcludedProjects(projects: readonly string[]): string {
  return projects.length === 0 ? NO_EXCLUDED_PROJECTS : [...projects].sort().join(',');
}

/** The project ids of an `EXCLUDED_PROJECTS` value. */
export function parseExcludedProjects(value: string): readonly string[] {
  return value === NO_EXCLUDED_PROJECTS ? [] : value.split(',');
}

/** The function's settings, in the construct's words. */
export interface FunctionSettings {
  readonly responseMode: ResponseMode;
  /** Firestore database id; `(default)` for a project's default database. */
  readonly firestoreDatabase: string;
  readonly baselineCollection: string;
  /**
   * `two-person`: a baseline matches only with an approval by a principal other than its
   * creator (`requireBaselineApproval`); `none`: an active baseline matches.
   */
  readonly baselineApproval: BaselineApproval;
  /** Firestore database of the decision ledger, the only one the function writes. */
  readonly ledgerDatabase: string;
  /** The project the function and its databases are in (the security project). */
  readonly projectId: string;
  /** The VMs acted on: `projects/<id>`, `folders/<number>` or `organizations/<number>`. */
  readonly scope: string;
  /** Projects of a folder or organization scope whose entries are never acted on: `none` or ids separated by commas. */
  readonly excludedProjects: string;
  readonly logLevel: LogLevel;
  /** Failed reports older than this are resolved by `staleEventPolicy`. */
  readonly maxEventAgeSeconds: number;
  readonly staleEventPolicy: StaleEventPolicy;
  /**
   * A known-good report older than this never relearns (the next boot's report decides): the
   * bound on how long a guest has to reboot into something else before the relearn adopts it.
   */
  readonly relearnMaxAgeSeconds: number;
  /** Deadline of each Compute API call; a timed-out call fails the event, which is redelivered. */
  readonly computeTimeoutSeconds: number;
  /** How a VM is contained where the decision is to stop it: `stop`, or `suspend` (memory kept). */
  readonly failureAction: FailureAction;
  /** `enforce` acts; `dry-run` decides and records exactly as enforce would, without any Compute mutation. */
  readonly enforcement: Enforcement;
  /** `key=value`: a VM carrying this label is never stopped, suspended or relearned. */
  readonly exemptLabel: string;
  /** `abandon`: a member of a managed instance group leaves it before it is contained; `contain-only`: not. */
  readonly instanceGroupAction: InstanceGroupAction;
  /**
   * Stops and suspends allowed per window across the whole responder, counted in the ledger;
   * beyond it a failed VM is left running and its event redelivered. `unlimited` turns it off.
   */
  readonly maxActionsPerWindow: number | typeof UNLIMITED;
  /** Length of the fixed windows the action budget is counted in, seconds. */
  readonly actionWindowSeconds: number;
  /**
   * The steps a containment takes before the stop or suspend (ADR 0031): `none`, or `snapshot`
   * and `quarantine` separated by a comma, in that order.
   */
  readonly containmentSteps: string;
  /** Project the `snapshot` step writes evidence snapshots to; `none` without that step. */
  readonly forensicsProject: string;
  /** Days an evidence snapshot is labelled to be kept (`integrity-retain-until`). */
  readonly snapshotRetentionDays: number;
  /** The secure tag value (`tagValues/<number>`) the `quarantine` step binds; `none` without that step. */
  readonly quarantineTagValue: string;
  /** Security Command Center source the function raises findings in; `none` for no findings. */
  readonly findingsSource: string;
}

/** A setting whose value must be one of a list. */
export interface EnumSetting<T extends string> {
  readonly kind: 'enum';
  readonly env: string;
  readonly values: readonly T[];
  readonly default: T;
}

/** An integer setting with inclusive bounds. */
export interface IntegerSetting {
  readonly kind: 'integer';
  readonly env: string;
  readonly min: number;
  readonly max: number;
  readonly default: number;
}

/** An integer setting with inclusive bounds that also takes the word `unlimited`, meaning no bound at all. */
export interface LimitSetting {
  readonly kind: 'limit';
  readonly env: string;
  readonly min: number;
  readonly max: number;
  readonly default: number;
}

/** A string setting that must match a pattern; `hint` says in words what the pattern allows. */
export interface PatternSetting {
  readonly kind: 'pattern';
  readonly env: string;
  readonly pattern: RegExp;
  readonly hint: string;
  /** Absent where the construct derives the default (e.g. from `namePrefix` or the stack). */
  readonly default?: string;
}

type SettingFor<V> = [V] extends [number]
  ? IntegerSetting
  : [V] extends [number | typeof UNLIMITED]
    ? LimitSetting
    : [V] extends [string]
      ? string extends V
        ? PatternSetting
        : EnumSetting<V>
      : never;

/** Every function setting: its variable, what it accepts, its default. */
export const SETTINGS: { readonly [K in keyof FunctionSettings]-?: SettingFor<FunctionSettings[K]> } = {
  responseMode: { kind: 'enum', env: 'RESPONSE_MODE', values: RESPONSE_MODES, default: 'relearn-if-known-good' },
  firestoreDatabase: {
    kind: 'pattern',
    env: 'FIRESTORE_DATABASE',
    pattern: DATABASE_ID,
    hint: "'(default)' or a database id like 'integrity-responder-baselines'",
  },
  baselineCollection: {
    kind: 'pattern',
    env: 'BASELINE_COLLECTION',
    pattern: COLLECTION_ID,
    hint: 'a top-level collection id',
    default: DEFAULT_BASELINE_COLLECTION,
  },
  baselineApproval: { kind: 'enum', env: 'BASELINE_APPROVAL', values: BASELINE_APPROVALS, default: 'none' },
  ledgerDatabase: {
    kind: 'pattern',
    env: 'LEDGER_DATABASE',
    pattern: DATABASE_ID,
    hint: "a database id like 'integrity-responder-decisions'",
  },
  projectId: { kind: 'pattern', env: 'GOOGLE_CLOUD_PROJECT', pattern: PROJECT_ID, hint: 'a Google Cloud project id' },
  scope: { kind: 'pattern', env: 'SCOPE', pattern: SCOPE, hint: "'projects/<project id>', 'folders/<number>' or 'organizations/<number>'" },
  excludedProjects: {
    kind: 'pattern',
    env: 'EXCLUDED_PROJECTS',
    pattern: EXCLUDED_PROJECTS,
    hint: `'${NO_EXCLUDED_PROJECTS}' or up to ${MAX_EXCLUDED_PROJECTS} project ids separated by commas`,
    default: NO_EXCLUDED_PROJECTS,
  },
  logLevel: { kind: 'enum', env: 'LOG_LEVEL', values: LOG_LEVELS, default: 'debug' },
  maxEventAgeSeconds: { kind: 'integer', env: 'MAX_EVENT_AGE_SECONDS', min: 60, max: 604800, default: 3600 },
  staleEventPolicy: { kind: 'enum', env: 'STALE_EVENT_POLICY', values: STALE_EVENT_POLICIES, default: 'fail-closed' },
  // ADR 0020: export takes seconds; 300 s leaves room for a few redeliveries, not for an hour's backlog.
  relearnMaxAgeSeconds: { kind: 'integer', env: 'RELEARN_MAX_AGE_SECONDS', min: 60, max: 3600, default: 300 },
  computeTimeoutSeconds: { kind: 'integer', env: 'COMPUTE_TIMEOUT_SECONDS', min: 1, max: 300, default: 20 },
  failureAction: { kind: 'enum', env: 'FAILURE_ACTION', values: FAILURE_ACTIONS, default: 'stop' },
  enforcement: { kind: 'enum', env: 'ENFORCEMENT', values: ENFORCEMENTS, default: 'enforce' },
  exemptLabel: {
    kind: 'pattern',
    env: 'EXEMPT_LABEL',
    pattern: EXEMPT_LABEL,
    hint: "a GCE label as key=value, like 'integrity-response=exempt'",
    default: DEFAULT_EXEMPT_LABEL,
  },
  instanceGroupAction: { kind: 'enum', env: 'INSTANCE_GROUP_ACTION', values: INSTANCE_GROUP_ACTIONS, default: 'abandon' },
  maxActionsPerWindow: { kind: 'limit', env: 'MAX_ACTIONS_PER_WINDOW', min: 1, max: 100000, default: 50 },
  actionWindowSeconds: { kind: 'integer', env: 'ACTION_WINDOW_SECONDS', min: 60, max: 604800, default: 3600 },
  containmentSteps: {
    kind: 'pattern',
    env: 'CONTAINMENT_STEPS',
    pattern: EVIDENCE_STEPS_SETTING,
    hint: `'${NONE}', 'snapshot', 'quarantine' or 'snapshot,quarantine'`,
    default: NONE,
  },
  forensicsProject: {
    kind: 'pattern',
    env: 'FORENSICS_PROJECT',
    pattern: FORENSICS_PROJECT_SETTING,
    hint: `'${NONE}' or a Google Cloud project id`,
    default: NONE,
  },
  snapshotRetentionDays: {
    kind: 'integer',
    env: 'SNAPSHOT_RETENTION_DAYS',
    min: 1,
    max: 3650,
    default: DEFAULT_SNAPSHOT_RETENTION_DAYS,
  },
  quarantineTagValue: {
    kind: 'pattern',
    env: 'QUARANTINE_TAG_VALUE',
    pattern: TAG_VALUE_SETTING,
    hint: `'${NONE}' or a secure tag value like 'tagValues/281474976710656'`,
    default: NONE,
  },
  findingsSource: {
    kind: 'pattern',
    env: 'FINDINGS_SOURCE',
    pattern: FINDINGS_SOURCE_SETTING,
    hint: `'${NONE}' or a Security Command Center source like 'organizations/123456789012/sources/1234567890'`,
    default: NONE,
  },
};

/**
 * The settings of the containment playbook (ADR 0031). The construct writes them only for a
 * responder with a playbook (any of them off its default), so that a responder configured as
 * before keeps the environment, and the plan, it had; the function reads an absent one as its
 * default. A playbook's are all written, together.
 */
export const PLAYBOOK_SETTINGS = [
  'containmentSteps',
  'forensicsProject',
  'snapshotRetentionDays',
  'quarantineTagValue',
  'findingsSource',
] as const satisfies readonly (keyof FunctionSettings)[];

/** Variables the function reads that the construct never sets (tests, demos, private endpoints). */
export const OPTIONAL_VARIABLES = [
  COMPUTE_API_ENDPOINT,
  'FIRESTORE_EMULATOR_HOST',
  RESOURCE_MANAGER_API_ENDPOINT,
  SECURITY_CENTER_API_ENDPOINT,
] as const;

/** Names of every variable the construct sets, in declaration order. */
export const FUNCTION_VARIABLES: readonly string[] = Object.values(SETTINGS).map((s) => s.env);

/**
 * Deadline of each Compute call for a function timeout: an event makes up to three Compute
 * calls, and their deadlines must fit in its timeout.
 */
export function computeTimeoutFor(functionTimeoutSeconds: number): number {
  const s = SETTINGS.computeTimeoutSeconds;
  return Math.max(s.min, Math.min(s.default, Math.floor(functionTimeoutSeconds / 4)));
}

/** The environment variables the construct gives the function: one per setting, none left out. */
export function functionEnvironment(settings: FunctionSettings): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of Object.keys(SETTINGS) as (keyof FunctionSettings)[]) env[SETTINGS[key].env] = String(settings[key]);
  return env;
}

/** Why a raw value does not satisfy a setting, or undefined when it does. */
export function settingProblem(
  setting: EnumSetting<string> | IntegerSetting | LimitSetting | PatternSetting,
  raw: string,
): string | undefined {
  switch (setting.kind) {
    case 'enum':
      return setting.values.includes(raw) ? undefined : `must be one of ${setting.values.join(', ')}`;
    case 'integer': {
      const n = Number(raw);
      return /^[0-9]+$/.test(raw) && n >= setting.min && n <= setting.max
        ? undefined
        : `must be an integer from ${setting.min} to ${setting.max}`;
    }
    case 'limit': {
      const n = Number(raw);
      return raw === UNLIMITED || (/^[0-9]+$/.test(raw) && n >= setting.min && n <= setting.max)
        ? undefined
        : `must be an integer from ${setting.min} to ${setting.max}, or '${UNLIMITED}'`;
    }
    case 'pattern':
      return setting.pattern.test(raw) ? undefined : `must be ${setting.hint}`;
  }
}

/** The value of a setting read from its variable, once {@link settingProblem} found none. */
export function settingValue(setting: EnumSetting<string> | IntegerSetting | LimitSetting | PatternSetting, raw: string): string | number {
  return setting.kind === 'integer' || (setting.kind === 'limit' && raw !== UNLIMITED) ? Number(raw) : raw;
}
