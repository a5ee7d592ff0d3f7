import { createHash, randomUUID } from 'node:crypto';
import { Decision, ResponseMode, StaleEventPolicy, confirmRelearn, decide, decideStale, needsBaselineLookup } from './decide';
import { IntegrityReport, parseMessage } from './parse';
import { LedgerNote, ledgerKey } from './ledger';
import { fingerprint } from './measurements';
import {
  BaselineStore,
  DecisionLedger,
  InstanceControl,
  InstanceNotFoundError,
  InstanceTarget,
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
   * The project whose VMs this responder watches. Entries about other projects are rejected:
   * only the sink of this project should be able to reach the function.
   */
  readonly projectId?: string;
  /** Failed reports older than this are resolved by `staleEventPolicy`, without a lookup. */
  readonly maxEventAgeSeconds: number;
  readonly staleEventPolicy: StaleEventPolicy;
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
  if (deps.projectId !== undefined && report.instance.projectId !== deps.projectId) {
    const detail = `the entry is about project ${report.instance.projectId}, this responder watches ${deps.projectId}`;
    logger.log('ERROR', `Rejected integrity log entry: ${detail}`, { mode, rejection: 'foreign-project', detail, eventId: context.id });
    return { status: 'rejected' };
  }
  try {
    return await act(report, deps, context);
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    logger.log(
      'ERROR',
      `Could not complete the response for ${report.instance.projectId}/${report.instance.zone}/${report.instance.name ?? report.instance.id}; the event will be redelivered: ${error}`,
      {
        mode,
        eventKind: report.kind,
        instanceId: report.instance.id,
        retry: true,
        error,
        eventId: context.id,
      },
    );
    throw e;
  }
}

/** How far in the future a report's timestamp may lie before it is not trusted, seconds. */
export const MAX_CLOCK_SKEW_SECONDS = 300;

/** Age of the report, seconds; undefined when the entry carries no timestamp. */
function ageSeconds(report: IntegrityReport, now: number): number | undefined {
  if (report.timestamp === undefined) return undefined;
  return (now - Date.parse(report.timestamp)) / 1000;
}

async function act(report: IntegrityReport, deps: HandlerDeps, context: EventContext): Promise<HandlerOutcome> {
  const { logger, mode } = deps;
  const age = ageSeconds(report, (deps.now ?? Date.now)());
  // A report whose age is unknown, beyond the maximum, or in the future (past clock skew), or
  // that names no boot, cannot be tied to what the VM runs now: the stale-event policy decides.
  const vettable =
    age !== undefined && age <= deps.maxEventAgeSeconds && age >= -MAX_CLOCK_SKEW_SECONDS && report.bootCounter !== undefined;
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
  const outcome: ActionOutcome = { instanceName: report.instance.name, instanceFound: true };
  if (decision.action === 'stop' || decision.action === 'relearn') {
    decision = await actOn(report, decision, deps, context, outcome);
  }
  logDecision(logger, mode, report, decision, { ...outcome, reads, eventId: context.id, ageSeconds: age });
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
}

/**
 * Records the decision in the ledger, then acts on the VM by its id and waits for the
 * operation. Returns the decision as it stands after the ledger and a last look at the VM.
 */
