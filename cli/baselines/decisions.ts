import type { Firestore, Query, QueryDocumentSnapshot } from '@google-cloud/firestore';
import { LEDGER_DECISIONS_COLLECTION } from '../../function/contract';
import type { LedgerRecord, RecordedDecision } from '../../function/core/ledger';

/*
 * The query of `integrity-baselines decisions`: what the responder decided, read from its
 * decision ledger (one document per instance, boot and report kind, written by
 * function/adapters/firestore-ledger.ts). Read-only. The queries use only Firestore's automatic
 * single-field indexes (ADR 0027): a time-ordered scan of `recordedAt`, or an equality on
 * `instanceId`; every other filter is applied here, within a bounded number of documents read.
 * The command is cli/baselines/commands/decisions.ts, the table it prints decisions-table.ts.
 */

/** Fields of a ledger record the queries name, checked against the record's type. */
const FIELD = { recordedAt: 'recordedAt', instanceId: 'instanceId' } as const satisfies { readonly [K in keyof LedgerRecord]?: K };

/** Documents read per page of a time-ordered scan filtered here. */
const PAGE_SIZE = 500;
/**
 * Most ledger documents one run reads: a filter applied here (project, zone, decision, outcome)
 * stops searching after this many and says so, rather than read a whole ledger.
 */
export const MAX_SCANNED = 5000;

/** Which decisions to show: every field optional, all of them must hold. */
export interface DecisionFilter {
  readonly instanceId?: string;
  readonly projectId?: string;
  readonly zone?: string;
  readonly action?: RecordedDecision['action'];
  readonly outcome?: LedgerRecord['outcome'];
  /** Recorded at or after, ms since the epoch. */
  readonly since?: number;
  /** Recorded before, ms since the epoch. */
  readonly until?: number;
}

/** One ledger document as read. */
export interface DecisionRow {
  readonly id: string;
  readonly record: LedgerRecord;
}

/** What a search found, and how far it looked. */
export interface FoundDecisions {
  /** The matching decisions, newest first, at most the limit. */
  readonly rows: readonly DecisionRow[];
  /** Ledger documents read. */
  readonly scanned: number;
  /** More decisions match than the limit. */
  readonly more: boolean;
  /**
   * The search stopped at {@link MAX_SCANNED} documents read: older decisions (before `reachedBack`)
   * were not searched, or, by instance, some of the VM's were not read.
   */
  readonly cut?: { readonly reachedBack?: string };
}

/** Whether a record holds for the filter (checked on every document read, whatever the query pushed down). */
export function matchesFilter(r: LedgerRecord, f: DecisionFilter): boolean {
  const at = Date.parse(String(r.recordedAt));
  return (
    (f.instanceId === undefined || r.instanceId === f.instanceId) &&
    (f.projectId === undefined || r.projectId === f.projectId) &&
    (f.zone === undefined || r.zone === f.zone) &&
    (f.action === undefined || r.decision?.action === f.action) &&
    (f.outcome === undefined || r.outcome === f.outcome) &&
    (f.since === undefined || at >= f.since) &&
    (f.until === undefined || at < f.until)
  );
}

const newestFirst = (a: DecisionRow, b: DecisionRow) =>
  String(b.record.recordedAt).localeCompare(String(a.record.recordedAt)) || b.id.localeCompare(a.id);

const rowOf = (d: QueryDocumentSnapshot): DecisionRow => ({ id: d.id, record: d.data() as LedgerRecord });

/**
 * The decisions of the ledger that match the filter, newest first, at most `limit`. One query
 * shape per case, each served by Firestore's automatic single-field indexes, in production as
 * on the emulator (which enforces none):
 * - with an instance id: equality on `instanceId` (a VM has one document per boot and report
 *   kind), sorted here;
 * - otherwise: `recordedAt` descending, bounded by `since`/`until` in the query; without other
 *   filters one page of `limit + 1`, with them pages of {@link PAGE_SIZE} until `limit` match,
 *   the range ends, or `maxScanned` documents were read.
 */
export async function findDecisions(db: Firestore, f: DecisionFilter, limit: number, maxScanned = MAX_SCANNED): Promise<FoundDecisions> {
  const collection = db.collection(LEDGER_DECISIONS_COLLECTION);
  if (f.instanceId !== undefined) {
    const snapshot = await collection
      .where(FIELD.instanceId, '==', f.instanceId)
      .limit(maxScanned + 1)
      .get();
    const docs = snapshot.docs.slice(0, maxScanned);
    const rows = docs
      .map(rowOf)
      .filter((r) => matchesFilter(r.record, f))
      .sort(newestFirst);
    return {
      rows: rows.slice(0, limit),
      scanned: docs.length,
      more: rows.length > limit,
      ...(snapshot.size > maxScanned && { cut: {} }),
    };
  }
  let query: Query = collection.orderBy(FIELD.recordedAt, 'desc');
  if (f.since !== undefined) query = query.where(FIELD.recordedAt, '>=', new Date(f.since).toISOString());
  if (f.until !== undefined) query = query.where(FIELD.recordedAt, '<', new Date(f.until).toISOString());
  const filteredHere = f.projectId !== undefined || f.zone !== undefined || f.action !== undefined || f.outcome !== undefined;
  const rows: DecisionRow[] = [];
  let scanned = 0;
  let last: QueryDocumentSnapshot | undefined;
  for (;;) {
    const size = Math.min(filteredHere ? PAGE_SIZE : limit + 1, maxScanned - scanned);
    const page = await (last === undefined ? query : query.startAfter(last)).limit(size).get();
    scanned += page.size;
    for (const d of page.docs) {
      const row = rowOf(d);
      if (matchesFilter(row.record, f)) rows.push(row);
    }
    if (rows.length > limit) return { rows: rows.slice(0, limit), scanned, more: true };
    if (page.size < size) return { rows, scanned, more: false };
    last = page.docs.at(-1);
    if (scanned >= maxScanned) return { rows, scanned, more: false, cut: { reachedBack: String(last?.get(FIELD.recordedAt)) } };
  }
}
