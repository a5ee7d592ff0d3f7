import fc from 'fast-check';
import {
  ActionBudget,
  Applied,
  BUDGET_SHARDS,
  BudgetShard,
  BudgetView,
  applyBudget,
  budgetWindow,
  needsSlot,
  shardCapacity,
  shardCount,
  shardOrder,
} from '../../../function/core/budget';
import { requestIdFor } from '../../../function/core/request-id';
import { LedgerRecord, ReconcileInput, Reconciled, instanceDocumentId, reconcile } from '../../../function/core/ledger';
import type { IntegrityReport } from '../../../function/core/parse';

const RUNS = 300;
const NOW = '2026-11-23T09:20:00.000Z';
const BUDGET: ActionBudget = { limit: 2, windowSeconds: 3600 };
const STOP = { action: 'stop', reason: 'not-known-good' } as const;
const RELEARN = { action: 'relearn', reason: 'known-good', baselineId: 'baseline1' } as const;

const PROJECT = 'fleet-prod-1234';
const ZONE = 'europe-west1-b';
/** The VM's id as the budget hashes it: its instance document id. */
const vmOf = (instanceId: string) => instanceDocumentId({ projectId: PROJECT, zone: ZONE, instanceId });

const report = (instanceId: string, bootCounter = '7'): IntegrityReport => ({
  kind: 'lateBoot',
  passed: false,
  actualMeasurements: [{ pcr: 0, value: 'v' }],
  instance: { projectId: PROJECT, zone: ZONE, id: instanceId },
  bootCounter,
  timestamp: '2026-11-23T09:19:00.000Z',
});

