import { baselineDocument } from '../../function/core/baseline';
import { parseMeasurements } from '../../function/core/parse';
import { describeWithEmulators } from '../support/emulator-suite';
import { integrityEntry, linuxPcrs, pubsubData } from '../../testkit/fixtures';
import { Harness, Responder } from '../../testkit/harness';

// Faults on the real parts: the shipped function behind a Pub/Sub push subscription, with
// Firestore going away and the Compute API failing or hanging. Retries must converge on the
// right action, never a second one. The emulators and the function serve the whole file; every
// test starts from a fresh world (the VMs below, running; no baseline; an empty ledger; no
// fault; Firestore reachable).

const ZONE = 'us-central1-a';
const PROJECT = 'fleet-prod-1234';

describeWithEmulators('the responder under faults', () => {
  let h: Harness;
  let r: Responder;

  beforeAll(async () => {
    h = await Harness.start();
    r = await h.deploy({ GOOGLE_CLOUD_PROJECT: PROJECT }, 'faults', { COMPUTE_TIMEOUT_SECONDS: '2' });
  }, 120_000);

  beforeEach(async () => {
    await h.reset();
    for (const [name, id] of [
      ['web-1', '1001'],
      ['web-2', '1002'],
      ['web-3', '1003'],
      ['web-4', '1004'],
      ['web-5', '1005'],
    ] as const) {
      h.compute.add({ project: PROJECT, zone: ZONE, name, id });
    }
  });

  afterAll(() => h?.stop());

  // Every entry reports a boot of its own, later than the ones before it.
  let boot = 100;
  const entry = (name: string, id: string, seed: string, extra: Parameters<typeof integrityEntry>[0] = {}) =>
    integrityEntry({
      projectId: PROJECT,
      zone: ZONE,
      name,
      instanceId: id,
      actual: linuxPcrs(seed),
      bootCounter: String(++boot),
      ...extra,
    });
  const decided = (l: Record<string, unknown>) => l.decision !== undefined;
  const retries = (id: string) => r.host.logs.filter((l) => l.eventId === id && l.retry === true);
  /** Compute mutations performed on the VM with this id (a repeated requestId performs nothing). */
  const performedOn = (id: string) => h.compute.performed.filter((q) => q.path.includes(`/instances/${id}/`));
  /** Action requests sent for the VM with this id, performed or not (operation waits excluded). */
  const requestsTo = (id: string) => h.compute.actions().filter((q) => q.path.includes(`/instances/${id}/`));
  /** `zoneOperations.wait` calls for the operation a decision line names. */
  const waitsOn = (line: Record<string, unknown>) =>
    h.compute.operationWaits().filter((q) => q.method === 'POST' && q.path.endsWith(`/operations/${String(line.operation)}/wait`));
  /** Waits until the function logged `n` lines for the event that satisfy `where`. */
  async function waitForLines(id: string, n: number, where: (l: Record<string, unknown>) => boolean, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = r.host.logs.filter((l) => l.eventId === id && where(l));
      if (lines.length >= n) return lines;
      if (Date.now() > deadline) throw new Error(`${lines.length} of ${n} lines for event ${id} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('redelivers while Firestore is unavailable and relearns once it is back', async () => {
    // The outage meets a new instance, one that has not yet read a baseline or the ledger.
    await r.host.restart();
    const doc = baselineDocument(parseMeasurements(linuxPcrs('kernel-6.9'), 'e2e'));
    await h.putDocument(r.plan, doc.id, doc.data);
    h.setFirestoreReachable(false);
    const id = await r.publish(entry('web-1', '1001', 'kernel-6.9'));
    await r.host.waitForLog(id, { timeoutMs: 30_000, where: (l) => l.retry === true });
    expect(r.host.logs.some((l) => l.eventId === id && decided(l))).toBe(false);
    expect(h.compute.requests.filter((q) => q.path.includes('/instances/1001'))).toHaveLength(0);
    h.setFirestoreReachable(true);
    const line = await r.host.waitForLog(id, { timeoutMs: 60_000, where: decided });
    expect(line).toEqual(expect.objectContaining({ decision: 'relearn', baselineId: doc.id, operationStatus: 'DONE' }));
    expect(retries(id).length).toBeGreaterThanOrEqual(1);
    expect(performedOn('1001').map((q) => `${q.method} ${q.path.split('/instances/')[1]}`)).toEqual([
      'PATCH 1001/setShieldedInstanceIntegrityPolicy',
    ]);
    expect(waitsOn(line)).toHaveLength(1);
    process.stderr.write(`faults: Firestore down → ${retries(id).length} failed deliveries, then relearn\n`);
  }, 120_000);

  it('retries through Compute 429 and 503 answers with one stop', async () => {
    h.compute.injectFaults({ status: 429 }, { status: 503 });
    const id = await r.publish(entry('web-2', '1002', 'rootkit'));
    const line = await r.host.waitForLog(id, { timeoutMs: 60_000, where: decided });
    expect(line).toEqual(expect.objectContaining({ decision: 'stop', operationStatus: 'DONE' }));
    const attempts = requestsTo('1002');
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    expect(attempts.every((q) => q.method === 'POST' && q.path.endsWith('/instances/1002/stop'))).toBe(true);
    expect(new Set(attempts.map((q) => q.query.requestId))).toEqual(new Set([line.requestId]));
    expect(performedOn('1002')).toHaveLength(1);
    expect(h.compute.instances.find((i) => i.id === '1002')!.status).toBe('TERMINATED');
    process.stderr.write(
      `faults: 429 then 503 → ${attempts.length} stop requests, one requestId, ${performedOn('1002').length} stop performed\n`,
    );
  }, 90_000);

  it('retries a Compute call that timed out after acting, without acting twice', async () => {
    h.compute.injectFaults({ delayMs: 4000 });
    const id = await r.publish(entry('web-3', '1003', 'rootkit'));
    const line = await r.host.waitForLog(id, { timeoutMs: 60_000, where: decided });
    expect(line).toEqual(expect.objectContaining({ decision: 'stop', ledger: 'repeat', alreadyDone: false, operationStatus: 'DONE' }));
    expect(retries(id).length).toBeGreaterThanOrEqual(1);
    const attempts = requestsTo('1003');
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(new Set(attempts.map((q) => q.query.requestId))).toEqual(new Set([line.requestId]));
    expect(performedOn('1003')).toHaveLength(1);
    expect(waitsOn(line).length).toBeGreaterThanOrEqual(1);
    expect(h.compute.instances.find((i) => i.id === '1003')!.status).toBe('TERMINATED');
    process.stderr.write(
      `faults: 4 s reply with a 2 s deadline → ${attempts.length} stop requests, ${performedOn('1003').length} stop performed\n`,
    );
  }, 90_000);

  it('turns the same message delivered three times into one action: the ledger answers the repeats', async () => {
    const data = pubsubData(entry('web-4', '1004', 'rootkit'));
    for (let i = 0; i < 3; i++) expect(await r.host.deliver(data, 'redelivered-message-1')).toBe(204);
    const [first, ...repeats] = await waitForLines('redelivered-message-1', 3, decided);
    expect(first).toEqual(expect.objectContaining({ severity: 'WARNING', decision: 'stop', ledger: 'new', operationStatus: 'DONE' }));
    for (const line of repeats) {
      expect(line).toEqual(
        expect.objectContaining({ severity: 'INFO', decision: 'stop', ledger: 'repeat', alreadyDone: true, requestId: first!.requestId }),
      );
      expect(String(line.message)).toMatch(/^Already handled: /);
    }
    expect(requestsTo('1004')).toHaveLength(1);
    expect(performedOn('1004')).toHaveLength(1);
  });

  it('stops, with a CRITICAL line, a VM whose failed report is too old to vet', async () => {
    const doc = baselineDocument(parseMeasurements(linuxPcrs('known'), 'e2e'));
    await h.putBaseline(r, doc.id, doc.data);
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000).toISOString();
    const { log } = await r.publishAndWait(entry('web-5', '1005', 'known', { timestamp: twoHoursAgo }));
    expect(log).toEqual(
      expect.objectContaining({
        severity: 'CRITICAL',
        decision: 'stop',
        reason: 'stale-event-fail-closed',
        ageSeconds: expect.any(Number),
      }),
    );
    expect(log.firestoreReads).toBeUndefined();
    expect(performedOn('1005')).toHaveLength(1);
  });
});
