import { randomUUID } from 'node:crypto';
import { FailureAction, OPERATION_STATUSES, parseExemptLabel } from '../contract';
import type { Decision, InstanceState } from './decide';
import type { HandlerDeps } from './handler-deps';
import { LedgerKey, ledgerDocumentId, ledgerKey } from './ledger';
import { leaveGroup } from './leave-group';
import { fingerprint } from './measurements';
import type { Acted, GroupFacts, LedgerFacts, RelearnFacts, VmFacts } from './outcome';
import type { IntegrityReport } from './parse';
import { InstanceControl, InstanceNotFoundError, InstanceTarget, OperationFailedError, Recorded, SnapshotRateLimitedError } from './ports';
import { StepFacts, deactivateFinding, playbookOf, raiseFinding, runEvidenceSteps, summaryOf } from './playbook';
import { lastLookBeforeRelearn } from './relearn-look';
import { requestIdFor } from './request-id';

/*
 * The Compute Engine side of a response: reading the VM, recording the decision in the ledger,
 * and acting on the VM by its id. Each step returns what it found and did; nothing is written to
 * the log here.
 */

/** A decision that acts on the VM. */
type Acting = Extract<Decision, { action: 'stop' | 'relearn' }>;

/** The VM a decision is carried out on: how it is addressed, what Compute Engine said of it, and how the line names it. */
interface Vm {
  readonly target: InstanceTarget;
  readonly current: InstanceState;
  readonly facts: VmFacts;
}

/** The decision about a VM Compute Engine has no instance of: nothing was done, `wouldHave` says what would have been. */
const notFound = (wouldHave: FailureAction | 'relearn'): Decision => ({ action: 'none', reason: 'instance-not-found', wouldHave });

/** The VM as its entry names it, before Compute Engine answered for the id. */
export function unconfirmed(report: IntegrityReport, found = true): VmFacts {
  return { found, unconfirmed: report.instance.name };
}

/**
 * Names the VM as Compute does: the entry's name label is the writer's word. A label that names
 * another VM is kept beside it, for the line to flag.
 */
function nameFromCompute(report: IntegrityReport, current: InstanceState): VmFacts {
  const entry = report.instance.name;
  const name = current.name ?? entry;
  return { found: true, name, relabelled: entry !== undefined && entry !== name ? entry : undefined };
}

/** The VM as it is now, or undefined when Compute Engine has no instance of that id. */
async function describeIfExists(instances: InstanceControl, target: InstanceTarget): Promise<InstanceState | undefined> {
  try {
    return await instances.describe(target);
  } catch (e) {
    if (e instanceof InstanceNotFoundError) return undefined;
    throw e;
  }
}

/** The exemption label the VM carries, `key=value`, or undefined when it carries none. */
function exemption(current: InstanceState, configured: string): string | undefined {
  const { key, value } = parseExemptLabel(configured);
  return current.labels?.[key] === value ? `${key}=${value}` : undefined;
}

/**
 * Reads the VM (an exempt one is left alone, with nothing recorded), records the decision in
 * the ledger, then acts on the VM by its id and waits for the operation. Returns the decision as
 * it stands after the ledger and a last look at the VM, with what was met on the way.
 */
export async function actOn(
  entryReport: IntegrityReport,
  proposed: Acting,
  deps: HandlerDeps,
  eventId: string | undefined,
): Promise<Acted> {
  let report = entryReport;
  const configured = deps.failureAction;
  const target: InstanceTarget = { ...report.instance };
  const wouldHave = proposed.action === 'stop' ? configured : 'relearn';
  // The VM is read before anything is recorded: one that does not exist leaves no record, an
  // exempt one a settled record only.
  const current = await describeIfExists(deps.instances, target);
  if (current === undefined) {
    // Nothing to act on, and nothing is recorded: an entry naming an id that does not exist in
    // its project (a VM deleted since, or a forged id) must leave no trace in the ledger, where it
    // could otherwise stand in for a later genuine report, and takes no budget.
    return { decision: notFound(wouldHave), vm: unconfirmed(report, false), operation: { status: OPERATION_STATUSES.instanceNotFound } };
  }
  // A launch attestation is about the VM's current launch, as Compute answers it.
  if (report.kind === 'launchAttestation') report = { ...report, launch: current.lastStartTimestamp ?? 'unknown' };
  const key = ledgerKey(report);
  const vm = nameFromCompute(report, current);
  const exemptLabel = exemption(current, deps.exemptLabel);
  const toRecord = {
    report,
    proposed,
    fingerprint: fingerprint(report.actualMeasurements),
    // A suspend is another request than a stop: its id differs.
    requestIdFor: (action: 'stop' | 'relearn') => requestIdFor(eventId, action === 'stop' ? configured : action),
    containment: configured,
    playbook: deps.evidenceSteps ?? [],
    ...(deps.enforcement === 'dry-run' && { dryRun: true }),
  };
  if (exemptLabel !== undefined) {
    // Nothing is done, but the report is remembered (outside the budget, settled at once): once
    // the label is gone, another report about this boot with other measurements is a conflict.
    const remembered = await deps.ledger.record(toRecord);
    if (!remembered.alreadyDone) {
      await deps.ledger.complete(
        key,
        remembered.requestId,
        { decision: { action: 'none', reason: 'exempt' }, status: OPERATION_STATUSES.exempt },
        remembered.version,
      );
    }
    return { decision: { action: 'none', reason: 'exempt', wouldHave }, vm, exemptLabel, ledger: { note: remembered.note } };
  }
  const recorded = await deps.ledger.record(toRecord, deps.actionBudget);
  const ledger: LedgerFacts = {
    note: recorded.note,
    requestId: recorded.requestId,
    alreadyDone: recorded.alreadyDone,
    budget: recorded.budget,
  };
  const facts = { vm, containment: recorded.containment, ledger };
  // Held for want of budget: nothing is done to the VM; the caller logs it and fails the event.
  if (recorded.decision.reason === 'budget-exhausted') return { ...facts, decision: recorded.decision };
  if (recorded.alreadyDone) {
    const operation = { name: recorded.record.operation, status: recorded.record.operationStatus };
    if (operation.status !== OPERATION_STATUSES.instanceNotFound) {
      const finding = await findingLeftOver(report, recorded, key, { target, current }, deps, eventId);
      return { ...facts, decision: recorded.decision, operation, ...(finding !== undefined && { steps: [finding] }) };
    }
    const wouldHaveThen = recorded.decision.action === 'stop' ? recorded.containment : 'relearn';
    return { ...facts, vm: { ...vm, found: false }, decision: notFound(wouldHaveThen), operation };
  }
  return { ...facts, ...(await perform(report, recorded, key, { target, current, facts: vm }, deps, eventId)) };
}

