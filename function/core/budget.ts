import type { FailureAction } from '../contract';
import type { Reconciled } from './ledger';

/*
 * The action budget (blast-radius limit): at most `limit` stops or suspends per fixed window of
 * `windowSeconds`, across every instance of the function. A bad kernel rollout with no baseline
 * recorded makes every VM of the fleet fail its integrity check at once; without a limit the
 * responder would stop the whole fleet in minutes. The count lives in the decision ledger, one
 * document per window, and is taken in the same transaction that records the action, so a
 * redelivered message never counts twice and concurrent instances never overshoot.
 */

/** The configured limit: `limit` actions per window, or none at all. */
export interface ActionBudget {
  readonly limit: number | 'unlimited';
  readonly windowSeconds: number;
}

/** One fixed window: `[start, end)`, identified by its length and start. */
export interface BudgetWindow {
  /** Document id: `<seconds>s-<start>`, e.g. `3600s-2026-11-23T09:00:00.000Z`. */
  readonly id: string;
  readonly start: string;
  readonly end: string;
  readonly seconds: number;
}

/** An operator's reset of a window's count (`integrity-budget reset`), kept in the window's document. */
export interface BudgetReset {
  readonly at: string;
  /** Who says they reset it: `--by`, else the operator's user and host name. */
  readonly by: string;
  readonly reason: string;
  /** The count the reset cleared. */
  readonly countBefore: number;
}

/** The document of one window. */
export interface BudgetCounter {
  readonly windowStart: string;
  readonly windowEnd: string;
  readonly windowSeconds: number;
  /** Actions counted since the window began or was last reset: what the limit is compared with. */
  readonly count: number;
  /** Every action counted in the window, resets or not. */
  readonly total: number;
  /** The limit in force at the last action counted (a redeploy may change it; the function's own applies). */
  readonly limit: number;
  /** When `count` reached `limit`; cleared by a reset. */
  readonly filledAt?: string;
  readonly resets?: readonly BudgetReset[];
  readonly updatedAt: string;
}

/** What the budget made of an action, for the decision line. */
export type BudgetNote =
  /** This action took a slot of the window now. */
  | { readonly status: 'counted'; readonly window: BudgetWindow; readonly limit: number; readonly used: number }
  /** The action took its slot at an earlier delivery: it is not counted again. */
  | { readonly status: 'already-counted'; readonly windowId: string }
  /** No slot left: the VM is left running and the event redelivered. */
  | {
      readonly status: 'exhausted';
      readonly window: BudgetWindow;
      readonly limit: number;
      readonly used: number;
      /** What the action would have been. */
      readonly wouldHave: FailureAction;
      /** The reason of the decision that was held. */
      readonly heldReason: string;
    };

/** A reconciled decision with what the action budget made of it. */
export interface Budgeted extends Reconciled {
  /** What the action budget made of a stop or suspend (absent without a budget, and for other decisions). */
  readonly budget?: BudgetNote;
}

/** The window holding a moment (milliseconds since the epoch). */
export function budgetWindow(nowMs: number, seconds: number): BudgetWindow {
  const length = seconds * 1000;
  const startMs = Math.floor(nowMs / length) * length;
  const start = new Date(startMs).toISOString();
  return { id: `${seconds}s-${start}`, start, end: new Date(startMs + length).toISOString(), seconds };
}

/** Whether a reconciled decision must take a slot: a stop or suspend not done yet that has none. */
export function needsSlot(result: Reconciled): boolean {
  return result.decision.action === 'stop' && !result.alreadyDone && result.record.budgetWindow === undefined;
}

/**
 * Applies the budget to a reconciled decision. Pure: the ledger runs it in the transaction that
 * records the decision, with the window's document as read in that transaction, and writes the
 * record it returns and, when a slot was taken, the window's `counter`.
 *
 * - Relearns, `none` decisions, actions already done and actions that already hold a slot take
 *   none (a redelivery is never counted twice).
 * - A slot is free while the window's `count` is below the configured limit.
 * - Without one, the decision becomes `none` / `budget-exhausted`; the record is written as
 *   `held` (its measurements stay known to the ledger, so a different report about the same boot
 *   is still a conflict), and nothing is written to the window: once it is full, a storm of
 *   failures only reads it.
 */
export function applyBudget(
  result: Reconciled,
  budget: ActionBudget | undefined,
  counter: BudgetCounter | undefined,
  now: string,
  vmCounted = false,
): { readonly result: Budgeted; readonly counter?: BudgetCounter } {
  if (result.decision.action === 'stop' && !result.alreadyDone && result.record.budgetWindow !== undefined) {
    return { result: { ...result, budget: { status: 'already-counted', windowId: result.record.budgetWindow } } };
  }
  if (budget === undefined || budget.limit === 'unlimited' || !needsSlot(result)) return { result };
  const window = budgetWindow(Date.parse(now), budget.windowSeconds);
  // One slot per VM and window: more reports about a VM already counted (other boots, forged
  // boot counters) take none, so reports about one VM can never drain the budget.
  if (vmCounted) {
    return {
      result: {
        ...result,
        record: { ...result.record, budgetWindow: window.id },
        budget: { status: 'already-counted', windowId: window.id },
      },
    };
  }
  const used = counter?.count ?? 0;
  if (used < budget.limit) {
    const count = used + 1;
    const next: BudgetCounter = {
      ...counter,
      windowStart: window.start,
      windowEnd: window.end,
      windowSeconds: window.seconds,
      count,
      total: (counter?.total ?? 0) + 1,
      limit: budget.limit,
      ...(count >= budget.limit && { filledAt: counter?.filledAt ?? now }),
      updatedAt: now,
    };
    return {
      result: {
        ...result,
        record: { ...result.record, budgetWindow: window.id },
        budget: { status: 'counted', window, limit: budget.limit, used: count },
      },
      counter: next,
    };
  }
  const { reason } = result.decision;
  return {
    result: {
      ...result,
      decision: { action: 'none', reason: 'budget-exhausted', wouldHave: result.containment },
      record: { ...result.record, outcome: 'held', heldSince: result.record.heldSince ?? now },
      budget: { status: 'exhausted', window, limit: budget.limit, used, wouldHave: result.containment, heldReason: reason },
    },
  };
}

/** Thrown after the CRITICAL line of an action held for want of budget: the event is not acknowledged, so it is redelivered. */
export class ActionHeldError extends Error {
  constructor(
    readonly instanceId: string,
    readonly freesAt: string,
  ) {
    super(`action budget exhausted: instance ${instanceId} left running until ${freesAt} or a reset; the event will be redelivered`);
    this.name = 'ActionHeldError';
  }
}
