import type { Enforcement, FailureAction, InstanceGroupAction, ResponseMode, StaleEventPolicy, LogLevel } from '../function/contract';
import { Fn, Op, Precondition, Token } from 'cdktf';
import { CHANNEL_NAME, validateNotificationChannels } from './alerting';
import { MANAGED_BY, MANAGED_BY_VALUE, RESPONDER_LABEL } from './labels';
import type { ResponderProviders } from './providers';
import { allMatch, matches } from './tokens';
import { DEFAULT_NAME_PREFIX, MAX_EXCLUDED_PROJECTS, PROJECT_ID, SETTINGS, UNLIMITED, scopeKindOf } from '../function/contract';
import { IntegrityResponderPropsError } from './errors';

export type { Enforcement, FailureAction, InstanceGroupAction, LogLevel, ResponseMode, StaleEventPolicy };

/** Default wait between the IAM grants and the resources that use them: propagation takes about two minutes. */
export const DEFAULT_IAM_PROPAGATION_SECONDS = 120;

/** Cloud Run functions runtimes the bundle is built and tested for. */
export const SUPPORTED_RUNTIMES = ['nodejs22', 'nodejs24'] as const;

/** A supported Node.js runtime id. */
export type NodeRuntime = (typeof SUPPORTED_RUNTIMES)[number];

/**
 * Configuration of an {@link IntegrityResponder}.
 *
 * Props a platform team feeds from Terraform (`projectId`, `region`, `namePrefix`, the id in
 * `scope`, `organizationId`, `excludedProjects`, `notificationChannels`, `labels`,
 * `sourceBucketName`) may be tokens, e.g. a `TerraformVariable`'s value. What the construct
 * checks at synth for a written-out value, Terraform then checks at plan: a failed check is a
 * resource precondition whose message names the prop. Props that decide what is created
 * (`responseMode`, `failureAction`, `instanceGroupAction`, the booleans) or that the construct
 * computes with (`memoryMib`, `timeoutSeconds`, the other durations and the action budget) must
 * be written out: a token there fails at synth, naming the prop.
 */
export interface IntegrityResponderProps {
  /**
   * Project where the responder's resources are created (the security project), and whose
   * Shielded VMs are watched unless `scope` names another project, a folder or an organization.
   * A Google Cloud project id; a token works.
   */
  readonly projectId: string;

  /**
   * Region of the function, its trigger, the source bucket and the build repository, such as
   * `us-central1`. A token works.
   * @default 'us-central1'
   */
  readonly region?: string;

  /**
   * Prefix of every resource name; give each responder in a stack its own. A lowercase letter,
   * then lowercase letters, digits and hyphens, not ending with a hyphen, at most 20
   * characters: the longest names derived from it (`<namePrefix>-runtime`, a service account id
   * of at most 30 characters; `<namePrefix>-decisions`, a Firestore database id) fit Google's
   * limits only then. A token works and must satisfy the same rule (checked at plan); the
   * custom role ids, which take no hyphen, are then built by Terraform (`replace()`).
   * @default 'integrity-responder'
   */
  readonly namePrefix?: string;

  /**
   * The Terraform providers the responder's resources use. Each one left out is chosen from the
   * stack at synth, so providers declared after the responder count: `google` is the stack's
   * google provider without an alias (synth fails, naming this prop, when there is none, e.g.
   * where every google provider impersonates someone under an alias); `googleBeta` the stack's
   * google-beta provider with the same alias as that google provider; `time` the stack's time
   * provider without an alias. A missing google-beta or time provider is added once per stack
   * and alias, inside the first responder that needs it (so its construct id cannot collide with
   * the stack's), the google-beta one with the google provider's alias and identity settings
   * (credentials, impersonation, billing project); synth then notes it as an info annotation.
   * @default - chosen from the stack as described
   */
  readonly providers?: ResponderProviders;

  /**
   * What to do about a failed integrity report. `relearn-if-known-good` relearns the policy
   * when the late-boot measurements match a known-good baseline and stops the VM otherwise;
   * `shutdown` stops the VM on any failed early- or late-boot report.
   * @default 'relearn-if-known-good'
   */
  readonly responseMode?: ResponseMode;

  /**
   * Cloud Run functions runtime.
   * @default 'nodejs24'
   */
  readonly runtime?: NodeRuntime;

  /**
   * Upper bound on concurrently running function instances (1–100).
   * @default 3
   */
  readonly maxInstanceCount?: number;

  /**
   * Memory of each function instance, MiB (128–4096).
   * @default 256
   */
  readonly memoryMib?: number;

  /**
   * Events one function instance handles at once (`max_instance_request_concurrency`), an
   * integer from 1 to 1000. Above 1, `availableCpu` must be at least `'1'`: Cloud Run allows
   * concurrency above 1 only with at least one vCPU.
   * @default 1
   */
  readonly maxInstanceRequestConcurrency?: number;

