import { REPO_ROOT } from '../../support/paths';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { InstanceGroupManagersClient } from '@google-cloud/compute/build/src/v1/instance_group_managers_client';
import { InstancesClient } from '@google-cloud/compute/build/src/v1/instances_client';
import { RegionInstanceGroupManagersClient } from '@google-cloud/compute/build/src/v1/region_instance_group_managers_client';
import { ZoneOperationsClient } from '@google-cloud/compute/build/src/v1/zone_operations_client';
import { ComputeInstanceControl } from '../../../function/adapters/compute-control';
import { InstanceGroupRef } from '../../../function/core/instance-group';
import { InstanceNotFoundError, InstanceTarget, OperationFailedError } from '../../../function/core/ports';
import { FakeComputeApi, fakeGroupPath } from '../../../testkit/fake-compute';
import { loopbackClientOptions } from '../../../testkit/loopback-clients';

// The adapter with the real Compute clients over REST, against the loopback Compute API.
// The clients are built as function/runtime/clients.ts builds them for a plain-HTTP endpoint, except
// that they fetch with Node's fetch: gaxios's default (a dynamic import of node-fetch) cannot
// load inside Jest's sandbox. The last test runs clients.ts's own factories in a child process.

const project = 'demo-project';
const zone = 'europe-west1-b';
const base = `/compute/v1/projects/${project}/zones/${zone}`;
const target: InstanceTarget = { projectId: project, zone, id: '1001', name: 'web-1' };

let compute: FakeComputeApi;
let port: number;

function control(timeoutMs = 5_000): ComputeInstanceControl {
  const options = () => loopbackClientOptions(port);
  return new ComputeInstanceControl(
    async () => new InstancesClient(options()),
    async () => new ZoneOperationsClient(options()),
    timeoutMs,
    {
      zonal: async () => new InstanceGroupManagersClient(options()),
      regional: async () => new RegionInstanceGroupManagersClient(options()),
    },
  );
}

const instance = (id: string) => compute.instances.find((i) => i.id === id)!;
const requestLines = () => compute.requests.map((r) => `${r.method} ${r.path.slice(base.length)}`);

beforeEach(async () => {
  compute = new FakeComputeApi();
  await compute.start();
  port = Number(new URL(compute.endpoint).port);
});

afterEach(async () => {
  await compute.stop();
});

