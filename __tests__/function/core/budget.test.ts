import fc from 'fast-check';
import { ActionBudget, BudgetCounter, applyBudget, budgetWindow, needsSlot } from '../../../function/core/budget';
import { requestIdFor } from '../../../function/core/request-id';
import { LedgerRecord, ReconcileInput, Reconciled, reconcile } from '../../../function/core/ledger';
import type { IntegrityReport } from '../../../function/core/parse';

const RUNS = 300;
const NOW = '2026-11-23T09:20:00.000Z';
const BUDGET: ActionBudget = { limit: 2, windowSeconds: 3600 };
const STOP = { action: 'stop', reason: 'not-known-good' } as const;
const RELEARN = { action: 'relearn', reason: 'known-good', baselineId: 'baseline1' } as const;

const report = (instanceId: string, bootCounter = '7'): IntegrityReport => ({
  kind: 'lateBoot',
  passed: false,
  actualMeasurements: [{ pcr: 0, value: 'v' }],
  instance: { projectId: 'fleet-prod-1234', zone: 'europe-west1-b', id: instanceId },
  bootCounter,
  timestamp: '2026-11-23T09:19:00.000Z',
});

/** A reconciliation of a report about `instanceId`, delivered as message `messageId`. */
function reconciled(o: {
  instanceId: string;
  messageId?: string;
  proposed?: ReconcileInput['proposed'];
  fingerprint?: string;
  existing?: LedgerRecord;
  now?: string;
  containment?: 'stop' | 'suspend';
}): Reconciled {
  return reconcile({
    report: report(o.instanceId),
    proposed: o.proposed ?? STOP,
    fingerprint: o.fingerprint ?? 'fp-a',
    requestIdFor: (action) => requestIdFor(o.messageId ?? `msg-${o.instanceId}`, action),
    ...(o.containment && { containment: o.containment }),
    ...(o.existing && { existing: o.existing }),
    now: o.now ?? NOW,
  });
}

describe('budgetWindow', () => {
  it('holds a moment in the fixed window of its length, named by length and start', () => {
    expect(budgetWindow(Date.parse(NOW), 3600)).toEqual({
      id: '3600s-2026-11-23T09:00:00.000Z',
      start: '2026-11-23T09:00:00.000Z',
      end: '2026-11-23T10:00:00.000Z',
      seconds: 3600,
    });
  });

  it('starts a new window at the end of the last one, not a moment later', () => {
    expect(budgetWindow(Date.parse('2026-11-23T09:59:59.999Z'), 3600).id).toBe('3600s-2026-11-23T09:00:00.000Z');
    expect(budgetWindow(Date.parse('2026-11-23T10:00:00.000Z'), 3600).id).toBe('3600s-2026-11-23T10:00:00.000Z');
  });

  it('names windows of different lengths apart, so a redeploy with another length starts afresh', () => {
    expect(budgetWindow(Date.parse(NOW), 600).id).toBe('600s-2026-11-23T09:20:00.000Z');
    expect(budgetWindow(Date.parse(NOW), 60).end).toBe('2026-11-23T09:21:00.000Z');
  });
});

