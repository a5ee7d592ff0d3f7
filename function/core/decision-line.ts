import {
  DECISIONS,
  DEFAULT_EXEMPT_LABEL,
  EVIDENCE_TIMEOUT_SECONDS,
  GROUP_ACTIONS,
  LEDGER_NOTES,
  LINE_FIELDS as F,
  OPERATION_STATUSES,
  REASONS,
} from '../contract';
import type { BudgetNote } from './budget';
import type { Decision } from './decide';
import { reasonLine } from './decision-text';
import type { DecisionRecord, EventOutcome, LineContext } from './outcome';
import type { Severity } from './ports';

/** `true` when two unions hold the same words. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Words<T> = T[keyof T];
// The contract's words are the core's: a value renamed or added on either side does not compile.
const _decisionsAgree: Same<Words<typeof DECISIONS>, Decision['action']> = true;
const _reasonsAgree: Same<Words<typeof REASONS>, Decision['reason']> = true;

/** One line as the logger takes it: Cloud Logging reads `severity` and `message`, and keeps `fields` as `jsonPayload`. */
export interface Line {
  readonly severity: Severity;
  readonly message: string;
  /** The fields written, by their names in `LINE_FIELDS`; none is undefined. */
  readonly fields: Readonly<Record<string, unknown>>;
}

/** The line that says what became of one event. Pure: the same outcome always gives the same line. */
export function lineOf(outcome: EventOutcome, context: LineContext): Line {
  const { mode, eventId } = context;
  switch (outcome.kind) {
    case 'malformed':
    case 'outside-scope': {
      const { code, detail } = outcome;
      const what = outcome.kind === 'malformed' ? 'malformed integrity log entry' : 'integrity log entry';
      const fields = { [F.mode]: mode, [F.rejection]: code, [F.detail]: detail, [F.eventId]: eventId };
      return line('ERROR', `Rejected ${what}: ${detail}`, fields);
    }
    case 'ignored':
      return line('DEBUG', `Ignored log entry: ${outcome.reason}`, { [F.mode]: mode, [F.reason]: outcome.reason, [F.eventId]: eventId });
    case 'decided':
      return decisionLine(outcome.record, context);
    case 'failed': {
      const { instance } = outcome.report;
      const { error, pendingGroup } = outcome;
      const fields = {
        [F.mode]: mode,
        [F.eventKind]: outcome.report.kind,
        [F.instanceId]: instance.id,
        [F.entryInstanceName]: instance.name,
        [F.retry]: true,
        [F.error]: error,
        ...(pendingGroup !== undefined && { [F.instanceGroup]: pendingGroup, [F.groupAction]: GROUP_ACTIONS.abandonPending }),
        [F.eventId]: eventId,
      };
      const where = `${instance.projectId}/${instance.zone}/${instance.id}`;
      return line('ERROR', `Could not complete the response for ${where}; the event will be redelivered: ${error}`, fields);
    }
  }
}

/** A line with the fields that have a value. */
function line(severity: Severity, message: string, fields: Record<string, unknown>): Line {
  return { severity, message, fields: Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) };
}

/** Whether the decision acts on the VM. */
function acts(decision: Decision): decision is Extract<Decision, { action: 'stop' | 'relearn' }> {
  return decision.action === 'stop' || decision.action === 'relearn';
}

/** The redelivery of an action already completed (a refused relearn of an older boot is a decision of its own). */
function isRepeat(r: DecisionRecord): boolean {
  return r.ledger?.alreadyDone === true && r.ledger.note !== LEDGER_NOTES.olderBoot;
}

/** The line of a decided report. */
function decisionLine(r: DecisionRecord, context: LineContext): Line {
  const { severity, message } = framed(r);
  // The entry's label named another VM than Compute does: a forged or stale entry, said at WARNING at least.
  return line(r.vm.relabelled !== undefined ? atLeastWarning(severity) : severity, labelNote(message, r), decisionFields(r, context));
}

/** The VM as the message names it: project, zone, name (or id), and boot. */
function who(r: DecisionRecord): string {
  const { instance, bootCounter } = r.report;
  const boot = bootCounter !== undefined ? ` (boot ${bootCounter})` : '';
  return `${instance.projectId}/${instance.zone}/${r.vm.name ?? instance.id}${boot}`;
}

