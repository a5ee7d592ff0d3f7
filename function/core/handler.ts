import { createHash, randomUUID } from 'node:crypto';
import { Decision, confirmRelearn, InstanceState, decide, decideStale, needsBaselineLookup } from './decide';
import { IntegrityReport, parseMessage } from './parse';
import { ActionBudget, ActionHeldError, BudgetNote } from './budget';
import { LedgerKey, LedgerNote, Reconciled, compareBoots, ledgerKey } from './ledger';
import { GroupAction, groupPath, parseCreatedBy } from './instance-group';
import {
  DEFAULT_EXEMPT_LABEL,
  SETTINGS,
  Scope,
  parseExemptLabel,
  Enforcement,
  FailureAction,
  InstanceGroupAction,
  ResponseMode,
  StaleEventPolicy,
} from '../contract';
import { scopeRejection } from './in-scope';
import { fingerprint } from './measurements';
import {
  AbandonPendingError,
  BaselineStore,
  DecisionLedger,
  InstanceControl,
  InstanceNotFoundError,
  InstanceTarget,
  LastStop,
  Logger,
  OperationFailedError,
  Severity,
} from './ports';

/** What the handler needs from the outside world. */
export interface HandlerDeps {
  readonly mode: ResponseMode;
  readonly baselines: BaselineStore;
  readonly instances: InstanceControl;
  /** Where acted-on reports are recorded, before the action. */
  readonly ledger: DecisionLedger;
  readonly logger: Logger;
  /**
   * Where the VMs this responder watches live. Entries about projects outside a project scope,
   * or excluded from a folder or organization scope, are rejected (see {@link scopeRejection}).
   */
  readonly scope?: Scope;
  /** Projects excluded from a folder or organization scope. */
  readonly excludedProjects?: readonly string[];
  /** Failed reports older than this are resolved by `staleEventPolicy`, without a lookup. */
  readonly maxEventAgeSeconds: number;
  readonly staleEventPolicy: StaleEventPolicy;
  /**
   * A known-good report older than this, seconds, never relearns (default
   * `SETTINGS.relearnMaxAgeSeconds.default`): checked again immediately before the Compute call.
   */
  readonly relearnMaxAgeSeconds?: number;
  /** How a VM is contained where the decision is `stop`: `stop` (default) or `suspend`. */
  readonly failureAction?: FailureAction;
  /**
   * `enforce` (default) acts; `dry-run` decides and records in the ledger exactly as enforce
   * would, reads the VM (its labels, and what a relearn checks), and makes no Compute mutation.
   */
  readonly enforcement?: Enforcement;
  /**
   * `key=value` (default `integrity-response=exempt`): a VM carrying this label is never
   * stopped, suspended or relearned; the decision line says what would have been done.
   */
  readonly exemptLabel?: string;
  /**
   * `abandon` (default): before a stop or suspend, a VM its managed instance group lists is
   * removed from the group, so the group cannot recreate it; `contain-only`: it is contained
   * inside the group, at CRITICAL. Relearns never touch the group.
   */
  readonly instanceGroupAction?: InstanceGroupAction;
  /** A VM the group still lists this long after the first abandon is contained anyway, seconds. */
  readonly abandonTimeoutSeconds?: number;
  /** How long one delivery watches the group let go of the VM after an abandon, ms. */
  readonly abandonSettleMs?: number;
  /**
   * The blast-radius limit: stops and suspends per window across the responder, counted in the
   * ledger. Beyond it the VM is left running, a CRITICAL line says so and the event is not
   * acknowledged (redelivered until the window frees or the budget is reset). Absent: no limit.
   */
  readonly actionBudget?: ActionBudget;
  /** Clock, for tests. */
  readonly now?: () => number;
}

/** CloudEvent attributes the handler uses. */
export interface EventContext {
  /** CloudEvent id (the Pub/Sub message id): stable across redeliveries. */
  readonly id?: string;
}

/** What happened to one message; returned for tests and tools, logged for operators. */
export type HandlerOutcome =
  | { readonly status: 'rejected' }
  | { readonly status: 'ignored' }
  | { readonly status: 'decided'; readonly decision: Decision; readonly instanceFound: boolean };

/**
 * Handles the data of one Pub/Sub `messagePublished` CloudEvent. Malformed input is logged
 * and returns normally (acknowledged: retrying cannot fix it). Failures of Firestore or
 * Compute are logged and rethrown, so that the platform redelivers the message.
 */
