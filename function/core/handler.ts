import { SETTINGS } from '../contract';
import { ActionHeldError } from './budget';
import { actOn, noteFailedBoot, unconfirmed } from './contain';
import { Decision, decide, decideStale, needsBaselineLookup } from './decide';
import { lineOf } from './decision-line';
import { ageSeconds, vettable } from './event-time';
import type { HandlerDeps } from './handler-deps';
import { scopeRejection } from './in-scope';
import type { Acted, DecisionRecord, EventOutcome } from './outcome';
import { IntegrityReport, parseMessage } from './parse';
import { AbandonPendingError } from './ports';

export type { HandlerDeps } from './handler-deps';
export { ABANDON_TIMEOUT_SECONDS } from './leave-group';
export { MAX_CLOCK_SKEW_SECONDS, relearnAgeSeconds } from './event-time';
export { requestIdFor } from './request-id';

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
 * Compute are logged and rethrown, so that the platform redelivers the message. Every event
 * writes one line, said by `lineOf` from what became of it.
 */
export async function handleMessage(data: unknown, deps: HandlerDeps, context: EventContext = {}): Promise<HandlerOutcome> {
  const write = (outcome: EventOutcome) => {
    const { severity, message, fields } = lineOf(outcome, { mode: deps.mode, eventId: context.id });
    deps.logger.log(severity, message, fields);
  };
  const parsed = parseMessage(data);
  if (parsed.status === 'rejected') {
    write({ kind: 'malformed', code: parsed.code, detail: parsed.detail });
    return { status: 'rejected' };
  }
  if (parsed.status === 'ignored') {
    write({ kind: 'ignored', reason: parsed.reason });
    return { status: 'ignored' };
  }
  const { report } = parsed;
  const outside = scopeRejection(report.instance.projectId, deps.scope, deps.excludedProjects);
  if (outside !== undefined) {
    write({ kind: 'outside-scope', ...outside });
    return { status: 'rejected' };
  }
  let record: DecisionRecord;
  try {
    record = await respond(report, deps, context);
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    write({ kind: 'failed', report, error, ...(e instanceof AbandonPendingError && { pendingGroup: e.group }) });
    throw e;
  }
  write({ kind: 'decided', record });
  const budget = record.ledger?.budget;
  if (record.decision.reason === 'budget-exhausted' && budget?.status === 'exhausted') {
    // Its CRITICAL line is written: one line per held delivery, and the event is not acknowledged.
    throw new ActionHeldError(report.instance.id, budget.window.end);
  }
  return { status: 'decided', decision: record.decision, instanceFound: record.vm.found };
}

/** Decides on one report in scope, carries the decision out, and returns all of it as one record. */
async function respond(report: IntegrityReport, deps: HandlerDeps, context: EventContext): Promise<DecisionRecord> {
  const age = ageSeconds(report, (deps.now ?? Date.now)());
  const { decision, reads } = await decideOn(report, age, deps);
  const acted = await carryOut(report, decision, deps, context);
  return {
    ...acted,
    report,
    containment: acted.containment ?? deps.failureAction ?? SETTINGS.failureAction.default,
    dryRun: deps.enforcement === 'dry-run',
    reads,
    ageSeconds: age,
  };
}

/**
 * What to do about a report. One whose age is unknown, beyond the maximum, or in the future,
 * or that names no boot, cannot be tied to what the VM runs now: the stale-event policy decides,
 * without a lookup. Otherwise a failed late-boot report in relearn mode is looked up among the
 * known-good baselines first.
 */
async function decideOn(
  report: IntegrityReport,
  age: number | undefined,
  deps: HandlerDeps,
): Promise<{ decision: Decision; reads?: number }> {
  const stale = vettable(report, age, deps.maxEventAgeSeconds) ? undefined : decideStale(report, deps.mode, deps.staleEventPolicy);
  if (stale !== undefined) return { decision: stale };
  if (!needsBaselineLookup(report, deps.mode)) return { decision: decide(report, deps.mode) };
  const lookup = await deps.baselines.findExactMatch(report.actualMeasurements);
  return { decision: decide(report, deps.mode, lookup), reads: lookup.reads };
}

/** Carries a decision out: acts on the VM for a stop or relearn, notes the boot of a failed early-boot report. */
function carryOut(report: IntegrityReport, decision: Decision, deps: HandlerDeps, context: EventContext): Promise<Acted> {
  if (decision.action === 'stop' || decision.action === 'relearn') return actOn(report, decision, deps, context.id);
  if (decision.reason === 'early-boot-report-in-relearn-mode' && !report.passed && report.bootCounter !== undefined) {
    return noteFailedBoot(report, decision, deps);
  }
  // Until Compute Engine answers for the id, the entry's name label is only its writer's word.
  return Promise.resolve({ decision, vm: unconfirmed(report) });
}