/** A reconciliation of a report about `instanceId`, delivered as message `messageId`. */
function reconciled(o: {
  instanceId: string;
  bootCounter?: string;
  messageId?: string;
  proposed?: ReconcileInput['proposed'];
  fingerprint?: string;
  existing?: LedgerRecord;
  now?: string;
  containment?: 'stop' | 'suspend';
  dryRun?: boolean;
}): Reconciled {
  return reconcile({
    report: report(o.instanceId, o.bootCounter),
    proposed: o.proposed ?? STOP,
    fingerprint: o.fingerprint ?? 'fp-a',
    requestIdFor: (action) => requestIdFor(o.messageId ?? `msg-${o.instanceId}`, action),
    ...(o.containment && { containment: o.containment }),
    ...(o.existing && { existing: o.existing }),
    ...(o.dryRun === true && { dryRun: true }),
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

/** A shard of the window of {@link NOW} holding `count` (and `total`) of its share of `limit`. */
function shardAt(index: number, count: number, limit = BUDGET.limit as number, total = count): BudgetShard {
  const window = budgetWindow(Date.parse(NOW), 3600);
  return {
    windowStart: window.start,
    windowEnd: window.end,
    windowSeconds: 3600,
    shard: index,
    shards: shardCount(limit),
    capacity: shardCapacity(limit, index),
    count,
    total,
    limit,
    updatedAt: NOW,
  };
}

/** Every shard of a window of `limit` as read: full, or missing. */
function allShards(limit: number, fill: 'full' | 'empty'): Map<number, BudgetShard | undefined> {
  return new Map(
    Array.from({ length: shardCount(limit) }, (_, i) => [i, fill === 'full' ? shardAt(i, shardCapacity(limit, i), limit) : undefined]),
  );
}

const seen = (shards: Map<number, BudgetShard | undefined>, vmCounted = false): BudgetView => ({ shards, vmCounted });

/** What the ledger reads first for a VM: its home shard (missing) and its marker (missing). */
const homeOnly = (instanceId: string, limit = BUDGET.limit as number): BudgetView =>
  seen(new Map([[shardOrder(vmOf(instanceId), limit)[0]!, undefined]]));

/**
 * The budget applied as the ledger applies it: with the VM's home shard read, then, if that
 * asks for it, with every shard read. Returns what the second application made, if there was one.
 */
function applyAsLedger(
  r: Reconciled,
  budget: ActionBudget,
  stored: ReadonlyMap<number, BudgetShard>,
  vmCounted: boolean,
  now = NOW,
): Applied & { readonly readsAll: boolean } {
  const limit = budget.limit as number;
  const order = shardOrder(instanceDocumentId(r.record), limit);
  const first = applyBudget(r, budget, seen(new Map([[order[0]!, stored.get(order[0]!)]]), vmCounted), now);
  if (!first.readAll) return { ...first, readsAll: false };
  const all = new Map(order.map((i) => [i, stored.get(i)]));
  return { ...applyBudget(r, budget, seen(all, vmCounted), now), readsAll: true };
}

describe('the shards of a window', () => {
  it('splits a window into as many shards as it has slots, up to BUDGET_SHARDS', () => {
    expect([1, 2, 31, 32, 33, 50, 100_000].map(shardCount)).toEqual([1, 2, 31, 32, 32, 32, 32]);
    expect(BUDGET_SHARDS).toBe(32);
  });

  it('gives every shard a share of at least one slot, the shares differing by one at most and summing to the limit', () => {
    for (const limit of [1, 2, 5, 31, 32, 33, 50, 63, 64, 65, 999, 100_000]) {
      const shares = Array.from({ length: shardCount(limit) }, (_, i) => shardCapacity(limit, i));
      expect(shares.reduce((a, b) => a + b, 0)).toBe(limit);
      expect(Math.min(...shares)).toBeGreaterThanOrEqual(1);
      expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
    }
    expect(Array.from({ length: 32 }, (_, i) => shardCapacity(50, i)).slice(16, 20)).toEqual([2, 2, 1, 1]);
  });

  it('orders every shard once for a VM, starting where its id hashes to, the same on every call', () => {
    const order = shardOrder(vmOf('4242'), 50);
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 32 }, (_, i) => i));
    expect(order.slice(1)).toEqual(Array.from({ length: 31 }, (_, i) => (order[0]! + 1 + i) % 32));
    expect(shardOrder(vmOf('4242'), 50)).toEqual(order);
  });

  it('starts the order elsewhere for a rotation, the same ring', () => {
    const order = shardOrder(vmOf('4242'), 50);
    const rotated = shardOrder(vmOf('4242'), 50, 5);
    expect(rotated[0]).toBe((order[0]! + 5) % 32);
    expect([...rotated].sort((a, b) => a - b)).toEqual(Array.from({ length: 32 }, (_, i) => i));
    expect(shardOrder(vmOf('4242'), 50, 32)).toEqual(order);
  });

  it('spreads consecutive instance ids over every shard, not onto a few', () => {
    const homes = new Array<number>(32).fill(0);
    for (let i = 0n; i < 10_000n; i++) homes[shardOrder(vmOf(String(1_234_567_890_123_450_000n + i)), 100_000)[0]!]!++;
    // 312.5 per shard on average.
    expect(Math.min(...homes)).toBeGreaterThan(240);
    expect(Math.max(...homes)).toBeLessThan(390);
  });

  it('spreads a fleet over the shards, so concurrent containments write different documents', () => {
    const homes = new Map<number, number>();
    for (let i = 0; i < 3200; i++) {
      const home = shardOrder(vmOf(String(7_100_000_000_000 + i)), 100_000)[0]!;
      homes.set(home, (homes.get(home) ?? 0) + 1);
    }
    expect(homes.size).toBe(32);
    // 100 per shard on average; a poor hash puts several times that on a few.
    expect(Math.max(...homes.values())).toBeLessThan(150);
    expect(Math.min(...homes.values())).toBeGreaterThan(50);
  });
});

