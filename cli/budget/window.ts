import type { DocumentReference, Firestore } from '@google-cloud/firestore';
import { BUDGET_SHARDS_SUBCOLLECTION, LEDGER_BUDGET_COLLECTION, SETTINGS, UNLIMITED } from '../../function/contract';
import { BUDGET_SHARDS, BudgetReset, BudgetShard, BudgetWindow, BudgetWindowRecord, budgetWindow } from '../../function/core/budget';
import type { BudgetTarget } from './options';

/*
 * The window the action budget counts in now, as the ledger holds it (its shards summed, its
 * resets), with the limit it is compared with and where that came from; and the window as
 * `--json` prints it.
 */

/** The limit the budget is compared with, and where the tool learnt it. */
export type Limit =
  | {
      readonly value: number | typeof UNLIMITED;
      /**
       * `option`: --max-actions; `window`: the limit the responder counted the window's last
       * action against; `ledger`: the one it counted its last action against, in an earlier window.
       */
      readonly from: 'option' | 'window' | 'ledger';
      /** When the responder counted that action (`ledger`). */
      readonly at?: string;
    }
  | { readonly value: undefined; readonly from: 'unknown' };

/** A window as its shards hold it, summed (ADR 0033), with the resets its own document keeps. */
export interface WindowCount {
  /** Actions counted since the window began or was last reset, over every shard. */
  readonly count: number;
  /** Every action counted in the window, resets or not. */
  readonly total: number;
  /** Shard documents written in the window, and how many the responder split it into at its last count. */
  readonly shardsWritten: number;
  readonly shards: number;
  /** The limit the newest shard write counted against, and when. */
  readonly limit: number;
  readonly updatedAt: string;
  /** When the last shard of the split filled, once every one is full; cleared by a reset. */
  readonly filledAt?: string;
  readonly resets: readonly BudgetReset[];
}

/** The window the budget counts in now, as the ledger holds it. */
export interface CurrentWindow {
  readonly window: BudgetWindow;
  /** The window's count; absent when nothing was counted in it. */
  readonly counter?: WindowCount;
  /** Where the window's length came from. */
  readonly lengthFrom: 'option' | 'ledger' | 'default';
  readonly limit: Limit;
}

/** A window document's id: `<seconds>s-<start>`. */
const WINDOW_ID = /^(\d+)s-(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)$/;

/** The documents of a window: its own (resets), then its shards by index, read in one `batchGet`. */
export function windowRefs(db: Firestore, id: string): { readonly ref: DocumentReference; readonly shards: DocumentReference[] } {
  const ref = db.collection(LEDGER_BUDGET_COLLECTION).doc(id);
  // By their ids rather than by a query on the subcollection: a window's id holds colons, which
  // the REST transport's `…/documents/<parent>:runQuery` path cannot carry.
  const shards = Array.from({ length: BUDGET_SHARDS }, (_, i) => ref.collection(BUDGET_SHARDS_SUBCOLLECTION).doc(String(i)));
  return { ref, shards };
}

/** The shards of a window, and its own document (resets), read at once. */
export async function readWindow(
  db: Firestore,
  id: string,
): Promise<{ readonly shards: BudgetShard[]; readonly record?: BudgetWindowRecord }> {
  const { ref, shards } = windowRefs(db, id);
  const [own, ...docs] = await db.getAll(ref, ...shards);
  return {
    shards: docs.filter((d) => d.exists).map((d) => d.data() as BudgetShard),
    ...(own!.exists && { record: own!.data() as BudgetWindowRecord }),
  };
}