describe('ComputeInstanceControl', () => {
  it('describes a VM by its numeric id: id, name, status, last start time and disks', async () => {
    compute.add({ project, zone, name: 'web-1', id: '1001', lastStartTimestamp: '2024-05-01T10:00:00.000Z' });

    await expect(control().describe(target)).resolves.toEqual({
      id: '1001',
      name: 'web-1',
      status: 'RUNNING',
      lastStartTimestamp: '2024-05-01T10:00:00.000Z',
      disks: [
        {
          deviceName: 'web-1',
          type: 'PERSISTENT',
          source: `https://www.googleapis.com/compute/v1/projects/${project}/zones/${zone}/disks/web-1`,
          boot: true,
        },
      ],
    });
    expect(requestLines()).toEqual(['GET /instances/1001']);
  });

  it('reads the labels of a VM, which say whether it is exempt', async () => {
    compute.add({ project, zone, name: 'web-1', id: '1001', labels: { 'integrity-response': 'exempt', team: 'a' } });

    await expect(control().describe(target)).resolves.toEqual(
      expect.objectContaining({ id: '1001', labels: { 'integrity-response': 'exempt', team: 'a' } }),
    );
    expect(requestLines()).toEqual(['GET /instances/1001']);
  });

  it('refuses a reply about a different VM than the id it asked for', async () => {
    // An API misbehaving: the path names 1001, the reply is about 2002.
    compute.add({ project, zone, name: '1001', id: '2002' });

    await expect(control().describe(target)).rejects.toThrow(
      'instances.get for id 1001 in demo-project/europe-west1-b returned instance id 2002',
    );
  });

  it('stops a VM by id, waits for the zonal operation, and leaves it TERMINATED', async () => {
    compute.add({ project, zone, name: 'web-1', id: '1001' });

    const done = await control().stop(target, 'req-stop-1');

    expect(done).toEqual({ name: expect.stringMatching(/^operation-/), status: 'DONE' });
    expect(requestLines()).toEqual([`POST /instances/1001/stop`, `POST /operations/${done.name}/wait`]);
    expect(compute.requests[0]!.query).toEqual({ requestId: 'req-stop-1' });
    expect(instance('1001').status).toBe('TERMINATED');
  });

  it('suspends a VM by id, waits for the zonal operation, and leaves it SUSPENDED', async () => {
    compute.add({ project, zone, name: 'web-1', id: '1001' });

    const done = await control().suspend(target, 'req-suspend-1');

    expect(done).toEqual({ name: expect.stringMatching(/^operation-/), status: 'DONE' });
    expect(requestLines()).toEqual([`POST /instances/1001/suspend`, `POST /operations/${done.name}/wait`]);
    expect(compute.requests[0]!.query).toEqual({ requestId: 'req-suspend-1' });
    expect(instance('1001').status).toBe('SUSPENDED');
  });

  it('reports a suspend of a VM that no longer exists as InstanceNotFoundError', async () => {
    await expect(control().suspend(target, 'req-suspend-2')).rejects.toBeInstanceOf(InstanceNotFoundError);
  });

  it('makes a VM relearn its integrity policy by id, and waits for the operation', async () => {
    compute.add({ project, zone, name: 'web-1', id: '1001' });

    const done = await control().relearn(target, 'req-relearn-1');

    expect(done.status).toBe('DONE');
    const [patch] = compute.actions();
    expect(patch).toEqual(
      expect.objectContaining({
        method: 'PATCH',
        path: `${base}/instances/1001/setShieldedInstanceIntegrityPolicy`,
        query: { requestId: 'req-relearn-1' },
      }),
    );
    expect(JSON.parse(patch!.body)).toEqual({ updateAutoLearnPolicy: true });
    expect(compute.operationWaits().map((r) => r.path)).toEqual([`${base}/operations/${done.name}/wait`]);
    expect(instance('1001').status).toBe('RUNNING');
  });

  it('never touches a new VM that reuses the name of the one reported', async () => {
    // 1001 ("web-1" in the log entry) is gone; a new VM took the name "web-1".
    compute.add({ project, zone, name: 'web-1', id: '2002' });
    const adapter = control();

    await expect(adapter.describe(target)).rejects.toBeInstanceOf(InstanceNotFoundError);
    await expect(adapter.stop(target, 'req-stop-2')).rejects.toBeInstanceOf(InstanceNotFoundError);
    await expect(adapter.relearn(target, 'req-relearn-2')).rejects.toBeInstanceOf(InstanceNotFoundError);

    expect(compute.performed).toEqual([]);
    expect(compute.requests.every((r) => r.path.includes('/instances/1001'))).toBe(true);
    expect(instance('2002').status).toBe('RUNNING');
  });

  it('reports an operation that ends in error as OperationFailedError naming the error code', async () => {
    compute.add({ project, zone, name: 'web-1', id: '1001' });
    compute.injectFaults({ operationError: { code: 'UNSUPPORTED_OPERATION', message: 'Instance is not a Shielded VM.' } });

    const failure = await control()
      .relearn(target, 'req-relearn-3')
      .catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(OperationFailedError);
    expect(failure).toMatchObject({
      operation: expect.stringMatching(/^operation-/),
      detail: 'UNSUPPORTED_OPERATION: Instance is not a Shielded VM.',
    });
    expect(compute.performed).toHaveLength(1);
  });

  it('keeps waiting while the operation is RUNNING, pausing between early replies', async () => {
    compute.add({ project, zone, name: 'web-1', id: '1001' });
    compute.injectFaults({ operationPendingMs: 600 });

    const done = await control().stop(target, 'req-stop-3');

    expect(done.status).toBe('DONE');
    const waits = compute.operationWaits();
    expect(waits.length).toBeGreaterThan(1);
    // Early RUNNING replies are followed by a pause, never by an immediate retry.
    expect(waits.length).toBeLessThan(10);
    expect(instance('1001').status).toBe('TERMINATED');
  });

  it('gives up with OperationFailedError when the operation is not done by the deadline', async () => {
    compute.add({ project, zone, name: 'web-1', id: '1001' });
    compute.injectFaults({ operationPendingMs: 60_000 });
    const started = Date.now();

    const failure = await control(1_500)
      .stop(target, 'req-stop-4')
      .catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(OperationFailedError);
    expect((failure as OperationFailedError).detail).toBe('not done after 1.5 s');
    expect(Date.now() - started).toBeLessThan(1_500 + 1_000);
    expect(compute.operationWaits().length).toBeLessThan(15);
    expect(instance('1001').status).toBe('STOPPING');
  });

  it('acts once when the same request id is sent again, and reports the first operation', async () => {
    compute.add({ project, zone, name: 'web-1', id: '1001' });
    const adapter = control();

    const first = await adapter.stop(target, 'req-stop-5');
    const again = await adapter.stop(target, 'req-stop-5');

    expect(again).toEqual(first);
    expect(compute.performed).toHaveLength(1);
    expect(compute.actions()).toHaveLength(2);
  });

  it('reports an HTTP error on the action as it is, neither not-found nor a failed operation', async () => {
    compute.add({ project, zone, name: 'web-1', id: '1001' });
    compute.injectFaults({ status: 503 });

    const failure = await control()
      .stop(target, 'req-stop-6')
      .catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(InstanceNotFoundError);
    expect(failure).not.toBeInstanceOf(OperationFailedError);
    expect(compute.performed).toEqual([]);
    expect(compute.operationWaits()).toEqual([]);
  });

  it('works with the clients function/runtime/clients.ts creates for a plain-HTTP endpoint', async () => {
    compute.addGroup(
      { project, scope: 'regions', location: 'europe-west1', name: 'web-rmig' },
      { project, zone, name: 'web-1', id: '1001' },
    );
    const root = REPO_ROOT;
    const script = `
      const { ComputeInstanceControl } = require(${JSON.stringify(join(root, 'function/adapters/compute-control.ts'))});
      const c = require(${JSON.stringify(join(root, 'function/runtime/clients.ts'))});
      const config = { computeEndpoint: { protocol: 'http', host: '127.0.0.1', port: ${port} } };
      const adapter = new ComputeInstanceControl(c.lazy(() => c.createInstancesClient(config)), c.lazy(() => c.createZoneOperationsClient(config)), 5000, {
        zonal: c.lazy(() => c.createInstanceGroupManagersClient(config)),
        regional: c.lazy(() => c.createRegionInstanceGroupManagersClient(config)),
      });
      const target = ${JSON.stringify(target)};
      const group = { projectId: target.projectId, scope: 'regions', location: 'europe-west1', name: 'web-rmig' };
      (async () => {
        const member = await adapter.findMember(group, '1001');
        await adapter.abandon(group, member.instance, 'req-abandon-7');
        const done = await adapter.stop(target, 'req-stop-7');
        process.stdout.write(JSON.stringify({ member, done, after: await adapter.describe(target), left: await adapter.findMember(group, '1001') ?? null }));
      })();
    `;

    const { stdout } = await promisify(execFile)(process.execPath, ['--require', 'tsx/cjs', '-e', script], { cwd: root, timeout: 20_000 });

    expect(JSON.parse(stdout)).toEqual({
      member: expect.objectContaining({ id: '1001' }),
      done: { name: expect.stringMatching(/^operation-/), status: 'DONE' },
      after: expect.objectContaining({ id: '1001', status: 'TERMINATED', createdBy: expect.stringContaining('/regions/europe-west1/') }),
      left: null,
    });
    expect(
      compute.requests.map((r) => `${r.method} ${r.path.replace(/^.*\/(instances|instanceGroupManagers|operations)\//, '/$1/')}`),
    ).toEqual([
      'POST /instanceGroupManagers/web-rmig/listManagedInstances',
      'POST /instanceGroupManagers/web-rmig/abandonInstances',
      'POST /instances/1001/stop',
      expect.stringMatching(/^POST \/operations\/operation-[^/]+\/wait$/),
      'GET /instances/1001',
      'POST /instanceGroupManagers/web-rmig/listManagedInstances',
    ]);
  }, 30_000);
});

