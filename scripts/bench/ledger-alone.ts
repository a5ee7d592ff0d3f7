// The storm budget section's pass over the decision ledger alone: FirestoreDecisionLedger.record
// driven directly, with as many records in flight as the recommended deployment has events in
// flight (instances × concurrency), every record a stop about a VM of its own, so that distinct
// VMs race for the same shard documents of the action budget's window (ADR 0033). No function
// process, no Compute API: the ledger's calls only, over gRPC to the Firestore emulator.

import { AsyncLocalStorage } from 'node:async_hooks';
import { randomInt } from 'node:crypto';
import type { Firestore, WriteBatch } from '@google-cloud/firestore';
import { FirestoreDecisionLedger, lostRace } from '../../function/adapters/firestore-ledger';
import { ActionBudget, BudgetShard, budgetWindow, shardCapacity } from '../../function/core/budget';
import type { IntegrityReport } from '../../function/core/parse';
import { requestIdFor } from '../../function/core/request-id';
import { BUDGET_INSTANCES_SUBCOLLECTION, BUDGET_SHARDS_SUBCOLLECTION, LEDGER_BUDGET_COLLECTION, SETTINGS } from '../../function/contract';
import { createFirestore } from '../../function/runtime/clients';
import { percentile } from './load';
import { Verdict, missesText } from './verdicts';

/** The window every cell counts in: an hour, as the storm's cells. */
const WINDOW_SECONDS = 3600;
/** A limit no pass of the bench reaches: the largest `maxActionsPerWindow` takes. */
export const NEVER_REACHED = SETTINGS.maxActionsPerWindow.max;
const ZONE = 'europe-west1-b';

/** How the pass runs. */
export interface LedgerAlonePlan {
  /** Distinct VMs per cell, one record each. */
  readonly vms: number;
  /** Records in flight: a pool of this many workers, each calling record() again when its last call ends. */
  readonly inFlight: number;
  /** The deployment `inFlight` stands for: its instances, and the events in flight in each. */
  readonly instances: number;
  readonly concurrency: number;
  readonly rounds: number;
  /** Records of a throwaway database before the first cell, not reported: the client's gRPC stack loads and the emulator warms. */
  readonly warmup: number;
}

/** One setting of the budget the cells run with. */
export interface LedgerSetting {
  readonly label: string;
  readonly limit: number | 'unlimited';
}

/** What one cell measured, and what the audit read of its window found. */
export interface LedgerCell {
  readonly setting: LedgerSetting;
  readonly round: number;
  readonly vms: number;
  readonly inFlight: number;
  /** A failure of the cell itself (the emulator, the audit), not of a record. */
  readonly failure?: string;
  readonly recordsPerSecond?: number;
  /** One record() call, ms. */
  readonly p50?: number;
  readonly p99?: number;
  /** Records whose budget note says counted, exhausted (held), or anything else (already counted, none). */
  readonly counted?: number;
  readonly held?: number;
  readonly other?: number;
  /** record() calls that threw, and their distinct messages with how many times each. */
  readonly failed?: number;
  readonly errors?: ReadonlyMap<string, number>;
  /** Commits the emulator refused because another writer got there first (each one a retry, or a failure at the last attempt). */
  readonly lostRaces?: number;
  /** The most commits one record() call made. */
  readonly mostCommits?: number;
  /** The audit: the window's shard documents, the sum of their counts, its markers, the shards over their capacity. */
  readonly shards?: number;
  readonly countSum?: number;
  readonly markers?: number;
  readonly overCapacity?: readonly string[];
}

/** What the pass measured. */
export interface LedgerAloneFigures extends LedgerAlonePlan {
  /** The Node.js the pass ran on (the bench's own process). */
  readonly node: string;
  readonly cells: readonly LedgerCell[];
}

/** The three settings: off, on and not reached, on and reached halfway through the VMs. */
export function ledgerSettings(vms: number): LedgerSetting[] {
  return [
    { label: 'off (unlimited)', limit: 'unlimited' },
    { label: 'on, not reached', limit: NEVER_REACHED },
    { label: 'on, reached', limit: Math.floor(vms / 2) },
  ];
}

/** What the window must hold after a cell: nothing with the budget off, else one slot per VM up to the limit. */
export const expectedCount = (s: LedgerSetting, vms: number) => (s.limit === 'unlimited' ? 0 : Math.min(s.limit, vms));

/** A random 19-digit instance id (Compute's ids are 64-bit unsigned: up to 20 digits). */
function instanceId(): string {
  return `${randomInt(1, 10)}${String(randomInt(0, 1e9)).padStart(9, '0')}${String(randomInt(0, 1e9)).padStart(9, '0')}`;
}

/** `count` distinct random instance ids. */
function instanceIds(count: number): string[] {
  const ids = new Set<string>();
  while (ids.size < count) ids.add(instanceId());
  return [...ids];
}

