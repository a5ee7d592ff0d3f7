import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { InstancesClient } from '@google-cloud/compute/build/src/v1/instances_client';
import { ZoneOperationsClient } from '@google-cloud/compute/build/src/v1/zone_operations_client';
import { PassThroughClient } from 'google-auth-library';
import { ComputeInstanceControl } from '../function/adapters/compute-control';
import { InstanceNotFoundError, InstanceTarget, OperationFailedError } from '../function/ports';
import { FakeComputeApi } from '../testkit/fake-compute';

// The adapter with the real Compute clients over REST, against the loopback Compute API.
// The clients are built as function/clients.ts builds them for a plain-HTTP endpoint, except
// that they fetch with Node's fetch: gaxios's default (a dynamic import of node-fetch) cannot
// load inside Jest's sandbox. The last test runs clients.ts's own factories in a child process.

const project = 'demo-project';
const zone = 'europe-west1-b';
const base = `/compute/v1/projects/${project}/zones/${zone}`;
const target: InstanceTarget = { projectId: project, zone, id: '1001', name: 'web-1' };

let compute: FakeComputeApi;
let port: number;

function control(timeoutMs = 5_000): ComputeInstanceControl {
  const options = () => ({
    apiEndpoint: '127.0.0.1',
    port,
    protocol: 'http',
    fallback: true,
    authClient: new PassThroughClient({ transporterOptions: { fetchImplementation: fetch } }),
  });
  return new ComputeInstanceControl(
    async () => new InstancesClient(options()),
    async () => new ZoneOperationsClient(options()),
    timeoutMs,
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
  it('describes a VM by its numeric id: id, name, status and last start time', async () => {
    compute.add({ project, zone, name: 'web-1', id: '1001', lastStartTimestamp: '2024-05-01T10:00:00.000Z' });

    await expect(control().describe(target)).resolves.toEqual({
      id: '1001',
      name: 'web-1',
      status: 'RUNNING',
      lastStartTimestamp: '2024-05-01T10:00:00.000Z',
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

  it('works with the clients function/clients.ts creates for a plain-HTTP endpoint', async () => {
    compute.add({ project, zone, name: 'web-1', id: '1001' });
    const root = join(__dirname, '..');
    const script = `
      const { ComputeInstanceControl } = require(${JSON.stringify(join(root, 'function/adapters/compute-control.ts'))});
      const { createInstancesClient, createZoneOperationsClient, lazy } = require(${JSON.stringify(join(root, 'function/clients.ts'))});
      const config = { computeEndpoint: { protocol: 'http', host: '127.0.0.1', port: ${port} } };
      const adapter = new ComputeInstanceControl(lazy(() => createInstancesClient(config)), lazy(() => createZoneOperationsClient(config)), 5000);
      const target = ${JSON.stringify(target)};
      adapter.stop(target, 'req-stop-7').then(async (done) => {
        process.stdout.write(JSON.stringify({ done, after: await adapter.describe(target) }));
      });
    `;

    const { stdout } = await promisify(execFile)(process.execPath, ['--require', 'tsx/cjs', '-e', script], { cwd: root, timeout: 20_000 });

    expect(JSON.parse(stdout)).toEqual({
      done: { name: expect.stringMatching(/^operation-/), status: 'DONE' },
      after: expect.objectContaining({ id: '1001', status: 'TERMINATED' }),
    });
    expect(requestLines()).toEqual([
      'POST /instances/1001/stop',
      expect.stringMatching(/^POST \/operations\/operation-[^/]+\/wait$/),
      'GET /instances/1001',
    ]);
  }, 30_000);
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