  /**
   * vCPUs of each function instance (`available_cpu`): one of `'0.083'`, `'0.167'`, `'0.333'`,
   * `'0.583'`, `'1'`, `'2'`, `'4'`, `'6'`, `'8'`. Required, and at least `'1'`, when
   * `maxInstanceRequestConcurrency` is above 1. Each value allows a memory range (e.g. `'0.583'`
   * up to 1024 MiB, `'4'` from 2048 MiB, `'6'` and `'8'` only 4096 MiB).
   * @default - not set: the platform derives the CPU from `memoryMib` (0.167 vCPU for 256 MiB)
   */
  readonly availableCpu?: string;

  /**
   * Time one event may take before the platform retries it, seconds (1–540).
   * @default 60
   */
  readonly timeoutSeconds?: number;

  /**
   * Existing Firestore database holding the baselines, e.g. `(default)` for a project set up
   * by the original tutorial. When set, no database is created.
   * @default - a dedicated Native-mode database named `<namePrefix>-baselines` is created (none in the `shutdown` mode, which reads no baselines)
   */
  readonly firestoreDatabaseId?: string;

  /**
   * Location of the dedicated database (a region such as `us-central1` or a multi-region
   * such as `nam5`). Ignored when `firestoreDatabaseId` is set.
   * @default - the value of `region`
   */
  readonly firestoreLocationId?: string;

  /**
   * Whether the dedicated database refuses deletion. Ignored when `firestoreDatabaseId` is set.
   * @default true
   */
  readonly firestoreDeleteProtection?: boolean;

  /**
   * Collection holding the known-good baselines.
   * @default 'known_good_measurements'
   */
  readonly baselineCollection?: string;

  /**
   * The two-person rule for baselines: a baseline matches only once a principal other than the
   * one who recorded it has approved it (`integrity-baselines approve`). The baseline tool then
   * records new baselines as `proposed`, told by a policy document the construct writes into the
   * baseline database (`integrity_responder_policies/<namePrefix>`); the function enforces the
   * rule itself (`BASELINE_APPROVAL=two-person`), and tutorial-format documents, which name no
   * creator or approver, match nothing until imported and approved. Relearn mode only.
   * @default false
   */
  readonly requireBaselineApproval?: boolean;

  /**
   * Name of the bucket holding the function source (globally unique, 3–63 characters). Give it
   * when the default is not a valid bucket name, as for a domain-scoped project id
   * (`example.com:project`); with a token `projectId` or `namePrefix`, the default is checked at
   * plan.
   * @default - `<projectId>-<namePrefix>-src`
   */
  readonly sourceBucketName?: string;

  /**
   * Lowest severity the function logs; `debug` also records every ignored entry. `warning` and
   * `error` are refused: they would drop the decision lines the alert policies count.
   * @default 'debug'
   */
  readonly logLevel?: LogLevel;

  /**
   * Failed reports older than this (by their log timestamp) are no longer vetted against the
   * baselines: `staleEventPolicy` decides. Seconds, 60–604800.
   * @default 3600
   */
  readonly maxEventAgeSeconds?: number;

  /**
   * What to do with a failed report older than `maxEventAgeSeconds`: `fail-closed` stops the
   * VM, `fail-open` only writes a CRITICAL log line. Both log at CRITICAL.
   * @default 'fail-closed'
   */
  readonly staleEventPolicy?: StaleEventPolicy;

  /**
   * A known-good report older than this (by its log timestamp and the time Cloud Logging
   * received it) never relearns: the line says the next boot's report decides. It bounds how
   * long a guest has to reboot into something else before a relearn adopts that boot (ADR 0020).
   * Seconds, 60–3600, at most `maxEventAgeSeconds`.
   * @default - 300, or `maxEventAgeSeconds` where that is lower
   */
  readonly relearnMaxAgeSeconds?: number;

  /**
   * How a VM is contained wherever the responder decides to stop it: `stop` shuts it down;
   * `suspend` (`instances.suspend`) keeps its memory, for forensics. The runtime's custom role
   * holds only the permission of the chosen action.
   * @default 'stop'
   */
  readonly failureAction?: FailureAction;

  /**
   * `enforce` acts on VMs; `dry-run` decides, records in the ledger and logs exactly as
   * `enforce` would (`dryRun: true`, "Dry run: would stop …"), and makes no Compute mutation.
   * The custom role keeps the action permissions in dry-run, so enforcing is one change of the
   * `ENFORCEMENT` variable.
   * @default 'enforce'
   */
  readonly enforcement?: Enforcement;

  /**
   * A GCE label as `key=value`: a VM carrying it is never stopped, suspended or relearned. Its
   * failed reports still log a CRITICAL decision line (reason `exempt`, `wouldHave` the action
   * spared). The function reads every VM (`instances.get`) before acting on it, to see its labels.
   * @default 'integrity-response=exempt'
   */
  readonly exemptLabel?: string;

  /**
   * Where the watched VMs live: `projects/<id>`, `folders/<number>` or `organizations/<number>`.
   * A folder or organization scope covers every project under it, now and later: the log sink
   * is aggregated (`include_children`) and the runtime's Compute role is an organization custom
   * role bound at the folder or organization. The responder's own resources (function,
   * databases, topics) stay in `projectId`, the security project. See docs/adr/0009.
   * The kind must be written out, since it decides which resources are created; the id after
   * the slash may be a token (`folders/${folderId.stringValue}`).
   * @default - `projects/<projectId>`
   */
  readonly scope?: string;

