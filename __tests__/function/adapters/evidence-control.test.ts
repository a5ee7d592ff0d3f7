import { REPO_ROOT } from '../../support/paths';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GlobalOperationsClient } from '@google-cloud/compute/build/src/v1/global_operations_client';
import { InstancesClient } from '@google-cloud/compute/build/src/v1/instances_client';
import { SnapshotsClient } from '@google-cloud/compute/build/src/v1/snapshots_client';
import { ZoneOperationsClient } from '@google-cloud/compute/build/src/v1/zone_operations_client';
import { ComputeInstanceControl } from '../../../function/adapters/compute-control';
import { ComputeEvidenceControl } from '../../../function/adapters/evidence-control';
import { OperationFailedError, SnapshotRateLimitedError, SnapshotRequest } from '../../../function/core/ports';
import { FakeComputeApi, SNAPSHOT_BURST } from '../../../testkit/fake-compute';
import { loopbackClientOptions } from '../../../testkit/loopback-clients';
import { gcloudJson, itWithGcloud } from '../../support/gcloud';

// The evidence adapter with the real Compute clients over REST against the loopback Compute API,
// whose snapshots gcloud reads back in the last test. The rate rule of the fake runs on a clock
// the tests move by hand.

const project = 'web-prod';
const zone = 'europe-west1-b';
const forensics = 'sec-forensics';
const diskUrl = (name: string) => `https://www.googleapis.com/compute/v1/projects/${project}/zones/${zone}/disks/${name}`;

let compute: FakeComputeApi;
let port: number;
let clock: number;

function evidence(timeoutMs = 5_000): ComputeEvidenceControl {
  const options = () => loopbackClientOptions(port);
  return new ComputeEvidenceControl(
    async () => new SnapshotsClient(options()),
    async () => new GlobalOperationsClient(options()),
    timeoutMs,
  );
}

/** A request as the `snapshot` step makes it, of the VM's boot disk unless told otherwise. */
function request(overrides: Partial<SnapshotRequest> = {}): SnapshotRequest {
  return {
    project: forensics,
    name: 'evidence-1001-boot-3-web-1',
    sourceDisk: diskUrl('web-1'),
    labels: { 'integrity-instance-id': '1001', 'integrity-boot': '3', 'integrity-request': 'req-snap-1' },
    description: 'Evidence: disk web-1 of instance 1001 (web-1), boot 3, before containment',
    requestId: '6f1c0a7e-2b0e-4c5e-9a57-0d3c1b1f0001',
    ...overrides,
  };
}

const failureOf = (p: Promise<unknown>) => p.then(() => undefined).catch((e: unknown) => e);
const lines = () => compute.requests.map((r) => `${r.method} ${r.path.replace(/^\/compute\/v1\/projects\/[^/]+\//, '')}`);

beforeEach(async () => {
  clock = Date.parse('2026-12-07T10:00:00Z');
  compute = new FakeComputeApi({ now: () => clock });
  await compute.start();
  port = Number(new URL(compute.endpoint).port);
  compute.add({ project, zone, name: 'web-1', id: '1001' });
  compute.add({ project, zone, name: 'web-2', id: '1002' });
});

afterEach(async () => {
  await compute.stop();
});