/** How old the report is, as the message says it (`… is${age}`). */
function ageText(r: DecisionRecord): string {
  if (r.report.bootCounter === undefined) return ' without a boot counter';
  if (r.ageSeconds === undefined) return ' of unknown age';
  if (r.ageSeconds < 0) return ` dated ${Math.round(-r.ageSeconds)} s in the future`;
  return ` ${Math.round(r.ageSeconds)} s old`;
}

/** What a stop or relearn does to the VM: the containment for a stop. */
function verb(r: DecisionRecord): string {
  return r.decision.action === 'stop' ? r.containment : r.decision.action;
}

/** What is being done to the VM, said after the decision: `stopping the instance`, or that nothing is. */
function acting(r: DecisionRecord): string {
  if (r.dryRun) return 'no action taken (dry run)';
  const recordedInDryRun = r.ledger?.alreadyDone === true && r.operation?.status === OPERATION_STATUSES.dryRun;
  if (recordedInDryRun) return 'nothing was done to it then (recorded in dry run)';
  if (r.decision.action === 'relearn') return `relearning the integrity policy${findingNote(r)}`;
  return `${stepsPrefix(r)}${groupPrefix(r)}${r.containment === 'suspend' ? 'suspending' : 'stopping'} the instance${findingNote(r)}`;
}

/** What the playbook's evidence steps did, said before the containment (`snapshotted 2 disks, quarantined it, then `). */
function stepsPrefix(r: DecisionRecord): string {
  const said = (r.steps ?? []).flatMap((s): string[] => {
    const again = s.status === 'already-done' ? ' (earlier)' : '';
    switch (s.step) {
      case 'snapshot': {
        if (s.status === 'skipped') return [`took no snapshot (${s.detail ?? 'skipped'})`];
        const n = s.snapshots?.length ?? 0;
        const kept = s.skipped !== undefined && s.skipped.length > 0 ? ` (${s.skipped.length} local SSD kept, not snapshotted)` : '';
        const gaveUp =
          s.missing !== undefined && s.missing.length > 0
            ? ` (EVIDENCE MISSING: gave up on ${s.missing.join(', ')} after ${EVIDENCE_TIMEOUT_SECONDS} s)`
            : '';
        const disks = `${n} disk${n === 1 ? '' : 's'}`;
        return [s.status === 'would' ? `would snapshot ${disks}${kept}` : `snapshotted ${disks}${kept}${gaveUp}${again}`];
      }
      case 'quarantine':
        if (s.status === 'skipped') return [`did not quarantine it (${s.detail ?? 'skipped'})`];
        return [s.status === 'would' ? 'would quarantine it' : `quarantined it${again}`];
      default:
        return [];
    }
  });
  return said.length === 0 ? '' : `${said.join(', ')}, then `;
}

/** The finding raised (or set inactive), said after the action. */
function findingNote(r: DecisionRecord): string {
  const f = (r.steps ?? []).find((s) => s.step === 'finding' || s.step === 'finding-inactive');
  if (f === undefined) return '';
  if (f.step === 'finding-inactive') return f.status === 'would' ? '; would set its finding inactive' : '; its finding set inactive';
  return f.status === 'would' ? '; would raise a finding' : `; finding ${f.status === 'already-done' ? 'already raised' : 'raised'}`;
}

/** What was done with the VM's group, said before the containment (`…; stopping the instance`). */
function groupPrefix(r: DecisionRecord): string {
  const g = r.group;
  switch (g?.action) {
    case undefined:
    case 'would-abandon':
    case 'abandon-pending':
      return '';
    case 'abandoned':
      return `abandoned it from its managed instance group ${g.path}, then `;
    case 'not-a-member':
      return `its created-by names ${g.path}, but it is no member (${g.note ?? 'not listed'}); `;
    case 'contain-only':
      return `its created-by names managed instance group ${g.path}, which may recreate it (instanceGroupAction contain-only); `;
    case 'abandon-timeout':
      return `managed instance group ${g.path} still lists it ${g.abandonAgeSeconds ?? '?'} s after it was asked to abandon it, which may recreate it; `;
  }
}