describe('applyBudget', () => {
  it('counts a new stop in its home shard and records the window it was counted in', () => {
    const home = shardOrder(vmOf('1'), 2)[0]!;
    const { result, claim, readAll } = applyBudget(reconciled({ instanceId: '1' }), BUDGET, homeOnly('1'), NOW);
    expect(readAll).toBeUndefined();
    expect(result.decision).toEqual(STOP);
    expect(result.record.budgetWindow).toBe('3600s-2026-11-23T09:00:00.000Z');
    expect(result.budget).toEqual(
      expect.objectContaining({ status: 'counted', limit: 2, shard: home, shards: 2, shardUsed: 1, shardCapacity: 1 }),
    );
    expect(claim).toEqual({
      index: home,
      shard: {
        windowStart: '2026-11-23T09:00:00.000Z',
        windowEnd: '2026-11-23T10:00:00.000Z',
        windowSeconds: 3600,
        shard: home,
        shards: 2,
        capacity: 1,
        count: 1,
        total: 1,
        limit: 2,
        filledAt: NOW,
        updatedAt: NOW,
      },
    });
  });

  it('asks for every shard when its home shard is full: nothing decided, nothing written yet', () => {
    const home = shardOrder(vmOf('1'), 50)[0]!;
    const r = reconciled({ instanceId: '1' });
    const applied = applyBudget(r, { ...BUDGET, limit: 50 }, seen(new Map([[home, shardAt(home, shardCapacity(50, home), 50)]])), NOW);
    expect(applied).toEqual({ result: r, readAll: true });
  });

  it('takes the slot in the next shard of its order with room, once every shard is read', () => {
    const order = shardOrder(vmOf('1'), 50);
    const shards = allShards(50, 'full');
    shards.set(order[5]!, shardAt(order[5]!, 0, 50, 3));
    shards.set(order[9]!, undefined);
    const { result, claim } = applyBudget(reconciled({ instanceId: '1' }), { ...BUDGET, limit: 50 }, seen(shards), NOW);
    expect(result.decision).toEqual(STOP);
    expect(claim).toEqual({ index: order[5]!, shard: expect.objectContaining({ count: 1, total: 4, limit: 50 }) });
  });

  it('notes when a shard fills', () => {
    const home = shardOrder(vmOf('1'), 64)[0]!;
    const { claim } = applyBudget(
      reconciled({ instanceId: '1' }),
      { ...BUDGET, limit: 64 },
      seen(new Map([[home, shardAt(home, 1, 64)]])),
      '2026-11-23T09:21:00.000Z',
    );
    expect(claim!.shard).toEqual(expect.objectContaining({ count: 2, capacity: 2, filledAt: '2026-11-23T09:21:00.000Z' }));
  });

  it('holds a stop once every shard is full: no action, the record held, nothing written to the window', () => {
    const { result, claim, readAll } = applyBudget(reconciled({ instanceId: '3' }), BUDGET, seen(allShards(2, 'full')), NOW);
    expect(readAll).toBeUndefined();
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
    expect(claim).toBeUndefined();
  });

  it('says a held suspend would have suspended', () => {
    const { result } = applyBudget(reconciled({ instanceId: '3', containment: 'suspend' }), BUDGET, seen(allShards(2, 'full')), NOW);
    expect(result.decision).toEqual({ action: 'none', reason: 'budget-exhausted', wouldHave: 'suspend' });
  });

  it('applies the configured limit, not the one recorded in the shards: raising it frees slots at once', () => {
    const { result, claim } = applyAsLedger(
      reconciled({ instanceId: '3' }),
      { ...BUDGET, limit: 3 },
      new Map([...allShards(2, 'full')].map(([i, s]) => [i, s!])),
      false,
    );
    expect(result.budget).toEqual(expect.objectContaining({ status: 'counted', limit: 3 }));
    expect(claim!.shard).toEqual(expect.objectContaining({ count: 1, shards: 3, capacity: 1, limit: 3 }));
  });

  it('applies a lowered limit to every shard: one that counted more than its new share is full', () => {
    const shards = new Map(Array.from({ length: 32 }, (_, i) => [i, shardAt(i, i < 4 ? 4 : 0, 128)] as const));
    const { result } = applyAsLedger(reconciled({ instanceId: '3' }), { ...BUDGET, limit: 4 }, shards, false);
    expect(result.budget).toEqual(expect.objectContaining({ status: 'exhausted', used: 16, limit: 4 }));
  });

  it('never counts a relearn', () => {
    const { result, claim } = applyBudget(reconciled({ instanceId: '1', proposed: RELEARN }), BUDGET, homeOnly('1'), NOW);
    expect(result.budget).toBeUndefined();
    expect(result.record.budgetWindow).toBeUndefined();
    expect(claim).toBeUndefined();
  });

  it('never counts twice a stop redelivered after it was counted, even in a full window', () => {
    const first = applyBudget(reconciled({ instanceId: '1' }), BUDGET, homeOnly('1'), NOW);
    const again = reconciled({ instanceId: '1', existing: first.result.record });
    const { result, claim, readAll } = applyBudget(again, BUDGET, seen(allShards(2, 'full'), true), NOW);
    expect(needsSlot(again)).toBe(false);
    expect(result.decision).toEqual(STOP);
    expect(result.budget).toEqual({ status: 'already-counted', windowId: '3600s-2026-11-23T09:00:00.000Z' });
    expect(claim).toBeUndefined();
    expect(readAll).toBeUndefined();
  });

  it('takes a slot for a conflict over a VM contained in an earlier window: a new containment, counted where it is decided', () => {
    const earlier = '3600s-2026-11-23T07:00:00.000Z';
    const contained = reconciled({ instanceId: '1', now: '2026-11-23T07:10:00.000Z' }).record;
    const conflict = reconciled({
      instanceId: '1',
      fingerprint: 'fp-b',
      existing: { ...contained, budgetWindow: earlier, outcome: 'done' },
    });
    expect(conflict.note).toBe('conflict');
    expect(conflict.record.budgetWindow).toBeUndefined();
    expect(needsSlot(conflict)).toBe(true);
    // The window it is decided in is full: held, not stopped on the earlier window's slot.
    const { result, claim } = applyBudget(conflict, BUDGET, seen(allShards(2, 'full')), NOW);
    expect(result.decision).toEqual(expect.objectContaining({ action: 'none', reason: 'budget-exhausted' }));
    expect(claim).toBeUndefined();
  });

  it("takes a slot for a conflict, enforcing, over a dry run's counted stop, and records it as enforced", () => {
    const dryRun = applyBudget(reconciled({ instanceId: '1', dryRun: true }), BUDGET, homeOnly('1'), NOW).result.record;
    expect(dryRun).toEqual(expect.objectContaining({ dryRun: true, budgetWindow: '3600s-2026-11-23T09:00:00.000Z' }));
    const conflict = reconciled({ instanceId: '1', fingerprint: 'fp-b', existing: { ...dryRun, outcome: 'done' } });
    expect(conflict.record.dryRun).toBeUndefined();
    expect(needsSlot(conflict)).toBe(true);
    // Its marker in the window is the dry run's: it takes no second slot there, and stops.
    expect(applyBudget(conflict, BUDGET, seen(new Map(), true), NOW).result.decision).toEqual(
      expect.objectContaining({ action: 'stop', reason: 'conflicting-reports' }),
    );
  });

  it("takes a slot, enforcing, for a dry run's counted stop that never completed: a full window holds it", () => {
    const earlier = '3600s-2026-11-23T07:00:00.000Z';
    const dryRun = { ...reconciled({ instanceId: '1', dryRun: true }).record, budgetWindow: earlier };
    expect(dryRun.outcome).toBe('pending');
    const again = reconciled({ instanceId: '1', existing: dryRun });
    expect(again.record.budgetWindow).toBeUndefined();
    expect(needsSlot(again)).toBe(true);
    const { result } = applyBudget(again, BUDGET, seen(allShards(2, 'full')), NOW);
    expect(result.decision).toEqual(expect.objectContaining({ action: 'none', reason: 'budget-exhausted' }));
  });

  it('keeps the slot of a stop still in progress when a conflicting report arrives, in any window', () => {
    const earlier = '3600s-2026-11-23T07:00:00.000Z';
    const pending = { ...reconciled({ instanceId: '1' }).record, budgetWindow: earlier };
    const conflict = reconciled({ instanceId: '1', fingerprint: 'fp-b', existing: pending });
    expect(needsSlot(conflict)).toBe(false);
    expect(applyBudget(conflict, BUDGET, undefined, NOW).result.budget).toEqual({ status: 'already-counted', windowId: earlier });
  });

  it('takes no slot for another boot of a VM counted in the window: its marker says so', () => {
    const { result, claim } = applyBudget(reconciled({ instanceId: '1', bootCounter: '8' }), BUDGET, seen(new Map(), true), NOW);
    expect(result.decision).toEqual(STOP);
    expect(result.record.budgetWindow).toBe('3600s-2026-11-23T09:00:00.000Z');
    expect(result.budget).toEqual({ status: 'already-counted', windowId: '3600s-2026-11-23T09:00:00.000Z' });
    expect(claim).toBeUndefined();
  });

  it('takes no slot for a stop already done', () => {
    const first = applyBudget(reconciled({ instanceId: '1' }), BUDGET, homeOnly('1'), NOW).result;
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
    const held = applyBudget(reconciled({ instanceId: '3' }), BUDGET, seen(allShards(2, 'full')), NOW).result;
    const later = '2026-11-23T10:00:01.000Z';
    // The next window's shards do not exist yet: the held stop is decided again and counted there.
    const again = reconciled({ instanceId: '3', existing: held.record, now: later });
    const { result, claim } = applyBudget(again, BUDGET, homeOnly('3'), later);
    expect(result.decision).toEqual(STOP);
    expect(result.record).toEqual(
      expect.objectContaining({ outcome: 'pending', budgetWindow: '3600s-2026-11-23T10:00:00.000Z', heldSince: NOW }),
    );
    expect(claim!.shard).toEqual(expect.objectContaining({ count: 1, windowStart: '2026-11-23T10:00:00.000Z' }));
  });

  it('counts again after an operator reset the shards (count 0), keeping their totals', () => {
    const home = shardOrder(vmOf('3'), 2)[0]!;
    const cleared = shardAt(home, 0, 2, 1);
    const { claim } = applyBudget(reconciled({ instanceId: '3' }), BUDGET, seen(new Map([[home, cleared]])), NOW);
    expect(claim!.shard).toEqual(expect.objectContaining({ count: 1, total: 2 }));
  });
});

