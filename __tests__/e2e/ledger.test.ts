import { baselineDocument } from '../../function/core/baseline';
import { parseMeasurements } from '../../function/core/parse';
import { describeWithEmulators } from '../support/emulator-suite';
import { LoggedPcr, integrityEntry, linuxPcrs, pubsubData } from '../../testkit/fixtures';
import { Harness, Responder } from '../../testkit/harness';
import { httpRequest } from '../../testkit/http';

// The decision ledger on real parts: the shipped function behind a Pub/Sub push subscription
// (through a gate standing where Cloud Run's front end stands), the ledger in the Firestore
// emulator, a loopback Compute API. Anyone who can write a log entry can write one that looks
// like an integrity report: two claims about one boot stop the VM whatever their order, an
// older boot never relearns, and a redelivery never acts twice.

const ZONE = 'us-central1-a';
const PROJECT = 'fleet-prod-1234';
const KNOWN_GOOD = linuxPcrs('kernel-6.9');
const UNKNOWN = linuxPcrs('rootkit');

describeWithEmulators('the decision ledger end to end', () => {
  let h: Harness;
  let r: Responder;

  beforeAll(async () => {
    h = await Harness.start();
    // The plan names the ledger's own database; the emulator serves any database id.
    r = await h.deploy({ GOOGLE_CLOUD_PROJECT: PROJECT }, 'ledger', { COMPUTE_TIMEOUT_SECONDS: '2' }, { gate: true });
    for (const [name, id] of [
      ['conf-1', '6001'],
      ['conf-2', '6002'],
      ['old-1', '6003'],
      ['redo-1', '6004'],
      ['redo-2', '6005'],
      ['operr-1', '6006'],
      ['inv-1', '6007'],
      ['pend-1', '6008'],
      ['operr-2', '6009'],
    ] as const) {
      h.compute.add({ project: PROJECT, zone: ZONE, name, id });
    }
    expect(r.plan.env.LEDGER_DATABASE).toBe('integrity-responder-decisions');
    const doc = baselineDocument(parseMeasurements(KNOWN_GOOD, 'e2e'), { description: 'kernel 6.9' });
    await h.putDocument(r.plan, doc.id, doc.data);
  }, 120_000);

  afterAll(() => h?.stop());

  const entry = (name: string, id: string, boot: number, actual: LoggedPcr[]) =>
    integrityEntry({ projectId: PROJECT, zone: ZONE, name, instanceId: id, bootCounter: String(boot), actual });
  const decided = (l: Record<string, unknown>) => l.decision !== undefined;
  const vm = (id: string) => h.compute.instances.find((i) => i.id === id)!;
  /** Compute mutations performed on a VM, as `METHOD verb`. */
  const mutationsOn = (id: string) =>
    h.compute.performed.filter((q) => q.path.includes(`/instances/${id}/`)).map((q) => `${q.method} ${q.path.split('/').pop()}`);
  /** Every Compute request about a VM (reads and actions; operation waits are about operations). */
  const requestsAbout = (id: string) => h.compute.requests.filter((q) => q.path.includes(`/instances/${id}`));
  /** Publishes an entry and waits for the function's decision line about it. */
  async function publish(e: Record<string, unknown>, timeoutMs = 10_000) {
    const messageId = await r.publish(e);
    return { messageId, line: await r.host.waitForLog(messageId, { timeoutMs, where: decided }) };
  }
  const summary = (text: string) => process.stderr.write(`${text}\n`);
  /** Waits until `done` holds, or fails after `timeoutMs`. */
  async function until(done: () => boolean, timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  /** A decision-ledger document, read from the emulator as an admin (fields as Firestore's REST API gives them). */
  async function ledgerRecord(id: string): Promise<Record<string, any>> {
    const { projectId, env } = r.plan;
    const url = `http://${h.firestore.host}/v1/projects/${projectId}/databases/${env.LEDGER_DATABASE}/documents/integrity_decisions/${id}`;
    const res = await httpRequest(url, { headers: { authorization: 'Bearer owner' } });
    if (res.status !== 200) throw new Error(`ledger record ${id}: ${res.status} ${res.body}`);
    return (JSON.parse(res.body) as { fields: Record<string, any> }).fields;
  }
  const stopRequests = (id: string) => h.compute.actions().filter((q) => q.path.endsWith(`/instances/${id}/stop`));
  const retriesOf = (messageId: string) => r.host.logs.filter((l) => l.eventId === messageId && l.retry === true).length;

  it('stops, at CRITICAL, a VM whose relearned boot is then reported with other measurements; a repeat of the first report does nothing', async () => {
    const first = await publish(entry('conf-1', '6001', 21, KNOWN_GOOD));
    expect(first.line).toEqual(
      expect.objectContaining({ severity: 'NOTICE', decision: 'relearn', reason: 'known-good', ledger: 'new', operationStatus: 'DONE' }),
    );
    expect(mutationsOn('6001')).toEqual(['PATCH setShieldedInstanceIntegrityPolicy']);

    const forged = await publish(entry('conf-1', '6001', 21, UNKNOWN));
    expect(forged.line).toEqual(
      expect.objectContaining({
        severity: 'CRITICAL',
        decision: 'stop',
        reason: 'conflicting-reports',
        ledger: 'conflict',
        bootCounter: '21',
        operationStatus: 'DONE',
      }),
    );
    expect(String(forged.line.message)).toContain('possible forged entry');
    expect(mutationsOn('6001')).toEqual(['PATCH setShieldedInstanceIntegrityPolicy', 'POST stop']);
    expect(vm('6001').status).toBe('TERMINATED');
    const record = await ledgerRecord(`${PROJECT}~${ZONE}~6001-21-lateBoot`);
    expect(record.conflict).toEqual({ booleanValue: true });
    expect(record.fingerprints.arrayValue.values).toHaveLength(2);
    expect(record.decision.mapValue.fields.reason).toEqual({ stringValue: 'conflicting-reports' });
    expect(record.outcome).toEqual({ stringValue: 'done' });

    const before = requestsAbout('6001').length;
    const third = await publish(entry('conf-1', '6001', 21, KNOWN_GOOD));
    expect(third.line).toEqual(
      expect.objectContaining({ severity: 'INFO', decision: 'stop', reason: 'conflicting-reports', alreadyDone: true }),
    );
    expect(String(third.line.message)).toMatch(/^Already handled: /);
    // Only the get that reads the VM's labels; no action.
    expect(
      requestsAbout('6001')
        .slice(before)
        .map((q) => q.method),
    ).toEqual(['GET']);
    expect(mutationsOn('6001')).toEqual(['PATCH setShieldedInstanceIntegrityPolicy', 'POST stop']);
    summary(
      `ledger: known-good then forged unknown, boot 21 → relearn, then stop (CRITICAL conflicting-reports), then the known-good report again → already handled; Compute mutations: ${mutationsOn('6001').join(', ')}`,
    );
  });

  it('stops on an unknown boot and never relearns it when a known-good report for the same boot follows', async () => {
    const first = await publish(entry('conf-2', '6002', 22, UNKNOWN));
    expect(first.line).toEqual(expect.objectContaining({ severity: 'WARNING', decision: 'stop', reason: 'not-known-good', ledger: 'new' }));
    expect(vm('6002').status).toBe('TERMINATED');

    const forged = await publish(entry('conf-2', '6002', 22, KNOWN_GOOD));
    expect(forged.line).toEqual(
      expect.objectContaining({ severity: 'CRITICAL', decision: 'stop', reason: 'conflicting-reports', ledger: 'conflict' }),
    );
    expect(String(forged.line.message)).toContain('possible forged entry');

    // Even with the VM running again, the known-good claim about boot 22 relearns nothing.
    vm('6002').status = 'RUNNING';
    const again = await publish(entry('conf-2', '6002', 22, KNOWN_GOOD));
    expect(again.line).toEqual(expect.objectContaining({ decision: 'stop', reason: 'conflicting-reports', alreadyDone: true }));
    expect(requestsAbout('6002').filter((q) => q.method === 'PATCH')).toEqual([]);
    expect(mutationsOn('6002').every((m) => m === 'POST stop')).toBe(true);
    summary(
      `ledger: unknown then forged known-good, boot 22 → stop, then stop (CRITICAL conflicting-reports), then the known-good report again on a running VM → already handled, never a relearn; Compute mutations: ${mutationsOn('6002').join(', ')}`,
    );
  });

  it('never relearns on a report about a boot older than one already recorded', async () => {
    const newer = await publish(entry('old-1', '6003', 31, KNOWN_GOOD));
    expect(newer.line).toEqual(expect.objectContaining({ decision: 'relearn', bootCounter: '31', operationStatus: 'DONE' }));
    const before = requestsAbout('6003').length;
    const waitsBefore = h.compute.operationWaits().length;

    const older = await publish(entry('old-1', '6003', 30, KNOWN_GOOD));
    expect(older.line).toEqual(
      expect.objectContaining({ severity: 'WARNING', decision: 'none', reason: 'older-boot', ledger: 'older-boot', bootCounter: '30' }),
    );
    // Only the get that reads the VM's labels; no relearn.
    expect(
      requestsAbout('6003')
        .slice(before)
        .map((q) => q.method),
    ).toEqual(['GET']);
    expect(h.compute.operationWaits().length).toBe(waitsBefore);
    expect(mutationsOn('6003')).toEqual(['PATCH setShieldedInstanceIntegrityPolicy']);
    summary(
      `ledger: known-good boot 31, then known-good boot 30 → relearn, then none (older-boot) with no Compute mutation; Compute mutations: ${mutationsOn('6003').join(', ')}`,
    );
  });

  it('does nothing again when a message whose action completed is delivered again', async () => {
    const data = pubsubData(entry('redo-1', '6004', 41, UNKNOWN), 'ledger-redelivery-1');
    expect(await r.host.deliver(data, 'ledger-redelivery-1')).toBe(204);
    expect(await r.host.deliver(data, 'ledger-redelivery-1')).toBe(204);
    const [first, second] = r.host.logs.filter((l) => l.eventId === 'ledger-redelivery-1' && decided(l));
    expect(first).toEqual(expect.objectContaining({ decision: 'stop', ledger: 'new', alreadyDone: false, operationStatus: 'DONE' }));
    expect(second).toEqual(
      expect.objectContaining({
        severity: 'INFO',
        decision: 'stop',
        ledger: 'repeat',
        alreadyDone: true,
        requestId: first!.requestId,
        operation: first!.operation,
        operationStatus: 'DONE',
      }),
    );
    expect(String(second!.message)).toMatch(/^Already handled: /);
    expect(mutationsOn('6004')).toEqual(['POST stop']);
    // get, stop; then, delivered again, only the get that reads the labels.
    expect(requestsAbout('6004').map((q) => q.method)).toEqual(['GET', 'POST', 'GET']);
    summary(
      `ledger: the same CloudEvent delivered twice, boot 41 → stop, then already handled (alreadyDone: true); Compute mutations: ${mutationsOn('6004').join(', ')}`,
    );
  });

  it('does nothing again when Pub/Sub redelivers a message whose acknowledgement was lost after the action', async () => {
    r.gate!.loseAcknowledgementOfNext(1);
    const messageId = await r.publish(entry('redo-2', '6005', 42, UNKNOWN));
    const [first, second] = await waitForLines(messageId, 2, decided, 60_000);
    expect(first).toEqual(expect.objectContaining({ decision: 'stop', ledger: 'new', alreadyDone: false, operationStatus: 'DONE' }));
    expect(second).toEqual(expect.objectContaining({ severity: 'INFO', ledger: 'repeat', alreadyDone: true, requestId: first!.requestId }));
    // The function logs before it answers; the gate records the answer once it has passed back.
    await until(() => r.gate!.deliveriesOf(messageId).length >= 2, 10_000);
    expect(r.gate!.deliveriesOf(messageId).map((d) => d.status)).toEqual([503, 204]);
    expect(mutationsOn('6005')).toEqual(['POST stop']);
    summary(
      `ledger: acknowledgement lost after the stop, boot 42 → Pub/Sub redelivered after ${seconds(r.gate!.deliveriesOf(messageId))} s → already handled; Compute mutations: ${mutationsOn('6005').join(', ')}`,
    );
  }, 90_000);

  it('retries deliveries refused with 403 before the invoker grant has propagated, and stops the VM once', async () => {
    r.gate!.refuseNext(2);
    const publishedAt = Date.now();
    const { messageId, line } = await publish(entry('inv-1', '6007', 61, UNKNOWN), 90_000);
    expect(line).toEqual(expect.objectContaining({ decision: 'stop', ledger: 'new', operationStatus: 'DONE' }));
    // The gate records a forwarded delivery when the function's response ends, which can be
    // after the decision line is visible: wait for it rather than race it.
    for (const deadline = Date.now() + 10_000; !r.gate!.deliveriesOf(messageId).some((d) => d.forwarded) && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const deliveries = r.gate!.deliveriesOf(messageId);
    const refused = deliveries.filter((d) => d.status === 403);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused.every((d) => !d.forwarded)).toBe(true);
    const delivered = deliveries.find((d) => d.forwarded)!;
    expect(delivered.status).toBe(204);
    expect(mutationsOn('6007')).toEqual(['POST stop']);
    expect(vm('6007').status).toBe('TERMINATED');
    summary(
      `invoker: ${refused.length} deliveries refused with 403, then delivered after ${((delivered.at - publishedAt) / 1000).toFixed(1)} s; ${mutationsOn('6007').length} stop`,
    );
  }, 120_000);

  it('redelivers an event whose operation is not DONE by the deadline, and completes it with the same request id', async () => {
    h.compute.injectFaults({ operationPendingMs: 3000 });
    const messageId = await r.publish(entry('pend-1', '6008', 52, UNKNOWN));
    const failure = await r.host.waitForLog(messageId, { where: (l) => l.retry === true });
    expect(failure).toEqual(
      expect.objectContaining({ severity: 'ERROR', retry: true, error: expect.stringContaining('not done after 2 s') }),
    );
    const line = await r.host.waitForLog(messageId, { timeoutMs: 60_000, where: decided });
    expect(line).toEqual(
      expect.objectContaining({
        decision: 'stop',
        ledger: 'repeat',
        alreadyDone: false,
        operationStatus: 'DONE',
        operation: expect.any(String),
      }),
    );
    const stops = stopRequests('6008');
    expect(stops.length).toBeGreaterThanOrEqual(2);
    expect(new Set(stops.map((q) => q.query.requestId))).toEqual(new Set([line.requestId]));
    expect(mutationsOn('6008')).toEqual(['POST stop']);
    expect(vm('6008').status).toBe('TERMINATED');
    summary(
      `ledger: operation still RUNNING at the 2 s deadline, boot 52 → ${retriesOf(messageId)} failed delivery (ERROR, retry: true), then stop DONE; ${stops.length} stop requests, one requestId; Compute mutations: ${mutationsOn('6008').join(', ')}`,
    );
  }, 90_000);

  it('redelivers an event whose operation ended in error, and stops the VM under a new request id', async () => {
    // Compute answers a request id it has already seen with that request's operation: repeating
    // a failed stop under the same id would be answered with the same failure until the API
    // forgets the id. The ledger renews the id after an operation that finished in error.
    h.compute.injectFaults({ operationError: { code: 'RESOURCE_NOT_READY', message: 'The resource is not ready' } });
    const messageId = await r.publish(entry('operr-1', '6006', 51, UNKNOWN));
    try {
      const failure = await r.host.waitForLog(messageId, { where: (l) => l.retry === true });
      expect(failure).toEqual(
        expect.objectContaining({
          severity: 'ERROR',
          retry: true,
          error: expect.stringContaining('RESOURCE_NOT_READY: The resource is not ready'),
        }),
      );
      const line = await r.host.waitForLog(messageId, { timeoutMs: 30_000, where: decided });
      expect(line).toEqual(expect.objectContaining({ decision: 'stop', operationStatus: 'DONE' }));
      const stops = stopRequests('6006');
      expect(stops).toHaveLength(2);
      expect(new Set(stops.map((q) => q.query.requestId)).size).toBe(2);
      expect(line.requestId).toBe(stops[1]!.query.requestId);
      expect(vm('6006').status).toBe('TERMINATED');
      summary(
        `ledger: operation ended in RESOURCE_NOT_READY, boot 51 → ${retriesOf(messageId)} failed delivery (ERROR, retry: true), then stop DONE under a new requestId; ${stops.length} stop requests, 2 requestIds; VM ${vm('6006').status}`,
      );
    } finally {
      r.gate!.drop(messageId);
    }
  }, 90_000);

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

  /** Seconds between the first and the last of some deliveries. */
  function seconds(deliveries: ReadonlyArray<{ at: number }>): string {
    return ((deliveries.at(-1)!.at - deliveries[0]!.at) / 1000).toFixed(1);
  }
});