describe('ComputeInstanceControl with managed instance groups', () => {
  const zonal: InstanceGroupRef = { projectId: project, scope: 'zones', location: zone, name: 'web-mig' };
  const regional: InstanceGroupRef = { projectId: project, scope: 'regions', location: 'europe-west1', name: 'web-rmig' };
  const url = (name: string) => `https://www.googleapis.com/compute/v1/projects/${project}/zones/${zone}/instances/${name}`;
  const groupLines = () => compute.groupRequests().map((r) => `${r.method} ${r.path.replace(/^.*\/instanceGroupManagers\//, '')}`);

  it('reads the created-by metadata of a member, naming its group', async () => {
    compute.addGroup({ project, scope: 'zones', location: zone, name: 'web-mig' }, { project, zone, name: 'web-1', id: '1001' });

    await expect(control().describe(target)).resolves.toEqual(
      expect.objectContaining({ id: '1001', createdBy: `projects/${project}/zones/${zone}/instanceGroupManagers/web-mig` }),
    );
  });

  it('reads no created-by for a standalone VM', async () => {
    compute.add({ project, zone, name: 'web-1', id: '1001', metadata: { 'startup-script': 'true' } });

    expect(await control().describe(target)).not.toHaveProperty('createdBy');
  });

  it.each([
    ['zonal', zonal],
    ['regional', regional],
  ])('finds a member of a %s group by id, with its URL and current action', async (_kind, group) => {
    compute.addGroup(
      { project, scope: group.scope, location: group.location, name: group.name },
      { project, zone, name: 'web-1', id: '1001' },
      { project, zone, name: 'web-2', id: '1002' },
    );

    await expect(control().findMember(group, '1002')).resolves.toEqual({ id: '1002', instance: url('web-2'), currentAction: 'NONE' });
    await expect(control().findMember(group, '1003')).resolves.toBeUndefined();
    expect(groupLines()).toEqual([`POST ${group.name}/listManagedInstances`, `POST ${group.name}/listManagedInstances`]);
  });

  it('finds no member in a group that does not exist', async () => {
    await expect(control().findMember(zonal, '1001')).resolves.toBeUndefined();
  });

  it.each([
    ['zonal', zonal],
    ['regional', regional],
  ])('abandons a member of a %s group by URL with its request id: the group lists it no more and shrinks', async (_kind, group) => {
    const g = compute.addGroup(
      { project, scope: group.scope, location: group.location, name: group.name },
      { project, zone, name: 'web-1', id: '1001' },
      { project, zone, name: 'web-2', id: '1002' },
    );

    await control().abandon(group, url('web-1'), 'req-abandon-1');
    await control().abandon(group, url('web-1'), 'req-abandon-1');

    expect([...g.members.keys()]).toEqual(['1002']);
    expect(g.targetSize).toBe(1);
    expect(instance('1001').status).toBe('RUNNING');
    const abandons = compute.groupRequests().filter((r) => r.path.endsWith('/abandonInstances'));
    expect(abandons.map((r) => [r.path, r.query.requestId, JSON.parse(r.body)])).toEqual([
      [`/compute/v1/${fakeGroupPath(g)}/abandonInstances`, 'req-abandon-1', { instances: [url('web-1')] }],
      [`/compute/v1/${fakeGroupPath(g)}/abandonInstances`, 'req-abandon-1', { instances: [url('web-1')] }],
    ]);
    // The repeat with the same request id changed nothing.
    expect(compute.performed).toHaveLength(1);
  });

  it('reports an HTTP error on abandonInstances as an error, not as a missing instance', async () => {
    compute.addGroup({ project, scope: 'zones', location: zone, name: 'web-mig' }, { project, zone, name: 'web-1', id: '1001' });
    compute.injectFaults({ status: 503 });

    const failure = await control()
      .abandon(zonal, url('web-1'), 'req-abandon-2')
      .catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(InstanceNotFoundError);
    expect(compute.groups[0]!.members.has('1001')).toBe(true);
  });
});

