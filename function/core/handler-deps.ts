import type { ActionBudget } from './budget';
import type { Enforcement, EvidenceStep, FailureAction, InstanceGroupAction, ResponseMode, Scope, StaleEventPolicy } from '../contract';
import type { BaselineStore, DecisionLedger, EvidenceControl, FindingSink, InstanceControl, Logger, QuarantineControl } from './ports';

/**
 * What the handler needs from the outside world, with every setting given: the runtime's
 * composition fills them from the configuration, tests from the contract's defaults.
 */
export interface HandlerDeps {
  readonly mode: ResponseMode;
  readonly baselines: BaselineStore;
  readonly instances: InstanceControl;
  /** Where acted-on reports are recorded, before the action. */
  readonly ledger: DecisionLedger;
  readonly logger: Logger;
  /**
   * Where the VMs this responder watches live. Entries about projects outside a project scope,
   * or excluded from a folder or organization scope, are rejected (see `scopeRejection`).
   */
  readonly scope?: Scope;
  /** Projects excluded from a folder or organization scope. */
  readonly excludedProjects?: readonly string[];
  /** Failed reports older than this are resolved by `staleEventPolicy`, without a lookup. */
  readonly maxEventAgeSeconds: number;
  readonly staleEventPolicy: StaleEventPolicy;
  /**
   * A known-good report older than this, seconds, never relearns: checked again immediately
   * before the Compute call.
   */
  readonly relearnMaxAgeSeconds: number;
  /** How a VM is contained where the decision is `stop`: `stop` or `suspend`. */
  readonly failureAction: FailureAction;
  /**
   * `enforce` acts; `dry-run` decides and records in the ledger exactly as enforce would, reads
   * the VM (its labels, and what a relearn checks), and makes no Compute mutation.
   */
  readonly enforcement: Enforcement;
  /**
   * `key=value`: a VM carrying this label is never stopped, suspended or relearned; the decision
   * line says what would have been done.
   */
  readonly exemptLabel: string;
  /**
   * `abandon`: before a stop or suspend, a VM its managed instance group lists is removed from
   * the group, so the group cannot recreate it; `contain-only`: it is contained inside the group,
   * at CRITICAL. Relearns never touch the group.
   */
  readonly instanceGroupAction: InstanceGroupAction;
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
  /**
   * The steps a containment takes before the stop or suspend (ADR 0031), in order: `snapshot`
   * needs `evidence` and `forensicsProject`, `quarantine` needs `quarantine` and
   * `quarantineTagValue`. Absent: none.
   */
  readonly evidenceSteps?: readonly EvidenceStep[];
  readonly evidence?: EvidenceControl;
  /** Project evidence snapshots are created in. */
  readonly forensicsProject?: string;
  /** Days an evidence snapshot is labelled to be kept (default DEFAULT_SNAPSHOT_RETENTION_DAYS). */
  readonly snapshotRetentionDays?: number;
  readonly quarantine?: QuarantineControl;
  /** The secure tag value (`tagValues/<n>`) a quarantine binds. */
  readonly quarantineTagValue?: string;
  /** Where findings are raised: `organizations/<n>/sources/<n>`; absent, none are. */
  readonly findingsSource?: string;
  readonly findings?: FindingSink;
  /** Clock, for tests. */
  readonly now?: () => number;
}