export async function handleMessage(data: unknown, deps: HandlerDeps, context: EventContext = {}): Promise<HandlerOutcome> {
  const { logger, mode } = deps;
  const parsed = parseMessage(data);
  if (parsed.status === 'rejected') {
    logger.log('ERROR', `Rejected malformed integrity log entry: ${parsed.detail}`, {
      mode,
      rejection: parsed.code,
      detail: parsed.detail,
      eventId: context.id,
    });
    return { status: 'rejected' };
  }
  if (parsed.status === 'ignored') {
    logger.log('DEBUG', `Ignored log entry: ${parsed.reason}`, { mode, reason: parsed.reason, eventId: context.id });
    return { status: 'ignored' };
  }
  const { report } = parsed;
  const outside = scopeRejection(report.instance.projectId, deps.scope, deps.excludedProjects);
  if (outside !== undefined) {
    const { code, detail } = outside;
    logger.log('ERROR', `Rejected integrity log entry: ${detail}`, { mode, rejection: code, detail, eventId: context.id });
    return { status: 'rejected' };
  }
  try {
    return await act(report, deps, context);
  } catch (e) {
    // Its CRITICAL decision line is written: one line per held delivery.
    if (e instanceof ActionHeldError) throw e;
    const error = e instanceof Error ? e.message : String(e);
    const pending = e instanceof AbandonPendingError ? { instanceGroup: e.group, groupAction: 'abandon-pending' } : {};
    logger.log(
      'ERROR',
      `Could not complete the response for ${report.instance.projectId}/${report.instance.zone}/${report.instance.id}; the event will be redelivered: ${error}`,
      {
        mode,
        eventKind: report.kind,
        instanceId: report.instance.id,
        entryInstanceName: report.instance.name,
        retry: true,
        error,
        ...pending,
        eventId: context.id,
      },
    );
    throw e;
  }
}

/** A VM its group still lists this long after the first abandon is contained anyway, seconds (ADR 0010). */
export const ABANDON_TIMEOUT_SECONDS = 120;
/** How long one delivery watches the group let go of the VM after an abandon, ms. */
const ABANDON_SETTLE_MS = 5_000;
const ABANDON_POLL_MS = 250;

/** How far in the future a report's timestamp may lie before it is not trusted, seconds. */
export const MAX_CLOCK_SKEW_SECONDS = 300;

/** Age of the report, seconds; undefined when the entry carries no timestamp. */
function ageSeconds(report: IntegrityReport, now: number): number | undefined {
  if (report.timestamp === undefined) return undefined;
  return (now - Date.parse(report.timestamp)) / 1000;
}

/** Whether the entry is dated later than Cloud Logging received it, by more than the clock skew allowed. */
function datedAfterReceipt(report: IntegrityReport): boolean {
  if (report.timestamp === undefined || report.receiveTimestamp === undefined) return false;
  return Date.parse(report.timestamp) - Date.parse(report.receiveTimestamp) > MAX_CLOCK_SKEW_SECONDS * 1000;
}

/**
 * Age of a report for the relearn bound, seconds: by the entry's own time and by the time Cloud
 * Logging received it, whichever is older (the first is the writer's word, the second is not).
 */
export function relearnAgeSeconds(report: IntegrityReport, now: number): number | undefined {
  const times = [report.timestamp, report.receiveTimestamp].filter((t): t is string => t !== undefined).map(Date.parse);
  return times.length === 0 ? undefined : (now - Math.min(...times)) / 1000;
}

async function act(report: IntegrityReport, deps: HandlerDeps, context: EventContext): Promise<HandlerOutcome> {
  const { logger, mode } = deps;
  const age = ageSeconds(report, (deps.now ?? Date.now)());
  // A report whose age is unknown, beyond the maximum, or in the future (past clock skew, now or
  // when Cloud Logging received it), or that names no boot, cannot be tied to what the VM runs
  // now: the stale-event policy decides.
  const vettable =
    age !== undefined &&
    age <= deps.maxEventAgeSeconds &&
    age >= -MAX_CLOCK_SKEW_SECONDS &&
    !datedAfterReceipt(report) &&
    report.bootCounter !== undefined;
  const stale = vettable ? undefined : decideStale(report, mode, deps.staleEventPolicy);
  let reads: number | undefined;
  let decision: Decision;
  if (stale) {
    decision = stale;
  } else {
    let lookup;
    if (needsBaselineLookup(report, mode)) {
      const result = await deps.baselines.findExactMatch(report.actualMeasurements);
      reads = result.reads;
      lookup = result;
    }
    decision = decide(report, mode, lookup);
  }
  // Until Compute Engine answers for the id, the entry's name label is only its writer's word.
  const outcome: ActionOutcome = {
    ...(report.instance.name !== undefined && { unconfirmedName: report.instance.name }),
    instanceFound: true,
  };
  if (decision.action === 'stop' || decision.action === 'relearn') {
    decision = await actOn(report, decision, deps, context, outcome);
  } else if (decision.reason === 'early-boot-report-in-relearn-mode' && !report.passed && report.bootCounter !== undefined) {
    await noteFailedBoot(report, deps, outcome);
  }
  logDecision(logger, mode, report, decision, {
    ...outcome,
    containment: outcome.containment ?? deps.failureAction ?? SETTINGS.failureAction.default,
    dryRun: deps.enforcement === 'dry-run',
    reads,
    eventId: context.id,
    ageSeconds: age,
  });
  if (decision.reason === 'budget-exhausted' && outcome.budget?.status === 'exhausted') {
    throw new ActionHeldError(report.instance.id, outcome.budget.window.end);
  }
  return { status: 'decided', decision, instanceFound: outcome.instanceFound };
}