describe('ComputeEvidenceControl', () => {
  it('takes a snapshot of the disk into the forensics project, with its labels, description and request id, and waits for the global operation', async () => {
    const taken = await evidence().snapshot(request());

    expect(taken).toEqual({
      snapshot: `projects/${forensics}/global/snapshots/evidence-1001-boot-3-web-1`,
      operation: expect.stringMatching(/^operation-\d+-snapshots-insert$/),
      existed: false,
    });
    expect(lines()).toEqual(['POST global/snapshots', `POST global/operations/${taken.operation}/wait`]);
    const [insert] = compute.snapshotRequests();
    expect(insert!.path).toBe(`/compute/v1/projects/${forensics}/global/snapshots`);
    expect(insert!.query).toEqual({ requestId: '6f1c0a7e-2b0e-4c5e-9a57-0d3c1b1f0001' });
    // storageLocations is not sent: the forensics project's snapshot settings place it.
    expect(JSON.parse(insert!.body)).toEqual({
      name: 'evidence-1001-boot-3-web-1',
      sourceDisk: diskUrl('web-1'),
      labels: { 'integrity-instance-id': '1001', 'integrity-boot': '3', 'integrity-request': 'req-snap-1' },
      description: 'Evidence: disk web-1 of instance 1001 (web-1), boot 3, before containment',
    });
    expect(compute.snapshots).toEqual([
      expect.objectContaining({ project: forensics, sourceDisk: `projects/${project}/zones/${zone}/disks/web-1`, status: 'READY' }),
    ]);
  });

  it('takes the same snapshot once when the same request id is sent again', async () => {
    const adapter = evidence();

    const first = await adapter.snapshot(request());
    const again = await adapter.snapshot(request());

    expect(again).toEqual(first);
    expect(compute.snapshots).toHaveLength(1);
  });

  it('counts a snapshot of that name of the same disk as existing, whatever form of its URL was sent', async () => {
    await evidence().snapshot(request());

    // A later delivery under another request id, naming the disk by its partial URL.
    const again = await evidence().snapshot(
      request({ requestId: '6f1c0a7e-2b0e-4c5e-9a57-0d3c1b1f0002', sourceDisk: `projects/${project}/zones/${zone}/disks/web-1` }),
    );

    expect(again).toEqual({ snapshot: `projects/${forensics}/global/snapshots/evidence-1001-boot-3-web-1`, existed: true });
    expect(lines().slice(2)).toEqual(['POST global/snapshots', 'GET global/snapshots/evidence-1001-boot-3-web-1']);
    expect(compute.snapshots).toHaveLength(1);
  });

  it('never takes a snapshot of that name of another disk as evidence', async () => {
    await evidence().snapshot(request({ sourceDisk: diskUrl('web-2') }));

    const failure = await failureOf(evidence().snapshot(request({ requestId: '6f1c0a7e-2b0e-4c5e-9a57-0d3c1b1f0003' })));

    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(OperationFailedError);
    expect((failure as Error).message).toBe(
      `snapshot projects/${forensics}/global/snapshots/evidence-1001-boot-3-web-1 exists already and is of disk ` +
        `projects/${project}/zones/${zone}/disks/web-2, not of projects/${project}/zones/${zone}/disks/web-1: ` +
        `it is not taken as evidence of projects/${project}/zones/${zone}/disks/web-1; delete or rename it, or take the evidence under another name`,
    );
    expect(compute.snapshots.map((s) => s.sourceDisk)).toEqual([`projects/${project}/zones/${zone}/disks/web-2`]);
  });

  it('never takes a snapshot of that name taken for another decision as evidence of this one', async () => {
    const labelled = (requestLabel: string) => request({ labels: { ...request().labels, 'integrity-request-id': requestLabel } });
    await evidence().snapshot(labelled('req-earlier-containment'));

    const failure = await failureOf(
      evidence().snapshot({ ...labelled('req-this-containment'), requestId: '6f1c0a7e-2b0e-4c5e-9a57-0d3c1b1f0004' }),
    );

    expect((failure as Error).message).toBe(
      `snapshot projects/${forensics}/global/snapshots/evidence-1001-boot-3-web-1 exists already but was taken for request ` +
        'req-earlier-containment, not req-this-containment: it is not taken as evidence of this containment; delete or rename it',
    );
    // The same decision again (a redelivery under another Compute request id) finds its own.
    await expect(
      evidence().snapshot({ ...labelled('req-earlier-containment'), requestId: '6f1c0a7e-2b0e-4c5e-9a57-0d3c1b1f0005' }),
    ).resolves.toEqual(expect.objectContaining({ existed: true }));
  });

  it('reports a snapshot of that name still being created by an earlier delivery as not done yet', async () => {
    compute.snapshotOperationMs = 60 * 60_000;
    await failureOf(evidence(300).snapshot(request()));

    const failure = await failureOf(evidence().snapshot(request({ requestId: '6f1c0a7e-2b0e-4c5e-9a57-0d3c1b1f0004' })));

    expect(failure).toBeInstanceOf(OperationFailedError);
    expect(failure).toMatchObject({ detail: 'exists already and is still CREATING', finished: false });
  });

  it('reports the rate limit answered at once with HTTP 403 as SnapshotRateLimitedError', async () => {
    compute.injectSnapshotFaults({ rateExceeded: 'http' });

    const failure = await failureOf(evidence().snapshot(request()));

    expect(failure).toBeInstanceOf(SnapshotRateLimitedError);
    expect(failure).toMatchObject({ disk: diskUrl('web-1'), detail: expect.stringContaining('Operation rate exceeded for resource') });
    // Asked once: the rate limit is never retried in a loop.
    expect(compute.snapshotRequests()).toHaveLength(1);
    expect(compute.snapshots).toEqual([]);
    expect(compute.globalOperationWaits()).toEqual([]);
  });

  it('reports the rate limit in the finished operation as SnapshotRateLimitedError', async () => {
    compute.injectSnapshotFaults({ rateExceeded: 'operation' });

    const failure = await failureOf(evidence().snapshot(request()));

    expect(failure).toBeInstanceOf(SnapshotRateLimitedError);
    expect((failure as SnapshotRateLimitedError).detail).toMatch(
      /^operation operation-\d+-snapshots-insert: RESOURCE_OPERATION_RATE_EXCEEDED: Operation rate exceeded for resource/,
    );
    expect(compute.snapshots).toEqual([]);
  });

  it("meets the fake's rate rule: six snapshots of a disk in an hour, the seventh refused until the first is an hour old", async () => {
    const adapter = evidence();
    const take = (n: number) =>
      adapter.snapshot(request({ name: `evidence-${n}`, requestId: `6f1c0a7e-2b0e-4c5e-9a57-0d3c1b1f01${String(n).padStart(2, '0')}` }));
    for (let n = 1; n <= SNAPSHOT_BURST; n++) {
      await take(n);
      clock += 60_000;
    }

    // Another disk is not held back by this one's snapshots.
    await expect(adapter.snapshot(request({ name: 'evidence-other', sourceDisk: diskUrl('web-2') }))).resolves.toMatchObject({
      existed: false,
    });
    await expect(take(7)).rejects.toBeInstanceOf(SnapshotRateLimitedError);
    clock = Date.parse('2026-12-07T11:00:00Z') - 1;
    await expect(take(8)).rejects.toBeInstanceOf(SnapshotRateLimitedError);
    clock += 1;
    await expect(take(9)).resolves.toMatchObject({ existed: false });
    expect(compute.snapshots.map((s) => s.name)).toEqual([
      'evidence-1',
      'evidence-2',
      'evidence-3',
      'evidence-4',
      'evidence-5',
      'evidence-6',
      'evidence-other',
      'evidence-9',
    ]);
  });

  it('reports another error in the finished operation as a finished OperationFailedError', async () => {
    compute.injectSnapshotFaults({ operationError: { code: 'QUOTA_EXCEEDED', message: "Quota 'SNAPSHOTS' exceeded." } });

    const failure = await failureOf(evidence().snapshot(request()));

    expect(failure).toBeInstanceOf(OperationFailedError);
    expect(failure).not.toBeInstanceOf(SnapshotRateLimitedError);
    expect(failure).toMatchObject({
      operation: expect.stringMatching(/^operation-\d+-snapshots-insert$/),
      detail: "QUOTA_EXCEEDED: Quota 'SNAPSHOTS' exceeded.",
      finished: true,
    });
  });

  it('reports another HTTP error on the insert as it is', async () => {
    compute.injectSnapshotFaults({ status: 503 });

    const failure = await failureOf(evidence().snapshot(request()));

    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(SnapshotRateLimitedError);
    expect(failure).not.toBeInstanceOf(OperationFailedError);
    expect(compute.snapshotRequests()).toHaveLength(1);
  });

  it('keeps waiting while the operation is RUNNING, and returns once it is done', async () => {
    compute.injectSnapshotFaults({ operationPendingMs: 120_000 });
    setTimeout(() => (clock += 120_000), 400);

    const taken = await evidence().snapshot(request());

    expect(taken.existed).toBe(false);
    const waits = compute.globalOperationWaits();
    expect(waits.length).toBeGreaterThan(1);
    // Early RUNNING replies are followed by a pause, never by an immediate retry.
    expect(waits.length).toBeLessThan(10);
    expect(compute.snapshots[0]!.status).toBe('READY');
  });

  it('gives up with an OperationFailedError that is not finished when the operation is not done by the deadline', async () => {
    compute.snapshotOperationMs = 10 * 60_000;
    const started = Date.now();

    const failure = await failureOf(evidence(1_500).snapshot(request()));

    expect(failure).toBeInstanceOf(OperationFailedError);
    expect(failure).toMatchObject({ detail: 'not done after 1.5 s', finished: false });
    expect(Date.now() - started).toBeLessThan(1_500 + 1_000);
    expect(compute.globalOperationWaits().length).toBeLessThan(15);
    expect(compute.snapshots[0]!.status).toBe('CREATING');
  });
});