/** What a dry run would have done: the containment, with what it would do with the VM's group. */
function wouldDo(r: DecisionRecord): string {
  // `would snapshot 2 disks, would quarantine it, then ` reads as `snapshot 2 disks, quarantine it, then ` after `would`.
  const steps = stepsPrefix(r).replace(/would /g, '');
  const finding = findingNote(r).replace('; would ', ', and ');
  switch (r.group?.action) {
    case 'would-abandon':
      return `${steps}abandon it from group ${r.group.path} and ${verb(r)} the instance${finding}`;
    case 'contain-only':
      return `${steps}${verb(r)} the instance inside its managed instance group ${r.group.path} (instanceGroupAction contain-only)${finding}`;
    default:
      return `${steps}${verb(r)} the instance${finding}`;
  }
}

/** What there was nothing to do to a VM that no longer exists. */
function goneVerb(r: DecisionRecord): string {
  const { decision } = r;
  if (decision.reason === 'instance-not-found') return decision.wouldHave;
  return decision.action === 'ignore' ? 'note' : verb(r);
}

/** What the decision says, before what became of it. */
function decisionText(r: DecisionRecord): string {
  const { decision } = r;
  const budget = r.ledger?.budget;
  if (decision.reason === 'exempt') return exemptText(who(r), r.exemptLabel, decision.wouldHave);
  if (decision.reason === 'budget-exhausted' && budget?.status === 'exhausted') return heldText(who(r), budget, r.dryRun);
  return reasonLine(decision.reason).text(who(r), ageText(r), acting(r), r);
}

/** Severity of the decision: its reason's, and CRITICAL for a member contained inside a group that may recreate it (dry run included). */
function decidedSeverity(r: DecisionRecord): Severity {
  const insideGroup = r.group?.action === 'contain-only' || r.group?.action === 'abandon-timeout';
  return insideGroup ? 'CRITICAL' : reasonLine(r.decision.reason).severity;
}

/** Severity and message of a decided report: what was decided, framed by what became of it. */
function framed(r: DecisionRecord): { severity: Severity; message: string } {
  if (!r.vm.found) return { severity: 'WARNING', message: `Instance ${who(r)} no longer exists; nothing to ${goneVerb(r)}` };
  const text = decisionText(r);
  if (isRepeat(r)) {
    return { severity: 'INFO', message: `Already handled: ${text} (operation ${r.operation?.status ?? 'none'}); nothing done again` };
  }
  const severity = decidedSeverity(r);
  if (r.dryRun && acts(r.decision)) return { severity, message: `Dry run: would ${wouldDo(r)}: ${text}` };
  return { severity, message: text };
}

/** The message with what the entry's name label says, where Compute Engine did not confirm it. */
function labelNote(message: string, r: DecisionRecord): string {
  const { relabelled, unconfirmed } = r.vm;
  if (relabelled !== undefined) return `${message} (the log entry's label names it '${relabelled}')`;
  if (unconfirmed !== undefined) return `${message} (its log entry's label says '${unconfirmed}', which Compute Engine did not confirm)`;
  return message;
}

const SEVERITY_ORDER: readonly Severity[] = ['DEBUG', 'INFO', 'NOTICE', 'WARNING', 'ERROR', 'CRITICAL'];

function atLeastWarning(severity: Severity): Severity {
  return SEVERITY_ORDER.indexOf(severity) < SEVERITY_ORDER.indexOf('WARNING') ? 'WARNING' : severity;
}

/** The message about an exempt VM: what was not done. */
function exemptText(who: string, label: string | undefined, wouldHave: 'stop' | 'suspend' | 'relearn'): string {
  const not =
    wouldHave === 'relearn'
      ? 'relearning its integrity policy though its measurements are known good'
      : `${wouldHave === 'suspend' ? 'suspending' : 'stopping'} it though its integrity is not vetted`;
  return `Instance ${who} is exempt (label ${label ?? DEFAULT_EXEMPT_LABEL}): NOT ${not}`;
}

/** The message of an action held for want of budget. */
function heldText(who: string, budget: Extract<BudgetNote, { status: 'exhausted' }>, dryRun: boolean): string {
  const state = `${budget.used} of ${budget.limit} stops and suspends per ${budget.window.seconds} s used; the window frees at ${budget.window.end}`;
  const action = budget.wouldHave === 'suspend' ? ['suspend', 'suspending'] : ['stop', 'stopping'];
  const not = dryRun
    ? `Dry run: action budget exhausted (${state}): would NOT ${action[0]}`
    : `Action budget exhausted (${state}): NOT ${action[1]}`;
  const conflict =
    budget.heldReason === REASONS.conflictingReports
      ? ': conflicting integrity reports for this boot (possible forged entry), nothing will relearn it'
      : '';
  return `${not} ${who}, reason ${budget.heldReason}${conflict}; the VM is left running and the event will be redelivered`;
}

