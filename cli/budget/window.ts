import type { Firestore } from '@google-cloud/firestore';
import { LEDGER_BUDGET_COLLECTION, SETTINGS, UNLIMITED } from '../../function/contract';
import { BudgetCounter, BudgetWindow, budgetWindow } from '../../function/core/budget';
import type { BudgetTarget } from './options';

/*
 * The window the action budget counts in now, as the ledger holds it, with the limit it is
 * compared with and where that came from; and the window as `--json` prints it.
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

/** The window the budget counts in now, as the ledger holds it. */
export interface CurrentWindow {
  readonly window: BudgetWindow;
  /** The window's document; absent when nothing was counted in it. */
  readonly counter?: BudgetCounter;
  /** Where the window's length came from. */
  readonly lengthFrom: 'option' | 'ledger' | 'default';
  readonly limit: Limit;
}

/**
 * The current window: of the length given, else of the length of the window the responder
 * counted in last; and the limit: the one given, else the one the responder counted its last
 * action against (the function does not tell the ledger its configuration otherwise).
 */
export async function currentWindow(db: Firestore, t: BudgetTarget, now: number): Promise<CurrentWindow> {
  const windows = db.collection(LEDGER_BUDGET_COLLECTION);
  const last =
    t.windowSeconds === undefined || t.maxActions === undefined
      ? ((await windows.orderBy('updatedAt', 'desc').limit(1).get()).docs[0]?.data() as BudgetCounter | undefined)
      : undefined;
  const seconds = t.windowSeconds ?? last?.windowSeconds ?? SETTINGS.actionWindowSeconds.default;
  const lengthFrom: CurrentWindow['lengthFrom'] = t.windowSeconds !== undefined ? 'option' : last === undefined ? 'default' : 'ledger';
  const window = budgetWindow(now, seconds);
  const doc = await windows.doc(window.id).get();
  const counter = doc.exists ? (doc.data() as BudgetCounter) : undefined;
  const limit: Limit =
    t.maxActions !== undefined
      ? { value: t.maxActions, from: 'option' }
      : counter !== undefined
        ? { value: counter.limit, from: 'window' }
        : last !== undefined
          ? { value: last.limit, from: 'ledger', at: last.updatedAt }
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
    resets: counter?.resets ?? [],
  };
}