/** A failed late-boot report about one VM. */
function report(projectId: string, id: string, at: string): IntegrityReport {
  return {
    kind: 'lateBoot',
    passed: false,
    actualMeasurements: [{ pcr: 0, value: `unknown-${id}` }],
    instance: { projectId, zone: ZONE, id },
    bootCounter: '2',
    timestamp: at,
  };
}

/** Commits of one record() call: made, and refused because another writer got there first. */
interface Commits {
  made: number;
  lost: number;
}

/**
 * The client as the ledger gets it, with each batch's commit counted for the record() call it
 * belongs to: the calls themselves go to the client unchanged.
 */
function observed(db: Firestore, commits: AsyncLocalStorage<Commits>): Firestore {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'batch') {
        return (): WriteBatch => {
          const batch = target.batch();
          const commit = batch.commit.bind(batch);
          batch.commit = async () => {
            const mine = commits.getStore();
            if (mine) mine.made++;
            try {
              return await commit();
            } catch (e) {
              if (mine && lostRace(e)) mine.lost++;
              throw e;
            }
          };
          return batch;
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * An error's message as a row of the error list: its first line, shortened, with long numbers
 * (the emulator's document versions) left out so that one kind of failure is one row.
 */
const errorText = (e: unknown) =>
  (e instanceof Error ? e.message : String(e))
    .split('\n')[0]!
    .replace(/\d{6,}/g, '…')
    .slice(0, 200);

/**
 * One cell: a fresh database, `vms` records at `inFlight` in flight, then the audit read of
 * the window. The ledger's clock is the real one, held inside the window the cell began in, so
 * that a cell running across the hour still counts in one window.
 */
async function runLedgerCell(options: {
  readonly projectId: string;
  readonly database: string;
  readonly setting: LedgerSetting;
  readonly vms: number;
  readonly inFlight: number;
  readonly round: number;
}): Promise<LedgerCell> {
  const { setting, vms, inFlight, round } = options;
  const base = { setting, round, vms, inFlight };
  const db = await createFirestore({ firestoreDatabase: options.database, projectId: options.projectId }, 'grpc');
  try {
    const window = budgetWindow(Date.now(), WINDOW_SECONDS);
    const windowEnd = Date.parse(window.end) - 1;
    const clock = () => new Date(Math.min(Date.now(), windowEnd));
    const commits = new AsyncLocalStorage<Commits>();
    const ledger = new FirestoreDecisionLedger(async () => observed(db, commits), { clock });
    const budget: ActionBudget = { limit: setting.limit, windowSeconds: WINDOW_SECONDS };
    const ids = instanceIds(vms);
    // The client opens its channel before the clock starts.
    await db.collection(LEDGER_BUDGET_COLLECTION).doc(window.id).get();

    const latencies: number[] = [];
    const errors = new Map<string, number>();
    let counted = 0;
    let held = 0;
    let other = 0;
    let lostRaces = 0;
    let mostCommits = 0;
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < vms; i = next++) {
        const id = ids[i]!;
        const mine: Commits = { made: 0, lost: 0 };
        const t = performance.now();
        try {
          const r = await commits.run(mine, () =>
            ledger.record(
              {
                report: report(options.projectId, id, clock().toISOString()),
                proposed: { action: 'stop', reason: 'not-known-good' },
                fingerprint: `bench-${id}`,
                requestIdFor: (action) => requestIdFor(`${options.database}-${i}`, action),
              },
              budget,
            ),
          );
          if (r.budget?.status === 'counted') counted++;
          else if (r.budget?.status === 'exhausted') held++;
          else if (setting.limit !== 'unlimited') other++;
        } catch (e) {
          errors.set(errorText(e), (errors.get(errorText(e)) ?? 0) + 1);
        }
        latencies.push(performance.now() - t);
        lostRaces += mine.lost;
        mostCommits = Math.max(mostCommits, mine.made);
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: inFlight }, worker));
    const elapsedMs = performance.now() - started;

    // The audit: the window as it stands once every call has ended.
    const windowRef = db.collection(LEDGER_BUDGET_COLLECTION).doc(window.id);
    const [shardDocs, markerDocs] = await Promise.all([
      windowRef.collection(BUDGET_SHARDS_SUBCOLLECTION).get(),
      windowRef.collection(BUDGET_INSTANCES_SUBCOLLECTION).select().get(),
    ]);
    const shards = shardDocs.docs.map((d) => ({ id: d.id, shard: d.data() as BudgetShard }));
    const overCapacity =
      setting.limit === 'unlimited'
        ? shards.map((s) => `shard ${s.id} written with the budget off`)
        : shards
            .filter((s) => s.shard.count > shardCapacity(setting.limit as number, Number(s.id)))
            .map((s) => `shard ${s.id}: ${s.shard.count} > ${shardCapacity(setting.limit as number, Number(s.id))}`);
    return {
      ...base,
      recordsPerSecond: vms / (elapsedMs / 1000),
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      counted,
      held,
      other,
      failed: [...errors.values()].reduce((a, b) => a + b, 0),
      errors,
      lostRaces,
      mostCommits,
      shards: shards.length,
      countSum: shards.reduce((sum, s) => sum + s.shard.count, 0),
      markers: markerDocs.size,
      overCapacity,
    };
  } catch (e) {
    return { ...base, failure: errorText(e) };
  } finally {
    await db.terminate();
  }
}

