import type { EvidenceStep, FailureAction, LEDGER_NOTES } from '../contract';
import type { Decision } from './decide';
import type { IntegrityReport, ReportKind } from './parse';

/*
 * The decision ledger: every report the responder acts on is recorded, in a transaction,
 * before the action, keyed by instance id, boot counter and report kind. Anyone who can write
 * a log entry can write one that looks like an integrity report; the ledger is what lets the
 * handler notice two different claims about the same boot, a claim about a boot older than
 * one it has already seen, and a redelivery of a report it has already acted on.
 */

/** Boot counter recorded for reports that carry none: they can be compared only with each other. */
export const UNKNOWN_BOOT = 'unknown';

/** Distinct measurement sets kept per record; a longer list is a flood, and one more makes no difference. */
export const MAX_FINGERPRINTS = 8;

/** What identifies one report: the instance, its boot and the kind of report. */
export interface LedgerKey {
  /** The VM's project and zone, from the entry: an id only means something in its project. */
  readonly projectId: string;
  readonly zone: string;
  readonly instanceId: string;
  readonly bootCounter: string;
  readonly kind: ReportKind;
  /** For a launch attestation: the launch it is about (see `IntegrityReport.launch`). */
  readonly launch?: string;
}

/** The recorded decision: what was (or is being) done about a key. */
export interface RecordedDecision {
  readonly action: 'stop' | 'relearn' | 'none';
  readonly reason: string;
  readonly baselineId?: string;
  /**
   * How a `stop` decision contains the VM, as configured when it was first recorded, so a
   * redelivery repeats the same action: `suspend`, or absent for `stop` (as on every record
   * written before the setting existed).
   */
  readonly containment?: FailureAction;
  /**
   * The evidence steps a `stop` decision takes before the stop or suspend, as configured when it
   * was first recorded (ADR 0031): a redelivery runs the same playbook. Absent: none.
   */
  readonly playbook?: readonly EvidenceStep[];
}

/** A snapshot taken of one of the VM's disks by the `snapshot` step. */
export interface SnapshotEvidence {
  /** The VM's name for the disk. */
  readonly deviceName: string;
  /** URL of the disk. */
  readonly disk: string;
  /** `projects/<forensics project>/global/snapshots/<name>`. */
  readonly snapshot: string;
  /** The global operation that created it, when this responder's request did. */
  readonly operation?: string;
  /** RFC 3339. */
  readonly at: string;
}

/** What the evidence steps and the finding of a containment did, step by step (ADR 0031). */
export interface ContainmentSteps {
  /**
   * The `snapshot` step: the snapshots taken so far, one per persistent disk, each recorded as it
   * is taken so that none is taken twice; `done` once every disk has one.
   */
  readonly snapshot?: {
    readonly snapshots: readonly SnapshotEvidence[];
    /** The persistent disks to snapshot, as attached when the step first ran: recorded once. */
    readonly disks?: ReadonlyArray<{ readonly deviceName: string; readonly disk: string }>;
    /** RFC 3339: when the step first ran, from which EVIDENCE_TIMEOUT_SECONDS counts. */
    readonly startedAt?: string;
    /** Device names of the disks given up on after EVIDENCE_TIMEOUT_SECONDS. */
    readonly missing?: readonly string[];
    /** Device names of the disks no snapshot can take (local SSDs), kept by the stop. */
    readonly skipped?: readonly string[];
    readonly done: boolean;
    readonly at?: string;
  };
  /** The `quarantine` step: the secure tag value bound to the VM, and the binding. */
  readonly quarantine?: { readonly tagValue: string; readonly binding: string; readonly at: string };
  /** The finding raised in Security Command Center, once the containment is done. */
  readonly finding?: { readonly name: string; readonly at: string };
}

/** An abandon asked of the VM's managed instance group before containing it (ADR 0010). */
export interface GroupAbandon {
  /** Path of the group. */
  readonly group: string;
  /** Compute request id of `abandonInstances`: a repeat with it is a no-op at the API. */
  readonly requestId: string;
  /** RFC 3339 time of the first request: how long the group has had to let go of the VM. */
  readonly requestedAt: string;
}

