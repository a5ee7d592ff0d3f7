import type { Firestore, Timestamp } from '@google-cloud/firestore';
import { FirestoreDecisionLedger } from '../../../function/adapters/firestore-ledger';
import { createFirestore } from '../../../function/runtime/clients';
import { BudgetShard, budgetWindow, shardCapacity, shardCount } from '../../../function/core/budget';
import {
  BUDGET_INSTANCES_SUBCOLLECTION,
  BUDGET_SHARDS_SUBCOLLECTION,
  LEDGER_BUDGET_COLLECTION,
  LEDGER_DECISIONS_COLLECTION,
  LEDGER_INSTANCES_COLLECTION,
} from '../../../function/contract';
import { requestIdFor } from '../../../function/core/request-id';
import { LedgerRecord, instanceDocumentId, ledgerDocumentId, ledgerKey } from '../../../function/core/ledger';
import type { IntegrityReport } from '../../../function/core/parse';
import { RunningEmulator, useFirestoreEmulator } from '../../../testkit/emulators';
import { describeWithEmulators } from '../../support/emulator-suite';

// The ledger's transaction on the real Firestore emulator (over gRPC: Jest's sandbox stalls the
// REST transport; the shipped bundle's REST path runs end to end outside Jest).
let emulator: RunningEmulator;
let db: Firestore;
let instances = 0;

const RELEARN = { action: 'relearn', reason: 'known-good', baselineId: 'baseline1' } as const;
const STOP = { action: 'stop', reason: 'not-known-good' } as const;

/** A failed late-boot report about a fresh instance id (one per test). */
function reportFor(id: string, bootCounter = '7'): IntegrityReport {
  return {
    kind: 'lateBoot',
    passed: false,
    actualMeasurements: [{ pcr: 0, value: 'v' }],
    instance: { projectId: 'demo-responder', zone: 'europe-west1-b', id },
    bootCounter,
    timestamp: '2026-11-20T10:00:00.000Z',
  };
}

/** The ledger document of a report, as stored. */
async function storedRecord(report: IntegrityReport): Promise<LedgerRecord | undefined> {
  const doc = await db
    .collection(LEDGER_DECISIONS_COLLECTION)
    .doc(ledgerDocumentId(ledgerKey(report)))
    .get();
  return doc.data() as LedgerRecord | undefined;
}

/** The adapter's spelling of an update time. */
const versionOf = (t: Timestamp) => `${t.seconds}.${String(t.nanoseconds).padStart(9, '0')}`;

const freshId = () => String(5_000_000_000 + ++instances);