/**
 * The pass: a warm-up in a throwaway database, then the three settings in turn, `rounds` times,
 * each cell a database of its own. `emulatorHost` is where the client goes (straight to the
 * emulator, not through the storm's counting proxy). Each cell is passed to `onCell` as it ends.
 */
export async function ledgerAlonePass(options: {
  readonly emulatorHost: string;
  readonly projectId: string;
  readonly plan: LedgerAlonePlan;
  readonly onCell: (cell: LedgerCell) => void;
}): Promise<LedgerAloneFigures> {
  const { plan, projectId } = options;
  const previous = process.env.FIRESTORE_EMULATOR_HOST;
  process.env.FIRESTORE_EMULATOR_HOST = options.emulatorHost;
  const cells: LedgerCell[] = [];
  try {
    await runLedgerCell({
      projectId,
      database: 'bench-ledger-alone-warmup',
      setting: { label: 'warm-up', limit: NEVER_REACHED },
      vms: plan.warmup,
      inFlight: plan.inFlight,
      round: 0,
    });
    for (let round = 1; round <= plan.rounds; round++) {
      for (const [k, setting] of ledgerSettings(plan.vms).entries()) {
        const cell = await runLedgerCell({
          projectId,
          database: `bench-ledger-alone-r${round}-${k}`,
          setting,
          vms: plan.vms,
          inFlight: plan.inFlight,
          round,
        });
        cells.push(cell);
        options.onCell(cell);
      }
    }
  } finally {
    if (previous === undefined) delete process.env.FIRESTORE_EMULATOR_HOST;
    else process.env.FIRESTORE_EMULATOR_HOST = previous;
  }
  return { ...plan, node: process.version, cells };
}

// The table, printed and in the report.

export const LEDGER_COLUMNS: ReadonlyArray<readonly [string, number]> = [
  ['budget', 16],
  ['limit', 7],
  ['round', 5],
  ['VMs', 4],
  ['rec/s', 6],
  ['÷ off', 6],
  ['p50 ms', 6],
  ['p99 ms', 6],
  ['counted', 7],
  ['held', 4],
  ['failed', 6],
  ['lost races', 10],
  ['most commits', 12],
  ['Σ count', 7],
  ['markers', 7],
  ['over capacity', 13],
];

/** The targets, by column: no failed record in any cell; the window counts exactly what it must and no shard more than its share. */
export const LEDGER_TARGETS: readonly string[] = [
  'target',
  '-',
  '-',
  '-',
  '-',
  '-',
  '-',
  '-',
  '= min(limit, VMs) (on)',
  '= VMs − limit (reached), 0 (not reached)',
  '0',
  '-',
  '-',
  '= counted',
  '= counted',
  'none',
];

const fixed = (x: number | undefined, digits: number) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(digits));

/** The cell of the same round with the budget off. */
function offOf(cell: LedgerCell, cells: readonly LedgerCell[]): LedgerCell | undefined {
  return cells.find((c) => c.round === cell.round && c.setting.limit === 'unlimited');
}

/** One cell's values, one per column of {@link LEDGER_COLUMNS}. */
export function ledgerValues(c: LedgerCell, cells: readonly LedgerCell[]): string[] {
  const limit = c.setting.limit === 'unlimited' ? 'none' : c.setting.limit.toLocaleString('en');
  const lead = [c.setting.label, limit, String(c.round), c.vms.toLocaleString('en')];
  if (c.failure !== undefined) return [...lead, `failed: ${c.failure}`, ...LEDGER_COLUMNS.slice(lead.length + 1).map(() => '-')];
  const off = offOf(c, cells);
  const ratio =
    off?.recordsPerSecond === undefined || c.recordsPerSecond === undefined
      ? '-'
      : `${(c.recordsPerSecond / off.recordsPerSecond).toFixed(2)}×`;
  return [
    ...lead,
    fixed(c.recordsPerSecond, 0),
    ratio,
    fixed(c.p50, 0),
    fixed(c.p99, 0),
    String(c.counted ?? '-'),
    String(c.held ?? '-'),
    String(c.failed ?? '-'),
    String(c.lostRaces ?? '-'),
    String(c.mostCommits ?? '-'),
    String(c.countSum ?? '-'),
    String(c.markers ?? '-'),
    c.overCapacity === undefined ? '-' : c.overCapacity.length === 0 ? 'none' : String(c.overCapacity.length),
  ];
}