async function actOn(
  report: IntegrityReport,
  proposed: Extract<Decision, { action: 'stop' | 'relearn' }>,
  deps: HandlerDeps,
  context: EventContext,
  out: ActionOutcome,
): Promise<Decision> {
  const key = ledgerKey(report);
  const recorded = await deps.ledger.record({
    report,
    proposed,
    fingerprint: fingerprint(report.actualMeasurements),
    requestIdFor: (action) => requestIdFor(context.id, action),
  });
  let decision = recorded.decision;
  out.ledger = recorded.note;
  out.requestId = recorded.requestId;
  out.alreadyDone = recorded.alreadyDone;
  if (recorded.alreadyDone) {
    out.operation = recorded.record.operation;
    out.operationStatus = recorded.record.operationStatus;
    out.instanceFound = recorded.record.operationStatus !== 'instance-not-found';
    return decision;
  }
  const target: InstanceTarget = { ...report.instance };
  try {
    if (decision.action === 'relearn') {
      const current = await deps.instances.describe(target);
      out.instanceName ??= current.name;
      decision = confirmRelearn(decision, report, current);
      // A conflicting report may have been recorded since: it stops the VM, nothing relearns it.
      if (decision.action === 'relearn' && (await deps.ledger.inConflict(key)))
        decision = { action: 'none', reason: 'withdrawn-after-conflict' };
    }
    if (decision.action === 'stop' || decision.action === 'relearn') {
      const operation =
        decision.action === 'stop'
          ? await deps.instances.stop(target, recorded.requestId)
          : await deps.instances.relearn(target, recorded.requestId);
      out.operation = operation.name;
      out.operationStatus = operation.status;
      await deps.ledger.complete(key, recorded.requestId, { operation, status: operation.status });
    } else {
      await deps.ledger.complete(key, recorded.requestId, { decision: { action: 'none', reason: decision.reason }, status: 'not-acted' });
    }
  } catch (e) {
    if (e instanceof OperationFailedError && e.finished) {
      // Compute would answer the same request id with this failed operation forever.
      await deps.ledger.renewRequest(key, recorded.requestId, randomUUID());
    }
    if (!(e instanceof InstanceNotFoundError)) throw e;
    out.instanceFound = false;
    out.operationStatus = 'instance-not-found';
    await deps.ledger.complete(key, recorded.requestId, { status: 'instance-not-found' });
  }
  return decision;
}

/** Message and severity of each decision reason, when the instance was found and acted on as decided. */
const DECISION_LINES: Record<Decision['reason'], { readonly severity: Severity; readonly text: (who: string, age: string) => string }> = {
  'policy-passed': { severity: 'INFO', text: (who) => `Integrity policy passed on ${who}; no action` },
  'early-boot-report-in-relearn-mode': { severity: 'DEBUG', text: (who) => `Early-boot report for ${who} left to the late-boot report` },
  'known-good': {
    severity: 'NOTICE',
    text: (who) => `Measurements of ${who} match a known-good baseline; relearning the integrity policy`,
  },
  'not-known-good': { severity: 'WARNING', text: (who) => `Integrity of ${who} not vetted (not-known-good); stopping the instance` },
  'policy-failed': { severity: 'WARNING', text: (who) => `Integrity of ${who} not vetted (policy-failed); stopping the instance` },
  'stale-event-fail-closed': {
    severity: 'CRITICAL',
    text: (who, age) => `Failed integrity report of ${who} is${age} and cannot be vetted; stopping the instance (fail-closed)`,
  },
  'stale-event-fail-open': {
    severity: 'CRITICAL',
    text: (who, age) => `Failed integrity report of ${who} is${age} and cannot be vetted; NOT acting on it (fail-open): check the instance`,
  },
  'conflicting-reports': {
    severity: 'CRITICAL',
    text: (who) =>
      `Conflicting integrity reports for ${who}: possible forged entry; stopping the instance, and nothing will relearn this boot`,
  },
  'superseded-by-later-boot': {
    severity: 'WARNING',
    text: (who) =>
      `Measurements of ${who} are known good, but the instance has started again since this report; the later boot's report decides`,
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
  extra: ActionOutcome & { reads?: number; eventId?: string; ageSeconds?: number },
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
  const [severity, message] = !extra.instanceFound
    ? (['WARNING', `Instance ${who} no longer exists; nothing to ${decision.action}`] as const)
    : extra.alreadyDone && extra.ledger !== 'older-boot'
      ? (['INFO', `Already handled: ${line.text(who, age)} (operation ${extra.operationStatus ?? 'none'}); nothing done again`] as const)
      : ([line.severity, line.text(who, age)] as const);
  logger.log(severity, message, {
    mode,
    eventKind: report.kind,
    policyEvaluationPassed: report.passed,
    bootCounter: report.bootCounter,
    projectId: instance.projectId,
    zone: instance.zone,
    instanceName: extra.instanceName,
    instanceId: instance.id,
    decision: decision.action,
    reason: decision.reason,
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