describe('applyBudget', () => {
  it('counts a new stop in the current window and records where it was counted', () => {
    const { result, counter } = applyBudget(reconciled({ instanceId: '1' }), BUDGET, undefined, NOW);
    expect(result.decision).toEqual(STOP);
    expect(result.record.budgetWindow).toBe('3600s-2026-11-23T09:00:00.000Z');
    expect(result.budget).toEqual(expect.objectContaining({ status: 'counted', used: 1, limit: 2 }));
    expect(counter).toEqual({
      windowStart: '2026-11-23T09:00:00.000Z',
      windowEnd: '2026-11-23T10:00:00.000Z',
      windowSeconds: 3600,
      count: 1,
      total: 1,
      limit: 2,
      updatedAt: NOW,
    });
  });

  it('notes when the window fills', () => {
    const first = applyBudget(reconciled({ instanceId: '1' }), BUDGET, undefined, NOW).counter;
    const second = applyBudget(reconciled({ instanceId: '2' }), BUDGET, first, '2026-11-23T09:21:00.000Z').counter;
    expect(second).toEqual(expect.objectContaining({ count: 2, total: 2, filledAt: '2026-11-23T09:21:00.000Z' }));
  });

  it('holds a stop once the window is full: no action, the record held, nothing written to the window', () => {
    const full: BudgetCounter = { ...applyBudget(reconciled({ instanceId: '1' }), BUDGET, undefined, NOW).counter!, count: 2, total: 2 };
    const { result, counter } = applyBudget(reconciled({ instanceId: '3' }), BUDGET, full, NOW);
    expect(result.decision).toEqual({ action: 'none', reason: 'budget-exhausted', wouldHave: 'stop' });
    expect(result.record).toEqual(expect.objectContaining({ outcome: 'held', heldSince: NOW, decision: STOP }));
    expect(result.record.budgetWindow).toBeUndefined();
    expect(result.budget).toEqual({
      status: 'exhausted',
      window: budgetWindow(Date.parse(NOW), 3600),
      limit: 2,
      used: 2,
      wouldHave: 'stop',
      heldReason: 'not-known-good',
    });
    expect(counter).toBeUndefined();
  });

  it('says a held suspend would have suspended', () => {
    const full: BudgetCounter = { ...applyBudget(reconciled({ instanceId: '1' }), BUDGET, undefined, NOW).counter!, count: 2 };
    const { result } = applyBudget(reconciled({ instanceId: '3', containment: 'suspend' }), BUDGET, full, NOW);
    expect(result.decision).toEqual({ action: 'none', reason: 'budget-exhausted', wouldHave: 'suspend' });
  });

  it('applies the configured limit, not the one recorded in the window: raising it frees slots at once', () => {
    const full: BudgetCounter = { ...applyBudget(reconciled({ instanceId: '1' }), BUDGET, undefined, NOW).counter!, count: 2 };
    const { result, counter } = applyBudget(reconciled({ instanceId: '3' }), { ...BUDGET, limit: 3 }, full, NOW);
    expect(result.budget).toEqual(expect.objectContaining({ status: 'counted', used: 3, limit: 3 }));
    expect(counter).toEqual(expect.objectContaining({ count: 3, limit: 3 }));
  });

  it('never counts a relearn', () => {
    const { result, counter } = applyBudget(reconciled({ instanceId: '1', proposed: RELEARN }), BUDGET, undefined, NOW);
    expect(result.budget).toBeUndefined();
    expect(result.record.budgetWindow).toBeUndefined();
    expect(counter).toBeUndefined();
  });

  it('never counts twice a stop redelivered after it was counted, even in a full window', () => {
    const first = applyBudget(reconciled({ instanceId: '1' }), BUDGET, undefined, NOW);
    const again = reconciled({ instanceId: '1', existing: first.result.record });
    const full: BudgetCounter = { ...first.counter!, count: 2 };
    const { result, counter } = applyBudget(again, BUDGET, full, NOW);
    expect(needsSlot(again)).toBe(false);
    expect(result.decision).toEqual(STOP);
    expect(result.budget).toEqual({ status: 'already-counted', windowId: '3600s-2026-11-23T09:00:00.000Z' });
    expect(counter).toBeUndefined();
  });

  it('takes no slot for a stop already done', () => {
    const first = applyBudget(reconciled({ instanceId: '1' }), BUDGET, undefined, NOW).result;
    const done = reconciled({ instanceId: '1', existing: { ...first.record, outcome: 'done' } });
    expect(done.alreadyDone).toBe(true);
    expect(applyBudget(done, BUDGET, undefined, NOW)).toEqual({ result: done });
  });

  it('does nothing without a budget or with an unlimited one', () => {
    const r = reconciled({ instanceId: '1' });
    expect(applyBudget(r, undefined, undefined, NOW)).toEqual({ result: r });
    expect(applyBudget(r, { limit: 'unlimited', windowSeconds: 3600 }, undefined, NOW)).toEqual({ result: r });
  });

  it('counts afresh in the next window', () => {
    const full: BudgetCounter = { ...applyBudget(reconciled({ instanceId: '1' }), BUDGET, undefined, NOW).counter!, count: 2 };
    const held = applyBudget(reconciled({ instanceId: '3' }), BUDGET, full, NOW).result;
    const later = '2026-11-23T10:00:01.000Z';
    // The next window's document does not exist yet: the held stop is decided again and counted there.
    const again = reconciled({ instanceId: '3', existing: held.record, now: later });
    const { result, counter } = applyBudget(again, BUDGET, undefined, later);
    expect(result.decision).toEqual(STOP);
    expect(result.record).toEqual(
      expect.objectContaining({ outcome: 'pending', budgetWindow: '3600s-2026-11-23T10:00:00.000Z', heldSince: NOW }),
    );
    expect(counter).toEqual(expect.objectContaining({ count: 1, windowStart: '2026-11-23T10:00:00.000Z' }));
  });

  it('counts again after an operator reset the window (count 0), keeping the total and the resets', () => {
    const reset = { at: NOW, by: 'alice@ops-1', reason: 'kernel 6.9 baseline recorded', countBefore: 2 };
    const cleared: BudgetCounter = {
      ...applyBudget(reconciled({ instanceId: '1' }), BUDGET, undefined, NOW).counter!,
      count: 0,
      total: 2,
      resets: [reset],
    };
    const { counter } = applyBudget(reconciled({ instanceId: '3' }), BUDGET, cleared, NOW);
    expect(counter).toEqual(expect.objectContaining({ count: 1, total: 3, resets: [reset] }));
  });
});

describe('the action budget, as a property', () => {
  it(`never counts more than the limit in a window, whatever the order of deliveries and redeliveries (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 8 }), fc.boolean()), { minLength: 1, maxLength: 40 }),
        (limit, deliveries) => {
          const records = new Map<string, LedgerRecord>();
          let counter: BudgetCounter | undefined;
          const acted = new Set<string>();
          for (const [vm, finishes] of deliveries) {
            const id = String(vm);
            const existing = records.get(id);
            const { result, counter: next } = applyBudget(
              reconciled({ instanceId: id, ...(existing && { existing }) }),
              { limit, windowSeconds: 3600 },
              counter,
              NOW,
            );
            counter = next ?? counter;
            records.set(id, finishes && result.decision.action === 'stop' ? { ...result.record, outcome: 'done' } : result.record);
            if (result.decision.action === 'stop') acted.add(id);
          }
          expect(counter?.count ?? 0).toBeLessThanOrEqual(limit);
          expect(acted.size).toBeLessThanOrEqual(limit);
          // Every VM acted on took exactly one slot.
          expect(counter?.count ?? 0).toBe(acted.size);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