/** What acting on a decision produced, for the decision line. */
interface ActionOutcome {
  instanceName?: string;
  instanceFound: boolean;
  ledger?: LedgerNote;
  requestId?: string;
  alreadyDone?: boolean;
  operation?: string;
  operationStatus?: string;
  /** How a `stop` decision contains the VM (the recorded containment, on a redelivery). */
  containment?: FailureAction;
  /** The exemption label the VM carries, when it is exempt. */
  exemptLabel?: string;
  /** Path of the managed instance group the VM's `created-by` names. */
  instanceGroup?: string;
  /** What was done with that group before containing the VM. */
  groupAction?: GroupAction;
  /** Why a VM whose `created-by` names a group counts as no member. */
  groupNote?: string;
  /** Seconds since the first abandon, when the VM is contained inside its group anyway. */
  abandonAgeSeconds?: number;
  /** What the action budget made of a stop or suspend. */
  budget?: BudgetNote;
  /** The entry's name label, where it names another VM than Compute does. */
  entryInstanceName?: string;
  /** The entry's name label, where Compute Engine did not answer for the id (not asked, or no such VM). */
  unconfirmedName?: string;
  /** The later boot of the instance the ledger holds, when it superseded a relearn. */
  laterBoot?: string;
  /** The freshness bound a relearn was refused by, seconds. */
  relearnMaxAgeSeconds?: number;
  /** The stop decided for the instance that refused a relearn: the VM was not started since. */
  lastStop?: LastStop;
}

/**
 * Reads the VM (an exempt one is left alone, with nothing recorded), records the decision in
 * the ledger, then acts on the VM by its id and waits for the operation. Returns the decision as it stands after the ledger and a last look at the VM.
 */