/**
 * A model of the ledger's commits (ADR 0016, ADR 0033): documents with versions; a report's
 * handling reads some of them, and commits its writes only if every document it writes is still
 * at the version it read (missing ones still missing), else starts over from the reads.
 */
class VersionedStore {
  private readonly docs = new Map<string, { readonly data: unknown; readonly version: number }>();
  private clock = 0;
  /** Commits, and how many of them applied. */
  commits = 0;
  applied = 0;

  read<T>(path: string): { readonly data: T | undefined; readonly version: number } {
    const d = this.docs.get(path);
    return { data: d?.data as T | undefined, version: d?.version ?? 0 };
  }

  commit(writes: ReadonlyArray<{ readonly path: string; readonly asRead: number; readonly data: unknown }>): boolean {
    this.commits++;
    if (writes.some((w) => this.read(w.path).version !== w.asRead)) return false;
    this.clock++;
    for (const w of writes) this.docs.set(w.path, { data: w.data, version: this.clock });
    this.applied++;
    return true;
  }

  shards(limit: number): Map<number, BudgetShard> {
    const out = new Map<number, BudgetShard>();
    for (let i = 0; i < BUDGET_SHARDS; i++) {
      const s = this.read<BudgetShard>(`shard/${i}`).data;
      if (s !== undefined) out.set(i, s);
    }
    expect([...out.keys()].every((i) => i < shardCount(limit))).toBe(true);
    return out;
  }
}