  /**
   * Organization number holding the custom role of a `folders/<number>` scope (IAM has no folder
   * roles). Required for a folder scope; for an organization scope it is the scope's number.
   * A token works.
   * @default - none: required for a folder scope, refused for a project scope, the scope's own number for an organization scope
   */
  readonly organizationId?: string;

  /**
   * Projects of a folder or organization scope the responder never acts on: excluded from the
   * sink, from the runtime's role binding (an IAM condition) and refused by the function. At most
   * {@link MAX_EXCLUDED_PROJECTS} in all, the responder's own project included while it is left
   * out (`watchResponderProject` false, the default): one place fewer then. Project ids, each
   * once, never the responder's own. A list token (e.g. a `list(string)` variable's
   * `listValue`) works: the count, the ids and duplicates are then checked at plan by
   * preconditions on the runtime's role binding, not at synth.
   * @default []
   */
  readonly excludedProjects?: readonly string[];

  /**
   * Whether a folder or organization scope also watches the responder's own project
   * (`projectId`). The function's build identity holds `roles/logging.logWriter` there (Cloud
   * Build writes the build's logs with it), which lets whatever runs in the build write entries
   * that read as integrity reports; so by default that project's integrity log is excluded from
   * the sink, its VMs from the runtime's role binding, and the function refuses its entries. Set
   * it only when the security project holds VMs that nothing else watches, and accept that log
   * writer in the watched scope (docs/adr/0023). A project scope watches the project it names.
   * @default false
   */
  readonly watchResponderProject?: boolean;

  /**
   * Cloud Monitoring notification channels every alert policy notifies, as full names
   * `projects/<project>/notificationChannels/<id>`, each once. Without any, the policies, metrics
   * and dashboard are still created: incidents open in the console and notify nobody. A list
   * token works (its names are then checked at plan), as do tokens among written-out names (a
   * `google_monitoring_notification_channel`'s `id`).
   * @default []
   */
  readonly notificationChannels?: readonly string[];

  /**
   * Deliveries of one event before Pub/Sub gives up and moves it to the dead-letter topic
   * (5–100). With the retry backoff of 10 s doubling to 10 minutes, the default 20 keeps an event
   * retried for about two and a half hours.
   * @default 20
   */
  readonly maxDeliveryAttempts?: number;

  /**
   * What is done with a VM's managed instance group (the group its `created-by` metadata names,
   * confirmed by the group's `listManagedInstances`) before the VM is stopped or suspended.
   * `abandon` removes it from the group first (`abandonInstances`, which lowers the group's
   * target size), so the group cannot recreate it; the runtime role then holds
   * `compute.instanceGroupManagers.get` and `.update`, which also allows changing any group's
   * template or size. `contain-only` stops or suspends the VM inside its group at CRITICAL,
   * naming the group: a group that repairs failed VMs recreates it. See ADR 0010.
   * @default - 'abandon' for a project scope; 'contain-only' for a folder or organization scope, where the group permissions would reach every project below
   */
  readonly instanceGroupAction?: InstanceGroupAction;

  /**
   * Blast-radius limit: at most this many stops or suspends per `actionWindowSeconds`, across
   * the whole responder (counted in the decision ledger, not per function instance). Beyond it a
   * failed VM is left running, its event logs a CRITICAL "action budget exhausted" line and is
   * redelivered until the window frees or an operator resets the budget
   * (`integrity-budget reset`). Relearns and exempt VMs never count. An integer from 1 to
   * 100000, or `'unlimited'` to turn the limit off.
   * @default 50
   */
  readonly maxActionsPerWindow?: number | 'unlimited';

  /**
   * Length of the fixed windows `maxActionsPerWindow` is counted in, seconds (60–604800).
   * @default 3600
   */
  readonly actionWindowSeconds?: number;

  /**
   * Enable the APIs the deployment needs (`google_project_service`, never disabled on
   * destroy). Leave off where a platform team manages APIs centrally.
   * @default false
   */
  readonly enableApis?: boolean;

  /**
   * Seconds to wait after creating the IAM grants and service agents before creating the
   * function and its trigger (a `time_sleep`): Google documents that IAM changes usually take
   * effect within two minutes. 0–600.
   * @default 120
   */
  readonly iamPropagationSeconds?: number;

  /**
   * Labels added to every resource that takes labels (the function, topics, subscriptions,
   * source bucket, build repository; `user_labels` of the alert policies). The construct adds
   * `managed-by=shielded-vm-integrity-responder` and `responder=<namePrefix>` to each, and
   * refuses those keys here. Keys and values as Google allows (lowercase letters, digits, `_`,
   * `-`; a key starts with a letter). A map token works (`Token.asStringMap(variable.value)`):
   * Terraform merges it under the construct's two labels and checks the keys and values at plan.
   * @default {}
   */
  readonly labels?: Record<string, string>;
}