async function actOn(
  report: IntegrityReport,
  proposed: Extract<Decision, { action: 'stop' | 'relearn' }>,
  deps: HandlerDeps,
  context: EventContext,
  out: ActionOutcome,
): Promise<Decision> {
  const key = ledgerKey(report);
  const dryRun = deps.enforcement === 'dry-run';
  const configured = deps.failureAction ?? SETTINGS.failureAction.default;
  const target: InstanceTarget = { ...report.instance };
  const wouldHave = proposed.action === 'stop' ? configured : 'relearn';
  // The VM is read before anything is recorded: one that does not exist leaves no record, an
  // exempt one a settled record only.
  let current: InstanceState | undefined;
  try {
    current = await deps.instances.describe(target);
  } catch (e) {
    if (!(e instanceof InstanceNotFoundError)) throw e;
  }
  if (current === undefined) {
    // Nothing to act on, and nothing is recorded: an entry naming an id that does not exist in
    // its project (a VM deleted since, or a forged id) must leave no trace in the ledger, where it
    // could otherwise stand in for a later genuine report, and takes no budget.
    out.instanceFound = false;
    out.operationStatus = 'instance-not-found';
    return { action: 'none', reason: 'instance-not-found', wouldHave };
  }
  nameFromCompute(report, current, out);
  const toRecord = {
    report,
    proposed,
    fingerprint: fingerprint(report.actualMeasurements),
    // A suspend is another request than a stop: its id differs.
    requestIdFor: (action: 'stop' | 'relearn') => requestIdFor(context.id, action === 'stop' ? configured : action),
    containment: configured,
    ...(dryRun && { dryRun: true }),
  };
  const { key: labelKey, value: labelValue } = parseExemptLabel(deps.exemptLabel ?? DEFAULT_EXEMPT_LABEL);
  if (current.labels?.[labelKey] === labelValue) {
    out.exemptLabel = `${labelKey}=${labelValue}`;
    // Nothing is done, but the report is remembered (outside the budget, settled at once): once
    // the label is gone, another report about this boot with other measurements is a conflict.
    const remembered = await deps.ledger.record(toRecord);
    out.ledger = remembered.note;
    if (!remembered.alreadyDone) {
      await deps.ledger.complete(
        key,
        remembered.requestId,
        { decision: { action: 'none', reason: 'exempt' }, status: 'exempt' },
        remembered.version,
      );
    }
    return { action: 'none', reason: 'exempt', wouldHave };
  }
  const recorded = await deps.ledger.record(toRecord, deps.actionBudget);
  let decision = recorded.decision;
  out.containment = recorded.containment;
  out.ledger = recorded.note;
  out.requestId = recorded.requestId;
  out.alreadyDone = recorded.alreadyDone;
  out.budget = recorded.budget;
  // Held for want of budget: nothing is done to the VM; the caller logs it and fails the event.
  if (decision.reason === 'budget-exhausted') return decision;
  if (recorded.alreadyDone) {
    out.operation = recorded.record.operation;
    out.operationStatus = recorded.record.operationStatus;
    if (recorded.record.operationStatus === 'instance-not-found') {
      out.instanceFound = false;
      return { action: 'none', reason: 'instance-not-found', wouldHave: decision.action === 'stop' ? recorded.containment : 'relearn' };
    }
    return decision;
  }
  try {
    if (decision.action === 'relearn') decision = await lastLookBeforeRelearn(report, decision, current, key, deps, out);
    if (decision.action !== 'stop' && decision.action !== 'relearn') {
      await deps.ledger.complete(
        key,
        recorded.requestId,
        { decision: { action: 'none', reason: decision.reason }, status: 'not-acted' },
        recorded.version,
      );
    } else if (dryRun) {
      // Decided and recorded as enforce would; nothing is done to the VM (its group is read).
      if (decision.action === 'stop') await leaveGroup(current, target, deps, key, recorded, context, out);
      out.operationStatus = 'dry-run';
      await deps.ledger.complete(key, recorded.requestId, { status: 'dry-run' }, recorded.version);
    } else {
      if (decision.action === 'stop') await leaveGroup(current, target, deps, key, recorded, context, out);
      const operation =
        decision.action === 'relearn'
          ? await deps.instances.relearn(target, recorded.requestId)
          : recorded.containment === 'suspend'
            ? await deps.instances.suspend(target, recorded.requestId)
            : await deps.instances.stop(target, recorded.requestId);
      out.operation = operation.name;
      out.operationStatus = operation.status;
      await deps.ledger.complete(key, recorded.requestId, { operation, status: operation.status }, recorded.version);
    }
  } catch (e) {
    if (e instanceof OperationFailedError && e.finished) {
      // Compute would answer the same request id with this failed operation forever.
      await deps.ledger.renewRequest(key, recorded.requestId, randomUUID());
    }
    if (!(e instanceof InstanceNotFoundError)) throw e;
    out.instanceFound = false;
    out.operationStatus = 'instance-not-found';
    await deps.ledger.complete(key, recorded.requestId, { status: 'instance-not-found' }, recorded.version);
    return { action: 'none', reason: 'instance-not-found', wouldHave: decision.action === 'stop' ? recorded.containment : 'relearn' };
  }
  return decision;
}

/**
 * A failed early-boot report is left to the late-boot report, but the boot happened: no report of
 * an older boot may relearn the VM now, since a relearn would adopt this one. Noted only for a VM
 * Compute knows, so that entries about ids that do not exist leave no trace.
 */
async function noteFailedBoot(report: IntegrityReport, deps: HandlerDeps, out: ActionOutcome): Promise<void> {
  let current: InstanceState;
  try {
    current = await deps.instances.describe({ ...report.instance });
  } catch (e) {
    if (!(e instanceof InstanceNotFoundError)) throw e;
    out.instanceFound = false;
    return;
  }
  nameFromCompute(report, current, out);
  await deps.ledger.noteBoot(ledgerKey(report));
}

/** Whether Compute says the VM was started after a moment (an RFC 3339 time). */
function startedAfter(current: InstanceState, moment: string): boolean {
  const started = current.lastStartTimestamp === undefined ? NaN : Date.parse(current.lastStartTimestamp);
  return started > Date.parse(moment);
}

/**
 * Names the VM as Compute does: the entry's name label is the writer's word. A label that names
 * another VM is kept beside it, for the line to flag.
 */
function nameFromCompute(report: IntegrityReport, current: InstanceState, out: ActionOutcome): void {
  delete out.unconfirmedName;
  const name = current.name ?? report.instance.name;
  if (name !== undefined) out.instanceName = name;
  if (report.instance.name !== undefined && report.instance.name !== name) out.entryInstanceName = report.instance.name;
}

/**
 * The last look before a relearn, made after the ledger recorded it and immediately before the
 * Compute call. Relearning adopts the VM's *latest* boot, while the decision was made on the
 * report's: the relearn goes ahead only while the VM (as read before the ledger write) is the
 * same one, running and not started since, and, read last, the ledger still holds no conflict
 * for the key and no later boot of the instance, and the report is still fresh
 * (`relearnMaxAgeSeconds`).
 */
