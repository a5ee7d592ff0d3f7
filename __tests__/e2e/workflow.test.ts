import { Io, run as baselineTool } from '../../cli/integrity-baselines';
import { baselineDocument } from '../../function/core/baseline';
import { createFirestore } from '../../function/runtime/clients';
import { FakeLogging, startFakeLogging } from '../../testkit/fake-logging';
import { parseMeasurements } from '../../function/core/parse';
import { describeWithEmulators } from '../support/emulator-suite';
import { EntryOptions, integrityEntry, linuxPcrs, otherIntegrityEntry, tutorialDocument, windowsPcrs } from '../../testkit/fixtures';
import { Harness, Responder } from '../../testkit/harness';
import { HOSTILE_INPUTS } from '../support/hostile-corpus';

// End to end on real parts: Pub/Sub emulator push → Functions Framework serving the zip the
// plan uploads (installed with npm, on the plan's Node major, with the plan's entry point and
// environment) → Firestore emulator and a loopback Compute API reached by the real client.
// The emulators and the four deployed responders serve the whole file; every test starts from
// a fresh world (the fleet below, all running; no baseline; an empty ledger) and sets up the rest.

const ZONE = 'us-central1-a';

describeWithEmulators('the responder end to end', () => {
  let h: Harness;
  let relearn: Responder;
  let shutdown: Responder;
  let suspend: Responder;
  let dryRun: Responder;
  const latencies: number[] = [];

  beforeAll(async () => {
    h = await Harness.start();
    const project = { GOOGLE_CLOUD_PROJECT: 'fleet-prod-1234' };
    [relearn, shutdown, suspend, dryRun] = await Promise.all([
      h.deploy(project, 'relearn'),
      h.deploy({ ...project, RESPONSE_MODE: 'shutdown' }, 'shutdown'),
      h.deploy({ ...project, FAILURE_ACTION: 'suspend' }, 'suspend'),
      h.deploy({ ...project, ENFORCEMENT: 'dry-run' }, 'dry-run'),
    ]);
  }, 180_000);

  beforeEach(async () => {
    await h.reset();
    for (const [name, id] of [
      ['web-1', '1001'],
      ['web-2', '1002'],
      ['web-3', '1003'],
      ['win-1', '2001'],
      ['db-1', '3001'],
      ['forensic-1', '4001'],
      ['canary-1', '5001'],
      ['kernel-7', '5002'],
    ] as const) {
      h.compute.add({ project: relearn.plan.projectId, zone: ZONE, name, id });
    }
    h.compute.add({
      project: relearn.plan.projectId,
      zone: ZONE,
      name: 'legacy-1',
      id: '7001',
      labels: { 'integrity-response': 'exempt' },
    });
  });

  afterAll(async () => {
    await h?.stop();
    if (latencies.length > 0) {
      const sorted = [...latencies].sort((a, b) => a - b);
      process.stderr.write(
        `e2e: publish → Compute request latency over ${sorted.length} events: median ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted[sorted.length - 1]} ms\n`,
      );
    }
  });

  // Each entry gets a boot of its own, later than every earlier one, unless a test names its boot.
  let boot = 100;

  /** A VM of the fleet, to arrange its state (stopped, started again) or read it. */
  const vm = (id: string) => h.compute.instances.find((i) => i.id === id)!;

  /** Writes the tutorial-format baseline that vouches for `linuxPcrs('kernel-6.8')`. */
  const kernel68Baseline = () => h.putBaseline(relearn, 'baseline1', tutorialDocument(linuxPcrs('kernel-6.8')));

  /**
   * Publishes one entry; returns the decision line and the Compute requests it caused, as
   * `METHOD path-after-the-zone`, with operation numbers (which depend on the order of the
   * tests) written as `*`.
   */
  async function send(r: Responder, o: EntryOptions | string | Record<string, unknown>) {
    const entry =
      typeof o === 'string' || 'jsonPayload' in o
        ? o
        : integrityEntry({ projectId: r.plan.projectId, zone: ZONE, bootCounter: String(++boot), ...(o as EntryOptions) });
    const before = h.compute.requests.length;
    const { log, publishedAt } = await r.publishAndWait(entry);
    const requests = h.compute.requests.slice(before);
    if (requests.length > 0) latencies.push(requests[0]!.at - publishedAt);
    return {
      log,
      requests: requests.map(
        (q) =>
          `${q.method} ${(q.path.split(`/zones/${ZONE}/`)[1] ?? q.path).replace(/^operations\/operation-\d+-/, 'operations/operation-*-')}`,
      ),
    };
  }

  it('runs the plan’s runtime and entry point', () => {
    expect(relearn.plan.runtime).toBe('nodejs24');
    expect(relearn.plan.entryPoint).toBe('respondToIntegrityEvent');
    expect(shutdown.plan.env.RESPONSE_MODE).toBe('shutdown');
  });

  it('suspends, with FAILURE_ACTION suspend, a VM whose measurements are not known good, and waits for the operation', async () => {
    expect(suspend.plan.env.FAILURE_ACTION).toBe('suspend');
    const r = await send(suspend, { name: 'forensic-1', instanceId: '4001', actual: linuxPcrs('rootkit') });
    expect(r.log).toEqual(
      expect.objectContaining({
        severity: 'WARNING',
        decision: 'stop',
        containment: 'suspend',
        reason: 'not-known-good',
        operationStatus: 'DONE',
        message: expect.stringContaining('suspending the instance'),
      }),
    );
    expect(r.requests).toEqual(['GET instances/4001', 'POST instances/4001/suspend', 'POST operations/operation-*-suspend/wait']);
    const post = h.compute.requests.filter((q) => q.method === 'POST' && q.path.endsWith('/instances/4001/suspend')).at(-1)!;
    expect(post.query.requestId).toBe(r.log.requestId);
    expect(vm('4001').status).toBe('SUSPENDED');
  });

  it('in dry-run, decides a stop and writes its decision line, with no Compute mutation', async () => {
    expect(dryRun.plan.env.ENFORCEMENT).toBe('dry-run');
    const r = await send(dryRun, { name: 'canary-1', instanceId: '5001', actual: linuxPcrs('rootkit') });
    expect(r.log).toEqual(
      expect.objectContaining({
        severity: 'WARNING',
        decision: 'stop',
        reason: 'not-known-good',
        dryRun: true,
        ledger: 'new',
        operationStatus: 'dry-run',
        message: expect.stringMatching(/^Dry run: would stop /),
      }),
    );
    // Read for its labels; never mutated.
    expect(r.requests).toEqual(['GET instances/5001']);
    expect(vm('5001').status).toBe('RUNNING');
  });

  it('does nothing when the late-boot policy evaluation passed', async () => {
    const r = await send(relearn, { name: 'web-1', instanceId: '1001', passed: true });
    expect(r.log).toEqual(expect.objectContaining({ severity: 'INFO', decision: 'none', reason: 'policy-passed' }));
    expect(r.requests).toEqual([]);
  });

  it('relearns on a tutorial-format baseline written straight into Firestore', async () => {
    await kernel68Baseline();
    const r = await send(relearn, { name: 'web-1', instanceId: '1001', actual: linuxPcrs('kernel-6.8') });
    expect(r.log).toEqual(
      expect.objectContaining({ severity: 'NOTICE', decision: 'relearn', baselineId: 'baseline1', ledger: 'new', operationStatus: 'DONE' }),
    );
    expect(r.requests).toEqual([
      'GET instances/1001',
      'PATCH instances/1001/setShieldedInstanceIntegrityPolicy',
      'POST operations/operation-*-setShieldedInstanceIntegrityPolicy/wait',
    ]);
    const patch = h.compute.requests.filter((q) => q.method === 'PATCH').at(-1)!;
    expect(patch.body).toBe('{"updateAutoLearnPolicy":true}');
    expect(patch.query.requestId).toBe(r.log.requestId);
  });

  it('relearns a Windows VM on a project-format baseline found by one point read', async () => {
    const doc = baselineDocument(parseMeasurements(windowsPcrs('patch-tuesday'), 'e2e'));
    await h.putBaseline(relearn, doc.id, doc.data);
    const r = await send(relearn, { name: 'win-1', instanceId: '2001', actual: windowsPcrs('patch-tuesday') });
    expect(r.log).toEqual(expect.objectContaining({ decision: 'relearn', baselineId: doc.id, firestoreReads: 1 }));
  });

  it('stops a VM whose measurements are not known good', async () => {
    const r = await send(relearn, { name: 'web-2', instanceId: '1002', actual: linuxPcrs('rootkit') });
    expect(r.log).toEqual(
      expect.objectContaining({ severity: 'WARNING', decision: 'stop', reason: 'not-known-good', operationStatus: 'DONE' }),
    );
    expect(r.requests).toEqual(['GET instances/1002', 'POST instances/1002/stop', 'POST operations/operation-*-stop/wait']);
    expect(vm('1002').status).toBe('TERMINATED');
  });

  it('never stops a VM labelled integrity-response=exempt: one get, no mutation, a CRITICAL exempt line', async () => {
    const r = await send(relearn, { name: 'legacy-1', instanceId: '7001', actual: linuxPcrs('rootkit') });
    expect(r.log).toEqual(
      expect.objectContaining({
        severity: 'CRITICAL',
        decision: 'none',
        reason: 'exempt',
        wouldHave: 'stop',
        exemptLabel: 'integrity-response=exempt',
        message: expect.stringMatching(
          /is exempt \(label integrity-response=exempt\): NOT stopping it though its integrity is not vetted$/,
        ),
      }),
    );
    expect(r.requests).toEqual(['GET instances/7001']);
    expect(vm('7001').status).toBe('RUNNING');
  });

  it('never relearns on a subset of the measured PCRs', async () => {
    await h.putBaseline(relearn, 'linux-part-of-windows', tutorialDocument(windowsPcrs('subset').slice(0, 3)));
    const r = await send(relearn, { name: 'win-1', instanceId: '2001', actual: windowsPcrs('subset') });
    expect(r.log).toEqual(expect.objectContaining({ decision: 'stop' }));
  });

  it('acts on the instance id when the entry carries no name', async () => {
    const r = await send(relearn, { name: null, instanceId: '1003', actual: linuxPcrs('rootkit') });
    expect(r.log).toEqual(expect.objectContaining({ decision: 'stop', instanceId: '1003', instanceFound: true }));
    expect(r.requests).toEqual(['GET instances/1003', 'POST instances/1003/stop', 'POST operations/operation-*-stop/wait']);
    expect(vm('1003').status).toBe('TERMINATED');
  });

  it('leaves a failed early-boot report to the late-boot report in relearn mode', async () => {
    const r = await send(relearn, { kind: 'earlyBootReportEvent', name: 'db-1', instanceId: '3001' });
    expect(r.log).toEqual(expect.objectContaining({ severity: 'DEBUG', decision: 'ignore', eventKind: 'earlyBoot' }));
    // Read only, to note the boot in the ledger (ADR 0020).
    expect(r.requests).toEqual(['GET instances/3001']);
  });

  it('stops a VM on a failed early-boot report in shutdown mode', async () => {
    const r = await send(shutdown, { kind: 'earlyBootReportEvent', name: 'db-1', instanceId: '3001' });
    expect(r.log).toEqual(expect.objectContaining({ mode: 'shutdown', decision: 'stop', reason: 'policy-failed' }));
    expect(r.requests).toEqual(['GET instances/3001', 'POST instances/3001/stop', 'POST operations/operation-*-stop/wait']);
  });

  it('does not relearn a VM that has started again since the reported boot', async () => {
    await kernel68Baseline();
    vm('1001').lastStartTimestamp = new Date(Date.now() + 60_000).toISOString();
    const r = await send(relearn, { name: 'web-1', instanceId: '1001', actual: linuxPcrs('kernel-6.8') });
    expect(r.log).toEqual(expect.objectContaining({ severity: 'WARNING', decision: 'none', reason: 'superseded-by-later-boot' }));
    expect(r.requests).toEqual(['GET instances/1001']);
  });

  it('does not relearn a VM that is not running', async () => {
    await kernel68Baseline();
    vm('3001').status = 'TERMINATED'; // stopped since the boot it reports
    const r = await send(relearn, { name: 'db-1', instanceId: '3001', actual: linuxPcrs('kernel-6.8') });
    expect(r.log).toEqual(expect.objectContaining({ severity: 'WARNING', decision: 'none', reason: 'instance-not-running' }));
    expect(r.requests).toEqual(['GET instances/3001']);
  });

  it('does not relearn when the name now belongs to another instance', async () => {
    await kernel68Baseline();
    // The VM with id 1003 was deleted and a new VM took its name, web-3: the entry names
    // web-3, but its id is the old VM's.
    h.compute.instances.splice(
      h.compute.instances.findIndex((i) => i.id === '1003'),
      1,
    );
    h.compute.add({ project: relearn.plan.projectId, zone: ZONE, name: 'web-3', id: '9003' });
    const r = await send(relearn, { name: 'web-3', instanceId: '1003', actual: linuxPcrs('kernel-6.8') });
    expect(r.log).toEqual(
      expect.objectContaining({
        severity: 'WARNING',
        decision: 'none',
        reason: 'instance-not-found',
        wouldHave: 'relearn',
        instanceFound: false,
        operationStatus: 'instance-not-found',
      }),
    );
    expect(String(r.log.message)).toContain('no longer exists');
    expect(r.requests).toEqual(['GET instances/1003']);
    expect(h.compute.requests.filter((q) => /\/instances\/(9003|web-3)(\/|$)/.test(q.path))).toEqual([]);
  });

  it('acknowledges an instance the Compute API answers 404 for', async () => {
    const r = await send(relearn, { name: 'deleted-vm', instanceId: '4040', actual: linuxPcrs('rootkit') });
    expect(r.log).toEqual(expect.objectContaining({ severity: 'WARNING', instanceFound: false }));
    // Gone at the get: nothing is sent to stop it.
    expect(r.requests).toEqual(['GET instances/4040']);
  });

  it('ignores other integrity events', async () => {
    const entry = otherIntegrityEntry('startupEvent');
    entry.logName = `projects/${relearn.plan.projectId}/logs/compute.googleapis.com%2Fshielded_vm_integrity`;
    (entry.resource as any).labels.project_id = relearn.plan.projectId;
    const r = await send(relearn, entry);
    expect(r.log).toEqual(expect.objectContaining({ severity: 'DEBUG', reason: expect.stringContaining('startupEvent') }));
  });

  it('rejects an entry about another project', async () => {
    const r = await send(relearn, integrityEntry({ projectId: 'other-project-42', zone: ZONE, name: 'web-2', instanceId: '1002' }));
    expect(r.log).toEqual(expect.objectContaining({ severity: 'ERROR', rejection: 'foreign-project' }));
    expect(r.requests).toEqual([]);
  });

  it('acknowledges a malformed entry once: one error line, no Compute call, no redelivery', async () => {
    const { messageId, log } = await relearn.publishAndWait('{"truncated": ');
    expect(log).toEqual(expect.objectContaining({ severity: 'ERROR', rejection: 'invalid-json' }));
    await new Promise((r) => setTimeout(r, 1500));
    expect(relearn.host.logs.filter((l) => l.eventId === messageId)).toHaveLength(1);
  });

  const deliverable = HOSTILE_INPUTS.filter((i) => i.transport !== 'handler');
  it(`acknowledges each of the ${deliverable.length} deliverable hostile inputs once, with one log line and no Compute call`, async () => {
    const before = h.compute.requests.length;
    const sent: Array<{ id: string; input: (typeof HOSTILE_INPUTS)[number] }> = [];
    for (const [i, input] of deliverable.entries()) {
      if (input.transport === 'pubsub') {
        sent.push({ id: await relearn.publishData((input.data as { message: { data: string } }).message.data), input });
      } else {
        const id = `direct-hostile-${i}`;
        expect(await relearn.host.deliver(input.data, id)).toBeLessThan(300);
        sent.push({ id, input });
      }
    }
    const severity = { rejected: 'ERROR', ignored: 'DEBUG', 'no-action': 'INFO' } as const;
    for (const { id, input } of sent) {
      const line = await relearn.host.waitForLog(id);
      expect({ name: input.name, severity: line.severity, rejection: line.rejection }).toEqual({
        name: input.name,
        severity: severity[input.expected],
        rejection: input.expected === 'rejected' ? input.code : undefined,
      });
    }
    await new Promise((r) => setTimeout(r, 1500)); // a redelivery would show up as a second line
    for (const { id, input } of sent)
      expect({ name: input.name, lines: relearn.host.logs.filter((l) => l.eventId === id).length }).toEqual({ name: input.name, lines: 1 });
    expect(h.compute.requests.slice(before)).toEqual([]);
  });

  it('takes a baseline added while it runs into account on the next event', async () => {
    const measured = linuxPcrs('kernel-6.9');
    const web2 = vm('1002');
    const first = await send(relearn, { name: 'web-2', instanceId: '1002', actual: measured });
    expect(first.log).toEqual(expect.objectContaining({ decision: 'stop' }));
    expect(web2.status).toBe('TERMINATED');
    const doc = baselineDocument(parseMeasurements(measured, 'e2e'), { description: 'kernel 6.9 canary' });
    await h.putBaseline(relearn, doc.id, doc.data);
    // The VM is started again, after its stop: its next boot reports the same measurements.
    web2.status = 'RUNNING';
    web2.lastStartTimestamp = new Date().toISOString();
    const second = await send(relearn, { name: 'web-2', instanceId: '1002', actual: measured, timestamp: new Date().toISOString() });
    expect(second.log).toEqual(expect.objectContaining({ decision: 'relearn', baselineId: doc.id, ledger: 'new' }));
    expect(Number(second.log.bootCounter)).toBeGreaterThan(Number(first.log.bootCounter));
    expect(second.requests).toEqual([
      'GET instances/1002',
      'PATCH instances/1002/setShieldedInstanceIntegrityPolicy',
      'POST operations/operation-*-setShieldedInstanceIntegrityPolicy/wait',
    ]);
  });

  /**
   * Runs integrity-baselines, as an operator would, against the responder's baseline database
   * (its Firestore client over gRPC: REST does not run inside Jest's sandbox).
   */
  async function operator(r: Responder, logging: FakeLogging, ...args: string[]): Promise<string> {
    let stdout = '';
    let stderr = '';
    const io: Io = {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      readStdin: () => '',
      env: { FIRESTORE_EMULATOR_HOST: h.firestore.host, LOGGING_API_ENDPOINT: logging.url, COMPUTE_API_ENDPOINT: h.compute.endpoint },
      openFirestore: (config) => createFirestore(config, 'grpc'),
    };
    const target = [
      '--project',
      r.plan.projectId,
      '--database',
      r.plan.env.FIRESTORE_DATABASE!,
      '--collection',
      r.plan.env.BASELINE_COLLECTION!,
    ];
    const code = await baselineTool([...args, ...target], io);
    process.stderr.write(`e2e: $ integrity-baselines ${args.join(' ')}\n${stdout}${stderr}`);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    return stdout;
  }

  describe('with baselines managed by integrity-baselines', () => {
    let logging: FakeLogging;
    beforeAll(async () => {
      process.env.FIRESTORE_EMULATOR_HOST = h.firestore.host;
      logging = await startFakeLogging();
    });
    beforeEach(() => {
      logging.entries.length = 0;
    });
    afterAll(async () => {
      await logging?.close();
      delete process.env.FIRESTORE_EMULATOR_HOST;
    });

    it('relearns, after capture from Cloud Logging, the canary that was stopped for a new kernel', async () => {
      const measured = linuxPcrs('kernel-7.0');
      const canary = vm('5001');
      canary.lastStartTimestamp = new Date(Date.now() - 5000).toISOString();
      const entry = integrityEntry({
        projectId: relearn.plan.projectId,
        zone: ZONE,
        name: 'canary-1',
        instanceId: '5001',
        bootCounter: String(++boot),
        actual: measured,
      });
      logging.entries.push(entry);
      const first = await send(relearn, entry);
      expect(first.log).toEqual(expect.objectContaining({ decision: 'stop', reason: 'not-known-good' }));

      // The team checks the canary, then records its newest late-boot report as known good.
      const created = await operator(
        relearn,
        logging,
        'capture',
        '--instance',
        'canary-1',
        '--zone',
        ZONE,
        '--actor',
        'alice@example.com',
        '--note',
        'kernel 7.0',
      );
      const id = baselineDocument(parseMeasurements(measured, 'e2e')).id;
      expect(created).toContain(`/${id} (active, PCR_0,4,7, from canary-1 boot ${boot}, by alice@example.com)`);

      // Started again after the capture: the boot that relearns comes after the stop.
      canary.status = 'RUNNING';
      canary.lastStartTimestamp = new Date().toISOString();
      const second = await send(relearn, { name: 'canary-1', instanceId: '5001', actual: measured, timestamp: new Date().toISOString() });
      expect(second.log).toEqual(expect.objectContaining({ decision: 'relearn', baselineId: id }));
      process.stderr.write(`e2e: capture then relearn → ${String(first.log.message)} | ${String(second.log.message)}\n`);
    });

    it('stops, on the very next event, a VM whose baseline was revoked after it relearned', async () => {
      const measured = linuxPcrs('kernel-7.0');
      // Kernel 7.0 is known good, as a capture of the canary's boot records it.
      const doc = baselineDocument(parseMeasurements(measured, 'e2e'), { description: 'kernel 7.0' });
      await h.putBaseline(relearn, doc.id, doc.data);
      const { id } = doc;
      const k7 = vm('5002');
      k7.lastStartTimestamp = new Date(Date.now() - 5000).toISOString();
      const first = await send(relearn, { name: 'kernel-7', instanceId: '5002', actual: measured });
      expect(first.log).toEqual(expect.objectContaining({ decision: 'relearn', baselineId: id }));
      // Kernel 7.0 is found bad: its baseline is revoked (kept, never matched again).
      await operator(relearn, logging, 'revoke', id.slice(0, 19), '--reason', 'kernel 7.0 found bad', '--actor', 'secops@example.com');
      k7.lastStartTimestamp = new Date(Date.now() - 2000).toISOString();
      const second = await send(relearn, { name: 'kernel-7', instanceId: '5002', actual: measured });
      expect(second.log).toEqual(expect.objectContaining({ decision: 'stop', reason: 'not-known-good' }));
      const refused = relearn.host.logs.find((l) => l.baselineRefused !== undefined && l.baselineId === id);
      expect(refused).toEqual(expect.objectContaining({ severity: 'NOTICE', baselineRefused: 'it is revoked' }));
      expect(k7.status).toBe('TERMINATED');
      process.stderr.write(
        `e2e: revoke then stop → ${String(first.log.message)} | ${String(refused?.message)} | ${String(second.log.message)}\n`,
      );
    });
  });
});