/** Props with every default applied and validated. */
export interface ResolvedProps {
  readonly projectId: string;
  readonly region: string;
  readonly namePrefix: string;
  readonly responseMode: ResponseMode;
  readonly runtime: NodeRuntime;
  readonly maxInstanceCount: number;
  readonly memoryMib: number;
  readonly maxInstanceRequestConcurrency: number;
  readonly availableCpu?: string;
  readonly timeoutSeconds: number;
  readonly firestoreDatabaseId?: string;
  readonly firestoreLocationId: string;
  readonly firestoreDeleteProtection: boolean;
  readonly baselineCollection: string;
  readonly requireBaselineApproval: boolean;
  readonly sourceBucketName: string;
  readonly logLevel: LogLevel;
  readonly maxEventAgeSeconds: number;
  readonly staleEventPolicy: StaleEventPolicy;
  readonly relearnMaxAgeSeconds: number;
  readonly failureAction: FailureAction;
  readonly enforcement: Enforcement;
  readonly exemptLabel: string;
  readonly scope: string;
  readonly organizationId?: string;
  readonly excludedProjects: readonly string[];
  readonly watchResponderProject: boolean;
  readonly maxDeliveryAttempts: number;
  readonly notificationChannels: readonly string[];
  readonly instanceGroupAction: InstanceGroupAction;
  readonly maxActionsPerWindow: number | 'unlimited';
  readonly actionWindowSeconds: number;
  readonly enableApis: boolean;
  readonly iamPropagationSeconds: number;
  readonly labels: Record<string, string>;
}

const ORGANIZATION_ID = /^[1-9][0-9]{0,19}$/;
/** Default {@link IntegrityResponderProps.maxDeliveryAttempts}. */
const DEFAULT_MAX_DELIVERY_ATTEMPTS = 20;
const REGION = /^[a-z]+-[a-z]+[0-9]{1,2}$/;
const NAME_PREFIX = /^[a-z](?:[a-z0-9-]{0,18}[a-z0-9])?$/;
const NAME_PREFIX_HINT = 'a lowercase letter, then lowercase letters, digits or hyphens, not ending with a hyphen, at most 20 characters';
const LOCATION_ID = /^[a-z][a-z0-9-]{1,40}[a-z0-9]$/;
const LOCATION_ID_HINT = "a Firestore location such as 'us-central1', 'nam5' or 'eur3'";
const BUCKET_NAME = /^[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9]$/;
const BUCKET_NAME_HINT = 'a bucket name; set sourceBucketName if the default is too long';
const LABEL_KEY = /^[a-z][a-z0-9_-]{0,62}$/;
const LABEL_VALUE = /^[a-z0-9_-]{0,63}$/;

export { MANAGED_BY, MANAGED_BY_VALUE };
export { IntegrityResponderPropsError };

function show(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

function boolean(name: string, value: unknown): void {
  if (Token.isUnresolved(value)) return;
  if (typeof value !== 'boolean') throw new IntegrityResponderPropsError(`${name} must be true or false, got ${show(value)}`);
}

/**
 * The message of a precondition Terraform evaluates at plan: what {@link IntegrityResponderPropsError}
 * says at synth for the construct at `constructPath`, as one sentence.
 */
export function planErrorMessage(detail: string, constructPath: string): string {
  return `${new IntegrityResponderPropsError(detail, constructPath).message}.`;
}

/** What a value of `name` must match, in the words of both the synth error and the plan precondition. */
function mustMatch(name: string, pattern: RegExp, hint?: string): string {
  return `${name} must match ${pattern}${hint ? ` (${hint})` : ''}`;
}

function check(name: string, value: string, pattern: RegExp, hint?: string): void {
  if (Token.isUnresolved(value)) return;
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new IntegrityResponderPropsError(`${mustMatch(name, pattern, hint)}, got ${show(value)}`);
  }
}

/**
 * The props that may be tokens and must match a pattern: checked by {@link resolveProps} when
 * written out, by Terraform at plan ({@link planChecks}) when a token.
 */
const PATTERN_PROPS = {
  projectId: { pattern: SETTINGS.projectId.pattern, hint: SETTINGS.projectId.hint },
  region: { pattern: REGION, hint: "a region such as 'us-central1'" },
  namePrefix: { pattern: NAME_PREFIX, hint: NAME_PREFIX_HINT },
  firestoreLocationId: { pattern: LOCATION_ID, hint: LOCATION_ID_HINT },
  sourceBucketName: { pattern: BUCKET_NAME, hint: BUCKET_NAME_HINT },
  scope: { pattern: SETTINGS.scope.pattern, hint: SETTINGS.scope.hint },
  organizationId: { pattern: ORGANIZATION_ID, hint: 'an organization number' },
} as const satisfies Partial<Record<keyof ResolvedProps, { readonly pattern: RegExp; readonly hint: string }>>;

/** Checks a written-out prop of {@link PATTERN_PROPS}; one left out is not checked. */
function checkProp(r: ResolvedProps, name: keyof typeof PATTERN_PROPS): void {
  const value = r[name];
  if (value !== undefined) check(name, value, PATTERN_PROPS[name].pattern, PATTERN_PROPS[name].hint);
}

function oneOf<T extends string>(name: string, value: T, allowed: readonly T[]): void {
  if (Token.isUnresolved(value)) return;
  if (!allowed.includes(value)) {
    throw new IntegrityResponderPropsError(`${name} must be one of ${allowed.map(show).join(', ')}, got ${show(value)}`);
  }
}

