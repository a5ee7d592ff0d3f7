import { describeWithEmulators } from '../support/emulator-suite';
import { integrityEntry, linuxPcrs } from '../../testkit/fixtures';
import { Harness, Responder } from '../../testkit/harness';

// An organization-scoped responder on real parts: the example stack synthesized with
// SCOPE=organizations/…, its shipped function behind the plan's push subscription (with the
// plan's dead-letter policy), the Firestore and Pub/Sub emulators and a loopback Compute API
// holding VMs of several projects.

const SECURITY = 'sec-ops-1234';
const PAYMENTS = 'payments-prod-9';
const SANDBOX = 'lab-sandbox-1';
const ZONE = 'europe-west1-b';

describeWithEmulators('a responder watching an organization', () => {
  let h: Harness;
  let r: Responder;

  beforeAll(async () => {
    h = await Harness.start();
    r = await h.deploy(
      { GOOGLE_CLOUD_PROJECT: SECURITY, SCOPE: 'organizations/4242', EXCLUDED_PROJECTS: SANDBOX, RESPONSE_MODE: 'shutdown' },
      'org',
      {},
      // Pub/Sub's minimum, so that the dead-letter test needs five deliveries, not the plan's twenty.
      { maxDeliveryAttempts: 5 },
    );
    h.compute.add({ project: PAYMENTS, zone: ZONE, name: 'checkout-1', id: '7001' });
    h.compute.add({ project: PAYMENTS, zone: ZONE, name: 'checkout-2', id: '7002' });
    h.compute.add({ project: SANDBOX, zone: ZONE, name: 'scratch-1', id: '7101' });
    h.compute.add({ project: SECURITY, zone: ZONE, name: 'bastion-1', id: '7201' });
  }, 120_000);

  afterAll(() => h?.stop());

  let boot = 10;
  const entry = (projectId: string, name: string, id: string) =>
    integrityEntry({ projectId, zone: ZONE, name, instanceId: id, actual: linuxPcrs('rootkit'), bootCounter: String(++boot) });
  const performedOn = (id: string) => h.compute.performed.filter((q) => q.path.includes(`/instances/${id}/`));
  const show = (l: Record<string, unknown>) =>
    process.stderr.write(
      `e2e-scope: ${JSON.stringify({ severity: l.severity, message: l.message, projectId: l.projectId, rejection: l.rejection })}\n`,
    );

  it('runs with the scope the plan gives it', () => {
    // The security project is left out too: the function's build identity can write logs there (ADR 0023).
    expect(r.plan.env).toMatchObject({
      SCOPE: 'organizations/4242',
      EXCLUDED_PROJECTS: [SANDBOX, SECURITY].sort().join(','),
      GOOGLE_CLOUD_PROJECT: SECURITY,
    });
    expect(r.plan.delivery).toMatchObject({ maxDeliveryAttempts: 20, retryPolicy: { minimumBackoff: '10s', maximumBackoff: '600s' } });
  });

  it('stops a VM of another project of the organization, by its own project', async () => {
    const { log } = await r.publishAndWait(entry(PAYMENTS, 'checkout-1', '7001'));
    show(log);
    expect(log).toEqual(expect.objectContaining({ decision: 'stop', projectId: PAYMENTS, operationStatus: 'DONE' }));
    expect(performedOn('7001')).toEqual([
      expect.objectContaining({ method: 'POST', path: `/compute/v1/projects/${PAYMENTS}/zones/${ZONE}/instances/7001/stop` }),
    ]);
  });

  it('refuses an entry from the security project, which its build identity could have written', async () => {
    const { log } = await r.publishAndWait(entry(SECURITY, 'bastion-1', '7201'));
    expect(log).toEqual(expect.objectContaining({ severity: 'ERROR', rejection: 'excluded-project' }));
    expect(performedOn('7201')).toHaveLength(0);
  });

  it('refuses an entry from an excluded project: one ERROR line, no Compute call', async () => {
    const before = h.compute.requests.length;
    const { log } = await r.publishAndWait(entry(SANDBOX, 'scratch-1', '7101'));
    show(log);
    expect(log).toEqual(
      expect.objectContaining({
        severity: 'ERROR',
        rejection: 'excluded-project',
        detail: `project ${SANDBOX} is excluded from this responder's scope organizations/4242`,
      }),
    );
    expect(h.compute.requests.length).toBe(before);
    expect(h.compute.instances.find((i) => i.id === '7101')!.status ?? 'RUNNING').toBe('RUNNING');
  });

  it('moves an event that keeps failing to the dead-letter subscription after the last delivery, and keeps it there', async () => {
    // Compute refuses the stop five times (as it does while a grant has not reached a project).
    h.compute.injectFaults({ status: 403 }, { status: 403 }, { status: 403 }, { status: 403 }, { status: 403 });
    const id = await r.publish(entry(PAYMENTS, 'checkout-2', '7002'));
    const deadline = Date.now() + 60_000;
    let dead: Awaited<ReturnType<Responder['pullDeadLetters']>> = [];
    while (dead.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      dead = await r.pullDeadLetters();
    }
    const retried = r.host.logs.filter((l) => l.eventId === id && l.retry === true);
    for (const l of retried) show(l);
    expect(retried).toHaveLength(5);
    expect(retried[0]).toEqual(
      // Named by id: the entry's label is only its writer's word.
      expect.objectContaining({
        severity: 'ERROR',
        message: expect.stringContaining(`${PAYMENTS}/${ZONE}/7002`),
        entryInstanceName: 'checkout-2',
      }),
    );
    expect(dead).toHaveLength(1);
    expect(dead[0]!.attributes).toEqual(expect.objectContaining({ CloudPubSubDeadLetterSourceDeliveryCount: '5' }));
    expect(JSON.parse(Buffer.from(dead[0]!.data, 'base64').toString('utf8'))).toEqual(
      expect.objectContaining({ resource: expect.objectContaining({ labels: expect.objectContaining({ instance_id: '7002' }) }) }),
    );
    process.stderr.write(
      `e2e-scope: 5 deliveries refused (403) → dead letter with delivery count ${dead[0]!.attributes?.CloudPubSubDeadLetterSourceDeliveryCount}; VM ${h.compute.instances.find((i) => i.id === '7002')!.status ?? 'RUNNING'}\n`,
    );
    expect(performedOn('7002')).toHaveLength(0);
  }, 90_000);
});
