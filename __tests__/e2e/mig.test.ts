import { describeWithEmulators } from '../support/emulator-suite';
import { EntryOptions, integrityEntry, linuxPcrs } from '../../testkit/fixtures';
import { FakeGroup, fakeGroupPath } from '../../testkit/fake-compute';
import { Harness, Responder } from '../../testkit/harness';

// Members of managed instance groups end to end (ADR 0010): the shipped zip behind the Pub/Sub
// emulator, the Firestore emulator, and the loopback Compute API, whose groups repair (recreate)
// a member that is stopped while the group still manages it.

const ZONE = 'us-central1-a';
const REPAIR_MS = 400;

describeWithEmulators('members of managed instance groups end to end', () => {
  let h: Harness;
  let abandon: Responder;
  let containOnly: Responder;
  let dryRun: Responder;
  let web: FakeGroup;
  let api: FakeGroup;
  let project: string;
  let boot = 100;

  beforeAll(async () => {
    h = await Harness.start();
    const env = { GOOGLE_CLOUD_PROJECT: 'fleet-prod-1234', RESPONSE_MODE: 'shutdown' };
    [abandon, containOnly, dryRun] = await Promise.all([
      h.deploy(env, 'abandon'),
      h.deploy({ ...env, INSTANCE_GROUP_ACTION: 'contain-only' }, 'contain-only'),
      h.deploy({ ...env, ENFORCEMENT: 'dry-run' }, 'dry-run'),
    ]);
    project = abandon.plan.projectId;
    // The group keeps listing an abandoned member (ABANDONING) for a while, as the API allows.
    web = h.compute.addGroup(
      { project, scope: 'zones', location: ZONE, name: 'web-mig', repairDelayMs: REPAIR_MS, abandonDelayMs: 800 },
      { project, zone: ZONE, name: 'web-a1b2', id: '1001' },
      { project, zone: ZONE, name: 'web-c3d4', id: '1002' },
    );
    api = h.compute.addGroup(
      { project, scope: 'regions', location: 'us-central1', name: 'api-rmig', repairDelayMs: REPAIR_MS },
      { project, zone: ZONE, name: 'api-e5f6', id: '2001' },
      { project, zone: ZONE, name: 'api-g7h8', id: '2002' },
    );
    // A standalone VM whose metadata claims a group that does not list it.
    h.compute.add({ project, zone: ZONE, name: 'impostor-1', id: '3001', metadata: { 'created-by': fakeGroupPath(web) } });
  }, 180_000);

  afterAll(async () => {
    await h?.stop();
  });

  const vm = (id: string) => h.compute.instances.find((i) => i.id === id)!;
  const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  /** Publishes a failed early-boot report; returns the decision line and the Compute requests it caused. */
  async function send(r: Responder, o: EntryOptions) {
    const before = h.compute.requests.length;
    const entry = integrityEntry({
      projectId: project,
      zone: ZONE,
      kind: 'earlyBootReportEvent',
      passed: false,
      actual: linuxPcrs('rootkit'),
      bootCounter: String(++boot),
      ...o,
    });
    const { log } = await r.publishAndWait(entry);
    // The lead quotes these lines.
    console.log(JSON.stringify(log));
    const requests = h.compute.requests
      .slice(before)
      .map((q) => `${q.method} ${q.path.replace(/^\/compute\/v1\/projects\/[^/]+\/(zones|regions)\/[^/]+\//, '')}`)
      .map((q) => q.replace(/operations\/operation-\d+-/, 'operations/operation-*-'));
    return { log, requests };
  }

  it('abandons a member from its zonal group, then stops it; the group does not bring it back', async () => {
    const r = await send(abandon, { name: 'web-a1b2', instanceId: '1001' });

    expect(r.log).toEqual(
      expect.objectContaining({
        severity: 'WARNING',
        decision: 'stop',
        instanceGroup: fakeGroupPath(web),
        groupAction: 'abandoned',
        operationStatus: 'DONE',
        message: expect.stringContaining(`abandoned it from its managed instance group ${fakeGroupPath(web)}, then stopping the instance`),
      }),
    );
    expect(r.requests[0]).toBe('GET instances/1001');
    expect(r.requests.slice(1, 3)).toEqual([
      'POST instanceGroupManagers/web-mig/listManagedInstances',
      'POST instanceGroupManagers/web-mig/abandonInstances',
    ]);
    // Listed as ABANDONING at first: the function watched the group until it let go.
    expect(r.requests.slice(3, -2).every((q) => q === 'POST instanceGroupManagers/web-mig/listManagedInstances')).toBe(true);
    expect(r.requests.slice(-2)).toEqual(['POST instances/1001/stop', 'POST operations/operation-*-stop/wait']);
    const abandonRequest = h.compute.requests.find((q) => q.path.endsWith('/web-mig/abandonInstances'))!;
    expect(JSON.parse(abandonRequest.body)).toEqual({
      instances: [`https://www.googleapis.com/compute/v1/projects/${project}/zones/${ZONE}/instances/web-a1b2`],
    });
    expect(abandonRequest.query.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect([...web.members.keys()]).toEqual(['1002']);
    expect(web.targetSize).toBe(1);

    await wait(REPAIR_MS * 3);
    expect(vm('1001').status).toBe('TERMINATED');
    expect(vm('1001').repairs).toBeUndefined();
  });

  it('abandons a member from its regional group, then stops it', async () => {
    const r = await send(abandon, { name: 'api-e5f6', instanceId: '2001' });

    expect(r.log).toEqual(
      expect.objectContaining({ instanceGroup: fakeGroupPath(api), groupAction: 'abandoned', operationStatus: 'DONE' }),
    );
    expect(r.requests).toEqual([
      'GET instances/2001',
      'POST instanceGroupManagers/api-rmig/listManagedInstances',
      'POST instanceGroupManagers/api-rmig/abandonInstances',
      'POST instanceGroupManagers/api-rmig/listManagedInstances',
      'POST instances/2001/stop',
      'POST operations/operation-*-stop/wait',
    ]);
    await wait(REPAIR_MS * 3);
    expect(vm('2001').status).toBe('TERMINATED');
  });

  it('stops a VM whose created-by names a group that does not list it, as not a member', async () => {
    const r = await send(abandon, { name: 'impostor-1', instanceId: '3001' });

    expect(r.log).toEqual(
      expect.objectContaining({
        decision: 'stop',
        instanceGroup: fakeGroupPath(web),
        groupAction: 'not-a-member',
        message: expect.stringContaining('but it is no member (the group does not list it); stopping the instance'),
      }),
    );
    expect(r.requests).toEqual([
      'GET instances/3001',
      'POST instanceGroupManagers/web-mig/listManagedInstances',
      'POST instances/3001/stop',
      'POST operations/operation-*-stop/wait',
    ]);
    expect(vm('3001').status).toBe('TERMINATED');
  });

  it('with contain-only, stops a member inside its group at CRITICAL; the group then recreates it, as ADR 0010 warns', async () => {
    const r = await send(containOnly, { name: 'web-c3d4', instanceId: '1002' });

    expect(r.log).toEqual(
      expect.objectContaining({
        severity: 'CRITICAL',
        decision: 'stop',
        instanceGroup: fakeGroupPath(web),
        groupAction: 'contain-only',
        operationStatus: 'DONE',
        message: expect.stringContaining(`its created-by names managed instance group ${fakeGroupPath(web)}, which may recreate it`),
      }),
    );
    expect(r.requests).toEqual(['GET instances/1002', 'POST instances/1002/stop', 'POST operations/operation-*-stop/wait']);
    expect(vm('1002').status).toBe('TERMINATED');

    await wait(REPAIR_MS * 3);
    expect(vm('1002')).toMatchObject({ status: 'RUNNING', repairs: 1 });
  });

  it('in dry-run, reads the group, mutates nothing, and says it would abandon and stop', async () => {
    const r = await send(dryRun, { name: 'api-g7h8', instanceId: '2002' });

    expect(r.log).toEqual(
      expect.objectContaining({
        dryRun: true,
        instanceGroup: fakeGroupPath(api),
        groupAction: 'would-abandon',
        operationStatus: 'dry-run',
        message: expect.stringMatching(new RegExp(`^Dry run: would abandon it from group ${fakeGroupPath(api)} and stop the instance: `)),
      }),
    );
    expect(r.requests).toEqual(['GET instances/2002', 'POST instanceGroupManagers/api-rmig/listManagedInstances']);
    expect(api.members.has('2002')).toBe(true);
    expect(vm('2002').status).toBe('RUNNING');
  });
});