function integer(name: string, value: number, min: number, max: number): void {
  if (Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new IntegrityResponderPropsError(`${name} must be an integer from ${min} to ${max}, got ${show(value)}`);
  }
}

function limit(name: string, value: number | string, min: number, max: number): void {
  if (Token.isUnresolved(value) || value === UNLIMITED) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new IntegrityResponderPropsError(`${name} must be an integer from ${min} to ${max}, or '${UNLIMITED}', got ${show(value)}`);
  }
}

/**
 * vCPU values Cloud Run functions accepts for `available_cpu`, and the memory range (MiB, within
 * this construct's 128–4096) each allows. Google documents that concurrency above 1 needs at
 * least 1 vCPU ("If you use less than 1 CPU … Maximum concurrency must be set to 1",
 * https://cloud.google.com/run/docs/configuring/services/cpu) and recommends starting
 * concurrency at 8 (https://cloud.google.com/functions/docs/configuring/concurrency); the
 * memory-to-CPU tiers (128 MiB .083, 256 MiB .167, 512 MiB .333, 1 GiB .583, 2 GiB 1 vCPU; 1 vCPU
 * up to 4 GiB; 4 vCPU from 2 GiB; 6 and 8 vCPU from 4 GiB) are from
 * https://cloud.google.com/functions/docs/configuring/memory and
 * https://cloud.google.com/run/docs/configuring/services/memory-limits.
 */
export const AVAILABLE_CPUS: Readonly<Record<string, { readonly minMemoryMib: number; readonly maxMemoryMib: number }>> = {
  '0.083': { minMemoryMib: 128, maxMemoryMib: 128 },
  '0.167': { minMemoryMib: 128, maxMemoryMib: 256 },
  '0.333': { minMemoryMib: 128, maxMemoryMib: 512 },
  '0.583': { minMemoryMib: 128, maxMemoryMib: 1024 },
  '1': { minMemoryMib: 128, maxMemoryMib: 4096 },
  '2': { minMemoryMib: 128, maxMemoryMib: 4096 },
  '4': { minMemoryMib: 2048, maxMemoryMib: 4096 },
  '6': { minMemoryMib: 4096, maxMemoryMib: 4096 },
  '8': { minMemoryMib: 4096, maxMemoryMib: 4096 },
};

function sizing(r: ResolvedProps): void {
  integer('maxInstanceRequestConcurrency', r.maxInstanceRequestConcurrency, 1, 1000);
  const cpu = r.availableCpu;
  if (cpu !== undefined && !Token.isUnresolved(cpu)) {
    // Listed by size: a Record puts the integer-like keys ('1', '2', …) first.
    oneOf(
      'availableCpu',
      cpu,
      Object.keys(AVAILABLE_CPUS).sort((a, b) => Number(a) - Number(b)),
    );
    const { minMemoryMib, maxMemoryMib } = AVAILABLE_CPUS[cpu]!;
    if (!Token.isUnresolved(r.memoryMib) && (r.memoryMib < minMemoryMib || r.memoryMib > maxMemoryMib)) {
      throw new IntegrityResponderPropsError(
        `availableCpu ${show(cpu)} allows memoryMib from ${minMemoryMib} to ${maxMemoryMib}, got ${show(r.memoryMib)}`,
      );
    }
  }
  if (Token.isUnresolved(r.maxInstanceRequestConcurrency) || r.maxInstanceRequestConcurrency <= 1) return;
  if (cpu === undefined || (!Token.isUnresolved(cpu) && Number(cpu) < 1)) {
    throw new IntegrityResponderPropsError(
      `maxInstanceRequestConcurrency ${r.maxInstanceRequestConcurrency} needs availableCpu of at least '1' ` +
        `(Cloud Run allows concurrency above 1 only with 1 vCPU or more), got ${cpu === undefined ? 'none' : show(cpu)}`,
    );
  }
}

