/*
 * Names the construct, the function and the tools agree on: resources, collections, the entry
 * point and the log the reports come from. Each is declared here once.
 */

/**
 * Name under which the CloudEvent function registers; the construct puts the same constant
 * into the function's `entry_point`, so the plan and the code cannot drift apart.
 */
export const ENTRY_POINT = 'respondToIntegrityEvent';

/**
 * Name of the npm package (its `package.json`), which the construct's bundle lookup and the
 * tools use to find the package root, and which labels every resource the construct creates.
 */
export const PACKAGE_NAME = 'shielded-vm-integrity-responder';

/**
 * Label key the construct puts on every labelled resource, and the function on every evidence
 * snapshot, valued {@link PACKAGE_NAME}.
 */
export const MANAGED_BY_LABEL = 'managed-by';

/** Default `namePrefix` of the construct (and so of every name derived from it). */
export const DEFAULT_NAME_PREFIX = 'integrity-responder';

/** Id of the dedicated baseline database the construct creates for a `namePrefix`. */
export function dedicatedDatabaseId(namePrefix: string): string {
  return `${namePrefix}-baselines`;
}

/** Id of the decision-ledger database the construct creates for a `namePrefix`. */
export function dedicatedLedgerDatabaseId(namePrefix: string): string {
  return `${namePrefix}-decisions`;
}

/** Collection of the ledger holding one document per acted-on report (instance, boot, report kind). */
export const LEDGER_DECISIONS_COLLECTION = 'integrity_decisions';

/** Collection of the ledger holding one document per instance: the newest boot recorded for it. */
export const LEDGER_INSTANCES_COLLECTION = 'integrity_instances';

/**
 * Collection of the ledger holding one document per window of the action budget: the window's
 * resets, written by the operator's tool only; the counts are in its shards (see `core/budget.ts`).
 */
export const LEDGER_BUDGET_COLLECTION = 'integrity_budget';

/** Subcollection of a budget window's document: its shards, by index (`0`, `1`, …), each counting a share of the limit. */
export const BUDGET_SHARDS_SUBCOLLECTION = 'shards';

/** Subcollection of a budget window's document: one document per VM counted in the window, by `<project>~<zone>~<instance id>`. */
export const BUDGET_INSTANCES_SUBCOLLECTION = 'instances';

/** Collection the tutorial and this project use for known-good baselines. */
export const DEFAULT_BASELINE_COLLECTION = 'known_good_measurements';

/**
 * Collection, in the baseline database, of the construct's policy documents: one per responder
 * that requires approval, `{ baselineCollection, requireApproval: true }`. The baseline tool reads
 * it to know whether a new baseline starts `proposed`; the function never reads it (its own
 * setting, `BASELINE_APPROVAL`, is what it enforces).
 */
export const BASELINE_POLICY_COLLECTION = 'integrity_responder_policies';

/** Default `exemptLabel`: a VM carrying this label is never stopped, suspended or relearned. */
export const DEFAULT_EXEMPT_LABEL = 'integrity-response=exempt';

/** `@type` of the payload Shielded VM integrity monitoring writes. */
export const INTEGRITY_EVENT_TYPE = 'type.googleapis.com/cloud_integrity.IntegrityEvent';

/** LogEntry label that carries the instance name on Compute Engine log entries. */
export const INSTANCE_NAME_LABEL = 'compute.googleapis.com/resource_name';

/** Log the integrity reports are written to, URL-encoded as in `logName`. */
export const INTEGRITY_LOG_ID = 'compute.googleapis.com%2Fshielded_vm_integrity';

/**
 * Document, in the ledger database's {@link BASELINE_POLICY_COLLECTION}, that the construct writes
 * for a responder whose releases need a second principal (`requireReleaseApproval`):
 * `{ requireApproval: true }`. The containment tool reads it; the function never does.
 */
export const RELEASE_POLICY_DOCUMENT = 'release';