/** One ledger document. */
export interface LedgerRecord {
  readonly instanceId: string;
  readonly projectId: string;
  readonly zone: string;
  readonly bootCounter: string;
  readonly kind: ReportKind;
  /** For a launch attestation: the launch it is about (part of the key). */
  readonly launch?: string;
  /** Every distinct measurement fingerprint reported for this key, first one first. */
  readonly fingerprints: readonly string[];
  readonly decision: RecordedDecision;
  /** Compute request id of the action: a repeat of it is a no-op at the API. */
  readonly requestId: string;
  /**
   * `pending` until the action's operation is DONE without error; `held` when a stop or suspend
   * found the action budget exhausted and nothing was done (the next delivery decides again).
   */
  readonly outcome: 'pending' | 'done' | 'held';
  readonly operation?: string;
  readonly operationStatus?: string;
  /** Operations of this action that finished in error, each retried under a new request id. */
  readonly failedAttempts?: number;
  /** Set once two different measurement sets were reported for the key; never cleared. */
  readonly conflict: boolean;
  /** Recorded by a responder in dry-run: nothing was done to the VM (`operationStatus` `dry-run`). */
  readonly dryRun?: boolean;
  /** The abandon asked of the VM's group before a stop, if one was. */
  readonly groupAbandon?: GroupAbandon;
  readonly recordedAt: string;
  readonly completedAt?: string;
  /** The action budget's window this stop or suspend was counted in: it is never counted again. */
  readonly budgetWindow?: string;
  /** When the action was first held for want of budget. */
  readonly heldSince?: string;
  /** What the playbook's steps before the stop, and the finding, did (absent before any ran). */
  readonly steps?: ContainmentSteps;
}

/**
 * A contained VM as its instance document holds it (`containment` on `integrity_instances`), for
 * the operator's list and release: written when a containment completes, updated by a release.
 */
export interface ContainmentSummary {
  /** `contained` until released; `released` after. */
  readonly state: 'contained' | 'released';
  /** Document id of the ledger record (`integrity_decisions`) of the containment. */
  readonly record: string;
  readonly bootCounter: string;
  readonly reason: string;
  /**
   * Fingerprint of the measurements the VM was contained for: a relearn of exactly these, now
   * vetted, closes the finding; a relearn of others does not.
   */
  readonly fingerprint?: string;
  /** `stop` or `suspend`. */
  readonly containment: FailureAction;
  readonly playbook: readonly EvidenceStep[];
  readonly snapshots: readonly string[];
  /** The quarantine's tag value and binding, while the VM carries it. */
  readonly quarantine?: { readonly tagValue: string; readonly binding: string };
  /** Name of the finding in Security Command Center, if one was raised. */
  readonly finding?: string;
  /** RFC 3339: when the containment completed. */
  readonly containedAt: string;
  /** Set by a release. */
  readonly released?: {
    readonly by: string;
    readonly reason: string;
    readonly at: string;
    /** Under the two-person rule: the principal who requested the release (the releaser approved it). */
    readonly requestedBy?: string;
  };
  /** A release requested under the two-person rule, waiting for another principal. */
  readonly releaseRequested?: { readonly by: string; readonly reason: string; readonly at: string };
  /** Set when a relearn of the VM (vetted) set its finding inactive. */
  readonly findingInactiveAt?: string;
}

/** How a report relates to what the ledger already holds: one of the contract's {@link LEDGER_NOTES}. */
export type LedgerNote = (typeof LEDGER_NOTES)[keyof typeof LEDGER_NOTES];

/** The outcome of reconciling a proposed decision with the ledger. */
export interface Reconciled {
  /** What to do now. */
  readonly decision: Decision;
  readonly requestId: string;
  /** How a `stop` decision contains the VM now: the recorded containment, else the configured one. */
  readonly containment: FailureAction;
  /** The recorded action already completed: no Compute mutation now. */
  readonly alreadyDone: boolean;
  readonly note: LedgerNote;
  /** The record to write. */
  readonly record: LedgerRecord;
  /** Newest boot of the instance after this report, to write next to the records. */
  readonly newestBoot: string;
}