function scopeProps(r: ResolvedProps): void {
  checkProp(r, 'scope');
  // A token project id makes the default scope `projects/${token}`: judged by its prefix.
  const scope = scopeKindOf(r.scope);
  if (scope === undefined) {
    throw new IntegrityResponderPropsError(
      "scope must spell out its kind, as 'projects/<id>', 'folders/<number>' or 'organizations/<number>' (the kind decides which resources are created), and only the id after the slash may be a Terraform value; got one Terraform value for the whole scope",
    );
  }
  if (!Array.isArray(r.excludedProjects)) {
    throw new IntegrityResponderPropsError(`excludedProjects must be a list of project ids, got ${show(r.excludedProjects)}`);
  }
  if (scope.kind === 'project') {
    if (r.watchResponderProject) {
      throw new IntegrityResponderPropsError(
        `watchResponderProject applies to a folder or organization scope only; scope is '${r.scope}', which watches exactly the project it names`,
      );
    }
    if (r.excludedProjects.length > 0) {
      throw new IntegrityResponderPropsError(
        `excludedProjects applies to a folder or organization scope only; scope is '${r.scope}' (leave excludedProjects out, or widen the scope)`,
      );
    }
    if (r.organizationId !== undefined) {
      throw new IntegrityResponderPropsError(`organizationId applies to a folder scope only; scope is '${r.scope}'`);
    }
    return;
  }
  // A list token is checked by Terraform at plan (excludedProjectsPreconditions in scope.ts).
  if (Token.isUnresolved(r.excludedProjects)) return organizationProps(r, scope);
  r.excludedProjects.forEach((id, i) => check(`excludedProjects[${i}]`, id, PROJECT_ID, SETTINGS.projectId.hint));
  const places = excludedProjectPlaces(r.watchResponderProject);
  if (r.excludedProjects.length > places) {
    const own = r.watchResponderProject ? '' : ` besides the responder's own project '${r.projectId}', which is left out too`;
    throw new IntegrityResponderPropsError(
      `excludedProjects may name at most ${places} projects${own} (the IAM condition that leaves them out allows at most 12 logical operators, and the function at most ${MAX_EXCLUDED_PROJECTS} excluded projects), got ${r.excludedProjects.length}; move them out of the scope's folder, or scope a folder that does not hold them`,
    );
  }
  const duplicate = r.excludedProjects.find((id, i) => r.excludedProjects.indexOf(id) !== i);
  if (duplicate !== undefined) throw new IntegrityResponderPropsError(`excludedProjects names '${duplicate}' twice`);
  if (r.excludedProjects.includes(r.projectId)) {
    throw new IntegrityResponderPropsError(
      `excludedProjects must not name the responder's own project '${r.projectId}': a folder or organization scope leaves it out unless watchResponderProject is true`,
    );
  }
  organizationProps(r, scope);
}

/**
 * How many projects `excludedProjects` may name: {@link MAX_EXCLUDED_PROJECTS}, one fewer while
 * the responder's own project is left out too (it takes one of the places).
 */
export function excludedProjectPlaces(watchResponderProject: boolean): number {
  return watchResponderProject ? MAX_EXCLUDED_PROJECTS : MAX_EXCLUDED_PROJECTS - 1;
}

function organizationProps(r: ResolvedProps, scope: { readonly kind: string; readonly id: string }): void {
  if (scope.kind === 'folder') {
    if (r.organizationId === undefined) {
      throw new IntegrityResponderPropsError(
        `scope '${r.scope}' needs organizationId, the number of the organization the folder belongs to: the runtime's custom role is created there (IAM has no folder-level custom roles)`,
      );
    }
    checkProp(r, 'organizationId');
  } else if (
    r.organizationId !== undefined &&
    !Token.isUnresolved(r.organizationId) &&
    !Token.isUnresolved(scope.id) &&
    r.organizationId !== scope.id
  ) {
    throw new IntegrityResponderPropsError(
      `organizationId '${r.organizationId}' differs from the scope's organization '${scope.id}'; leave organizationId out for an organization scope`,
    );
  }
}

const DECIDES_RESOURCES = 'it decides which resources the construct creates';
const COMPUTED_WITH = 'the construct computes other settings from it';
/**
 * Props a token cannot stand for, and why: the construct decides at synth what to create from
 * them, or computes with them (a number token is an opaque placeholder until Terraform runs).
 */
const WRITTEN_OUT: Partial<Record<keyof IntegrityResponderProps, string>> = {
  responseMode: DECIDES_RESOURCES,
  failureAction: "it decides the runtime role's permissions",
  instanceGroupAction: "it decides the runtime role's permissions",
  enableApis: DECIDES_RESOURCES,
  requireBaselineApproval: DECIDES_RESOURCES,
  watchResponderProject: 'it decides which projects the sink and the role binding leave out',
  firestoreDeleteProtection: "it decides the databases' delete protection setting",
  memoryMib: COMPUTED_WITH,
  timeoutSeconds: COMPUTED_WITH,
  maxEventAgeSeconds: COMPUTED_WITH,
  relearnMaxAgeSeconds: COMPUTED_WITH,
  maxActionsPerWindow: COMPUTED_WITH,
  actionWindowSeconds: COMPUTED_WITH,
  iamPropagationSeconds: COMPUTED_WITH,
};