/** The shards of a window summed; undefined when none was written. */
export function windowCount(shards: readonly BudgetShard[], record: BudgetWindowRecord | undefined): WindowCount | undefined {
  if (shards.length === 0) return undefined;
  const newest = shards.reduce((a, b) => (b.updatedAt > a.updatedAt ? b : a));
  const filled = shards.flatMap((s) => (s.filledAt === undefined ? [] : [s.filledAt])).sort();
  return {
    count: shards.reduce((sum, s) => sum + s.count, 0),
    total: shards.reduce((sum, s) => sum + s.total, 0),
    shardsWritten: shards.length,
    shards: newest.shards,
    limit: newest.limit,
    updatedAt: newest.updatedAt,
    ...(filled.length >= newest.shards && { filledAt: filled.at(-1)! }),
    resets: record?.resets ?? [],
  };
}

/**
 * The window the responder counted in last: of the windows in the ledger (their ids list them,
 * shards or not: the function never writes a window's own document), the one that starts last,
 * read with its shards. Windows of different lengths starting together: the one written last.
 */
async function lastWindow(db: Firestore): Promise<{ readonly seconds: number; readonly count?: WindowCount } | undefined> {
  const ids = (await db.collection(LEDGER_BUDGET_COLLECTION).listDocuments())
    .map((ref) => WINDOW_ID.exec(ref.id))
    .filter((m) => m !== null)
    .map((m) => ({ id: m[0], seconds: Number(m[1]), start: m[2]! }));
  if (ids.length === 0) return undefined;
  const start = ids.reduce((a, b) => (b.start > a.start ? b : a)).start;
  const candidates = await Promise.all(
    ids
      .filter((w) => w.start === start)
      .map(async (w) => {
        const { shards, record } = await readWindow(db, w.id);
        return { seconds: w.seconds, count: windowCount(shards, record) };
      }),
  );
  return candidates.reduce((a, b) => ((b.count?.updatedAt ?? '') > (a.count?.updatedAt ?? '') ? b : a));
}

/**
 * The current window: of the length given, else of the length of the window the responder
 * counted in last; and the limit: the one given, else the one the responder counted its last
 * action against (the function does not tell the ledger its configuration otherwise).
 */
export async function currentWindow(db: Firestore, t: BudgetTarget, now: number): Promise<CurrentWindow> {
  const last = t.windowSeconds === undefined || t.maxActions === undefined ? await lastWindow(db) : undefined;
  const seconds = t.windowSeconds ?? last?.seconds ?? SETTINGS.actionWindowSeconds.default;
  const lengthFrom: CurrentWindow['lengthFrom'] = t.windowSeconds !== undefined ? 'option' : last === undefined ? 'default' : 'ledger';
  const window = budgetWindow(now, seconds);
  const { shards, record } = await readWindow(db, window.id);
  const counter = windowCount(shards, record);
  const limit: Limit =
    t.maxActions !== undefined
      ? { value: t.maxActions, from: 'option' }
      : counter !== undefined
        ? { value: counter.limit, from: 'window' }
        : last?.count !== undefined
          ? { value: last.count.limit, from: 'ledger', at: last.count.updatedAt }
          : { value: undefined, from: 'unknown' };
  return { window, lengthFrom, limit, ...(counter !== undefined && { counter }) };
}

/** Whether the window's count has reached a known, numeric limit. */
export function exhausted(current: CurrentWindow): boolean {
  const { value } = current.limit;
  return typeof value === 'number' && (current.counter?.count ?? 0) >= value;
}

/** The window as `show --json` prints it. */
export function summary(t: BudgetTarget, current: CurrentWindow, now: number): Record<string, unknown> {
  const { window, counter } = current;
  return {
    project: t.project,
    database: t.database,
    window: { id: window.id, start: window.start, end: window.end, seconds: window.seconds, lengthFrom: current.lengthFrom },
    counted: counter?.count ?? 0,
    limit: current.limit.value ?? null,
    limitFrom: current.limit.from,
    total: counter?.total ?? 0,
    exhausted: exhausted(current),
    filledAt: counter?.filledAt ?? null,
    freesAt: window.end,
    freesInSeconds: Math.max(0, Math.round((Date.parse(window.end) - now) / 1000)),
    shards: { written: counter?.shardsWritten ?? 0, of: counter?.shards ?? null },
    resets: counter?.resets ?? [],
  };
}