/**
 * Carries out a decision recorded now: the last look before a relearn, then, for a stop, the VM's
 * group, then the Compute call, and settles the ledger record with what came of it. A VM gone on
 * the way ends as `instance-not-found`; any other failure is thrown, for the event to be redelivered.
 */
async function perform(
  report: IntegrityReport,
  recorded: Recorded,
  key: LedgerKey,
  vm: Vm,
  deps: HandlerDeps,
  eventId: string | undefined,
): Promise<Pick<Acted, 'decision' | 'vm' | 'relearn' | 'group' | 'operation' | 'steps'>> {
  const { target, current } = vm;
  let decision = recorded.decision;
  let relearn: RelearnFacts | undefined;
  let group: GroupFacts | undefined;
  const steps: StepFacts[] = [];
  try {
    if (decision.action === 'relearn') {
      const look = await lastLookBeforeRelearn(report, decision, current, key, deps);
      decision = look.decision;
      relearn = look.relearn;
    }
    if (decision.action !== 'stop' && decision.action !== 'relearn') {
      await deps.ledger.complete(
        key,
        recorded.requestId,
        { decision: { action: 'none', reason: decision.reason }, status: OPERATION_STATUSES.notActed },
        recorded.version,
      );
      return { decision, vm: vm.facts, relearn };
    }
    const containing = decision.action === 'stop' ? { report, key, recorded, reason: decision.reason, target, current } : undefined;
    let evidence = recorded.record.steps ?? {};
    // A VM contained for another report and not started since runs no second playbook: its
    // evidence, quarantine and finding are the earlier containment's.
    const earlier = containing !== undefined ? await stillContained(key, current, playbookOf(recorded), deps) : undefined;
    if (containing !== undefined) {
      if (earlier !== undefined) {
        steps.push(...earlier.facts);
      } else {
        // Evidence first, then the quarantine: before the group is asked to let go, and before the VM is stopped.
        const ran = await runEvidenceSteps(containing, deps);
        steps.push(...ran.facts);
        evidence = ran.steps;
      }
      group = await leaveGroup(current, target, deps, key, recorded, eventId);
    }
    if (deps.enforcement === 'dry-run') {
      // Decided and recorded as enforce would; nothing is done to the VM (its group is read).
      if (containing !== undefined && earlier === undefined) {
        const finding = await raiseFinding(containing, evidence, recorded.containment, deps, eventId);
        if (finding !== undefined) steps.push(finding.facts);
      }
      await deps.ledger.complete(key, recorded.requestId, { status: OPERATION_STATUSES.dryRun }, recorded.version);
      return { decision, vm: vm.facts, group, operation: { status: OPERATION_STATUSES.dryRun }, ...(steps.length > 0 && { steps }) };
    }
    const operation =
      decision.action === 'relearn'
        ? await deps.instances.relearn(target, recorded.requestId)
        : recorded.containment === 'suspend'
          ? await deps.instances.suspend(target, recorded.requestId)
          : await deps.instances.stop(target, recorded.requestId);
    // The containment is recorded complete first: a finding that cannot be raised now never keeps
    // the VM out of the operator's list; a redelivery raises it (see `findingLeftOver`).
    const summary =
      containing !== undefined && earlier === undefined
        ? summaryOf(containing, evidence, recorded.containment, new Date((deps.now ?? Date.now)()).toISOString())
        : undefined;
    await deps.ledger.complete(
      key,
      recorded.requestId,
      { operation, status: operation.status, ...(summary !== undefined && { containment: summary }) },
      recorded.version,
    );
    if (containing !== undefined && earlier === undefined) {
      const finding = await raiseFinding(containing, evidence, recorded.containment, deps, eventId);
      if (finding !== undefined) steps.push(finding.facts);
    }
    if (decision.action === 'relearn') {
      // Vetted and relearned: the finding of its containment, if one is open, is set inactive.
      const inactive = await deactivateFinding(key, report, deps);
      if (inactive !== undefined) steps.push(inactive);
    }
    return {
      decision,
      vm: vm.facts,
      group,
      operation: { name: operation.name, status: operation.status },
      ...(steps.length > 0 && { steps }),
    };
  } catch (e) {
    if ((e instanceof OperationFailedError && e.finished) || e instanceof SnapshotRateLimitedError) {
      // Compute would answer the same request id with this failed operation forever (a snapshot
      // refused for the rate limit too, when the refusal came in its operation).
      await deps.ledger.renewRequest(key, recorded.requestId, randomUUID());
    }
    if (!(e instanceof InstanceNotFoundError)) throw e;
    await deps.ledger.complete(key, recorded.requestId, { status: OPERATION_STATUSES.instanceNotFound }, recorded.version);
    return {
      decision: notFound(decision.action === 'stop' ? recorded.containment : 'relearn'),
      vm: { ...vm.facts, found: false },
      relearn,
      group,
      operation: { status: OPERATION_STATUSES.instanceNotFound },
    };
  }
}

