import { FINDING_CATEGORIES, SNAPSHOT_LABELS } from '../../function/contract';
import { baselineDocument } from '../../function/core/baseline';
import { parseMeasurements } from '../../function/core/parse';
import { describeWithEmulators } from '../support/emulator-suite';
import { LoggedPcr, integrityEntry, linuxPcrs } from '../../testkit/fixtures';
import { Harness, Responder } from '../../testkit/harness';
import { httpRequest } from '../../testkit/http';
import { runToolAsync } from '../../testkit/tools';

// The containment playbook on real parts (ADR 0031): the shipped zip behind a Pub/Sub push
// subscription, the ledger in the Firestore emulator, and the real Compute, Resource Manager and
// Security Command Center clients talking to loopback fakes. The plan is the example stack with
// CONTAINMENT=snapshot,quarantine,stop and RAISE_FINDINGS=true; the two values Terraform knows
// only after apply (the tag value and the findings source) are given as apply would resolve them.

const PROJECT = 'fleet-prod-1234';
const PROJECT_NUMBER = '812345678901';
const ZONE = 'us-central1-a';
const FORENSICS = 'sec-forensics-01';
const TAG = 'tagValues/281474976710656';
const SOURCE = 'organizations/4242/sources/7001';
const KNOWN_GOOD = linuxPcrs('vetted-kernel');

const PLAYBOOK_STACK = {
  GOOGLE_CLOUD_PROJECT: PROJECT,
  CONTAINMENT: 'snapshot,quarantine,stop',
  FORENSICS_PROJECT_ID: FORENSICS,
  ORGANIZATION_ID: '4242',
  RAISE_FINDINGS: 'true',
};
const APPLIED = { QUARANTINE_TAG_VALUE: TAG, FINDINGS_SOURCE: SOURCE, COMPUTE_TIMEOUT_SECONDS: '3' };

