import type { ActionBudget, Budgeted } from './budget';
import type { BaselineLookup, InstanceState } from './decide';
import type { InstanceGroupRef } from './instance-group';
import type { ContainmentSteps, ContainmentSummary, GroupAbandon, LastStop, LedgerKey, ReconcileInput, RecordedDecision } from './ledger';
import type { PcrMeasurement } from './measurements';

export type { LastStop } from './ledger';

/** Result of a known-good lookup, with the cost it incurred (for logs and benchmarks). */
export type BaselineStoreResult = BaselineLookup & {
  /** Documents and queries billed for this lookup. */
  readonly reads: number;
};

/** Where known-good baselines live. */
export interface BaselineStore {
  /** Finds a baseline holding exactly these measurements, in a constant number of reads. */
  findExactMatch(measurements: readonly PcrMeasurement[]): Promise<BaselineStoreResult>;
}

/**
 * A VM as the handler addresses it: by numeric id, which the Compute API accepts wherever it
 * takes an instance name and which is never reused, so a name given to a new VM is never
 * acted on. The name, when the entry carries it, only labels log lines.
 */
export interface InstanceTarget {
  readonly projectId: string;
  readonly zone: string;
  /** Numeric instance id, decimal. */
  readonly id: string;
  readonly name?: string;
}

/** A zonal operation that finished without error. */
export interface CompletedOperation {
  /** Operation name, e.g. `operation-1700000000000-abc`. */
  readonly name: string;
  /** Always `DONE`: an operation that is not done within the deadline, or ended in error, throws. */
  readonly status: 'DONE';
}

/** The Compute Engine operations the handler performs. */
export interface InstanceControl {
  /** The VM as it is now (`instances.get`); throws InstanceNotFoundError. */
  describe(instance: InstanceTarget): Promise<InstanceState>;
  /**
   * Stops the VM and waits for the operation to finish. `requestId` makes a repeat of the same
   * request a no-op; throws OperationFailedError when the operation ends in error.
   */
  stop(instance: InstanceTarget, requestId: string): Promise<CompletedOperation>;
  /**
   * Suspends the VM (`instances.suspend`: its memory is kept, for forensics) and waits for the
   * operation, like {@link stop}.
   */
  suspend(instance: InstanceTarget, requestId: string): Promise<CompletedOperation>;
  /** Makes the VM relearn its integrity policy and waits for the operation, like {@link stop}. */
  relearn(instance: InstanceTarget, requestId: string): Promise<CompletedOperation>;
  /**
   * The VM as the group lists it (`listManagedInstances`, every page), or undefined when the
   * group does not list this id or does not exist.
   */
  findMember(group: InstanceGroupRef, instanceId: string): Promise<GroupMember | undefined>;
  /**
   * Asks the group to abandon the member (`abandonInstances`, naming its URL): the group lets
   * go of it without deleting it and lowers its target size. Not waited on: the operation is
   * DONE once the action is scheduled; {@link findMember} says when the VM has left.
   */
  abandon(group: InstanceGroupRef, instanceUrl: string, requestId: string): Promise<void>;
}

/** A VM as its managed instance group lists it. */
export interface GroupMember {
  /** Numeric instance id, decimal. */
  readonly id: string;
  /** The instance URL, as `abandonInstances` takes it. */
  readonly instance: string;
  /** What the group is doing to it: `NONE`, `ABANDONING`, `RECREATING`… */
  readonly currentAction?: string;
}

/** The group still lists the VM after it was asked to abandon it: the event is redelivered. */
export class AbandonPendingError extends Error {
  constructor(
    /** Path of the group. */
    readonly group: string,
    readonly currentAction: string | undefined,
  ) {
    super(`${group} still lists the instance after abandonInstances (currentAction ${currentAction ?? 'unknown'})`);
    this.name = 'AbandonPendingError';
  }
}

/** A zonal operation ended in error, or did not finish within the deadline: the event is redelivered. */
export class OperationFailedError extends Error {
  constructor(
    readonly operation: string,
    readonly detail: string,
    /**
     * True when the operation is DONE with an error. Compute answers a repeated request id with
     * the same finished operation, so such an action is retried under a new request id; an
     * operation that is merely not done yet is retried under the same one.
     */
    readonly finished: boolean = true,
  ) {
    super(`operation ${operation} failed: ${detail}`);
    this.name = 'OperationFailedError';
  }
}