/** Applies the defaults documented on {@link IntegrityResponderProps} and validates the result. */
export function resolveProps(props: IntegrityResponderProps): ResolvedProps {
  if (props.projectId === undefined || props.projectId === '') {
    throw new IntegrityResponderPropsError(
      'projectId is required: the project whose Shielded VMs are watched and where the responder is created',
    );
  }
  for (const [name, why] of Object.entries(WRITTEN_OUT) as [keyof IntegrityResponderProps, string][]) {
    if (Token.isUnresolved(props[name])) {
      throw new IntegrityResponderPropsError(`${name} must be written out, not a Terraform value: ${why}`);
    }
  }
  // Checked before the defaults: `??` would turn a null into the default silently.
  for (const name of ['enableApis', 'firestoreDeleteProtection', 'requireBaselineApproval', 'watchResponderProject'] as const) {
    if (props[name] !== undefined) boolean(name, props[name]);
  }
  if (props.labels !== undefined && (typeof props.labels !== 'object' || props.labels === null || Array.isArray(props.labels))) {
    throw new IntegrityResponderPropsError(`labels must be a map of label keys to values, got ${show(props.labels)}`);
  }
  const region = props.region ?? 'us-central1';
  const namePrefix = props.namePrefix ?? DEFAULT_NAME_PREFIX;
  const r: ResolvedProps = {
    projectId: props.projectId,
    region,
    namePrefix,
    responseMode: props.responseMode ?? SETTINGS.responseMode.default,
    runtime: props.runtime ?? 'nodejs24',
    maxInstanceCount: props.maxInstanceCount ?? 3,
    memoryMib: props.memoryMib ?? 256,
    maxInstanceRequestConcurrency: props.maxInstanceRequestConcurrency ?? 1,
    ...(props.availableCpu !== undefined && { availableCpu: props.availableCpu }),
    timeoutSeconds: props.timeoutSeconds ?? 60,
    ...(props.firestoreDatabaseId !== undefined && { firestoreDatabaseId: props.firestoreDatabaseId }),
    firestoreLocationId: props.firestoreLocationId ?? region,
    firestoreDeleteProtection: props.firestoreDeleteProtection ?? true,
    baselineCollection: props.baselineCollection ?? SETTINGS.baselineCollection.default!,
    requireBaselineApproval: props.requireBaselineApproval ?? false,
    sourceBucketName: props.sourceBucketName ?? `${props.projectId}-${namePrefix}-src`,
    logLevel: props.logLevel ?? SETTINGS.logLevel.default,
    maxEventAgeSeconds: props.maxEventAgeSeconds ?? SETTINGS.maxEventAgeSeconds.default,
    staleEventPolicy: props.staleEventPolicy ?? SETTINGS.staleEventPolicy.default,
    relearnMaxAgeSeconds:
      props.relearnMaxAgeSeconds ??
      (props.maxEventAgeSeconds === undefined || Token.isUnresolved(props.maxEventAgeSeconds)
        ? SETTINGS.relearnMaxAgeSeconds.default
        : Math.min(SETTINGS.relearnMaxAgeSeconds.default, props.maxEventAgeSeconds)),
    failureAction: props.failureAction ?? SETTINGS.failureAction.default,
    enforcement: props.enforcement ?? SETTINGS.enforcement.default,
    exemptLabel: props.exemptLabel ?? SETTINGS.exemptLabel.default!,
    scope: props.scope ?? `projects/${props.projectId}`,
    ...(props.organizationId !== undefined && { organizationId: props.organizationId }),
    excludedProjects: props.excludedProjects ?? [],
    watchResponderProject: props.watchResponderProject ?? false,
    maxDeliveryAttempts: props.maxDeliveryAttempts ?? DEFAULT_MAX_DELIVERY_ATTEMPTS,
    notificationChannels: props.notificationChannels ?? [],
    // Abandoning needs `compute.instanceGroupManagers.update`, which also allows retemplating or
    // resizing a group: across a folder or organization that is opt-in (ADR 0010).
    instanceGroupAction:
      props.instanceGroupAction ??
      (scopeKindOf(props.scope ?? 'projects/')?.kind === 'project' ? SETTINGS.instanceGroupAction.default : 'contain-only'),
    maxActionsPerWindow: props.maxActionsPerWindow ?? SETTINGS.maxActionsPerWindow.default,
    actionWindowSeconds: props.actionWindowSeconds ?? SETTINGS.actionWindowSeconds.default,
    enableApis: props.enableApis ?? false,
    iamPropagationSeconds: props.iamPropagationSeconds ?? DEFAULT_IAM_PROPAGATION_SECONDS,
    labels: props.labels ?? {},
  };
  checkProp(r, 'projectId');
  checkProp(r, 'region');
  checkProp(r, 'namePrefix');
  oneOf('responseMode', r.responseMode, SETTINGS.responseMode.values);
  oneOf('runtime', r.runtime, SUPPORTED_RUNTIMES);
  integer('maxInstanceCount', r.maxInstanceCount, 1, 100);
  integer('memoryMib', r.memoryMib, 128, 4096);
  sizing(r);
  integer('timeoutSeconds', r.timeoutSeconds, 1, 540);
  if (r.firestoreDatabaseId !== undefined) {
    check('firestoreDatabaseId', r.firestoreDatabaseId, SETTINGS.firestoreDatabase.pattern, SETTINGS.firestoreDatabase.hint);
  }
  checkProp(r, 'firestoreLocationId');
  if (MANAGED_BY in r.labels) {
    throw new IntegrityResponderPropsError(
      `labels must not set '${MANAGED_BY}': the construct sets it to '${MANAGED_BY_VALUE}' on every resource`,
    );
  }
  if (RESPONDER_LABEL in r.labels) {
    throw new IntegrityResponderPropsError(
      `labels must not set '${RESPONDER_LABEL}': the construct sets it to the namePrefix on every resource, which tells two responders apart`,
    );
  }
  check('baselineCollection', r.baselineCollection, SETTINGS.baselineCollection.pattern, SETTINGS.baselineCollection.hint);
  if (r.requireBaselineApproval && r.responseMode !== 'relearn-if-known-good') {
    throw new IntegrityResponderPropsError(
      `requireBaselineApproval applies to responseMode 'relearn-if-known-good' only: the '${r.responseMode}' mode reads no baselines`,
    );
  }
  checkProp(r, 'sourceBucketName');
  oneOf('logLevel', r.logLevel, SETTINGS.logLevel.values);
  integer('maxEventAgeSeconds', r.maxEventAgeSeconds, SETTINGS.maxEventAgeSeconds.min, SETTINGS.maxEventAgeSeconds.max);
  oneOf('staleEventPolicy', r.staleEventPolicy, SETTINGS.staleEventPolicy.values);
  integer('relearnMaxAgeSeconds', r.relearnMaxAgeSeconds, SETTINGS.relearnMaxAgeSeconds.min, SETTINGS.relearnMaxAgeSeconds.max);
  if (
    !Token.isUnresolved(r.relearnMaxAgeSeconds) &&
    !Token.isUnresolved(r.maxEventAgeSeconds) &&
    r.relearnMaxAgeSeconds > r.maxEventAgeSeconds
  ) {
    throw new IntegrityResponderPropsError(
      `relearnMaxAgeSeconds must be at most maxEventAgeSeconds (${r.maxEventAgeSeconds}), got ${r.relearnMaxAgeSeconds}: a report too old to be vetted cannot be fresh enough to relearn`,
    );
  }
  oneOf('failureAction', r.failureAction, SETTINGS.failureAction.values);
  oneOf('enforcement', r.enforcement, SETTINGS.enforcement.values);
  check('exemptLabel', r.exemptLabel, SETTINGS.exemptLabel.pattern, SETTINGS.exemptLabel.hint);
  oneOf('instanceGroupAction', r.instanceGroupAction, SETTINGS.instanceGroupAction.values);
  limit('maxActionsPerWindow', r.maxActionsPerWindow, SETTINGS.maxActionsPerWindow.min, SETTINGS.maxActionsPerWindow.max);
  integer('actionWindowSeconds', r.actionWindowSeconds, SETTINGS.actionWindowSeconds.min, SETTINGS.actionWindowSeconds.max);
  integer('iamPropagationSeconds', r.iamPropagationSeconds, 0, 600);
  scopeProps(r);
  integer('maxDeliveryAttempts', r.maxDeliveryAttempts, 5, 100);
  const channels = validateNotificationChannels(r.notificationChannels);
  if (channels !== undefined) throw new IntegrityResponderPropsError(channels);
  if (!Token.isUnresolved(r.logLevel) && (r.logLevel === 'warning' || r.logLevel === 'error')) {
    throw new IntegrityResponderPropsError(
      `logLevel '${r.logLevel}' would drop the decision lines the alert policies count (relearns are NOTICE, stops WARNING); use 'notice' or lower`,
    );
  }
  // A map token has one made-up key: Terraform checks the real ones (planChecks).
  if (!Token.isUnresolved(r.labels)) {
    for (const [key, value] of Object.entries(r.labels)) {
      check(`labels key`, key, LABEL_KEY);
      check(`labels['${key}']`, value, LABEL_VALUE);
    }
  }
  return r;
}