async function lastLookBeforeRelearn(
  report: IntegrityReport,
  decision: Extract<Decision, { action: 'relearn' }>,
  current: InstanceState,
  key: LedgerKey,
  deps: HandlerDeps,
  out: ActionOutcome,
): Promise<Decision> {
  const bound = deps.relearnMaxAgeSeconds ?? SETTINGS.relearnMaxAgeSeconds.default;
  const fresh = () => {
    const age = relearnAgeSeconds(report, (deps.now ?? Date.now)());
    return age !== undefined && age <= bound;
  };
  if (!fresh()) {
    out.relearnMaxAgeSeconds = bound;
    return { action: 'none', reason: 'relearn-window-passed' };
  }
  const confirmed = confirmRelearn(decision, report, current);
  if (confirmed.action !== 'relearn') return confirmed;
  const standing = await deps.ledger.standing(key);
  if (standing.conflict) return { action: 'none', reason: 'withdrawn-after-conflict' };
  if (standing.newestBoot !== undefined && compareBoots(standing.newestBoot, key.bootCounter) > 0) {
    out.laterBoot = standing.newestBoot;
    return { action: 'none', reason: 'superseded-by-later-boot' };
  }
  const stop = standing.lastStop;
  if (stop !== undefined && !startedAfter(current, stop.recordedAt)) {
    // A stop was decided for this VM and the VM has not been started since: it may still run the
    // boot judged not known good (the stop held, pending, or not performed: exempt, dry run), and
    // a relearn would adopt it, whatever boot this report claims, its own included.
    out.lastStop = stop;
    return { action: 'none', reason: stop.state === 'settled' ? 'unvetted-boot' : 'containment-pending' };
  }
  if (!fresh()) {
    out.relearnMaxAgeSeconds = bound;
    return { action: 'none', reason: 'relearn-window-passed' };
  }
  return confirmed;
}

/**
 * Before a VM is stopped or suspended, takes it out of the managed instance group its
 * `created-by` names, if that group (in the VM's project) lists it: otherwise the group would
 * recreate it (ADR 0010). The abandon's request id is recorded in the ledger before the call, so
 * a redelivery repeats the same request; while the group still lists the VM the event is
 * redelivered (AbandonPendingError), until `abandonTimeoutSeconds` after the first abandon,
 * when the VM is contained inside the group anyway. In dry-run the group is only read.
 */
async function leaveGroup(
  current: InstanceState,
  target: InstanceTarget,
  deps: HandlerDeps,
  key: LedgerKey,
  recorded: Reconciled,
  context: EventContext,
  out: ActionOutcome,
): Promise<void> {
  const group = parseCreatedBy(current.createdBy);
  if (group === undefined) return;
  const path = groupPath(group);
  out.instanceGroup = path;
  if ((deps.instanceGroupAction ?? SETTINGS.instanceGroupAction.default) === 'contain-only') {
    out.groupAction = 'contain-only';
    return;
  }
  if (group.projectId !== target.projectId) {
    // The runtime role is granted in the VM's project only: a group elsewhere is not asked.
    out.groupAction = 'not-a-member';
    out.groupNote = `the group is in project ${group.projectId}, not the instance's`;
    return;
  }
  let member = await deps.instances.findMember(group, target.id);
  const earlier = recorded.record.groupAbandon;
  if (member === undefined) {
    out.groupAction = earlier !== undefined ? 'abandoned' : 'not-a-member';
    if (earlier === undefined) out.groupNote = 'the group does not list it';
    return;
  }
  if (deps.enforcement === 'dry-run') {
    out.groupAction = 'would-abandon';
    return;
  }
  const now = deps.now ?? Date.now;
  const abandon =
    earlier ??
    (await deps.ledger.noteAbandon(key, recorded.requestId, {
      group: path,
      requestId: requestIdFor(context.id, `abandon ${path}`),
      requestedAt: new Date(now()).toISOString(),
    }));
  const age = (now() - Date.parse(abandon.requestedAt)) / 1000;
  if (age >= (deps.abandonTimeoutSeconds ?? ABANDON_TIMEOUT_SECONDS)) {
    // Containment outranks forensics: a group that will not let go does not keep the VM running.
    out.groupAction = 'abandon-timeout';
    out.abandonAgeSeconds = Math.round(age);
    return;
  }
  await deps.instances.abandon(group, member.instance, abandon.requestId);
  const settle = Date.now() + (deps.abandonSettleMs ?? ABANDON_SETTLE_MS);
  while ((member = await deps.instances.findMember(group, target.id)) !== undefined && Date.now() < settle) {
    await new Promise<void>((resolve) => setTimeout(resolve, ABANDON_POLL_MS));
  }
  if (member !== undefined) throw new AbandonPendingError(path, member.currentAction);
  out.groupAction = 'abandoned';
}