/** How an action ended, as the ledger records it. */
export interface LedgerCompletion {
  readonly operation?: CompletedOperation;
  /** The decision the action became, when it is not the recorded one. */
  readonly decision?: RecordedDecision;
  /** `DONE`, or why nothing was done (e.g. `instance-not-found`). */
  readonly status: string;
  /** A containment that completed: its summary, written on the instance's document in the same commit. */
  readonly containment?: ContainmentSummary;
}

/** A report's reconciliation as the ledger recorded it. */
export interface Recorded extends Budgeted {
  /**
   * Which write of the record this is (opaque, the ledger's own): completing the action with it
   * can skip reading the record again while nothing else has written it since.
   */
  readonly version?: string;
}

/** A key's record and its instance's newest boot, as the ledger holds them now. */
export interface LedgerStanding {
  /** Two different reports are recorded for the key. */
  readonly conflict: boolean;
  /** Newest boot recorded for the instance (canonical counter), if any. */
  readonly newestBoot?: string;
  /**
   * The newest stop or suspend decided for the instance (about another key), performed or not, and
   * when the ledger recorded it: a relearn waits for the VM to be started after that time.
   */
  readonly lastStop?: LastStop;
}

/** Where acted-on reports are recorded before the action (see `ledger.ts`). */
export interface DecisionLedger {
  /**
   * Reconciles a proposed stop or relearn with what is recorded for the report's key, and
   * records the outcome atomically: as if alone, whatever other instances record meanwhile. With
   * a `budget`, a stop or suspend takes a slot of the current window in that same write, or is
   * held (`budget-exhausted`) when none is left.
   */
  record(input: Omit<ReconcileInput, 'existing' | 'newestBoot' | 'now'>, budget?: ActionBudget): Promise<Recorded>;
  /**
   * How the key's record and its instance stand now, read afresh (checked immediately before a
   * relearn's Compute call): whether two different reports are recorded for the key, and the
   * newest boot recorded for the instance.
   */
  standing(key: LedgerKey): Promise<LedgerStanding>;
  /**
   * Records that the instance reached the key's boot, where no decision is recorded for the
   * report (a failed early-boot report in relearn mode): the instance's newest boot moves up, so
   * no report of an older boot relearns it afterwards.
   */
  noteBoot(key: LedgerKey): Promise<void>;
  /**
   * Marks the key's action as settled, if `requestId` is still the recorded action's: with the
   * operation that completed it, or with the decision it became (a relearn withdrawn on a
   * second look, a VM that no longer exists). `version`, from {@link record}, is how the
   * record stood when this event wrote it.
   */
  complete(key: LedgerKey, requestId: string, result: LedgerCompletion, version?: string): Promise<void>;
  /**
   * Replaces the key's request id after its operation finished in error, if `failedRequestId` is
   * still the recorded one: the next delivery then asks Compute again instead of being answered
   * with the failed operation.
   */
  renewRequest(key: LedgerKey, failedRequestId: string, nextRequestId: string): Promise<void>;
  /**
   * Records that the VM's group is being asked to abandon it, if `requestId` is still the
   * recorded action's and no abandon is recorded yet; returns the abandon recorded for the key
   * (the first one: its request id and time decide what a redelivery does).
   */
  noteAbandon(key: LedgerKey, requestId: string, abandon: GroupAbandon): Promise<GroupAbandon>;
  /**
   * Records what a containment's steps did, if `requestId` is still the recorded stop's: snapshots
   * are added to those recorded (one per disk), every other step is set once and never replaced.
   * Returns the steps as recorded now.
   */
  noteSteps(key: LedgerKey, requestId: string, steps: ContainmentSteps): Promise<ContainmentSteps>;
  /** The summary of the instance's newest containment, from its instance document, if it has one. */
  containmentOf(key: LedgerKey): Promise<ContainmentSummary | undefined>;
  /** Records that the containment's finding `finding` was set INACTIVE (a relearn after vetting). */
  noteFindingInactive(key: LedgerKey, finding: string, at: string): Promise<void>;
}

/** Cloud Logging severities the handler writes. */
export type Severity = 'DEBUG' | 'INFO' | 'NOTICE' | 'WARNING' | 'ERROR' | 'CRITICAL';

/** Structured logger: one JSON object per line. */
export interface Logger {
  log(severity: Severity, message: string, fields?: Record<string, unknown>): void;
}

