import { OPERATION_STATUSES } from '../../function/contract';
import type { LedgerRecord, RecordedDecision } from '../../function/core/ledger';
import type { ReportKind } from '../../function/core/parse';
import { printable, textTable, utcTime } from '../common';
import type { DecisionFilter, DecisionRow } from './decisions';
import { shownId } from './records';

/*
 * How `integrity-baselines decisions` prints what it found: a table of ledger documents, and the
 * filter in words when nothing matched. Every recorded value is printed escaped (see printable).
 */

/** How the table names each kind of report. */
const REPORT_KINDS: { readonly [K in ReportKind]: string } = {
  lateBoot: 'late-boot',
  earlyBoot: 'early-boot',
  launchAttestation: 'launch-attestation',
};

/** The decision as the table prints it: `suspend` for a stop that suspends. */
function decisionText(d: RecordedDecision | undefined): string {
  if (d === undefined) return '-';
  return printable(d.action === 'stop' && d.containment === 'suspend' ? 'suspend' : d.action);
}

/** Why, as the table prints it: the reason, and the baseline that matched by its short id. */
function reasonText(d: RecordedDecision | undefined): string {
  if (d === undefined) return '-';
  const baseline = typeof d.baselineId === 'string' ? ` ${shownId(d.baselineId)}` : '';
  return printable(`${d.reason}${baseline}`);
}

/** `done`, `done (exempt)`, `pending (2 failed attempts)`, `held since …`, with `conflict` and `dry-run` flags. */
function outcomeText(r: LedgerRecord): string {
  const status = r.operationStatus !== undefined && r.operationStatus !== OPERATION_STATUSES.done ? ` (${r.operationStatus})` : '';
  const attempts = r.failedAttempts ? ` (${r.failedAttempts} failed attempt${r.failedAttempts === 1 ? '' : 's'})` : '';
  const held = r.outcome === 'held' && r.heldSince !== undefined ? ` since ${utcTime(r.heldSince, 'second')}` : '';
  const flags = [r.conflict === true ? 'conflict' : '', r.dryRun === true && status === '' ? 'dry-run' : ''].filter(Boolean);
  return printable(`${r.outcome ?? '-'}${status}${attempts}${held}${flags.length > 0 ? `; ${flags.join(', ')}` : ''}`);
}

/** The table `decisions` prints: one row per ledger document, columns padded. */
export function decisionsTable(rows: readonly DecisionRow[]): string {
  const header = ['RECORDED', 'PROJECT', 'ZONE', 'INSTANCE', 'BOOT', 'REPORT', 'DECISION', 'REASON', 'OUTCOME'];
  const cells = rows.map(({ record: r }) => [
    utcTime(r.recordedAt, 'second'),
    printable(r.projectId ?? '-'),
    printable(r.zone ?? '-'),
    printable(r.instanceId ?? '-'),
    printable(r.bootCounter ?? '-'),
    printable(REPORT_KINDS[r.kind] ?? r.kind ?? '-'),
    decisionText(r.decision),
    reasonText(r.decision),
    outcomeText(r),
  ]);
  return textTable(header, cells);
}

/** The filter in words, for the line that says nothing matched. */
export function filterText(f: DecisionFilter, name: string | undefined): string {
  const parts = [
    f.instanceId !== undefined && `instance ${name !== undefined ? `${name} (id ${f.instanceId})` : f.instanceId}`,
    f.projectId !== undefined && `VM project ${f.projectId}`,
    f.zone !== undefined && `zone ${f.zone}`,
    f.action !== undefined && `decision ${f.action}`,
    f.outcome !== undefined && `outcome ${f.outcome}`,
    f.since !== undefined && `since ${new Date(f.since).toISOString()}`,
    f.until !== undefined && `until ${new Date(f.until).toISOString()}`,
  ].filter((p): p is string => typeof p === 'string');
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}