/**
 * Message and severity of each decision reason, when the instance was found and acted on as
 * decided. `acting` says what is being done: `stopping the instance`, `suspending the
 * instance`, `relearning the integrity policy`, or, in dry-run, that nothing is.
 */
const DECISION_LINES: Record<
  Decision['reason'],
  { readonly severity: Severity; readonly text: (who: string, age: string, acting: string, extra: ActionOutcome) => string }
> = {
  'policy-passed': { severity: 'INFO', text: (who) => `Integrity policy passed on ${who}; no action` },
  'early-boot-report-in-relearn-mode': { severity: 'DEBUG', text: (who) => `Early-boot report for ${who} left to the late-boot report` },
  'known-good': {
    severity: 'NOTICE',
    text: (who, _age, acting) => `Measurements of ${who} match a known-good baseline; ${acting}`,
  },
  'not-known-good': { severity: 'WARNING', text: (who, _age, acting) => `Integrity of ${who} not vetted (not-known-good); ${acting}` },
  'policy-failed': { severity: 'WARNING', text: (who, _age, acting) => `Integrity of ${who} not vetted (policy-failed); ${acting}` },
  'stale-event-fail-closed': {
    severity: 'CRITICAL',
    text: (who, age, acting) => `Failed integrity report of ${who} is${age} and cannot be vetted; ${acting} (fail-closed)`,
  },
  'stale-event-fail-open': {
    severity: 'CRITICAL',
    text: (who, age) => `Failed integrity report of ${who} is${age} and cannot be vetted; NOT acting on it (fail-open): check the instance`,
  },
  'conflicting-reports': {
    severity: 'CRITICAL',
    text: (who, _age, acting) =>
      `Conflicting integrity reports for ${who}: possible forged entry; ${acting}, and nothing will relearn this boot`,
  },
  'superseded-by-later-boot': {
    severity: 'WARNING',
    text: (who, _age, _acting, extra) =>
      `Measurements of ${who} are known good, but ${
        extra.laterBoot === undefined
          ? 'the instance has started again since this report'
          : `a later boot of the instance (boot ${extra.laterBoot}) is recorded`
      }: no relearn; the later boot's report decides`,
  },
  'relearn-window-passed': {
    severity: 'NOTICE',
    text: (who, age, _acting, extra) =>
      `Measurements of ${who} are known good, but the report is${age}, past the relearn bound of ${
        extra.relearnMaxAgeSeconds ?? '?'
      } s (relearnMaxAgeSeconds): no relearn, the VM keeps running; the next boot's report decides`,
  },
  'containment-pending': {
    severity: 'CRITICAL',
    text: (who, _age, _acting, extra) =>
      `Measurements of ${who} are known good, but a stop of the instance for boot ${extra.lastStop?.bootCounter ?? '?'} is ${
        extra.lastStop?.state === 'held' ? 'held by the action budget' : 'not done yet'
      }: no relearn while a containment is open (a relearn would adopt what the VM runs now); check the instance`,
  },
  'unvetted-boot': {
    severity: 'WARNING',
    text: (who, _age, _acting, extra) =>
      `Measurements of ${who} are known good, but a stop was decided for boot ${extra.lastStop?.bootCounter ?? '?'} of the instance at ${
        extra.lastStop?.recordedAt ?? '?'
      } (${settledText(extra.lastStop?.settledAs)}) and the instance has not been started since: a relearn would adopt what it runs now; no relearn until it is stopped and started`,
  },
  'instance-not-found': {
    severity: 'WARNING',
    text: (who) => `Instance ${who} no longer exists; nothing done`,
  },
  'instance-replaced': {
    severity: 'WARNING',
    text: (who) => `Measurements of ${who} are known good, but that id now answers as another instance; no action`,
  },
  'instance-not-running': {
    severity: 'WARNING',
    text: (who) =>
      `Measurements of ${who} are known good, but the instance is not running: relearning would adopt the boot it was stopped for; no action`,
  },
  'older-boot': {
    severity: 'WARNING',
    text: (who) =>
      `Measurements of ${who} are known good, but a later boot of the instance has already reported; no relearn for an older boot`,
  },
  exempt: {
    severity: 'CRITICAL',
    // Worded in logDecision, which knows the label and what would have been done.
    text: (who) => `Instance ${who} is exempt`,
  },
  'budget-exhausted': {
    severity: 'CRITICAL',
    // Worded in logDecision, which knows the budget and what would have been done.
    text: (who) => `Action budget exhausted for ${who}`,
  },
  'withdrawn-after-conflict': {
    severity: 'WARNING',
    text: (who) => `Relearn of ${who} withdrawn: a conflicting report for the same boot was recorded`,
  },
};