/** The fields of a decision line, in the order they are written. */
function decisionFields(r: DecisionRecord, { mode, eventId }: LineContext): Record<string, unknown> {
  const { report, decision, vm, ledger, operation, group, relearn } = r;
  const { instance } = report;
  const lastStop = relearn?.lastStop;
  return {
    [F.mode]: mode,
    [F.eventKind]: report.kind,
    [F.policyEvaluationPassed]: report.passed,
    [F.sevPolicy]: report.sevPolicy,
    [F.bootCounter]: report.bootCounter,
    [F.bootCounterAsWritten]: report.bootCounterAsWritten,
    [F.projectId]: instance.projectId,
    [F.zone]: instance.zone,
    [F.instanceName]: vm.name,
    [F.entryInstanceName]: vm.relabelled ?? vm.unconfirmed,
    [F.instanceId]: instance.id,
    [F.decision]: decision.action,
    [F.containment]: decision.action === 'stop' ? r.containment : undefined,
    [F.dryRun]: r.dryRun ? true : undefined,
    [F.reason]: decision.reason,
    [F.wouldHave]: 'wouldHave' in decision ? decision.wouldHave : undefined,
    [F.laterBoot]: relearn?.laterBoot,
    [F.lastStopBoot]: lastStop?.bootCounter,
    [F.lastStopState]: lastStop?.state,
    [F.lastStopSettledAs]: lastStop?.settledAs,
    [F.lastStopAt]: lastStop?.recordedAt,
    [F.relearnMaxAgeSeconds]: relearn?.relearnMaxAgeSeconds,
    ...budgetFields(ledger?.budget),
    [F.exemptLabel]: r.exemptLabel,
    [F.instanceGroup]: group?.path,
    [F.groupAction]: group?.action,
    [F.baselineId]: decision.action === 'relearn' ? decision.baselineId : undefined,
    [F.instanceFound]: vm.found,
    [F.ledger]: ledger?.note,
    [F.alreadyDone]: ledger?.alreadyDone,
    [F.requestId]: ledger?.requestId,
    [F.operation]: operation?.name,
    [F.operationStatus]: operation?.status,
    [F.steps]: r.steps === undefined ? undefined : r.steps.map((s) => ({ ...s })),
    [F.snapshots]: r.steps?.find((s) => s.step === 'snapshot')?.snapshots,
    [F.finding]: r.steps?.find((s) => s.step === 'finding' || s.step === 'finding-inactive')?.name,
    [F.firestoreReads]: r.reads,
    [F.ageSeconds]: r.ageSeconds === undefined ? undefined : Math.round(r.ageSeconds),
    [F.eventId]: eventId,
  };
}

/** The decision line's fields about the action budget. */
function budgetFields(budget: BudgetNote | undefined): Record<string, unknown> {
  switch (budget?.status) {
    case undefined:
      return {};
    case 'already-counted':
      return { [F.budget]: budget.status, [F.budgetWindow]: budget.windowId };
    case 'counted':
      return {
        [F.budget]: budget.status,
        [F.budgetShard]: budget.shard,
        [F.budgetShardUsed]: budget.shardUsed,
        [F.budgetShardCapacity]: budget.shardCapacity,
        [F.budgetLimit]: budget.limit,
        [F.budgetWindowSeconds]: budget.window.seconds,
        [F.budgetWindow]: budget.window.id,
        [F.budgetFreesAt]: budget.window.end,
      };
    case 'exhausted':
      return {
        [F.budget]: budget.status,
        [F.budgetUsed]: budget.used,
        [F.budgetLimit]: budget.limit,
        [F.budgetWindowSeconds]: budget.window.seconds,
        [F.budgetWindow]: budget.window.id,
        [F.budgetFreesAt]: budget.window.end,
        [F.heldReason]: budget.heldReason,
        [F.retry]: true,
      };
  }
}
