import type { FailureAction, ResponseMode } from '../contract';
import type { BudgetNote } from './budget';
import type { Decision } from './decide';
import type { ScopeRejection } from './in-scope';
import type { GroupAction } from './instance-group';
import type { LastStop, LedgerNote } from './ledger';
import type { StepFacts } from './playbook';
import type { IntegrityReport, RejectionCode } from './parse';

/*
 * What became of one event, as a value: each step of the handler returns its part, the handler
 * puts them together, and `lineOf` (decision-line.ts) turns the whole into the one line written.
 */

/** How the line names the VM: as Compute Engine answers for its id, beside what the entry's label says. */
export interface VmFacts {
  /** False when Compute Engine said it has no VM of that id. */
  readonly found: boolean;
  /** The name Compute Engine gives the VM (or, where it gives none, the entry's). */
  readonly name?: string;
  /** The entry's name label, where it names another VM than Compute Engine does. */
  readonly relabelled?: string;
  /** The entry's name label, where Compute Engine did not answer for the id (not asked, or no such VM). */
  readonly unconfirmed?: string;
}

/** What the ledger made of the report. */
export interface LedgerFacts {
  readonly note: LedgerNote;
  /** Compute request id of the recorded action (absent for an exempt VM's record). */
  readonly requestId?: string;
  /** The recorded action had already completed: nothing is done again. */
  readonly alreadyDone?: boolean;
  /** What the action budget made of a stop or suspend. */
  readonly budget?: BudgetNote;
}

/** How the action ended: the Compute operation, or why there was none. */
export interface OperationFacts {
  readonly name?: string;
  /** `DONE`, or why nothing was done (`dry-run`, `instance-not-found`, …). */
  readonly status?: string;
}

/** What was done with the managed instance group the VM's `created-by` names, before containing it. */
export interface GroupFacts {
  /** Path of the group. */
  readonly path: string;
  readonly action: GroupAction;
  /** Why a VM whose `created-by` names the group counts as no member. */
  readonly note?: string;
  /** Seconds since the first abandon, when the VM is contained inside its group anyway. */
  readonly abandonAgeSeconds?: number;
}

/** What refused a relearn on its last look, for the line to say. */
export interface RelearnFacts {
  /** The later boot of the instance the ledger holds. */
  readonly laterBoot?: string;
  /** The freshness bound the report was past, seconds. */
  readonly relearnMaxAgeSeconds?: number;
  /** The stop decided for the instance, which was not started since. */
  readonly lastStop?: LastStop;
}

/** What carrying out a decision came to: the decision as it stands now, and the facts met on the way. */
export interface Acted {
  readonly decision: Decision;
  readonly vm: VmFacts;
  /** How a `stop` decision contains the VM, as the ledger recorded it. */
  readonly containment?: FailureAction;
  readonly ledger?: LedgerFacts;
  readonly operation?: OperationFacts;
  /** The exemption label the VM carries, `key=value`, when it is exempt. */
  readonly exemptLabel?: string;
  readonly group?: GroupFacts;
  readonly relearn?: RelearnFacts;
  /** What the containment's playbook steps (and the finding) did on this delivery, in order. */
  readonly steps?: readonly StepFacts[];
}

/** One report, what was decided and what was done about it: the value a decision line is written from. */
export interface DecisionRecord extends Acted {
  readonly report: IntegrityReport;
  /** How a `stop` decision contains the VM: as recorded, else as configured. */
  readonly containment: FailureAction;
  readonly dryRun: boolean;
  /** Firestore reads of the baseline lookup, when there was one. */
  readonly reads?: number;
  /** Age of the report, seconds; undefined when it carries no timestamp. */
  readonly ageSeconds?: number;
}

/** What became of one event. */
export type EventOutcome =
  /** The entry could not be read as an integrity report: acknowledged, not retried. */
  | { readonly kind: 'malformed'; readonly code: RejectionCode; readonly detail: string }
  /** The entry is about a project outside the responder's scope: acknowledged, not retried. */
  | { readonly kind: 'outside-scope'; readonly code: ScopeRejection['code']; readonly detail: string }
  /** The entry is no integrity report the responder acts on. */
  | { readonly kind: 'ignored'; readonly reason: string }
  /** A report was decided, and acted on where the decision says so. */
  | { readonly kind: 'decided'; readonly record: DecisionRecord }
  /** Firestore or Compute Engine failed: the event is failed, so that it is redelivered. */
  | {
      readonly kind: 'failed';
      readonly report: IntegrityReport;
      readonly error: string;
      /** The group that still lists the VM after it was asked to abandon it. */
      readonly pendingGroup?: string;
      /** What was thrown: rethrown once the line is written. */
      readonly cause: unknown;
    };

/** What every line of one event carries. */
export interface LineContext {
  readonly mode: ResponseMode;
  /** The CloudEvent id. */
  readonly eventId?: string;
}