function logDecision(
  logger: Logger,
  mode: ResponseMode,
  report: IntegrityReport,
  decision: Decision,
  extra: ActionOutcome & { containment: FailureAction; dryRun: boolean; reads?: number; eventId?: string; ageSeconds?: number },
): void {
  const { instance } = report;
  const who = `${instance.projectId}/${instance.zone}/${extra.instanceName ?? instance.id}${report.bootCounter !== undefined ? ` (boot ${report.bootCounter})` : ''}`;
  const age =
    report.bootCounter === undefined
      ? ' without a boot counter'
      : extra.ageSeconds === undefined
        ? ' of unknown age'
        : extra.ageSeconds < 0
          ? ` dated ${Math.round(-extra.ageSeconds)} s in the future`
          : ` ${Math.round(extra.ageSeconds)} s old`;
  const line = DECISION_LINES[decision.reason];
  // What a stop or relearn decision does to the VM: the containment for a stop.
  const verb = decision.action === 'stop' ? extra.containment : decision.action;
  const containing = `${extra.containment === 'suspend' ? 'suspending' : 'stopping'} the instance`;
  const acting = extra.dryRun
    ? 'no action taken (dry run)'
    : extra.alreadyDone && extra.operationStatus === 'dry-run'
      ? 'nothing was done to it then (recorded in dry run)'
      : decision.action === 'relearn'
        ? 'relearning the integrity policy'
        : `${groupPrefix(extra)}${containing}`;
  const { budget } = extra;
  const text =
    decision.reason === 'exempt'
      ? `Instance ${who} is exempt (label ${extra.exemptLabel ?? DEFAULT_EXEMPT_LABEL}): NOT ${
          decision.wouldHave === 'relearn'
            ? 'relearning its integrity policy though its measurements are known good'
            : `${decision.wouldHave === 'suspend' ? 'suspending' : 'stopping'} it though its integrity is not vetted`
        }`
      : decision.reason === 'budget-exhausted' && budget?.status === 'exhausted'
        ? heldText(who, budget, extra.dryRun)
        : line.text(who, age, acting, extra);
  // A member contained inside its group may be recreated by it: always CRITICAL, dry run included.
  const decided = extra.groupAction === 'contain-only' || extra.groupAction === 'abandon-timeout' ? 'CRITICAL' : line.severity;
  const wouldDo =
    extra.groupAction === 'would-abandon'
      ? `abandon it from group ${extra.instanceGroup} and ${verb} the instance`
      : extra.groupAction === 'contain-only'
        ? `${verb} the instance inside its managed instance group ${extra.instanceGroup} (instanceGroupAction contain-only)`
        : `${verb} the instance`;
  const [severity, said] = !extra.instanceFound
    ? ([
        'WARNING',
        `Instance ${who} no longer exists; nothing to ${
          decision.reason === 'instance-not-found' ? decision.wouldHave : decision.action === 'ignore' ? 'note' : verb
        }`,
      ] as const)
    : extra.alreadyDone && extra.ledger !== 'older-boot'
      ? (['INFO', `Already handled: ${text} (operation ${extra.operationStatus ?? 'none'}); nothing done again`] as const)
      : extra.dryRun && (decision.action === 'stop' || decision.action === 'relearn')
        ? ([decided, `Dry run: would ${wouldDo}: ${text}`] as const)
        : ([decided, text] as const);
  // The entry's label named another VM than Compute does: a forged or stale entry, said at WARNING at least.
  const relabelled = extra.entryInstanceName !== undefined;
  const message = relabelled
    ? `${said} (the log entry's label names it '${extra.entryInstanceName}')`
    : extra.unconfirmedName !== undefined
      ? `${said} (its log entry's label says '${extra.unconfirmedName}', which Compute Engine did not confirm)`
      : said;
  logger.log(relabelled ? atLeastWarning(severity) : severity, message, {
    mode,
    eventKind: report.kind,
    policyEvaluationPassed: report.passed,
    bootCounter: report.bootCounter,
    bootCounterAsWritten: report.bootCounterAsWritten,
    projectId: instance.projectId,
    zone: instance.zone,
    instanceName: extra.instanceName,
    entryInstanceName: extra.entryInstanceName ?? extra.unconfirmedName,
    instanceId: instance.id,
    decision: decision.action,
    containment: decision.action === 'stop' ? extra.containment : undefined,
    dryRun: extra.dryRun ? true : undefined,
    reason: decision.reason,
    wouldHave: 'wouldHave' in decision ? decision.wouldHave : undefined,
    laterBoot: extra.laterBoot,
    lastStopBoot: extra.lastStop?.bootCounter,
    lastStopState: extra.lastStop?.state,
    lastStopSettledAs: extra.lastStop?.settledAs,
    lastStopAt: extra.lastStop?.recordedAt,
    relearnMaxAgeSeconds: extra.relearnMaxAgeSeconds,
    ...budgetFields(budget),
    exemptLabel: extra.exemptLabel,
    instanceGroup: extra.instanceGroup,
    groupAction: extra.groupAction,
    baselineId: decision.action === 'relearn' ? decision.baselineId : undefined,
    instanceFound: extra.instanceFound,
    ledger: extra.ledger,
    alreadyDone: extra.alreadyDone,
    requestId: extra.requestId,
    operation: extra.operation,
    operationStatus: extra.operationStatus,
    firestoreReads: extra.reads,
    ageSeconds: extra.ageSeconds === undefined ? undefined : Math.round(extra.ageSeconds),
    eventId: extra.eventId,
  });
}