/** The instance named in the event no longer exists: nothing left to act on. */
export class InstanceNotFoundError extends Error {
  constructor(readonly instance: InstanceTarget) {
    super(`instance ${instance.id}${instance.name ? ` (${instance.name})` : ''} not found in ${instance.projectId}/${instance.zone}`);
    this.name = 'InstanceNotFoundError';
  }
}

/** One evidence snapshot to take (`snapshots.insert` in the forensics project). */
export interface SnapshotRequest {
  /** The forensics project the snapshot is created in. */
  readonly project: string;
  /** Snapshot name, deterministic for the VM, boot and disk: a second request for it finds it. */
  readonly name: string;
  /** URL of the disk (`sourceDisk`). */
  readonly sourceDisk: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly description: string;
  /** Compute request id: a repeat of it within the API's window is a no-op. */
  readonly requestId: string;
}

/** A snapshot the forensics project holds. */
export interface TakenSnapshot {
  /** `projects/<forensics project>/global/snapshots/<name>`. */
  readonly snapshot: string;
  /** The global operation that created it; absent when it existed already. */
  readonly operation?: string;
  /** It existed already, of the same disk (an earlier delivery took it). */
  readonly existed: boolean;
}

/**
 * Compute Engine refused a snapshot for its rate limit (`RESOURCE_OPERATION_RATE_EXCEEDED`: one
 * snapshot of a disk per 10 minutes, bursts of 6 per hour): the event is redelivered and the step
 * resumes; never retried in a loop.
 */
export class SnapshotRateLimitedError extends Error {
  constructor(
    /** URL of the disk. */
    readonly disk: string,
    readonly detail: string,
  ) {
    super(`snapshot of ${disk} refused by Compute Engine's snapshot rate limit: ${detail}`);
    this.name = 'SnapshotRateLimitedError';
  }
}

/** Evidence: snapshots of a VM's disks in another project. */
export interface EvidenceControl {
  /**
   * Creates the snapshot and waits for its global operation. A snapshot of that name that exists
   * already, of the same disk, is returned as `existed`; one of another disk throws. Throws
   * SnapshotRateLimitedError for the rate limit, OperationFailedError for any other failed or
   * unfinished operation.
   */
  snapshot(request: SnapshotRequest): Promise<TakenSnapshot>;
}

/** The quarantine's secure tag bound to a VM. */
export interface TagBound {
  /** The binding's name, as Resource Manager answers it (`tagBindings/…`). */
  readonly binding: string;
  /** The VM carried the value already (an earlier delivery bound it). */
  readonly existed: boolean;
}

/** Quarantine: binding (and removing) a secure tag value on a VM (Resource Manager `tagBindings`). */
export interface QuarantineControl {
  /** Binds the tag value to the VM, by its numeric id, and waits for the binding; one already bound counts. */
  bind(instance: InstanceTarget, tagValue: string): Promise<TagBound>;
  /** Removes the binding; true when one was removed, false when the VM carried none. */
  unbind(instance: InstanceTarget, tagValue: string): Promise<boolean>;
}

/** A finding to raise in Security Command Center. */
export interface FindingRequest {
  /** `organizations/<n>/sources/<n>`. */
  readonly source: string;
  /** Finding id, deterministic for the VM and the boot: alphanumeric, 1 to 32 characters. */
  readonly findingId: string;
  readonly category: string;
  /** `CRITICAL`, `HIGH`, `MEDIUM` or `LOW`. */
  readonly severity: string;
  /** Full resource name of the VM: `//compute.googleapis.com/projects/P/zones/Z/instances/ID`. */
  readonly resourceName: string;
  /** RFC 3339: when the failure was reported. */
  readonly eventTime: string;
  readonly description: string;
  readonly externalUri?: string;
  /** The decision line's facts, and the evidence snapshots. */
  readonly properties: Readonly<Record<string, string | number | boolean | readonly string[]>>;
}

/** Findings in Security Command Center. */
export interface FindingSink {
  /**
   * Creates the finding ACTIVE; one of that id that exists already is set ACTIVE again (a new
   * containment of the same VM and boot, after a release). Returns its name.
   */
  raise(finding: FindingRequest): Promise<{ readonly name: string; readonly existed: boolean }>;
  /** Sets the finding INACTIVE (a VM vetted and relearned, or released); a finding that is gone counts. */
  deactivate(name: string): Promise<void>;
}