describeWithEmulators('FirestoreDecisionLedger on the Firestore emulator', () => {
  let ledger: FirestoreDecisionLedger;

  beforeAll(async () => {
    emulator = await useFirestoreEmulator();
    process.env.FIRESTORE_EMULATOR_HOST = emulator.host;
    process.env.METADATA_SERVER_DETECTION = 'none';
    db = await createFirestore({ projectId: 'demo-responder', firestoreDatabase: 'integrity-responder-decisions' }, 'grpc');
    ledger = new FirestoreDecisionLedger(async () => db, { clock: () => new Date('2026-11-20T10:00:05.000Z') });
  }, 60_000);

  afterAll(async () => {
    await db?.terminate();
    await emulator?.stop();
    delete process.env.FIRESTORE_EMULATOR_HOST;
  });

  const record = (report: IntegrityReport, fingerprint: string, proposed: typeof RELEARN | typeof STOP, messageId: string) =>
    ledger.record({ report, proposed, fingerprint, requestIdFor: (a) => requestIdFor(messageId, a) });

  it('writes the record and the newest boot of the instance', async () => {
    const report = reportFor(freshId());
    const r = await record(report, 'fp-a', RELEARN, 'msg-a');
    expect(r).toEqual(expect.objectContaining({ note: 'new', decision: RELEARN, requestId: requestIdFor('msg-a', 'relearn') }));
    const stored = await db
      .collection(LEDGER_DECISIONS_COLLECTION)
      .doc(ledgerDocumentId(ledgerKey(report)))
      .get();
    expect(stored.data()).toEqual({
      instanceId: report.instance.id,
      projectId: 'demo-responder',
      zone: 'europe-west1-b',
      bootCounter: '7',
      kind: 'lateBoot',
      fingerprints: ['fp-a'],
      decision: RELEARN,
      requestId: requestIdFor('msg-a', 'relearn'),
      outcome: 'pending',
      conflict: false,
      recordedAt: '2026-11-20T10:00:05.000Z',
    });
    const head = await db
      .collection(LEDGER_INSTANCES_COLLECTION)
      .doc(instanceDocumentId(ledgerKey(report)))
      .get();
    expect(head.data()).toEqual(expect.objectContaining({ newestBoot: '7' }));
  });

  describe('the containment playbook (ADR 0031)', () => {
    const evidence = (deviceName: string) => ({
      deviceName,
      disk: `projects/demo-responder/zones/europe-west1-b/disks/${deviceName}`,
      snapshot: `projects/forensics/global/snapshots/ivm-${deviceName}`,
      at: '2026-11-20T10:00:06.000Z',
    });

    it('records each step once, for the request id it holds, and never replaces a step recorded', async () => {
      const report = reportFor(freshId());
      const key = ledgerKey(report);
      const r = await ledger.record({
        report,
        proposed: STOP,
        fingerprint: 'fp',
        requestIdFor: (a) => requestIdFor('msg-p', a),
        playbook: ['snapshot', 'quarantine'],
      });
      expect((await storedRecord(report))!.decision).toEqual({ ...STOP, playbook: ['snapshot', 'quarantine'] });
      await ledger.noteSteps(key, r.requestId, { snapshot: { snapshots: [evidence('boot')], done: false } });
      // A second delivery reporting the same disk adds nothing; another disk is added.
      await ledger.noteSteps(key, r.requestId, { snapshot: { snapshots: [evidence('boot'), evidence('data')], done: false } });
      await ledger.noteSteps(key, r.requestId, { snapshot: { snapshots: [], done: true, skipped: ['local-ssd-0'], at: 'T1' } });
      const quarantine = { tagValue: 'tagValues/1', binding: 'tagBindings/x', at: 'T2' };
      await ledger.noteSteps(key, r.requestId, { quarantine });
      const steps = await ledger.noteSteps(key, r.requestId, { quarantine: { ...quarantine, binding: 'tagBindings/other' } });
      expect(steps).toEqual({
        snapshot: { snapshots: [evidence('boot'), evidence('data')], done: true, skipped: ['local-ssd-0'], at: 'T1' },
        quarantine,
      });
      expect((await storedRecord(report))!.steps).toEqual(steps);
      // Another request id (a conflict replaced the action) writes nothing.
      await ledger.noteSteps(key, 'another-request', { finding: { name: 'f', at: 'T3' } });
      expect((await storedRecord(report))!.steps?.finding).toBeUndefined();
    });

    it("writes the containment's summary on the instance, replacing an earlier one whole, and notes its finding inactive once", async () => {
      const id = freshId();
      const summary = (boot: string, finding: string) => ({
        state: 'contained' as const,
        record: `demo-responder~europe-west1-b~${id}-${boot}-lateBoot`,
        bootCounter: boot,
        reason: 'not-known-good',
        containment: 'stop' as const,
        playbook: ['snapshot' as const],
        snapshots: ['projects/forensics/global/snapshots/a'],
        finding,
        containedAt: '2026-11-20T10:00:07.000Z',
      });
      const first = reportFor(id, '7');
      const r1 = await record(first, 'fp', STOP, 'msg-s1');
      await ledger.complete(ledgerKey(first), r1.requestId, { status: 'DONE', containment: summary('7', 'f7') });
      expect(await ledger.containmentOf(ledgerKey(first))).toEqual(summary('7', 'f7'));
      // Released by an operator (the tool writes these), then contained again for a later boot.
      await db
        .collection(LEDGER_INSTANCES_COLLECTION)
        .doc(instanceDocumentId(ledgerKey(first)))
        .update({ 'containment.state': 'released', 'containment.released': { by: 'a', reason: 'r', at: 't' } });
      const second = reportFor(id, '9');
      const r2 = await record(second, 'fp', STOP, 'msg-s2');
      await ledger.complete(ledgerKey(second), r2.requestId, { status: 'DONE', containment: summary('9', 'f9') });
      expect(await ledger.containmentOf(ledgerKey(second))).toEqual(summary('9', 'f9'));
      await ledger.noteFindingInactive(ledgerKey(second), 'f7', 'T');
      expect((await ledger.containmentOf(ledgerKey(second)))!.findingInactiveAt).toBeUndefined();
      await ledger.noteFindingInactive(ledgerKey(second), 'f9', 'T1');
      await ledger.noteFindingInactive(ledgerKey(second), 'f9', 'T2');
      expect((await ledger.containmentOf(ledgerKey(second)))!.findingInactiveAt).toBe('T1');
      // The newest boot and the stop's mark stay beside it.
      const head = (
        await db
          .collection(LEDGER_INSTANCES_COLLECTION)
          .doc(instanceDocumentId(ledgerKey(second)))
          .get()
      ).data()!;
      expect(head).toEqual(expect.objectContaining({ newestBoot: '9', lastStop: `demo-responder~europe-west1-b~${id}-9-lateBoot` }));
    });
  });

  it('lets exactly one of two concurrent, different reports about one boot be new: the other is a conflict', async () => {
    const id = freshId();
    const results = await Promise.all([record(reportFor(id), 'fp-a', RELEARN, 'msg-a'), record(reportFor(id), 'fp-b', STOP, 'msg-b')]);
    expect(results.map((r) => r.note).sort()).toEqual(['conflict', 'new']);
    const stored = (await storedRecord(reportFor(id)))!;
    expect(stored).toEqual(expect.objectContaining({ conflict: true, decision: { action: 'stop', reason: 'conflicting-reports' } }));
    expect([...stored.fingerprints].sort()).toEqual(['fp-a', 'fp-b']);
    expect(await ledger.standing(ledgerKey(reportFor(id)))).toEqual(expect.objectContaining({ conflict: true }));
  });

  it('settles a record only for the request id it holds', async () => {
    const report = reportFor(freshId());
    const key = ledgerKey(report);
    const first = await record(report, 'fp-a', RELEARN, 'msg-a');
    const conflict = await record(report, 'fp-b', STOP, 'msg-b');
    // The relearn finishing late must not mark the conflict's stop as done: the version it
    // recorded is no longer the record's, and without one the request id is checked.
    const late = { operation: { name: 'operation-relearn', status: 'DONE' as const }, status: 'DONE' };
    expect(first.version).toEqual(expect.stringMatching(/^\d+\.\d{9}$/));
    await ledger.complete(key, first.requestId, late, first.version);
    await ledger.complete(key, first.requestId, late);
    const ref = db.collection(LEDGER_DECISIONS_COLLECTION).doc(ledgerDocumentId(key));
    expect((await ref.get()).data()).toEqual(expect.objectContaining({ outcome: 'pending', requestId: conflict.requestId }));
    await ledger.complete(
      key,
      conflict.requestId,
      { operation: { name: 'operation-stop', status: 'DONE' }, status: 'DONE' },
      conflict.version,
    );
    expect((await ref.get()).data()).toEqual(
      expect.objectContaining({
        outcome: 'done',
        operation: 'operation-stop',
        operationStatus: 'DONE',
        completedAt: '2026-11-20T10:00:05.000Z',
      }),
    );
  });

  it("completes with the record's version while nothing else wrote it, and reads it again once something did", async () => {
    const report = reportFor(freshId());
    const key = ledgerKey(report);
    const ref = db.collection(LEDGER_DECISIONS_COLLECTION).doc(ledgerDocumentId(key));
    const stop = await record(report, 'fp-a', STOP, 'msg-a');
    expect(stop.version).toBe(versionOf((await ref.get()).updateTime!));
    await ledger.complete(key, stop.requestId, { operation: { name: 'operation-stop', status: 'DONE' }, status: 'DONE' }, stop.version);
    expect((await ref.get()).data()).toEqual(expect.objectContaining({ outcome: 'done', operation: 'operation-stop' }));

    // A stop whose group abandon was noted after it was recorded: its version is stale, its
    // request id still the record's, so it completes after a second look.
    const other = reportFor(freshId());
    const otherKey = ledgerKey(other);
    const otherStop = await record(other, 'fp-a', STOP, 'msg-b');
    await ledger.noteAbandon(otherKey, otherStop.requestId, {
      group: 'projects/demo-responder/zones/europe-west1-b/instanceGroupManagers/web',
      requestId: 'abandon-1',
      requestedAt: '2026-11-20T10:00:04.000Z',
    });
    await ledger.complete(otherKey, otherStop.requestId, { status: 'instance-not-found' }, otherStop.version);
    expect((await db.collection(LEDGER_DECISIONS_COLLECTION).doc(ledgerDocumentId(otherKey)).get()).data()).toEqual(
      expect.objectContaining({ outcome: 'done', operationStatus: 'instance-not-found', groupAbandon: expect.anything() }),
    );
  });

  it('keeps every one of eight concurrent, different reports about one boot: one new, seven conflicts', async () => {
    const id = freshId();
    const fingerprints = Array.from({ length: 8 }, (_, i) => `fp-${i}`);
    const results = await Promise.all(fingerprints.map((fp, i) => record(reportFor(id), fp, i === 0 ? RELEARN : STOP, `msg-${i}`)));
    expect(results.map((r) => r.note).sort()).toEqual([
      'conflict',
      'conflict',
      'conflict',
      'conflict',
      'conflict',
      'conflict',
      'conflict',
      'new',
    ]);
    const stored = (await storedRecord(reportFor(id)))!;
    expect([...stored.fingerprints].sort()).toEqual(fingerprints);
    expect(stored).toEqual(expect.objectContaining({ conflict: true, outcome: 'pending' }));
  });

  it('records the first abandon of a stop and keeps it: a later message gets the first request id and time back', async () => {
    const report = reportFor(freshId());
    const key = ledgerKey(report);
    const stop = await record(report, 'fp-a', STOP, 'msg-a');
    const first = {
      group: 'projects/demo-responder/zones/europe-west1-b/instanceGroupManagers/web-mig',
      requestId: 'req-1',
      requestedAt: '2026-11-20T10:00:01.000Z',
    };

    await expect(ledger.noteAbandon(key, stop.requestId, first)).resolves.toEqual(first);
    await expect(
      ledger.noteAbandon(key, stop.requestId, { ...first, requestId: 'req-2', requestedAt: '2026-11-20T10:02:00.000Z' }),
    ).resolves.toEqual(first);

    const redelivered = await record(report, 'fp-a', STOP, 'msg-a');
    expect(redelivered.record.groupAbandon).toEqual(first);
  });

  it('records no abandon for a request id that is no longer the recorded one', async () => {
    const report = reportFor(freshId());
    const key = ledgerKey(report);
    await record(report, 'fp-a', STOP, 'msg-a');
    const abandon = {
      group: 'projects/demo-responder/zones/europe-west1-b/instanceGroupManagers/web-mig',
      requestId: 'req-1',
      requestedAt: '2026-11-20T10:00:01.000Z',
    };

    await ledger.noteAbandon(key, 'some-other-request', abandon);

    const ref = db.collection(LEDGER_DECISIONS_COLLECTION).doc(ledgerDocumentId(key));
    expect((await ref.get()).data()).not.toHaveProperty('groupAbandon');
  });

  it('fails a call Firestore leaves unanswered after its deadline, with DEADLINE_EXCEEDED, instead of waiting on the client', async () => {
    // A database whose calls never settle. (The real client against an unreachable database
    // keeps retrying for ≈ 40 s, and its retries outlive the test: a stand-in leaves nothing behind.)
    const never = () => new Promise<never>(() => undefined);
    const documents = { doc: () => ({ update: never, collection: () => documents }) };
    const unanswered = { collection: () => documents, getAll: never } as unknown as Firestore;
    const hung = new FirestoreDecisionLedger(async () => unanswered, { callTimeoutMs: 300 });
    const report = reportFor(freshId());
    const started = performance.now();
    const error = await hung
      .record({ report, proposed: STOP, fingerprint: 'fp-a', requestIdFor: (a) => requestIdFor('msg-hung', a) })
      .catch((e: unknown) => e);
    expect(error).toEqual(
      expect.objectContaining({ code: 4, message: "Firestore did not answer the decision ledger's read of the record within 300 ms" }),
    );
    expect(performance.now() - started).toBeLessThan(5_000);
    const completion = await hung.complete(ledgerKey(report), 'req', { status: 'DONE' }, '1.000000000').catch((e: unknown) => e);
    expect(completion).toEqual(
      expect.objectContaining({
        code: 4,
        message: "Firestore did not answer the decision ledger's completion of the record within 300 ms",
      }),
    );
  });

  it('remembers the newest boot across reports, so an older boot never relearns', async () => {
    const id = freshId();
    await record(reportFor(id, '10'), 'fp-a', RELEARN, 'msg-10');
    const older = await record(reportFor(id, '9'), 'fp-b', RELEARN, 'msg-9');
    expect(older).toEqual(
      expect.objectContaining({ note: 'older-boot', decision: { action: 'none', reason: 'older-boot' }, newestBoot: '10' }),
    );
    const head = await db
      .collection(LEDGER_INSTANCES_COLLECTION)
      .doc(instanceDocumentId(ledgerKey(reportFor(id))))
      .get();
    expect(head.data()).toEqual(expect.objectContaining({ newestBoot: '10' }));
  });

  describe('with an action budget', () => {
    /** A ledger whose clock the test sets: each test counts in a window of its own. */
    let now = new Date();
    let budgeted: FirestoreDecisionLedger;
    beforeAll(() => {
      budgeted = new FirestoreDecisionLedger(async () => db, { clock: () => now });
    });
    const stop = (report: IntegrityReport, messageId: string, limit: number) =>
      budgeted.record(
        { report, proposed: STOP, fingerprint: 'fp-a', requestIdFor: (a) => requestIdFor(messageId, a) },
        { limit, windowSeconds: 3600 },
      );
    const windowRef = (at: Date) => db.collection(LEDGER_BUDGET_COLLECTION).doc(budgetWindow(at.getTime(), 3600).id);
    /** The shards of the window holding `at`, by index. */
    const shardsOf = async (at: Date) =>
      new Map((await windowRef(at).collection(BUDGET_SHARDS_SUBCOLLECTION).get()).docs.map((d) => [Number(d.id), d] as const));
    /** The window's count and total, summed over its shards, and its first shard's window fields; undefined before any. */
    const windowDoc = async (at: Date) => {
      const shards = [...(await shardsOf(at)).values()].map((d) => d.data() as BudgetShard);
      if (shards.length === 0) return undefined;
      const { windowStart, windowEnd, limit } = shards[0]!;
      const sum = (f: (s: BudgetShard) => number) => shards.reduce((a, s) => a + f(s), 0);
      const filled = shards.filter((s) => s.filledAt !== undefined).map((s) => s.filledAt!);
      return {
        windowStart,
        windowEnd,
        limit,
        count: sum((s) => s.count),
        total: sum((s) => s.total),
        ...(filled.length === shards.length && { filledAt: filled.sort().at(-1) }),
      };
    };

    it('takes one slot per VM and window: reports about other boots of a counted VM take none', async () => {
      now = new Date('2026-11-23T07:10:00.000Z');
      const id = freshId();
      const results = [];
      for (const boot of ['30', '31', '32']) results.push(await stop(reportFor(id, boot), `msg-vm-${boot}`, 2));
      expect(results.map((r) => r.budget?.status)).toEqual(['counted', 'already-counted', 'already-counted']);
      expect(results.every((r) => r.decision.action === 'stop')).toBe(true);
      expect(await windowDoc(now)).toEqual(expect.objectContaining({ count: 1 }));
      const other = await stop(reportFor(freshId()), 'msg-vm-other', 2);
      expect(other.budget).toEqual(expect.objectContaining({ status: 'counted', shardUsed: 1, shardCapacity: 1 }));
      expect(await windowDoc(now)).toEqual(expect.objectContaining({ count: 2 }));
    });

    it('counts a VM once when reports about several of its boots race for a slot', async () => {
      now = new Date('2026-11-23T11:10:00.000Z');
      const id = freshId();
      const results = await Promise.all(
        ['40', '41', '42', '43', '44', '45'].map((boot) => stop(reportFor(id, boot), `msg-race-${boot}`, 5)),
      );
      expect(results.map((r) => r.budget?.status).sort()).toEqual([
        'already-counted',
        'already-counted',
        'already-counted',
        'already-counted',
        'already-counted',
        'counted',
      ]);
      expect(await windowDoc(now)).toEqual(expect.objectContaining({ count: 1, total: 1 }));
    });

    it('never counts more than the budget, however many instances claim a slot at once', async () => {
      now = new Date('2026-11-23T01:10:00.000Z');
      const reports = Array.from({ length: 12 }, () => reportFor(freshId()));
      const results = await Promise.all(reports.map((r, i) => stop(r, `msg-par-${i}`, 5)));
      const statuses = results.map((r) => r.budget?.status);
      process.stdout.write(`budget: 12 concurrent stops against a budget of 5 → ${JSON.stringify(statuses)}\n`);
      expect(statuses.filter((s) => s === 'counted')).toHaveLength(5);
      expect(statuses.filter((s) => s === 'exhausted')).toHaveLength(7);
      expect(results.filter((r) => r.decision.action === 'stop')).toHaveLength(5);
      expect(await windowDoc(now)).toEqual({
        count: 5,
        total: 5,
        limit: 5,
        windowStart: '2026-11-23T01:00:00.000Z',
        windowEnd: '2026-11-23T02:00:00.000Z',
        filledAt: '2026-11-23T01:10:00.000Z',
      });
      const held = await Promise.all(
        results
          .map((r, i) => [r, reports[i]!] as const)
          .filter(([r]) => r.budget?.status === 'exhausted')
          .map(async ([, report]) => await storedRecord(report)),
      );
      expect(held.every((d) => d?.outcome === 'held' && d.budgetWindow === undefined)).toBe(true);
    });

    it('counts exactly the limit when more stops than shards race for it, each shard within its share', async () => {
      now = new Date('2026-11-23T08:10:00.000Z');
      const reports = Array.from({ length: 56 }, () => reportFor(freshId()));
      const results = await Promise.all(reports.map((r, i) => stop(r, `msg-many-${i}`, 40)));
      const statuses = results.map((r) => r.budget?.status);
      process.stdout.write(
        `budget: 56 concurrent stops against a budget of 40 (32 shards) → ${statuses.filter((s) => s === 'counted').length} counted, ` +
          `${statuses.filter((s) => s === 'exhausted').length} held\n`,
      );
      expect(statuses.filter((s) => s === 'counted')).toHaveLength(40);
      expect(statuses.filter((s) => s === 'exhausted')).toHaveLength(16);
      const shards = await shardsOf(now);
      expect(shards.size).toBe(32);
      for (const [i, doc] of shards) {
        expect((doc.data() as BudgetShard).count).toBe(shardCapacity(40, i));
      }
      // Every VM counted has its marker, naming the shard that took it.
      const markers = await windowRef(now).collection(BUDGET_INSTANCES_SUBCOLLECTION).get();
      expect(markers.size).toBe(40);
      expect(new Set(markers.docs.map((d) => d.get('shard') as number)).size).toBe(32);
    });

    it('writes no document that every counted stop writes: concurrent stops take their slots in different shards', async () => {
      now = new Date('2026-11-23T09:10:00.000Z');
      const reports = Array.from({ length: 32 }, () => reportFor(freshId()));
      const results = await Promise.all(reports.map((r, i) => stop(r, `msg-spread-${i}`, 100_000)));
      expect(results.every((r) => r.budget?.status === 'counted')).toBe(true);
      const shards = [...(await shardsOf(now)).values()].map((d) => d.data() as BudgetShard);
      const busiest = Math.max(...shards.map((s) => s.total));
      process.stdout.write(
        `budget: 32 concurrent counted stops under a limit of 100,000 → ${shards.length} shards written, the busiest ${busiest} times\n`,
      );
      expect(shards.reduce((a, s) => a + s.count, 0)).toBe(32);
      // Hashed by VM: 32 stops land on many shards (a single counter would take all 32 writes).
      expect(shards.length).toBeGreaterThanOrEqual(12);
      expect(busiest).toBeLessThanOrEqual(8);
      expect(shards.every((s) => s.shards === 32 && s.capacity === shardCapacity(100_000, s.shard))).toBe(true);
      // The window's own document is the operator's (resets): the function never writes it.
      expect((await windowRef(now).get()).exists).toBe(false);
    });

    it('reads the marker and the home shard with the record, and for a held stop every shard in one batchGet, writing none', async () => {
      now = new Date('2026-11-23T10:10:00.000Z');
      const getAll = jest.spyOn(db, 'getAll');
      try {
        expect((await stop(reportFor(freshId()), 'msg-calls-1', 2)).budget?.status).toBe('counted');
        expect(getAll.mock.calls.map((c) => c.length)).toEqual([4]);
        expect((await stop(reportFor(freshId()), 'msg-calls-2', 2)).budget?.status).toBe('counted');
        const full = await shardsOf(now);
        expect(full.size).toBe(shardCount(2));
        getAll.mockClear();
        expect((await stop(reportFor(freshId()), 'msg-calls-3', 2)).budget?.status).toBe('exhausted');
        // The record with the marker and the home shard; then both shards at once.
        expect(getAll.mock.calls.map((c) => c.length)).toEqual([4, 2]);
        const after = await shardsOf(now);
        for (const [i, doc] of full) expect(after.get(i)!.updateTime.isEqual(doc.updateTime)).toBe(true);
      } finally {
        getAll.mockRestore();
      }
    });

    it('counts a redelivered stop once, and only reads the full window for a held one', async () => {
      now = new Date('2026-11-23T02:10:00.000Z');
      const first = reportFor(freshId());
      expect((await stop(first, 'msg-r1', 1)).budget?.status).toBe('counted');
      expect((await stop(first, 'msg-r1', 1)).budget).toEqual({ status: 'already-counted', windowId: '3600s-2026-11-23T02:00:00.000Z' });
      const before = await windowDoc(now);
      const second = reportFor(freshId());
      expect((await stop(second, 'msg-r2', 1)).budget?.status).toBe('exhausted');
      // Held again with nothing new: reads only, no commit, the held record as it was.
      const heldRef = db.collection(LEDGER_DECISIONS_COLLECTION).doc(ledgerDocumentId(ledgerKey(second)));
      const heldBefore = await heldRef.get();
      const batch = jest.spyOn(db, 'batch');
      try {
        expect((await stop(second, 'msg-r2', 1)).budget?.status).toBe('exhausted');
        expect(batch).not.toHaveBeenCalled();
      } finally {
        batch.mockRestore();
      }
      expect((await heldRef.get()).updateTime!.isEqual(heldBefore.updateTime!)).toBe(true);
      expect(await windowDoc(now)).toEqual(before);
      expect(before).toEqual(expect.objectContaining({ count: 1, total: 1, filledAt: '2026-11-23T02:10:00.000Z' }));
    });

    it('counts a held stop in the next window, where it comes back', async () => {
      now = new Date('2026-11-23T03:59:00.000Z');
      expect((await stop(reportFor(freshId()), 'msg-n1', 1)).budget?.status).toBe('counted');
      const held = reportFor(freshId());
      expect((await stop(held, 'msg-n2', 1)).budget?.status).toBe('exhausted');
      now = new Date('2026-11-23T04:00:30.000Z');
      const again = await stop(held, 'msg-n2', 1);
      expect(again).toEqual(
        expect.objectContaining({ decision: STOP, note: 'new', budget: expect.objectContaining({ status: 'counted', shardUsed: 1 }) }),
      );
      const stored = await storedRecord(held);
      expect(stored).toEqual(
        expect.objectContaining({
          outcome: 'pending',
          budgetWindow: '3600s-2026-11-23T04:00:00.000Z',
          heldSince: '2026-11-23T03:59:00.000Z',
        }),
      );
    });

    it('counts the stop a conflict makes of a relearn, reading the window once the record showed the conflict', async () => {
      now = new Date('2026-11-23T12:10:00.000Z');
      const report = reportFor(freshId());
      const relearn = (fingerprint: string, messageId: string) =>
        budgeted.record(
          { report, proposed: RELEARN, fingerprint, requestIdFor: (a) => requestIdFor(messageId, a) },
          { limit: 3, windowSeconds: 3600 },
        );
      expect((await relearn('fp-a', 'msg-c1')).budget).toBeUndefined();
      const conflict = await relearn('fp-b', 'msg-c2');
      expect(conflict).toEqual(expect.objectContaining({ note: 'conflict', decision: expect.objectContaining({ action: 'stop' }) }));
      expect(conflict.budget).toEqual(expect.objectContaining({ status: 'counted', limit: 3 }));
      expect(await windowDoc(now)).toEqual(expect.objectContaining({ count: 1 }));
    });

    it('counts a conflict over a VM contained in an earlier window in the window it is decided in: a full one holds it', async () => {
      now = new Date('2026-11-23T13:10:00.000Z');
      const report = reportFor(freshId());
      const first = await stop(report, 'msg-w1', 1);
      expect(first.budget?.status).toBe('counted');
      await budgeted.complete(ledgerKey(report), first.requestId, { status: 'DONE' }, first.version);
      // The next window: another VM takes its only slot.
      now = new Date('2026-11-23T14:10:00.000Z');
      expect((await stop(reportFor(freshId()), 'msg-w2', 1)).budget?.status).toBe('counted');
      // A different report about the contained VM's boot: a new containment, which the full window holds.
      const conflict = await budgeted.record(
        { report, proposed: STOP, fingerprint: 'fp-b', requestIdFor: (a) => requestIdFor('msg-w3', a) },
        { limit: 1, windowSeconds: 3600 },
      );
      expect(conflict.note).toBe('conflict');
      expect(conflict.decision).toEqual(expect.objectContaining({ action: 'none', reason: 'budget-exhausted' }));
      expect(conflict.budget).toEqual(expect.objectContaining({ status: 'exhausted', used: 1 }));
      expect(await windowDoc(now)).toEqual(expect.objectContaining({ count: 1 }));
    });

    it('never touches the window for a relearn', async () => {
      now = new Date('2026-11-23T05:10:00.000Z');
      const r = await budgeted.record(
        { report: reportFor(freshId()), proposed: RELEARN, fingerprint: 'fp-a', requestIdFor: (a) => requestIdFor('msg-rl', a) },
        { limit: 1, windowSeconds: 3600 },
      );
      expect(r.decision).toEqual(RELEARN);
      expect(r.budget).toBeUndefined();
      expect(await windowDoc(now)).toBeUndefined();
    });
  });
});