/** How the newest stop decided for a VM settled, for the `unvetted-boot` line. */
function settledText(settledAs: string | undefined): string {
  switch (settledAs) {
    case 'DONE':
      return 'it was contained; resumed, a VM runs that boot still';
    case 'exempt':
      return 'not performed: the VM was exempt';
    case 'dry-run':
      return 'not performed: dry run';
    default:
      return `since settled as ${settledAs ?? 'unknown'}`;
  }
}

const SEVERITY_ORDER: readonly Severity[] = ['DEBUG', 'INFO', 'NOTICE', 'WARNING', 'ERROR', 'CRITICAL'];

function atLeastWarning(severity: Severity): Severity {
  return SEVERITY_ORDER.indexOf(severity) < SEVERITY_ORDER.indexOf('WARNING') ? 'WARNING' : severity;
}

/** What was done with the VM's group, said before the containment (`…; stopping the instance`). */
function groupPrefix(extra: ActionOutcome): string {
  const g = extra.instanceGroup;
  switch (extra.groupAction) {
    case undefined:
    case 'would-abandon':
    case 'abandon-pending':
      return '';
    case 'abandoned':
      return `abandoned it from its managed instance group ${g}, then `;
    case 'not-a-member':
      return `its created-by names ${g}, but it is no member (${extra.groupNote ?? 'not listed'}); `;
    case 'contain-only':
      return `its created-by names managed instance group ${g}, which may recreate it (instanceGroupAction contain-only); `;
    case 'abandon-timeout':
      return `managed instance group ${g} still lists it ${extra.abandonAgeSeconds ?? '?'} s after it was asked to abandon it, which may recreate it; `;
  }
}

/** The message of an action held for want of budget. */
function heldText(who: string, budget: Extract<BudgetNote, { status: 'exhausted' }>, dryRun: boolean): string {
  const state = `${budget.used} of ${budget.limit} stops and suspends per ${budget.window.seconds} s used; the window frees at ${budget.window.end}`;
  const action = budget.wouldHave === 'suspend' ? ['suspend', 'suspending'] : ['stop', 'stopping'];
  const not = dryRun
    ? `Dry run: action budget exhausted (${state}): would NOT ${action[0]}`
    : `Action budget exhausted (${state}): NOT ${action[1]}`;
  const conflict =
    budget.heldReason === 'conflicting-reports'
      ? ': conflicting integrity reports for this boot (possible forged entry), nothing will relearn it'
      : '';
  return `${not} ${who}, reason ${budget.heldReason}${conflict}; the VM is left running and the event will be redelivered`;
}

/** The decision line's fields about the action budget. */
function budgetFields(budget: BudgetNote | undefined): Record<string, unknown> {
  switch (budget?.status) {
    case undefined:
      return {};
    case 'already-counted':
      return { budget: budget.status, budgetWindow: budget.windowId };
    case 'counted':
    case 'exhausted':
      return {
        budget: budget.status,
        budgetUsed: budget.used,
        budgetLimit: budget.limit,
        budgetWindowSeconds: budget.window.seconds,
        budgetWindow: budget.window.id,
        budgetFreesAt: budget.window.end,
        ...(budget.status === 'exhausted' && { heldReason: budget.heldReason, retry: true }),
      };
  }
}

/**
 * Compute request ids make a repeated call a no-op for a while. Deriving them from the
 * message id means a redelivered message repeats the same request, not the action.
 */
export function requestIdFor(eventId: string | undefined, action: string): string {
  if (eventId === undefined || eventId === '') return randomUUID();
  const h = createHash('sha256').update(`${action}\0${eventId}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