/** The ledger key of a report. */
export function ledgerKey(report: IntegrityReport): LedgerKey {
  const { projectId, zone, id } = report.instance;
  const key = { projectId, zone, instanceId: id, bootCounter: report.bootCounter ?? UNKNOWN_BOOT, kind: report.kind };
  return report.kind === 'launchAttestation' ? { ...key, launch: report.launch ?? UNKNOWN_BOOT } : key;
}

/** A launch as a document id may spell it: milliseconds since the epoch, or `unknown`. */
function launchTag(launch: string): string {
  const ms = Date.parse(launch);
  return Number.isNaN(ms) ? UNKNOWN_BOOT : String(ms);
}

/**
 * Document id of the VM a key is about: `<project>~<zone>~<instance id>`. The project is part
 * of it so that an entry written in one project can never touch the records of a VM of another
 * (`~` occurs in none of the three; Firestore ids may hold it).
 */
export function instanceDocumentId(key: Pick<LedgerKey, 'projectId' | 'zone' | 'instanceId'>): string {
  return `${key.projectId}~${key.zone}~${key.instanceId}`;
}

/**
 * Document id of a key: `<project>~<zone>~<instance id>-<boot>-<kind>`, and for a launch
 * attestation `-<launch, ms since the epoch>` after it: one record per launch.
 */
export function ledgerDocumentId(key: LedgerKey): string {
  const base = `${instanceDocumentId(key)}-${key.bootCounter}-${key.kind}`;
  return key.launch === undefined ? base : `${base}-${launchTag(key.launch)}`;
}

/**
 * The document id of a record this write leaves as a stop or suspend not done yet (new, held
 * again with other measurements, turned into a conflict, reopened: held, pending, exempt or
 * dry-run before it settles), for the instance's head to name with the time; undefined when the
 * write opens nothing. Until the VM is started after the newest such time, the boot it runs may be
 * the one judged not known good, and nothing relearns it, whatever boot a report claims.
 */
export function stopToMark(before: LedgerRecord | undefined, after: LedgerRecord): string | undefined {
  if (after.decision.action !== 'stop' || after.outcome === 'done') return undefined;
  const unchanged =
    before !== undefined &&
    before.decision.action === 'stop' &&
    before.outcome === after.outcome &&
    before.conflict === after.conflict &&
    before.fingerprints.length === after.fingerprints.length;
  if (unchanged) return undefined;
  const { projectId, zone, instanceId, bootCounter, kind, launch } = after;
  return ledgerDocumentId({ projectId, zone, instanceId, bootCounter, kind, ...(launch !== undefined && { launch }) });
}

/** The newest stop decided for an instance, as a relearn's last look reads it (see `stopToMark`). */
export interface LastStop {
  readonly bootCounter: string;
  /** `held` or `pending` while the stop is still to be made; `settled` once anything settled the record. */
  readonly state: 'held' | 'pending' | 'settled';
  /** How it settled: the operation status (`DONE`, `exempt`, `dry-run`…) or the decision it became. */
  readonly settledAs?: string;
  /** RFC 3339 time the ledger wrote it: a relearn waits for a start after it. */
  readonly recordedAt: string;
}

/** What a head's newest stop mark says now, from the record it names. */
export function lastStopOf(record: LedgerRecord, recordedAt: string): LastStop {
  const open = record.decision.action === 'stop' && record.outcome !== 'done';
  return open
    ? { bootCounter: record.bootCounter, state: record.outcome === 'held' ? 'held' : 'pending', recordedAt }
    : { bootCounter: record.bootCounter, state: 'settled', settledAs: record.operationStatus ?? record.decision.reason, recordedAt };
}

