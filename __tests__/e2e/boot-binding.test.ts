import type { Firestore } from '@google-cloud/firestore';
import { InstancesClient } from '@google-cloud/compute/build/src/v1/instances_client';
import { ZoneOperationsClient } from '@google-cloud/compute/build/src/v1/zone_operations_client';
import { ComputeInstanceControl } from '../../function/adapters/compute-control';
import { FirestoreDecisionLedger } from '../../function/adapters/firestore-ledger';
import { createFirestore } from '../../function/runtime/clients';
import { LEDGER_DECISIONS_COLLECTION, LEDGER_INSTANCES_COLLECTION } from '../../function/contract';
import { HandlerDeps, handleMessage } from '../../function/core/handler';
import { FakeComputeApi } from '../../testkit/fake-compute';
import { loopbackClientOptions } from '../../testkit/loopback-clients';
import { integrityEntry, linuxPcrs, pubsubData, tutorialDocument } from '../../testkit/fixtures';
import { RunningEmulator, useFirestoreEmulator } from '../../testkit/emulators';
import { CapturingLogger, MemoryBaselines } from '../support/fakes';
import { describeWithEmulators } from '../support/emulator-suite';
import { DEFAULT_SETTINGS } from '../support/handler-setup';

// A relearn held to its boot on real parts: the ledger in the Firestore emulator, the real
// Compute clients against the loopback Compute API. Another function instance records (and
// stops) a later, tampered boot between this one's decision to relearn and its Compute call.

const PROJECT = 'demo-responder';
const ZONE = 'europe-west1-b';
const GOOD = linuxPcrs('kernel-6.9');
const TAMPERED = linuxPcrs('bootkit');
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

