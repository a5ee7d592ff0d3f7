import { DECISIONS, LEDGER_NOTES, LINE_FIELDS as F, LineField, OPERATION_STATUSES } from '../../function/contract';

/*
 * The function's lines as Cloud Logging stores them: each field of the line is `jsonPayload.<field>`
 * of an entry of the function's Cloud Run revision. Every filter, label extractor and log query of
 * the alerting is written with these helpers and the contract's names and values.
 */

/** A field of the function's lines, as a log filter names it: `jsonPayload.decision`. */
export function field(name: LineField): string {
  return `jsonPayload.${name}`;
}

/** Lines whose field has this value: `jsonPayload.decision="stop"`. */
export function is(name: LineField, value: string): string {
  return `${field(name)}="${value}"`;
}

/** Lines whose field has one of these values: `jsonPayload.operationStatus=("DONE" OR "dry-run")`. */
function isOneOf(name: LineField, values: readonly string[]): string {
  return `${field(name)}=(${values.map((v) => `"${v}"`).join(' OR ')})`;
}

/** Lines whose boolean field is `true` or `false`: `jsonPayload.retry=true`. */
function isFlag(name: LineField, value: boolean): string {
  return `${field(name)}=${value}`;
}

/** A metric label extracted from a field of the line: `EXTRACT(jsonPayload.reason)`. */
export function extract(name: LineField): string {
  return `EXTRACT(${field(name)})`;
}

/** The entries of the function: the log of its Cloud Run service. */
export function functionLogs(functionName: string): string {
  return `resource.type="cloud_run_revision" AND resource.labels.service_name="${functionName}"`;
}

/** A stop decided now: not the repeat of a completed one (`alreadyDone: true`). */
const NEW_STOP = `${is(F.decision, DECISIONS.stop)} AND ${isFlag(F.alreadyDone, false)}`;

/**
 * The decision lines of a containment, each counted once: a stop decision, decided now (not the
 * repeat of a completed one, `alreadyDone: true`), whose operation finished or, in dry-run, was
 * recorded instead. A VM that no longer exists has neither status.
 */
export const CONTAINMENT_LINES = `${NEW_STOP} AND ${isOneOf(F.operationStatus, [OPERATION_STATUSES.done, OPERATION_STATUSES.dryRun])}`;
/** The lines of a VM actually stopped or suspended, for the on-call's query. */
export const CONTAINMENT_DONE = `${NEW_STOP} AND ${is(F.operationStatus, OPERATION_STATUSES.done)}`;
/** The lines of a VM a dry run would have stopped or suspended. */
export const CONTAINMENT_DRY_RUN = `${NEW_STOP} AND ${is(F.operationStatus, OPERATION_STATUSES.dryRun)}`;

/**
 * The decision lines, without the repeats of a completed action. `alreadyDone` is also true on a
 * refused relearn of an older boot, which is a decision of its own (ledger `older-boot`): only the
 * repeats of a completed action are left out.
 */
export const DECISION_LINES = `${field(F.decision)}:* AND (NOT ${isFlag(F.alreadyDone, true)} OR ${is(F.ledger, LEDGER_NOTES.olderBoot)})`;

/** The ERROR line the function writes before it fails an event for redelivery. */
export const RETRIED_LINES = `severity=ERROR AND ${isFlag(F.retry, true)}`;
