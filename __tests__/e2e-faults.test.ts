import { baselineDocument } from '../function/baseline';
import { parseMeasurements } from '../function/parse';
import { describeWithEmulators } from './support/emulator-suite';
import { integrityEntry, linuxPcrs, pubsubData } from '../testkit/fixtures';
import { Harness, Responder } from '../testkit/harness';

// Faults on the real parts: the shipped function behind a Pub/Sub push subscription, with
// Firestore going away and the Compute API failing or hanging. Retries must converge on the
// right action, never a second one.

const ZONE = 'us-central1-a';
const PROJECT = 'fleet-prod-1234';

describeWithEmulators('the responder under faults', () => {
  let h: Harness;
  let r: Responder;

  beforeAll(async () => {
    h = await Harness.start();
    r = await h.deploy({ GOOGLE_CLOUD_PROJECT: PROJECT }, 'faults', { COMPUTE_TIMEOUT_SECONDS: '2' });
    for (const [name, id] of [
      ['web-1', '1001'],
      ['web-2', '1002'],
      ['web-3', '1003'],
      ['web-4', '1004'],
      ['web-5', '1005'],
    ] as const) {
      h.compute.add({ project: PROJECT, zone: ZONE, name, id });
    }
  }, 120_000);

  afterAll(() => h?.stop());

  const entry = (name: string, id: string, seed: string, extra: Parameters<typeof integrityEntry>[0] = {}) =>
    integrityEntry({ projectId: PROJECT, zone: ZONE, name, instanceId: id, actual: linuxPcrs(seed), ...extra });
  const decided = (l: Record<string, unknown>) => l.decision !== undefined;
  const retries = (id: string) => r.host.logs.filter((l) => l.eventId === id && l.retry === true);
  const performedOn = (name: string) => h.compute.performed.filter((q) => q.path.includes(`/instances/${name}/`));
  const requestsTo = (name: string) => h.compute.requests.filter((q) => q.method !== 'GET' && q.path.includes(`/instances/${name}/`));

  it('redelivers while Firestore is unavailable and relearns once it is back', async () => {
    const doc = baselineDocument(parseMeasurements(linuxPcrs('kernel-6.9'), 'e2e'));
    await h.putDocument(r.plan, doc.id, doc.data);
    h.setFirestoreReachable(false);
    const id = await r.publish(entry('web-1', '1001', 'kernel-6.9'));
    await r.host.waitForLog(id, { timeoutMs: 30_000, where: (l) => l.retry === true });
    expect(r.host.logs.some((l) => l.eventId === id && decided(l))).toBe(false);
    expect(performedOn('web-1')).toHaveLength(0);
    h.setFirestoreReachable(true);
    const line = await r.host.waitForLog(id, { timeoutMs: 60_000, where: decided });
    expect(line).toEqual(expect.objectContaining({ decision: 'relearn', baselineId: doc.id }));
    expect(retries(id).length).toBeGreaterThanOrEqual(1);
    expect(performedOn('web-1')).toHaveLength(1);
    process.stderr.write(`faults: Firestore down → ${retries(id).length} failed deliveries, then relearn\n`);
  }, 120_000);

  it('retries through Compute 429 and 503 answers with one stop', async () => {
    h.compute.injectFaults({ status: 429 }, { status: 503 });
    const id = await r.publish(entry('web-2', '1002', 'rootkit'));
    const line = await r.host.waitForLog(id, { timeoutMs: 60_000, where: decided });
    expect(line).toEqual(expect.objectContaining({ decision: 'stop' }));
    const attempts = requestsTo('web-2');
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    expect(new Set(attempts.map((q) => q.query.requestId)).size).toBe(1);
    expect(performedOn('web-2')).toHaveLength(1);
    process.stderr.write(
      `faults: 429 then 503 → ${attempts.length} stop requests, one requestId, ${performedOn('web-2').length} stop performed\n`,
    );
  }, 90_000);

  it('retries a Compute call that timed out after acting, without acting twice', async () => {
    h.compute.injectFaults({ delayMs: 4000 });
    const id = await r.publish(entry('web-3', '1003', 'rootkit'));
    const line = await r.host.waitForLog(id, { timeoutMs: 60_000, where: decided });
    expect(line).toEqual(expect.objectContaining({ decision: 'stop' }));
    expect(retries(id).length).toBeGreaterThanOrEqual(1);
    const attempts = requestsTo('web-3');
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(new Set(attempts.map((q) => q.query.requestId)).size).toBe(1);
    expect(performedOn('web-3')).toHaveLength(1);
    process.stderr.write(
      `faults: 4 s reply with a 2 s deadline → ${attempts.length} stop requests, ${performedOn('web-3').length} stop performed\n`,
    );
  }, 90_000);

  it('turns the same message delivered three times into one logical action', async () => {
    const data = pubsubData(entry('web-4', '1004', 'rootkit'));
    for (let i = 0; i < 3; i++) expect(await r.host.deliver(data, 'redelivered-message-1')).toBe(204);
    expect(requestsTo('web-4')).toHaveLength(3);
    expect(new Set(requestsTo('web-4').map((q) => q.query.requestId)).size).toBe(1);
    expect(performedOn('web-4')).toHaveLength(1);
  });

  it('stops, with a CRITICAL line, a VM whose failed report is too old to vet', async () => {
    const doc = baselineDocument(parseMeasurements(linuxPcrs('known'), 'e2e'));
    await h.putDocument(r.plan, doc.id, doc.data);
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
    expect(performedOn('web-5')).toHaveLength(1);
  });
});