describeWithEmulators('the containment playbook end to end', () => {
  let h: Harness;
  let r: Responder;
  let dry: Responder;

  beforeAll(async () => {
    h = await Harness.start();
    // The order of calls across the three fakes: each request stamped when it arrives.
    for (const log of [h.resourceManager.requests, h.securityCenter.requests] as Array<Array<{ at?: number }>>) {
      const push = log.push.bind(log);
      log.push = (...items) => push(...items.map((i) => Object.assign(i, { at: Date.now() })));
    }
    r = await h.deploy(PLAYBOOK_STACK, 'playbook', APPLIED);
    dry = await h.deploy({ ...PLAYBOOK_STACK, ENFORCEMENT: 'dry-run' }, 'playbook-dry', APPLIED);
  }, 180_000);

  beforeEach(async () => {
    await h.reset();
    h.resourceManager.bindings.clear();
    h.resourceManager.requests.length = 0;
    h.securityCenter.findings.clear();
    h.securityCenter.requests.length = 0;
    h.resourceManager.addProject(PROJECT, PROJECT_NUMBER);
    h.securityCenter.addSource(SOURCE);
    h.compute.add({
      project: PROJECT,
      zone: ZONE,
      name: 'web-1',
      id: '7001',
      disks: [
        { deviceName: 'boot', type: 'PERSISTENT', source: `projects/${PROJECT}/zones/${ZONE}/disks/web-1`, boot: true },
        { deviceName: 'data', type: 'PERSISTENT', source: `projects/${PROJECT}/zones/${ZONE}/disks/web-1-data` },
        { deviceName: 'local-ssd-0', type: 'SCRATCH' },
      ],
    });
  });

  afterAll(() => h?.stop());

  const VM_PARENT = `//compute.googleapis.com/projects/${PROJECT_NUMBER}/zones/${ZONE}/instances/7001`;
  const entry = (boot: number, actual: LoggedPcr[] = linuxPcrs('tampered'), extra = {}) =>
    integrityEntry({ projectId: PROJECT, zone: ZONE, name: 'web-1', instanceId: '7001', bootCounter: String(boot), actual, ...extra });
  const decided = (l: Record<string, unknown>) => l.decision !== undefined;
  const vm = () => h.compute.instances.find((i) => i.id === '7001')!;
  const snapshotInserts = () => h.compute.snapshotRequests().filter((q) => q.method === 'POST' && !q.path.endsWith('/wait'));
  const stops = () => h.compute.performed.filter((q) => q.path.endsWith('/instances/7001/stop'));
  const bindingCreates = () => h.resourceManager.requests.filter((q) => q.method === 'POST' && q.path === '/v3/tagBindings');
  const findingCreates = () => h.securityCenter.requests.filter((q) => q.method === 'POST' && q.path.endsWith('/findings'));
  const summary = (text: string) => process.stderr.write(`${text}\n`);

  async function publish(to: Responder, e: Record<string, unknown>, timeoutMs = 20_000) {
    const messageId = await to.publish(e);
    return { messageId, line: await to.host.waitForLog(messageId, { timeoutMs, where: decided }) };
  }

  /** A ledger document, read from the emulator as an admin (fields as Firestore's REST API gives them). */
  async function ledgerDocument(collection: string, id: string): Promise<Record<string, any>> {
    const { projectId, env } = r.plan;
    const url = `http://${h.firestore.host}/v1/projects/${projectId}/databases/${env.LEDGER_DATABASE}/documents/${collection}/${id}`;
    const res = await httpRequest(url, { headers: { authorization: 'Bearer owner' } });
    if (res.status !== 200) throw new Error(`${collection}/${id}: ${res.status} ${res.body}`);
    return (JSON.parse(res.body) as { fields: Record<string, any> }).fields;
  }

  it('snapshots every persistent disk, quarantines, stops and raises a finding, recording each step', async () => {
    const { messageId, line } = await publish(r, entry(31));
    expect(line).toEqual(
      expect.objectContaining({
        decision: 'stop',
        reason: 'not-known-good',
        operationStatus: 'DONE',
        steps: [
          expect.objectContaining({ step: 'snapshot', status: 'done', skipped: ['local-ssd-0'] }),
          expect.objectContaining({ step: 'quarantine', status: 'done' }),
          expect.objectContaining({ step: 'finding', status: 'done' }),
        ],
      }),
    );
    // Evidence: one snapshot per persistent disk, in the forensics project, labelled to the decision.
    expect(h.compute.snapshots.map((s) => [s.project, s.sourceDisk, s.status])).toEqual([
      [FORENSICS, `projects/${PROJECT}/zones/${ZONE}/disks/web-1`, 'READY'],
      [FORENSICS, `projects/${PROJECT}/zones/${ZONE}/disks/web-1-data`, 'READY'],
    ]);
    expect(h.compute.snapshots[0]!.labels).toEqual(
      expect.objectContaining({
        [SNAPSHOT_LABELS.instanceId]: '7001',
        [SNAPSHOT_LABELS.bootCounter]: '31',
        [SNAPSHOT_LABELS.requestId]: line.requestId,
        [SNAPSHOT_LABELS.reason]: 'not-known-good',
      }),
    );
    // Quarantine: the secure tag bound to the VM by project number and instance id.
    expect(h.resourceManager.valuesOn(VM_PARENT)).toEqual([TAG]);
    // Stopped, after the evidence and the quarantine.
    expect(vm().status).toBe('TERMINATED');
    const stamped = [...h.compute.requests, ...h.resourceManager.requests, ...h.securityCenter.requests] as Array<{
      at: number;
      method: string;
      path: string;
    }>;
    const order = stamped
      .map((q) => ({ at: q.at, what: `${q.method} ${q.path}` }))
      .filter((q) => /snapshots$|tagBindings$|\/stop$|findings$/.test(q.what.split('?')[0]!))
      .sort((a, b) => a.at - b.at)
      .map((q) => q.what.split('?')[0]!.replace(/^POST .*\//, ''));
    expect(order).toEqual(['snapshots', 'snapshots', 'tagBindings', 'stop', 'findings']);
    // The finding, ACTIVE, linking the evidence.
    const [finding] = [...h.securityCenter.findings.values()];
    expect(finding).toEqual(
      expect.objectContaining({
        state: 'ACTIVE',
        category: FINDING_CATEGORIES.integrity,
        severity: 'HIGH',
        resourceName: `//compute.googleapis.com/projects/${PROJECT}/zones/${ZONE}/instances/web-1`,
      }),
    );
    expect(finding!.sourceProperties).toEqual(
      expect.objectContaining({ snapshots: line.snapshots, requestId: line.requestId, eventId: messageId }),
    );
    // The ledger: every step, and the instance's summary for the operator.
    const record = await ledgerDocument('integrity_decisions', `${PROJECT}~${ZONE}~7001-31-lateBoot`);
    const steps = record.steps.mapValue.fields;
    expect(steps.snapshot.mapValue.fields.done).toEqual({ booleanValue: true });
    expect(steps.snapshot.mapValue.fields.snapshots.arrayValue.values).toHaveLength(2);
    expect(steps.quarantine.mapValue.fields.tagValue).toEqual({ stringValue: TAG });
    expect(steps.finding.mapValue.fields.name).toEqual({ stringValue: finding!.name });
    const head = await ledgerDocument('integrity_instances', `${PROJECT}~${ZONE}~7001`);
    expect(head.containment.mapValue.fields.state).toEqual({ stringValue: 'contained' });
    // The timeline of this containment, as the ledger recorded it.
    const f = (v: Record<string, any> | undefined) => v?.stringValue ?? v?.booleanValue;
    const snaps = steps.snapshot.mapValue.fields.snapshots.arrayValue.values.map((v: any) => v.mapValue.fields);
    const timeline = [
      `recorded ${f(record.recordedAt)} decision ${f(record.decision.mapValue.fields.action)} (${f(record.decision.mapValue.fields.reason)}) requestId ${f(record.requestId)}`,
      ...snaps.map((x: any) => `snapshot ${f(x.at)} ${f(x.deviceName)} → ${f(x.snapshot)} (operation ${f(x.operation)})`),
      `quarantine ${f(steps.quarantine.mapValue.fields.at)} ${f(steps.quarantine.mapValue.fields.tagValue)} binding ${f(steps.quarantine.mapValue.fields.binding)}`,
      `stop ${f(record.completedAt)} operation ${f(record.operation)} ${f(record.operationStatus)}`,
      `finding ${f(steps.finding.mapValue.fields.at)} ${f(steps.finding.mapValue.fields.name)}`,
    ];
    summary(`playbook order: ${order.join(' → ')}\n  ${timeline.join('\n  ')}`);
  });

  it('resumes a containment whose quarantine failed, without taking a snapshot or counting the budget again', async () => {
    h.resourceManager.injectFaults({ method: 'createTagBinding', code: 503 });
    const messageId = await r.publish(entry(32));
    const line = await r.host.waitForLog(messageId, { timeoutMs: 30_000, where: decided });
    const retried = r.host.logs.filter((l) => l.eventId === messageId && l.retry === true);
    expect(retried.length).toBeGreaterThanOrEqual(1);
    expect(line).toEqual(
      expect.objectContaining({
        decision: 'stop',
        operationStatus: 'DONE',
        ledger: 'repeat',
        budget: 'already-counted',
        steps: [
          expect.objectContaining({ step: 'snapshot', status: 'already-done' }),
          expect.objectContaining({ step: 'quarantine', status: 'done' }),
          expect.objectContaining({ step: 'finding', status: 'done' }),
        ],
      }),
    );
    expect(snapshotInserts()).toHaveLength(2);
    expect(h.compute.snapshots).toHaveLength(2);
    expect(bindingCreates()).toHaveLength(2);
    expect(h.resourceManager.valuesOn(VM_PARENT)).toEqual([TAG]);
    expect(stops()).toHaveLength(1);
    expect(findingCreates()).toHaveLength(1);
    summary(`resumed after ${retried.length} failed delivery: snapshot inserts ${snapshotInserts().length}, stops ${stops().length}`);
  });

  it("waits out Compute's snapshot rate limit by redelivery, changing nothing on the VM meanwhile", async () => {
    h.compute.injectSnapshotFaults({ rateExceeded: 'http' }, { rateExceeded: 'operation' });
    const messageId = await r.publish(entry(33));
    const line = await r.host.waitForLog(messageId, { timeoutMs: 30_000, where: decided });
    const retried = r.host.logs.filter((l) => l.eventId === messageId && l.retry === true);
    // Refused at once (HTTP 403), then in the operation: each delivery fails, before the VM is touched.
    expect(retried.map((l) => String(l.error))).toEqual([
      expect.stringContaining("refused by Compute Engine's snapshot rate limit"),
      expect.stringContaining('RESOURCE_OPERATION_RATE_EXCEEDED'),
    ]);
    expect(line).toEqual(expect.objectContaining({ decision: 'stop', operationStatus: 'DONE' }));
    expect(h.compute.snapshots.filter((s) => s.status === 'READY')).toHaveLength(2);
    expect(stops()).toHaveLength(1);
  });

  it('sets the finding inactive when the measurements it was contained for are vetted and relearned; the quarantine stays', async () => {
    // Contained for a kernel nobody had vetted yet.
    await publish(r, entry(34, KNOWN_GOOD));
    const [finding] = [...h.securityCenter.findings.values()];
    expect(finding!.state).toBe('ACTIVE');
    const doc = baselineDocument(parseMeasurements(KNOWN_GOOD, 'e2e'), { description: 'vetted after the investigation' });
    await h.putBaseline(r, doc.id, doc.data);
    // The investigation is over: the VM is started again, and its next boot reports vetted measurements.
    vm().status = 'RUNNING';
    vm().lastStartTimestamp = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const { line } = await publish(r, entry(35, KNOWN_GOOD, { timestamp: new Date(Date.now() + 10).toISOString() }));
    expect(line).toEqual(
      expect.objectContaining({
        decision: 'relearn',
        operationStatus: 'DONE',
        finding: finding!.name,
        steps: [expect.objectContaining({ step: 'finding-inactive', status: 'done' })],
      }),
    );
    expect(h.securityCenter.findings.get(finding!.name)!.state).toBe('INACTIVE');
    expect(h.resourceManager.valuesOn(VM_PARENT)).toEqual([TAG]);
  });

  it("lists the VM the function contained, and releases it with the operator's tool: quarantine lifted, finding closed, never restarted", async () => {
    await publish(r, entry(37));
    const [finding] = [...h.securityCenter.findings.values()];
    const tool = (args: string[]) =>
      runToolAsync('integrity-containment', [...args, '--project', PROJECT, '--database', r.plan.env.LEDGER_DATABASE!], {
        env: {
          PATH: process.env.PATH,
          HOME: '/nonexistent',
          FIRESTORE_EMULATOR_HOST: h.firestore.host,
          METADATA_SERVER_DETECTION: 'none',
          RESOURCE_MANAGER_API_ENDPOINT: h.resourceManager.endpoint,
          SECURITY_CENTER_API_ENDPOINT: h.securityCenter.endpoint,
        },
      });
    const listed = await tool(['list', '--json']);
    expect(listed.status).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ containment: expect.objectContaining({ state: 'contained', bootCounter: '37', finding: finding!.name }) }),
    ]);
    const released = await tool(['release', `${PROJECT}/${ZONE}/7001`, '--reason', 'INC-4711: disk images clean', '--by', 'alice']);
    expect({ status: released.status, stderr: released.stderr }).toEqual({ status: 0, stderr: '' });
    expect(h.resourceManager.valuesOn(VM_PARENT)).toEqual([]);
    expect(h.securityCenter.findings.get(finding!.name)!.state).toBe('INACTIVE');
    expect(vm().status).toBe('TERMINATED');
    const head = await ledgerDocument('integrity_instances', `${PROJECT}~${ZONE}~7001`);
    expect(head.containment.mapValue.fields.state).toEqual({ stringValue: 'released' });
    expect(head.containment.mapValue.fields.released.mapValue.fields.reason).toEqual({ stringValue: 'INC-4711: disk images clean' });
    summary(`release: ${released.stdout.trim().split('\n').join(' | ')}`);
  });

  it('in dry-run, says what each step would do and mutates nothing', async () => {
    const { line } = await publish(dry, entry(36));
    expect(line).toEqual(
      expect.objectContaining({
        dryRun: true,
        decision: 'stop',
        operationStatus: 'dry-run',
        steps: [
          expect.objectContaining({ step: 'snapshot', status: 'would' }),
          expect.objectContaining({ step: 'quarantine', status: 'would' }),
          expect.objectContaining({ step: 'finding', status: 'would' }),
        ],
      }),
    );
    expect(String(line.message)).toMatch(
      /^Dry run: would snapshot 2 disks \(1 local SSD kept, not snapshotted\), quarantine it, then stop the instance, and raise a finding/,
    );
    expect(snapshotInserts()).toEqual([]);
    expect(h.resourceManager.requests.filter((q) => q.method !== 'GET')).toHaveLength(0);
    expect(h.securityCenter.requests).toHaveLength(0);
    expect(h.compute.performed).toEqual([]);
    expect(vm().status).toBe('RUNNING');
  });
});