describe('ComputeInstanceControl describing the disks to snapshot', () => {
  it("lists a VM's attached disks: persistent ones with their source, a local SSD as SCRATCH without one", async () => {
    compute.add({
      project,
      zone,
      name: 'db-1',
      id: '1003',
      disks: [
        { deviceName: 'persistent-disk-0', source: `projects/${project}/zones/${zone}/disks/db-1`, boot: true },
        { deviceName: 'data', source: `projects/${project}/regions/europe-west1/disks/db-data` },
        { deviceName: 'local-ssd-0', type: 'SCRATCH' },
      ],
    });
    const options = () => loopbackClientOptions(port);
    const control = new ComputeInstanceControl(
      async () => new InstancesClient(options()),
      async () => new ZoneOperationsClient(options()),
    );

    const state = await control.describe({ projectId: project, zone, id: '1003' });

    expect(state.disks).toEqual([
      { deviceName: 'persistent-disk-0', type: 'PERSISTENT', source: diskUrl('db-1'), boot: true },
      {
        deviceName: 'data',
        type: 'PERSISTENT',
        source: `https://www.googleapis.com/compute/v1/projects/${project}/regions/europe-west1/disks/db-data`,
        boot: false,
      },
      { deviceName: 'local-ssd-0', type: 'SCRATCH', boot: false },
    ]);
  });
});

