import type { Firestore } from '@google-cloud/firestore';
import { FirestoreDecisionLedger } from '../function/adapters/firestore-ledger';
import { createFirestore } from '../function/clients';
import { LEDGER_DECISIONS_COLLECTION, LEDGER_INSTANCES_COLLECTION } from '../function/contract';
import { requestIdFor } from '../function/handler';
import { LedgerRecord, ledgerDocumentId, ledgerKey } from '../function/ledger';
import type { IntegrityReport } from '../function/parse';
import { RunningEmulator, startFirestoreEmulator } from '../testkit/emulators';
import { describeWithEmulators } from './support/emulator-suite';

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

const freshId = () => String(5_000_000_000 + ++instances);

describeWithEmulators('FirestoreDecisionLedger on the Firestore emulator', () => {
  let ledger: FirestoreDecisionLedger;

  beforeAll(async () => {
    emulator = await startFirestoreEmulator();
    process.env.FIRESTORE_EMULATOR_HOST = emulator.host;
    process.env.METADATA_SERVER_DETECTION = 'none';
    db = await createFirestore({ projectId: 'demo-responder', firestoreDatabase: 'integrity-responder-decisions' }, 'grpc');
    ledger = new FirestoreDecisionLedger(
      async () => db,
      () => new Date('2026-11-20T10:00:05.000Z'),
    );
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
    const head = await db.collection(LEDGER_INSTANCES_COLLECTION).doc(report.instance.id).get();
    expect(head.data()).toEqual(expect.objectContaining({ newestBoot: '7' }));
  });

  it('lets exactly one of two concurrent, different reports about one boot be new: the other is a conflict', async () => {
    const id = freshId();
    const results = await Promise.all([record(reportFor(id), 'fp-a', RELEARN, 'msg-a'), record(reportFor(id), 'fp-b', STOP, 'msg-b')]);
    expect(results.map((r) => r.note).sort()).toEqual(['conflict', 'new']);
    const stored = (
      await db
        .collection(LEDGER_DECISIONS_COLLECTION)
        .doc(ledgerDocumentId(ledgerKey(reportFor(id))))
        .get()
    ).data() as LedgerRecord;
    expect(stored).toEqual(expect.objectContaining({ conflict: true, decision: { action: 'stop', reason: 'conflicting-reports' } }));
    expect([...stored.fingerprints].sort()).toEqual(['fp-a', 'fp-b']);
    expect(await ledger.inConflict(ledgerKey(reportFor(id)))).toBe(true);
  });

  it('settles a record only for the request id it holds', async () => {
    const report = reportFor(freshId());
    const key = ledgerKey(report);
    const first = await record(report, 'fp-a', RELEARN, 'msg-a');
    const conflict = await record(report, 'fp-b', STOP, 'msg-b');
    // The relearn finishing late must not mark the conflict's stop as done.
    await ledger.complete(key, first.requestId, { operation: { name: 'operation-relearn', status: 'DONE' }, status: 'DONE' });
    const ref = db.collection(LEDGER_DECISIONS_COLLECTION).doc(ledgerDocumentId(key));
    expect((await ref.get()).data()).toEqual(expect.objectContaining({ outcome: 'pending', requestId: conflict.requestId }));
    await ledger.complete(key, conflict.requestId, { operation: { name: 'operation-stop', status: 'DONE' }, status: 'DONE' });
    expect((await ref.get()).data()).toEqual(
      expect.objectContaining({
        outcome: 'done',
        operation: 'operation-stop',
        operationStatus: 'DONE',
        completedAt: '2026-11-20T10:00:05.000Z',
      }),
    );
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

  it('remembers the newest boot across reports, so an older boot never relearns', async () => {
    const id = freshId();
    await record(reportFor(id, '10'), 'fp-a', RELEARN, 'msg-10');
    const older = await record(reportFor(id, '9'), 'fp-b', RELEARN, 'msg-9');
    expect(older).toEqual(
      expect.objectContaining({ note: 'older-boot', decision: { action: 'none', reason: 'older-boot' }, newestBoot: '10' }),
    );
    const head = await db.collection(LEDGER_INSTANCES_COLLECTION).doc(id).get();
    expect(head.data()).toEqual(expect.objectContaining({ newestBoot: '10' }));
  });
});