/** Orders boot counters (decimal strings of up to 20 digits); unknown boots order before every known one. */
export function compareBoots(a: string, b: string): number {
  if (a === b) return 0;
  if (a === UNKNOWN_BOOT) return -1;
  if (b === UNKNOWN_BOOT) return 1;
  const [x, y] = [BigInt(a), BigInt(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

function recorded(decision: Decision, containment: FailureAction, playbook: readonly EvidenceStep[] | undefined): RecordedDecision {
  const base = {
    action: decision.action === 'relearn' || decision.action === 'stop' ? decision.action : ('none' as const),
    reason: decision.reason,
  };
  if (decision.action === 'relearn') return { ...base, baselineId: decision.baselineId };
  if (decision.action !== 'stop') return base;
  return stopDecision(base.reason, containment, playbook);
}

/** A recorded stop: `containment` only for a suspend, `playbook` only when it has steps (as every record before them). */
function stopDecision(reason: string, containment: FailureAction, playbook: readonly EvidenceStep[] | undefined): RecordedDecision {
  return {
    action: 'stop',
    reason,
    ...(containment === 'suspend' && { containment }),
    ...(playbook !== undefined && playbook.length > 0 && { playbook: [...playbook] }),
  };
}

function fromRecord(d: RecordedDecision): Decision {
  switch (d.action) {
    case 'stop':
      return { action: 'stop', reason: d.reason as Extract<Decision, { action: 'stop' }>['reason'] };
    case 'relearn':
      return { action: 'relearn', reason: 'known-good', baselineId: d.baselineId ?? '' };
    default:
      return {
        action: 'none',
        reason: d.reason as Exclude<Extract<Decision, { action: 'none' }>['reason'], 'exempt' | 'budget-exhausted' | 'instance-not-found'>,
      };
  }
}

/** Inputs of {@link reconcile}. */
export interface ReconcileInput {
  readonly report: IntegrityReport;
  /** The decision taken on the report alone: a stop or a relearn. */
  readonly proposed: Extract<Decision, { action: 'stop' | 'relearn' }>;
  /** Fingerprint of the reported measurements. */
  readonly fingerprint: string;
  /** Request id this event would use for an action (derived from the message id). */
  readonly requestIdFor: (action: 'stop' | 'relearn') => string;
  /** How this responder contains a VM it stops (default `stop`); a recorded stop keeps its own. */
  readonly containment?: FailureAction;
  /** This responder runs in dry-run: new records are marked `dryRun`. */
  readonly dryRun?: boolean;
  /** The evidence steps this responder takes before a stop or suspend; a recorded stop keeps its own. */
  readonly playbook?: readonly EvidenceStep[];
  readonly existing?: LedgerRecord;
  /** Newest boot recorded for the instance, if any. */
  readonly newestBoot?: string;
  /** RFC 3339 time of this reconciliation. */
  readonly now: string;
}

/**
 * Reconciles a proposed action with the ledger. Pure: the adapter runs it inside a
 * transaction over the record of the key and the instance's newest boot, and writes back what
 * it returns.
 *
 * - Two reports about the same instance, boot and kind with different measurements are a
 *   conflict: one of them is not what the VM measured. The VM is stopped, whichever arrived
 *   first, and the key stays in conflict: nothing relearns it afterwards.
 * - A report about a boot older than the newest recorded one never relearns (the later boot
 *   has reported for itself); a failure of an older boot still stops.
 * - The same report again (a redelivery) repeats the recorded decision with the recorded
 *   request id; once that action completed, nothing is done again. A relearn not yet done is
 *   repeated only while a baseline still vouches: revoked meanwhile, it is decided again (a stop).
 * - A report whose stop was held for want of budget (`outcome: 'held'`, nothing done) is decided
 *   again when it comes back; its measurements stayed recorded, so a different report about the
 *   same boot meanwhile is still a conflict.
 */
export function reconcile(input: ReconcileInput): Reconciled {
  const { report, fingerprint, existing } = input;
  const key = ledgerKey(report);
  const newestKnown = input.newestBoot;
  const newestBoot = newestKnown === undefined || compareBoots(key.bootCounter, newestKnown) > 0 ? key.bootCounter : newestKnown;
  const olderBoot = newestKnown !== undefined && compareBoots(key.bootCounter, newestKnown) < 0;

  if (existing !== undefined) {
    const seen = existing.fingerprints.includes(fingerprint);
    const fingerprints = seen ? existing.fingerprints : [...existing.fingerprints, fingerprint].slice(0, MAX_FINGERPRINTS);
    // Reports that name no boot cannot be told apart by boot: a new one replaces the last (they
    // are resolved by the stale-event policy and never relearn).
    const comparable = key.bootCounter !== UNKNOWN_BOOT;
    if (comparable && (existing.conflict || !seen)) {
      // Once the VM has been stopped over a conflict, a further report changes nothing. A dry
      // run's "would stop" stopped nothing: an enforcing responder stops it on any further
      // delivery about the key. Never the other way round: a dry run (the brake engaged) does not
      // reopen what an enforcing responder did.
      const fromDryRun = existing.dryRun === true && input.dryRun !== true;
      const stopDone = existing.conflict && existing.decision.action === 'stop' && existing.outcome === 'done' && !fromDryRun;
      const requestId = existing.conflict && existing.decision.action === 'stop' ? existing.requestId : input.requestIdFor('stop');
      const keepsStop = existing.conflict && existing.decision.action === 'stop';
      const containment = keepsStop ? (existing.decision.containment ?? 'stop') : (input.containment ?? 'stop');
      const playbook = keepsStop ? existing.decision.playbook : input.playbook;
      // The earlier action's operation and completion belong to that action, not to this stop.
      // So do the steps of a containment that completed: this stop is another containment, which
      // takes its own evidence, binds the quarantine again and raises its finding again, unless
      // that containment still holds the VM (the handler's `stillContained`); the steps of one
      // still in progress are this one's, resumed.
      // The action budget's slot belongs to the containment it was taken for, as its steps do:
      // one still in progress keeps it, so its redeliveries are never counted again; a new
      // containment of the key (after one that completed, after a relearn, after a dry run's)
      // takes its own, in the window it is decided in. A dry run's, met by an enforcing
      // responder, resumes nothing and keeps no slot. `dryRun` is this delivery's mode.
      const {
        operation: _operation,
        operationStatus: _status,
        completedAt: _completed,
        steps: _steps,
        budgetWindow: _budgetWindow,
        dryRun: _dryRun,
        ...kept
      } = existing;
      const resumed = existing.decision.action === 'stop' && existing.outcome !== 'done' && existing.steps !== undefined && !fromDryRun;
      const inProgress = existing.decision.action === 'stop' && existing.outcome === 'pending' && !fromDryRun;
      const record: LedgerRecord = {
        ...(stopDone
          ? existing
          : {
              ...kept,
              ...(resumed && { steps: existing.steps }),
              ...(inProgress && existing.budgetWindow !== undefined && { budgetWindow: existing.budgetWindow }),
            }),
        fingerprints,
        conflict: true,
        decision: stopDecision('conflicting-reports', containment, playbook),
        requestId,
        outcome: stopDone ? 'done' : 'pending',
        ...(input.dryRun === true && !stopDone && { dryRun: true }),
      };
      return {
        decision: { action: 'stop', reason: 'conflicting-reports' },
        requestId,
        containment,
        alreadyDone: stopDone,
        note: 'conflict',
        record,
        newestBoot,
      };
    }
    if (!seen) return fresh(input, key, newestBoot, olderBoot);
    if (existing.outcome === 'held') {
      // Held for want of budget, nothing was done: decide again, as if new (a baseline recorded
      // meanwhile makes it a relearn), keeping what the ledger knows about the key.
      const again = fresh(input, key, newestBoot, olderBoot);
      const { recordedAt, heldSince } = existing;
      return { ...again, record: { ...again.record, fingerprints, recordedAt, ...(heldSince !== undefined && { heldSince }) } };
    }
    if (existing.dryRun === true && input.dryRun !== true && existing.outcome !== 'done') {
      // A dry run's record that never completed, delivered to an enforcing responder: the dry run
      // acted on nothing, and its slot of the action budget was a preview. Decided again, as if
      // new (as a held one is), so a stop takes a slot in the window it is decided in.
      const again = fresh(input, key, newestBoot, olderBoot);
      return { ...again, record: { ...again.record, fingerprints, recordedAt: existing.recordedAt } };
    }
    // The same report again.
    if (existing.decision.action === 'relearn' && existing.outcome === 'pending' && input.proposed.action !== 'relearn') {
      // A relearn not yet confirmed done whose baseline no longer vouches (revoked or expired
      // meanwhile): the measurements are decided again, as if new, instead of relearned.
      const again = fresh(input, key, newestBoot, olderBoot);
      return { ...again, record: { ...again.record, fingerprints, recordedAt: existing.recordedAt } };
    }
    if (existing.decision.action === 'relearn' && existing.outcome === 'pending' && olderBoot) {
      const record: LedgerRecord = { ...existing, decision: { action: 'none', reason: 'older-boot' }, outcome: 'done' };
      return {
        decision: { action: 'none', reason: 'older-boot' },
        requestId: existing.requestId,
        containment: existing.decision.containment ?? 'stop',
        alreadyDone: true,
        note: 'older-boot',
        record,
        newestBoot,
      };
    }
    return {
      decision: fromRecord(existing.decision),
      requestId: existing.requestId,
      containment: existing.decision.containment ?? 'stop',
      alreadyDone: existing.outcome === 'done',
      note: 'repeat',
      record: existing,
      newestBoot,
    };
  }

  return fresh(input, key, newestBoot, olderBoot);
}

/** A first record for a key. */
function fresh(input: ReconcileInput, key: LedgerKey, newestBoot: string, olderBoot: boolean): Reconciled {
  const { report, proposed, fingerprint, now } = input;
  const decision: Decision = proposed.action === 'relearn' && olderBoot ? { action: 'none', reason: 'older-boot' } : proposed;
  const requestId = input.requestIdFor(proposed.action);
  const containment = input.containment ?? 'stop';
  const record: LedgerRecord = {
    instanceId: key.instanceId,
    projectId: report.instance.projectId,
    zone: report.instance.zone,
    bootCounter: key.bootCounter,
    kind: key.kind,
    ...(key.launch !== undefined && { launch: key.launch }),
    fingerprints: [fingerprint],
    decision: recorded(decision, containment, input.playbook),
    requestId,
    outcome: decision.action === 'none' ? 'done' : 'pending',
    conflict: false,
    ...(input.dryRun === true && { dryRun: true }),
    recordedAt: now,
  };
  return {
    decision,
    requestId,
    containment,
    alreadyDone: decision.action === 'none',
    note: decision.action === 'none' ? 'older-boot' : 'new',
    record,
    newestBoot,
  };
}

/**
 * The steps recorded, with `more` added: a snapshot of a disk already recorded is not added twice,
 * `done` and `skipped` only ever set; the quarantine and the finding are set once, never replaced.
 */
export function mergeSteps(recorded: ContainmentSteps, more: ContainmentSteps): ContainmentSteps {
  let snapshot = recorded.snapshot;
  if (more.snapshot !== undefined) {
    const have = recorded.snapshot?.snapshots ?? [];
    const added = more.snapshot.snapshots.filter((s) => !have.some((h) => h.deviceName === s.deviceName && h.disk === s.disk));
    const done = recorded.snapshot?.done === true || more.snapshot.done;
    snapshot = definedOnly({
      snapshots: [...have, ...added].map((s) => definedOnly({ ...s })),
      done,
      disks: recorded.snapshot?.disks ?? more.snapshot.disks,
      startedAt: recorded.snapshot?.startedAt ?? more.snapshot.startedAt,
      skipped: recorded.snapshot?.skipped ?? more.snapshot.skipped,
      missing: recorded.snapshot?.missing ?? more.snapshot.missing,
      at: recorded.snapshot?.at ?? more.snapshot.at,
    });
  }
  return definedOnly({
    snapshot,
    quarantine: recorded.quarantine ?? more.quarantine,
    finding: recorded.finding ?? more.finding,
  });
}

/** The object without its undefined fields (Firestore refuses them). */
function definedOnly<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
