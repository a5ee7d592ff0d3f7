import type { FailureAction } from '../contract';
import { Reconciled, instanceDocumentId } from './ledger';

/*
 * The action budget (blast-radius limit): at most `limit` stops or suspends per fixed window of
 * `windowSeconds`, across every instance of the function. A bad kernel rollout with no baseline
 * recorded makes every VM of the fleet fail its integrity check at once; without a limit the
 * responder would stop the whole fleet in minutes. The count lives in the decision ledger, split
 * into shard documents per window whose shares sum to the limit (ADR 0033), and a slot is taken
 * in the same commit that records the action, so a redelivered message never counts twice and
 * concurrent instances never overshoot, without one document that every containment writes.
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

/** An operator's reset of a window's count (`integrity-budget reset`), kept in the window's own document. */
export interface BudgetReset {
  readonly at: string;
  /** Who says they reset it: `--by`, else the operator's user and host name. */
  readonly by: string;
  readonly reason: string;
  /** The count the reset cleared: the sum over the window's shards. */
  readonly countBefore: number;
}

/**
 * Shard documents a window is split into, at most: each holds a share of the limit, and a
 * containment writes the one it takes its slot in, never a document every containment writes
 * (ADR 0033). A limit below this many uses as many shards as it has slots.
 */
export const BUDGET_SHARDS = 32;

/** One shard of a window (`integrity_budget/<window>/shards/<index>`): its share of the limit and what it counted. */
export interface BudgetShard {
  readonly windowStart: string;
  readonly windowEnd: string;
  readonly windowSeconds: number;
  readonly shard: number;
  /** How many shards the window was split into, and this one's share of the limit, when it last counted. */
  readonly shards: number;
  readonly capacity: number;
  /** Actions counted in this shard since the window began or was last reset. */
  readonly count: number;
  /** Every action counted in this shard in the window, resets or not. */
  readonly total: number;
  /** The limit in force at the last action it counted (a redeploy may change it; the function's own applies). */
  readonly limit: number;
  /** When `count` reached `capacity`; cleared by a reset. */
  readonly filledAt?: string;
  readonly updatedAt: string;
}

/** A window's own document (`integrity_budget/<window>`): written by the operator's resets only, never by the function. */
export interface BudgetWindowRecord {
  readonly windowStart: string;
  readonly windowEnd: string;
  readonly windowSeconds: number;
  readonly resets: readonly BudgetReset[];
  readonly updatedAt: string;
}

/** The shards of a window as read, by index: a missing document as `undefined`; shards not read are absent. */
export type ShardsRead = ReadonlyMap<number, BudgetShard | undefined>;

/** What the ledger read of the window for an action that needs a slot. */
export interface BudgetView {
  readonly shards: ShardsRead;
  /** Whether the VM's marker exists in the window: it took its slot already (another boot, another report). */
  readonly vmCounted: boolean; /** Where the VM's order of shards starts past its home shard ({@link shardOrder}); 0 unless a retry moved it. */
  readonly rotation?: number;
}

/** What the budget made of an action, for the decision line. */
export type BudgetNote =
  /** This action took a slot of the window now, in shard `shard`. */
  | {
      readonly status: 'counted';
      readonly window: BudgetWindow;
      readonly limit: number;
      readonly shard: number;
      readonly shards: number;
      /** The shard's count with this action, and its share of the limit. */
      readonly shardUsed: number;
      readonly shardCapacity: number;
    }
  /** The action took its slot at an earlier delivery: it is not counted again. */
  | { readonly status: 'already-counted'; readonly windowId: string }
  /** No slot left in any shard: the VM is left running and the event redelivered. */
  | {
      readonly status: 'exhausted';
      readonly window: BudgetWindow;
      readonly limit: number;
      /** The window's count: the sum over its shards, as read together. */
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

/** How many shards a window of `limit` slots is split into: every shard holds at least one slot. */
export function shardCount(limit: number): number {
  return Math.min(BUDGET_SHARDS, limit);
}

/** The slots of shard `index`: the limit split as evenly as it goes, the first shards holding one more. */
export function shardCapacity(limit: number, index: number): number {
  const shards = shardCount(limit);
  return Math.floor(limit / shards) + (index < limit % shards ? 1 : 0);
}

/**
 * The shards a VM tries, in order: the one its id hashes to (FNV-1a, then mixed so that ids
 * differing only in their last digits still land apart), moved on by `rotation`, then the next
 * ones round the ring. Spread by VM, concurrent containments write different documents; tried in
 * this order, a VM finds a free slot wherever one is left. A retry after a lost race passes a
 * rotation of its own, so two VMs that raced for one shard do not race for it again.
 */
export function shardOrder(vm: string, limit: number, rotation = 0): number[] {
  let hash = 0x811c9dc5;
  for (let i = 0; i < vm.length; i++) hash = Math.imul(hash ^ vm.charCodeAt(i), 0x01000193) >>> 0;
  // FNV-1a's low bits, which the modulo keeps, depend on the last characters only weakly: the
  // avalanche of MurmurHash3's finalizer spreads every bit of the hash into them.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b) >>> 0;
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35) >>> 0;
  hash ^= hash >>> 16;
  const shards = shardCount(limit);
  const home = ((hash >>> 0) + rotation) % shards;
  return Array.from({ length: shards }, (_, i) => (home + i) % shards);
}