/**
 * The checks {@link resolveProps} makes of written-out values, for the props given as tokens:
 * preconditions Terraform evaluates at plan, each message naming the construct and the prop.
 * Empty when no checked prop is a token.
 */
export function planChecks(r: ResolvedProps, constructPath: string): Precondition[] {
  const message = (detail: string) => planErrorMessage(detail, constructPath);
  const checks: Precondition[] = [];
  const pattern = (name: string, value: string | undefined, re: RegExp, hint: string) => {
    if (value === undefined || !Token.isUnresolved(value)) return;
    checks.push({ condition: matches(re, value), errorMessage: message(mustMatch(name, re, hint)) });
  };
  for (const name of Object.keys(PATTERN_PROPS) as (keyof typeof PATTERN_PROPS)[]) {
    pattern(name, r[name], PATTERN_PROPS[name].pattern, PATTERN_PROPS[name].hint);
  }
  if (Token.isUnresolved(r.notificationChannels)) {
    const channels = [...r.notificationChannels];
    checks.push({
      condition: Op.and(allMatch(CHANNEL_NAME, channels), Op.eq(Fn.lengthOf(Fn.distinct(channels)), Fn.lengthOf(channels))),
      errorMessage: message(`notificationChannels must hold full notification channel names matching ${CHANNEL_NAME}, each once`),
    });
  }
  if (Token.isUnresolved(r.labels)) {
    const keys = Token.asList(Fn.keys(r.labels));
    checks.push(
      {
        condition: Op.and(allMatch(LABEL_KEY, keys), allMatch(LABEL_VALUE, Token.asList(Fn.values(r.labels)))),
        errorMessage: message(`labels must have keys matching ${LABEL_KEY} and values matching ${LABEL_VALUE}`),
      },
      {
        condition: Op.not(Op.or(Fn.contains(keys, MANAGED_BY), Fn.contains(keys, RESPONDER_LABEL))),
        errorMessage: message(`labels must not set '${MANAGED_BY}' or '${RESPONDER_LABEL}': the construct sets both on every resource`),
      },
    );
  } else {
    for (const [key, value] of Object.entries(r.labels)) pattern(`labels['${key}']`, value, LABEL_VALUE, 'a label value');
  }
  return checks;
}
