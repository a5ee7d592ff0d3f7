import { createHash, randomUUID } from 'node:crypto';
import { Decision, ResponseMode, StaleEventPolicy, confirmRelearn, decide, decideStale, needsBaselineLookup } from './decide';
import { IntegrityReport, parseMessage } from './parse';
import { BaselineStore, InstanceControl, InstanceNotFoundError, Logger, Severity } from './ports';

/** What the handler needs from the outside world. */
export interface HandlerDeps {
  readonly mode: ResponseMode;
  readonly baselines: BaselineStore;
  readonly instances: InstanceControl;
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

const SEVERITY: Record<Decision['action'], Severity> = {
  none: 'INFO',
  ignore: 'DEBUG',
  relearn: 'NOTICE',
  stop: 'WARNING',
  alert: 'CRITICAL',
};

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
  // A report whose age is unknown, beyond the maximum, or in the future (past clock skew)
  // cannot be tied to what the VM runs now: the stale-event policy decides.
  const vettable = age !== undefined && age <= deps.maxEventAgeSeconds && age >= -MAX_CLOCK_SKEW_SECONDS;
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
  let instanceName = report.instance.name;
  let operation: string | undefined;
  let instanceFound = true;
  if (decision.action === 'stop' || decision.action === 'relearn') {
    try {
      instanceName ??= await deps.instances.findName(report.instance);
      if (instanceName === undefined) throw new InstanceNotFoundError(report.instance);
      const target = { projectId: report.instance.projectId, zone: report.instance.zone, name: instanceName };
      if (decision.action === 'relearn') decision = confirmRelearn(decision, report, await deps.instances.describe(target));
      const requestId = requestIdFor(context.id, decision.action);
      if (decision.action === 'stop') operation = await deps.instances.stop(target, requestId);
      if (decision.action === 'relearn') operation = await deps.instances.relearn(target, requestId);
    } catch (e) {
      if (!(e instanceof InstanceNotFoundError)) throw e;
      instanceFound = false;
    }
  }
  logDecision(logger, mode, report, decision, { instanceName, operation, instanceFound, reads, eventId: context.id, ageSeconds: age });
  return { status: 'decided', decision, instanceFound };
}

function logDecision(
  logger: Logger,
  mode: ResponseMode,
  report: IntegrityReport,
  decision: Decision,
  extra: { instanceName?: string; operation?: string; instanceFound: boolean; reads?: number; eventId?: string; ageSeconds?: number },
): void {
  const { instance } = report;
  const who = `${instance.projectId}/${instance.zone}/${extra.instanceName ?? instance.id}`;
  const age =
    extra.ageSeconds === undefined
      ? ' of unknown age'
      : extra.ageSeconds < 0
        ? ` dated ${Math.round(-extra.ageSeconds)} s in the future`
        : ` ${Math.round(extra.ageSeconds)} s old`;
  const message = !extra.instanceFound
    ? `Instance ${who} no longer exists; nothing to ${decision.action}`
    : decision.reason === 'superseded-by-later-boot'
      ? `Measurements of ${who} are known good, but the instance has started again since this report; the later boot's report decides`
      : decision.reason === 'instance-replaced'
        ? `Measurements of instance ${instance.id} are known good, but ${who} is now another instance; no action`
        : decision.reason === 'stale-event-fail-closed'
          ? `Failed integrity report of ${who} is${age} and cannot be vetted; stopping the instance (fail-closed)`
          : decision.reason === 'stale-event-fail-open'
            ? `Failed integrity report of ${who} is${age} and cannot be vetted; NOT acting on it (fail-open): check the instance`
            : {
                none: `Integrity policy passed on ${who}; no action`,
                ignore: `Early-boot report for ${who} left to the late-boot report`,
                relearn: `Measurements of ${who} match a known-good baseline; relearning the integrity policy`,
                stop: `Integrity of ${who} not vetted (${decision.reason}); stopping the instance`,
                alert: `Integrity of ${who} not vetted (${decision.reason})`,
              }[decision.action];
  logger.log(severityOf(decision, extra.instanceFound), message, {
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
    operation: extra.operation,
    firestoreReads: extra.reads,
    ageSeconds: extra.ageSeconds === undefined ? undefined : Math.round(extra.ageSeconds),
    eventId: extra.eventId,
  });
}

function severityOf(decision: Decision, instanceFound: boolean): Severity {
  if (decision.reason === 'stale-event-fail-closed' || decision.reason === 'stale-event-fail-open') return 'CRITICAL';
  if (!instanceFound || decision.reason === 'superseded-by-later-boot' || decision.reason === 'instance-replaced') return 'WARNING';
  return SEVERITY[decision.action];
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