/** Whether a reconciled decision must take a slot: a stop or suspend not done yet that has none. */
export function needsSlot(result: Reconciled): boolean {
  return result.decision.action === 'stop' && !result.alreadyDone && result.record.budgetWindow === undefined;
}

/** What {@link applyBudget} made of a decision, and what the ledger writes for it. */
export interface Applied {
  readonly result: Budgeted;
  /** The slot taken: the shard to write, as a whole, in the commit that records the decision (with the VM's marker). */
  readonly claim?: { readonly index: number; readonly shard: BudgetShard };
  /**
   * The shards read so far have no free slot, and the VM's order goes on to one not read: read
   * every shard of the window (one `batchGet`) and apply the budget again.
   */
  readonly readAll?: true;
}

/**
 * Applies the budget to a reconciled decision. Pure: the ledger runs it on the window's shards
 * and the VM's marker as read with the record, and writes the record it returns and, when a slot
 * was taken, the shard and the marker, each on condition that it is still as read (ADR 0016,
 * ADR 0033).
 *
 * - Relearns, `none` decisions, actions already done and actions that already hold a slot take
 *   none (a redelivery is never counted twice); nor does a VM whose marker says it was counted in
 *   the window already.
 * - The VM's shards are tried in {@link shardOrder}: the first with `count` below its share of the
 *   configured limit takes the slot. Reaching a shard not read, it asks for all of them.
 * - With every shard read and none free, the decision becomes `none` / `budget-exhausted`; the
 *   record is written as `held` (its measurements stay known to the ledger, so a different report
 *   about the same boot is still a conflict), and nothing is written to the window: once it is
 *   full, a storm of failures only reads it.
 */
export function applyBudget(result: Reconciled, budget: ActionBudget | undefined, view: BudgetView | undefined, now: string): Applied {
  if (result.decision.action === 'stop' && !result.alreadyDone && result.record.budgetWindow !== undefined) {
    return { result: { ...result, budget: { status: 'already-counted', windowId: result.record.budgetWindow } } };
  }
  if (budget === undefined || budget.limit === 'unlimited' || !needsSlot(result)) return { result };
  const { limit } = budget;
  const window = budgetWindow(Date.parse(now), budget.windowSeconds);
  // One slot per VM and window: more reports about a VM already counted (other boots, forged
  // boot counters) take none, so reports about one VM can never drain the budget.
  if (view?.vmCounted === true) {
    return {
      result: {
        ...result,
        record: { ...result.record, budgetWindow: window.id },
        budget: { status: 'already-counted', windowId: window.id },
      },
    };
  }
  const shards = view?.shards ?? new Map<number, BudgetShard | undefined>();
  const order = shardOrder(instanceDocumentId(result.record), limit, view?.rotation ?? 0);
  for (const index of order) {
    if (!shards.has(index)) return { result, readAll: true };
    const shard = shards.get(index);
    const capacity = shardCapacity(limit, index);
    const used = shard?.count ?? 0;
    if (used >= capacity) continue;
    const count = used + 1;
    const next: BudgetShard = {
      ...shard,
      windowStart: window.start,
      windowEnd: window.end,
      windowSeconds: window.seconds,
      shard: index,
      shards: order.length,
      capacity,
      count,
      total: (shard?.total ?? 0) + 1,
      limit,
      ...(count >= capacity && { filledAt: shard?.filledAt ?? now }),
      updatedAt: now,
    };
    return {
      result: {
        ...result,
        record: { ...result.record, budgetWindow: window.id },
        budget: { status: 'counted', window, limit, shard: index, shards: order.length, shardUsed: count, shardCapacity: capacity },
      },
      claim: { index, shard: next },
    };
  }
  const used = order.reduce((sum, index) => sum + (shards.get(index)?.count ?? 0), 0);
  const { reason } = result.decision;
  return {
    result: {
      ...result,
      decision: { action: 'none', reason: 'budget-exhausted', wouldHave: result.containment },
      record: { ...result.record, outcome: 'held', heldSince: result.record.heldSince ?? now },
      budget: { status: 'exhausted', window, limit, used, wouldHave: result.containment, heldReason: reason },
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