describe('the snapshot as other clients read it', () => {
  itWithGcloud(
    'is taken with the clients function/runtime/clients.ts creates, and gcloud compute snapshots describe and list read it back',
    async () => {
      // The factories in a child process: gaxios's default transport cannot load in Jest's sandbox.
      const script = `
        const { ComputeEvidenceControl } = require(${JSON.stringify(join(REPO_ROOT, 'function/adapters/evidence-control.ts'))});
        const c = require(${JSON.stringify(join(REPO_ROOT, 'function/runtime/clients.ts'))});
        const config = { computeEndpoint: { protocol: 'http', host: '127.0.0.1', port: ${port} } };
        const adapter = new ComputeEvidenceControl(c.lazy(() => c.createSnapshotsClient(config)), c.lazy(() => c.createGlobalOperationsClient(config)), 5000);
        adapter.snapshot(${JSON.stringify(request())}).then((taken) => process.stdout.write(JSON.stringify(taken)));
      `;
      const { stdout } = await promisify(execFile)(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
        cwd: REPO_ROOT,
        timeout: 20_000,
      });
      expect(JSON.parse(stdout)).toEqual({
        snapshot: `projects/${forensics}/global/snapshots/evidence-1001-boot-3-web-1`,
        operation: expect.stringMatching(/^operation-/),
        existed: false,
      });

      const env = { CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE: `${compute.endpoint}/compute/v1/` };
      const described = await gcloudJson(['compute', 'snapshots', 'describe', 'evidence-1001-boot-3-web-1', '--project', forensics], env);
      const listed = await gcloudJson(['compute', 'snapshots', 'list', '--project', forensics], env);

      const expected = {
        name: 'evidence-1001-boot-3-web-1',
        status: 'READY',
        sourceDisk: diskUrl('web-1'),
        labels: request().labels,
        description: request().description,
        storageLocations: ['eu'],
        selfLink: `https://www.googleapis.com/compute/v1/projects/${forensics}/global/snapshots/evidence-1001-boot-3-web-1`,
      };
      expect(described).toMatchObject(expected);
      expect(listed).toEqual([expect.objectContaining(expected)]);
      expect(lines().slice(-2)).toEqual(['GET global/snapshots/evidence-1001-boot-3-web-1', 'GET global/snapshots']);
    },
    60_000,
  );
});