describeWithEmulators('a relearn bound to its boot, on the Firestore emulator and the loopback Compute API', () => {
  let emulator: RunningEmulator;
  let db: Firestore;
  let compute: FakeComputeApi;
  let nextId = 7_000_000_000;

  beforeAll(async () => {
    emulator = await useFirestoreEmulator();
    process.env.FIRESTORE_EMULATOR_HOST = emulator.host;
    process.env.METADATA_SERVER_DETECTION = 'none';
    db = await createFirestore({ projectId: PROJECT, firestoreDatabase: 'integrity-responder-decisions' }, 'grpc');
    compute = new FakeComputeApi();
    await compute.start();
  }, 60_000);

  afterAll(async () => {
    await compute?.stop();
    await db?.terminate();
    await emulator?.stop();
    delete process.env.FIRESTORE_EMULATOR_HOST;
  });

  function deps(): HandlerDeps & { logger: CapturingLogger; ledger: FirestoreDecisionLedger } {
    const options = () => loopbackClientOptions(Number(new URL(compute.endpoint).port));
    const baselines = new MemoryBaselines();
    baselines.add('kernel-6.9', tutorialDocument(GOOD));
    return {
      mode: 'relearn-if-known-good',
      baselines,
      instances: new ComputeInstanceControl(
        async () => new InstancesClient(options()),
        async () => new ZoneOperationsClient(options()),
        5_000,
      ),
      ledger: new FirestoreDecisionLedger(async () => db),
      logger: new CapturingLogger(),
      maxEventAgeSeconds: 3600,
      staleEventPolicy: 'fail-closed',
      ...DEFAULT_SETTINGS,
    };
  }

  function vm(lastStartMinutesAgo: number) {
    const id = String(++nextId);
    compute.add({ project: PROJECT, zone: ZONE, name: `canary-${id}`, id, lastStartTimestamp: minutesAgo(lastStartMinutesAgo) });
    const report = (bootCounter: string, actual: typeof GOOD, timestamp = minutesAgo(1)) =>
      pubsubData(integrityEntry({ projectId: PROJECT, zone: ZONE, instanceId: id, name: `canary-${id}`, bootCounter, actual, timestamp }));
    const mutations = () =>
      compute.performed.filter((q) => q.path.includes(`/instances/${id}/`)).map((q) => `${q.method} ${q.path.split('/').pop()}`);
    return { id, report, mutations };
  }

  it('issues no relearn when a later boot is recorded between the decision and the Compute call', async () => {
    const d = deps();
    const { id, report, mutations } = vm(60);
    const record = d.ledger.record.bind(d.ledger);
    let interleaved = false;
    d.ledger.record = async (input, budget) => {
      const recorded = await record(input, budget);
      if (!interleaved && input.report.bootCounter === '7') {
        interleaved = true;
        await handleMessage(report('8', TAMPERED), d, { id: 'boot-8' });
      }
      return recorded;
    };

    const outcome = await handleMessage(report('7', GOOD, minutesAgo(2)), d, { id: 'boot-7' });

    expect(outcome).toEqual(expect.objectContaining({ decision: { action: 'none', reason: 'superseded-by-later-boot' } }));
    expect(mutations()).toEqual(['POST stop']);
    expect(d.logger.lines.map((l) => [l.eventId, l.severity, l.decision, l.reason, l.laterBoot])).toEqual([
      ['boot-8', 'WARNING', 'stop', 'not-known-good', undefined],
      ['boot-7', 'WARNING', 'none', 'superseded-by-later-boot', '8'],
    ]);
    const head = await db.collection(LEDGER_INSTANCES_COLLECTION).doc(`${PROJECT}~${ZONE}~${id}`).get();
    expect(head.data()).toEqual(expect.objectContaining({ newestBoot: '8' }));
    const seven = await db.collection(LEDGER_DECISIONS_COLLECTION).doc(`${PROJECT}~${ZONE}~${id}-7-lateBoot`).get();
    expect(seven.data()).toEqual(
      expect.objectContaining({ outcome: 'done', decision: { action: 'none', reason: 'superseded-by-later-boot' } }),
    );
  });

  it('stops, and never relearns, on a forged known-good report spelling a stopped boot "007"', async () => {
    const d = deps();
    const { id, report, mutations } = vm(60);
    await handleMessage(report('7', TAMPERED), d, { id: 'genuine' });
    await handleMessage(report('007', GOOD), d, { id: 'forged' });
    // The conflict stops the VM again, under its own request id: never a relearn.
    expect(mutations()).toEqual(['POST stop', 'POST stop']);
    expect(d.logger.lines.map((l) => [l.severity, l.decision, l.reason, l.bootCounterAsWritten])).toEqual([
      ['WARNING', 'stop', 'not-known-good', undefined],
      ['CRITICAL', 'stop', 'conflicting-reports', '007'],
    ]);
    const records = await db.collection(LEDGER_DECISIONS_COLLECTION).where('instanceId', '==', id).get();
    expect(records.docs.map((r) => r.id)).toEqual([`${PROJECT}~${ZONE}~${id}-7-lateBoot`]);
  });

  it('refuses a known-good report of the next boot while the stop of a tampered boot waits for a retry', async () => {
    const d = deps();
    const { report, mutations } = vm(60);
    compute.injectFaults({ status: 503 });
    await expect(handleMessage(report('12', TAMPERED), d, { id: 'open-12' })).rejects.toThrow();
    await handleMessage(report('13', GOOD), d, { id: 'open-13' });
    expect(mutations()).toEqual([]);
    expect(d.logger.lines.at(-1)).toEqual(
      expect.objectContaining({
        severity: 'CRITICAL',
        reason: 'containment-pending',
        lastStopState: 'pending',
        lastStopBoot: '12',
      }),
    );
  });

  it("does not relearn an older boot once a later boot's failed early-boot report was seen", async () => {
    const d = deps();
    const { id, mutations } = vm(60);
    const early = pubsubData(
      integrityEntry({ projectId: PROJECT, zone: ZONE, instanceId: id, bootCounter: '8', kind: 'earlyBootReportEvent', actual: TAMPERED }),
    );
    await handleMessage(early, d, { id: 'early-8' });
    const head = await db.collection(LEDGER_INSTANCES_COLLECTION).doc(`${PROJECT}~${ZONE}~${id}`).get();
    expect(head.data()).toEqual(expect.objectContaining({ newestBoot: '8' }));
    const late = pubsubData(integrityEntry({ projectId: PROJECT, zone: ZONE, instanceId: id, bootCounter: '7', actual: GOOD }));
    await handleMessage(late, d, { id: 'late-7' });
    expect(mutations()).toEqual([]);
    expect(d.logger.lines.at(-1)).toEqual(expect.objectContaining({ reason: 'older-boot' }));
  });

  it('refuses a forged report that turns a forged held stop of a later boot into a relearn of it', async () => {
    const d = { ...deps(), actionBudget: { limit: 1, windowSeconds: 604800 } };
    const filler = vm(180);
    await handleMessage(filler.report('3', TAMPERED), d, { id: 'r1-fill-3' });
    const { report, mutations } = vm(180);
    await expect(handleMessage(report('12', TAMPERED), d, { id: 'r1-genuine-12' })).rejects.toThrow(/action budget exhausted/);
    await expect(handleMessage(report('14', GOOD, minutesAgo(120)), d, { id: 'r1-stale-14' })).rejects.toThrow(/action budget exhausted/);
    await handleMessage(report('14', GOOD), d, { id: 'r1-fresh-14' });
    expect(mutations()).toEqual([]);
    expect(d.logger.lines.at(-1)).toEqual(expect.objectContaining({ reason: 'unvetted-boot', lastStopBoot: '14' }));
  });

  it('relearns the boot it decided on when nothing came between', async () => {
    const d = deps();
    const { report, mutations } = vm(60);
    // Its own message id: Compute answers a request id it has seen with the first operation.
    await handleMessage(report('7', GOOD), d, { id: 'plain-7' });
    expect(mutations()).toEqual(['PATCH setShieldedInstanceIntegrityPolicy']);
  });
});
