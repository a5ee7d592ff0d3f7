import { ActionHeldError } from './budget';
import { actOn, noteFailedBoot, unconfirmed } from './contain';
import { Decision, decide, decideStale, needsBaselineLookup } from './decide';
import { lineOf } from './decision-line';
import { vetting } from './event-time';
import type { HandlerDeps } from './handler-deps';
import { scopeRejection } from './in-scope';
import type { Acted, DecisionRecord, EventOutcome } from './outcome';
import { IntegrityReport, parseMessage } from './parse';
import { AbandonPendingError } from './ports';

export type { HandlerDeps } from './handler-deps';

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
 * Handles the data of one Pub/Sub `messagePublished` CloudEvent: finds out what became of it,
 * writes the one line that says so, and answers the platform. Malformed input returns normally
 * (acknowledged: retrying cannot fix it). Failures of Firestore or Compute are rethrown, so that
 * the platform redelivers the message; so is an action held for want of budget.
 */
export async function handleMessage(data: unknown, deps: HandlerDeps, context: EventContext = {}): Promise<HandlerOutcome> {
  const outcome = await outcomeOf(data, deps, context);
  const { severity, message, fields } = lineOf(outcome, { mode: deps.mode, eventId: context.id });
  deps.logger.log(severity, message, fields);
  return settle(outcome);
}

/** What became of one event. Never throws: a failure is an outcome, which carries what was thrown. */
async function outcomeOf(data: unknown, deps: HandlerDeps, context: EventContext): Promise<EventOutcome> {
  const parsed = parseMessage(data);
  if (parsed.status === 'rejected') return { kind: 'malformed', code: parsed.code, detail: parsed.detail };
  if (parsed.status === 'ignored') return { kind: 'ignored', reason: parsed.reason };
  const { report } = parsed;
  const outside = scopeRejection(report.instance.projectId, deps.scope, deps.excludedProjects);
  if (outside !== undefined) return { kind: 'outside-scope', ...outside };
  try {
    return { kind: 'decided', record: await respond(report, deps, context) };
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    return { kind: 'failed', report, error, ...(e instanceof AbandonPendingError && { pendingGroup: e.group }), cause: e };
  }
}

/**
 * The answer to the platform, once the line is written: a failure is rethrown and an action held
 * for want of budget throws, so that the event is redelivered (one line per delivery).
 */
function settle(outcome: EventOutcome): HandlerOutcome {
  switch (outcome.kind) {
    case 'malformed':
    case 'outside-scope':
      return { status: 'rejected' };
    case 'ignored':
      return { status: 'ignored' };
    case 'failed':
      throw outcome.cause;
    case 'decided': {
      const { decision, ledger, vm, report } = outcome.record;
      const budget = ledger?.budget;
      if (decision.reason === 'budget-exhausted' && budget?.status === 'exhausted') {
        throw new ActionHeldError(report.instance.id, budget.window.end);
      }
      return { status: 'decided', decision, instanceFound: vm.found };
    }
  }
}

/** Decides on one report in scope, carries the decision out, and returns all of it as one record. */
async function respond(report: IntegrityReport, deps: HandlerDeps, context: EventContext): Promise<DecisionRecord> {
  const { age, vettable } = vetting(report, (deps.now ?? Date.now)(), deps.maxEventAgeSeconds);
  const { decision, reads } = await decideOn(report, vettable, deps);
  const acted = await carryOut(report, decision, deps, context);
  return {
    ...acted,
    report,
    containment: acted.containment ?? deps.failureAction,
    dryRun: deps.enforcement === 'dry-run',
    reads,
    ageSeconds: age,
  };
}

/**
 * What to do about a report. One that cannot be vetted (see `vetting`) is resolved by the
 * stale-event policy, without a lookup. Otherwise a failed late-boot report in relearn mode is
 * looked up among the known-good baselines first.
 */
async function decideOn(report: IntegrityReport, vettable: boolean, deps: HandlerDeps): Promise<{ decision: Decision; reads?: number }> {
  const stale = vettable ? undefined : decideStale(report, deps.mode, deps.staleEventPolicy);
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