/**
 * One delivery of a failed report about (`vm`, `boot`), handled as FirestoreDecisionLedger.record
 * handles it, one step at a time: read the record, the VM's marker and its home shard; apply the
 * budget; if asked, read every shard and apply it again; commit.
 */
class Delivery {
  private reads = new Map<string, number>();
  private pending?: { readonly applied: Applied; readonly writes: Array<{ path: string; asRead: number; data: unknown }> };
  private phase: 'read' | 'read-all' | 'commit' | 'done' = 'read';
  private reconciledNow?: Reconciled;
  private view?: BudgetView;
  outcome?: Applied['result'];
  attempts = 0;
  private rotation = 0;

  constructor(
    private readonly store: VersionedStore,
    private readonly budget: ActionBudget & { readonly limit: number },
    readonly vm: string,
    readonly boot: string,
  ) {}

  get done(): boolean {
    return this.phase === 'done';
  }

  private readDoc<T>(path: string): T | undefined {
    const { data, version } = this.store.read<T>(path);
    this.reads.set(path, version);
    return data;
  }

  /** Takes the next step; false once done. */
  step(): boolean {
    switch (this.phase) {
      case 'done':
        return false;
      case 'read': {
        this.attempts++;
        this.reads = new Map();
        const existing = this.readDoc<LedgerRecord>(`record/${this.vm}/${this.boot}`);
        const marker = this.readDoc<object>(`marker/${this.vm}`);
        // A retry starts elsewhere, as the ledger's does (there at random; any start must do).
        this.rotation = this.attempts === 1 ? 0 : (this.attempts * 7 + this.vm.length) % BUDGET_SHARDS;
        const home = shardOrder(vmOf(this.vm), this.budget.limit, this.rotation)[0]!;
        this.reconciledNow = reconciled({
          instanceId: this.vm,
          bootCounter: this.boot,
          messageId: `msg-${this.vm}-${this.boot}`,
          ...(existing && { existing }),
        });
        this.view = {
          ...seen(new Map([[home, this.readDoc<BudgetShard>(`shard/${home}`)]]), marker !== undefined),
          rotation: this.rotation,
        };
        return this.decide();
      }
      case 'read-all': {
        const order = shardOrder(vmOf(this.vm), this.budget.limit, this.rotation);
        const all = new Map(order.map((i) => [i, this.readDoc<BudgetShard>(`shard/${i}`)] as const));
        this.view = { ...seen(all, this.view!.vmCounted), rotation: this.rotation };
        return this.decide();
      }
      case 'commit': {
        const { applied, writes } = this.pending!;
        if (this.store.commit(writes)) {
          this.outcome = applied.result;
          this.phase = 'done';
        } else this.phase = 'read';
        return true;
      }
    }
  }