/**
 * A failed early-boot report is left to the late-boot report, but the boot happened: no report of
 * an older boot may relearn the VM now, since a relearn would adopt this one. Noted only for a VM
 * Compute knows, so that entries about ids that do not exist leave no trace.
 */
export async function noteFailedBoot(report: IntegrityReport, decision: Decision, deps: HandlerDeps): Promise<Acted> {
  const current = await describeIfExists(deps.instances, { ...report.instance });
  if (current === undefined) return { decision, vm: unconfirmed(report, false) };
  const vm = nameFromCompute(report, current);
  await deps.ledger.noteBoot(ledgerKey(report));
  return { decision, vm };
}

/**
 * The facts of an earlier containment that still holds the VM: not released, and the VM not
 * started since. It may be this key's own (a conflict, or a report naming no boot, after it
 * completed): a containment in progress has no summary yet, so one on the record is an earlier
 * one. Read only where a playbook or findings are configured.
 */
async function stillContained(
  key: LedgerKey,
  current: InstanceState,
  playbook: readonly string[],
  deps: HandlerDeps,
): Promise<{ facts: StepFacts[] } | undefined> {
  if (playbook.length === 0 && deps.findingsSource === undefined) return undefined;
  const summary = await deps.ledger.containmentOf(key);
  if (summary === undefined || summary.state !== 'contained') return undefined;
  const started = current.lastStartTimestamp === undefined ? NaN : Date.parse(current.lastStartTimestamp);
  if (started > Date.parse(summary.containedAt)) return undefined;
  const detail = `contained at ${summary.containedAt} for boot ${summary.bootCounter} (${summary.reason}) and not started since`;
  const facts: StepFacts[] = [];
  if (playbook.includes('snapshot')) facts.push({ step: 'snapshot', status: 'already-done', snapshots: summary.snapshots, detail });
  if (playbook.includes('quarantine'))
    facts.push({ step: 'quarantine', status: 'already-done', name: summary.quarantine?.binding, detail });
  if (summary.finding !== undefined) facts.push({ step: 'finding', status: 'already-done', name: summary.finding, detail });
  return { facts };
}

/**
 * The finding of a containment recorded complete without one (Security Command Center failed after
 * the stop): raised on a redelivery of the same report. Undefined when there is none to raise.
 */
async function findingLeftOver(
  report: IntegrityReport,
  recorded: Recorded,
  key: LedgerKey,
  vm: { target: InstanceTarget; current: InstanceState },
  deps: HandlerDeps,
  eventId: string | undefined,
): Promise<StepFacts | undefined> {
  const d = recorded.decision;
  if (d.action !== 'stop' || deps.findingsSource === undefined || deps.enforcement === 'dry-run') return undefined;
  if (recorded.record.operationStatus !== OPERATION_STATUSES.done || recorded.record.steps?.finding !== undefined) return undefined;
  const summary = await deps.ledger.containmentOf(key);
  // The summary names a finding: raised for this boot's containment already (a conflict after it
  // completed reuses that containment's facts, with no finding step of its own).
  if (summary?.record !== ledgerDocumentId(key) || summary.state !== 'contained' || summary.finding !== undefined) return undefined;
  const raised = await raiseFinding(
    { report, key, recorded, reason: d.reason, target: vm.target, current: vm.current },
    recorded.record.steps ?? {},
    recorded.containment,
    deps,
    eventId,
  );
  return raised?.facts;
}