/** One target of the table: which cells it applies to, and where a measured cell misses it. */
interface LedgerTarget {
  readonly target: string;
  /** The cells it applies to, in words ("cells", "cells with the budget on"). */
  readonly cells: string;
  readonly applies: (c: LedgerCell) => boolean;
  /** Where a cell that ran misses it, in words; empty when it meets it. */
  readonly misses: (c: LedgerCell, expected: number) => string[];
}

const on = (c: LedgerCell) => c.setting.limit !== 'unlimited';

/** The targets of {@link LEDGER_TARGETS}, as checks. */
const TARGET_CHECKS: readonly LedgerTarget[] = [
  {
    target: 'failed record() calls = 0',
    cells: 'cells',
    applies: () => true,
    misses: (c) => ((c.failed ?? 0) > 0 ? [`${c.failed} record() call${c.failed === 1 ? '' : 's'} failed`] : []),
  },
  {
    target: 'counted = min(limit, VMs) with the budget on',
    cells: 'cells with the budget on',
    applies: on,
    misses: (c, expected) => [
      ...(c.counted !== expected ? [`${c.counted} counted, not ${expected}`] : []),
      ...((c.other ?? 0) > 0 ? [`${c.other} records neither counted nor held`] : []),
    ],
  },
  {
    target: 'held = VMs − limit (reached), 0 (not reached)',
    cells: 'cells with the budget on',
    applies: on,
    misses: (c, expected) => (c.held !== c.vms - expected ? [`${c.held} held, not ${c.vms - expected}`] : []),
  },
  {
    target: "the shards' Σ count = min(limit, VMs), 0 with the budget off",
    cells: 'cells',
    applies: () => true,
    misses: (c, expected) => (c.countSum !== expected ? [`the shards count ${c.countSum}, not ${expected}`] : []),
  },
  {
    target: 'markers = min(limit, VMs), 0 with the budget off',
    cells: 'cells',
    applies: () => true,
    misses: (c, expected) => (c.markers !== expected ? [`${c.markers} markers, not ${expected}`] : []),
  },
  {
    target: 'no shard over its share of the limit (none written with the budget off)',
    cells: 'cells',
    applies: () => true,
    misses: (c) => [...(c.overCapacity ?? [])],
  },
];

/** Where a cell misses its targets, in words; empty when it meets them all. */
export function ledgerMisses(c: LedgerCell): string[] {
  if (c.failure !== undefined) return [`the cell failed: ${c.failure}`];
  const expected = expectedCount(c.setting, c.vms);
  return TARGET_CHECKS.filter((t) => t.applies(c)).flatMap((t) => t.misses(c, expected));
}

/** For each target of the table, whether every cell it applies to met it. */
export function ledgerVerdicts(cells: readonly LedgerCell[]): Verdict[] {
  return TARGET_CHECKS.map((t) => {
    const judged = cells.filter(t.applies);
    const misses = judged.flatMap((c) => {
      const at = `${c.setting.label}, round ${c.round}`;
      if (c.failure !== undefined) return [`${at}: the cell failed`];
      return t.misses(c, expectedCount(c.setting, c.vms)).map((m) => `${at}: ${m}`);
    });
    if (judged.length === 0) return { target: t.target, met: false, detail: 'no cell ran' };
    return misses.length === 0
      ? { target: t.target, met: true, detail: `in all ${judged.length} ${t.cells}` }
      : { target: t.target, met: false, detail: missesText(misses) };
  });
}

/** Lines under the table: each cell's errors and misses. */
export function ledgerDetails(cells: readonly LedgerCell[]): string[] {
  return cells.flatMap((c) => {
    const at = `${c.setting.label}, round ${c.round}`;
    return [...[...(c.errors ?? [])].map(([what, n]) => `${at}: ${n} × ${what}`), ...ledgerMisses(c).map((m) => `${at}: ${m}`)];
  });
}

/** What the columns mean, under the table. */
export const LEDGER_NOTE =
  'rec/s: records per second, every VM recorded once; ÷ off: over the budget-off cell of the same round (no target: the ' +
  'ledger alone, not an event); p50, p99: one record() call; counted, held: records the budget counted, and held for want of a ' +
  'slot; failed: record() calls that threw (the event would have failed and been redelivered); lost races: commits refused ' +
  "because another writer got there first, each one a retry (or, at the ledger's last attempt, the failure); most commits: the " +
  'most one record() call made; Σ count, markers, over capacity: the audit read of the window after the pass, the sum of its ' +
  "shards' count, its VM markers, and the shards whose count exceeds their share of the limit (shardCapacity)";