  private decide(): boolean {
    const applied = applyBudget(this.reconciledNow!, this.budget, this.view, NOW);
    if (applied.readAll) {
      this.phase = 'read-all';
      return true;
    }
    const asRead = (path: string) => this.reads.get(path) ?? 0;
    const recordPath = `record/${this.vm}/${this.boot}`;
    const writes = [{ path: recordPath, asRead: asRead(recordPath), data: applied.result.record as unknown }];
    if (applied.claim !== undefined) {
      const shardPath = `shard/${applied.claim.index}`;
      writes.push({ path: shardPath, asRead: asRead(shardPath), data: applied.claim.shard });
      writes.push({ path: `marker/${this.vm}`, asRead: asRead(`marker/${this.vm}`), data: { countedAt: NOW } });
    }
    this.pending = { applied, writes };
    this.phase = 'commit';
    return true;
  }
}

describe('the action budget, as a property', () => {
  it(`never counts more than the limit in a window, whatever the order of deliveries and redeliveries (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 48 }), fc.boolean()), { minLength: 1, maxLength: 80 }),
        (limit, deliveries) => {
          const records = new Map<string, LedgerRecord>();
          const shards = new Map<number, BudgetShard>();
          const markers = new Set<string>();
          const acted = new Set<string>();
          for (const [vm, finishes] of deliveries) {
            const id = String(vm);
            const existing = records.get(id);
            const { result, claim } = applyAsLedger(
              reconciled({ instanceId: id, ...(existing && { existing }) }),
              { limit, windowSeconds: 3600 },
              shards,
              markers.has(id),
            );
            if (claim !== undefined) {
              shards.set(claim.index, claim.shard);
              markers.add(id);
            }
            records.set(id, finishes && result.decision.action === 'stop' ? { ...result.record, outcome: 'done' } : result.record);
            if (result.decision.action === 'stop') acted.add(id);
          }
          const counted = [...shards.values()].reduce((sum, s) => sum + s.count, 0);
          expect(counted).toBeLessThanOrEqual(limit);
          expect(acted.size).toBeLessThanOrEqual(limit);
          // Every VM acted on took exactly one slot; and the window fills before any VM is held.
          expect(counted).toBe(acted.size);
          expect(counted).toBe(Math.min(limit, new Set(deliveries.map(([vm]) => vm)).size));
          for (const [i, s] of shards) expect(s.count).toBeLessThanOrEqual(shardCapacity(limit, i));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it(`counts exactly min(limit, VMs), each VM once, under any interleaving of concurrent deliveries (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        // Deliveries in flight at once: (VM, boot). Repeats are redeliveries; other boots of a VM are other reports.
        fc.array(fc.tuple(fc.integer({ min: 1, max: 48 }), fc.constantFrom('7', '8')), { minLength: 1, maxLength: 60 }),
        // Which delivery takes the next step, as long as the schedule lasts; then round the ring.
        fc.array(fc.nat(), { maxLength: 600 }),
        (limit, reports, schedule) => {
          const store = new VersionedStore();
          const budget = { limit, windowSeconds: 3600 };
          const deliveries = reports.map(([vm, boot]) => new Delivery(store, budget, String(vm), boot));
          for (const pick of schedule) deliveries[pick % deliveries.length]!.step();
          for (let guard = 0; deliveries.some((d) => !d.done); guard++) {
            expect(guard).toBeLessThan(10_000);
            for (const d of deliveries) d.step();
          }
          const shards = store.shards(limit);
          const counted = [...shards.values()].reduce((sum, s) => sum + s.count, 0);
          const countedVms = deliveries.filter((d) => d.outcome!.budget?.status === 'counted').map((d) => d.vm);
          const vms = new Set(reports.map(([vm]) => String(vm)));
          expect(new Set(countedVms).size).toBe(countedVms.length);
          expect(counted).toBe(countedVms.length);
          expect(counted).toBe(Math.min(limit, vms.size));
          for (const [i, s] of shards) expect(s.count).toBeLessThanOrEqual(shardCapacity(limit, i));
          // A delivery was held only with every shard full, so only once the limit was reached.
          const held = deliveries.filter((d) => d.outcome!.budget?.status === 'exhausted');
          if (held.length > 0) expect(counted).toBe(limit);
          expect(held.every((d) => (d.outcome!.budget as { used: number }).used === limit)).toBe(true);
          // A VM acted on is one that was counted (in this delivery or an earlier one).
          const acted = new Set(deliveries.filter((d) => d.outcome!.decision.action === 'stop').map((d) => d.vm));
          expect([...acted].every((vm) => countedVms.includes(vm))).toBe(true);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