describe('ComputeInstanceControl when a group refuses an abandon', () => {
  it('reports an abandon whose operation is DONE with an error, naming the group and the error, as no OperationFailedError', async () => {
    const g = compute.addGroup({ project, scope: 'zones', location: zone, name: 'web-mig' }, { project, zone, name: 'web-1', id: '1001' });
    compute.injectFaults({ operationError: { code: 'CONDITION_NOT_MET', message: 'stateful disk in use' } });

    const failure = await control()
      .abandon(
        { projectId: project, scope: 'zones', location: zone, name: 'web-mig' },
        `https://www.googleapis.com/compute/v1/projects/${project}/zones/${zone}/instances/web-1`,
        'req-abandon-9',
      )
      .catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(OperationFailedError);
    expect((failure as Error).message).toMatch(
      new RegExp(
        `^abandonInstances on ${fakeGroupPath(g)} failed \\(operation operation-\\d+-abandonInstances\\): CONDITION_NOT_MET: stateful disk in use$`,
      ),
    );
    expect(g.members.has('1001')).toBe(true);
    expect(compute.performed).toEqual([]);
  });
});

describe('FakeComputeApi managed instance groups', () => {
  it('recreates a member stopped outside its group (repair), and leaves an abandoned one stopped', async () => {
    compute.addGroup(
      { project, scope: 'zones', location: zone, name: 'web-mig', repairDelayMs: 50 },
      { project, zone, name: 'web-1', id: '1001' },
      { project, zone, name: 'web-2', id: '1002' },
    );
    const c = control();
    await c.stop(target, 'req-stop-a');
    await c.abandon(
      { projectId: project, scope: 'zones', location: zone, name: 'web-mig' },
      `https://www.googleapis.com/compute/v1/projects/${project}/zones/${zone}/instances/web-2`,
      'req-ab',
    );
    await c.stop({ projectId: project, zone, id: '1002' }, 'req-stop-b');
    await new Promise((r) => setTimeout(r, 200));

    expect(instance('1001')).toMatchObject({ status: 'RUNNING', repairs: 1 });
    expect(instance('1002')).toMatchObject({ status: 'TERMINATED' });
    expect(instance('1002').repairs).toBeUndefined();
  });
});

describe('FakeComputeApi operations', () => {
  it('answers 404 for an operation it never started', async () => {
    const res = await fetch(`${compute.endpoint}${base}/operations/operation-nope/wait`, { method: 'POST' });
    expect(res.status).toBe(404);
  });

  it('serves a started operation by name, DONE once read', async () => {
    compute.add({ project, zone, name: 'web-1', id: '1001' });
    const started = (await (await fetch(`${compute.endpoint}${base}/instances/web-1/stop`, { method: 'POST' })).json()) as {
      name: string;
      status: string;
    };
    expect(started.status).toBe('RUNNING');
    expect(instance('1001').status).toBe('STOPPING');

    const read = (await (await fetch(`${compute.endpoint}${base}/operations/${started.name}`)).json()) as Record<string, unknown>;

    expect(read).toMatchObject({ name: started.name, status: 'DONE', progress: 100, endTime: expect.any(String) });
    expect(instance('1001').status).toBe('TERMINATED');
    expect(compute.actions().map((r) => r.path)).toEqual([`${base}/instances/web-1/stop`]);
    expect(compute.operationWaits()).toHaveLength(1);
  });
});
