import { baselineDocument } from '../function/baseline';
import { parseMeasurements } from '../function/parse';
import { loadFunctionBundle } from '../lib/function-bundle';
import { RunningEmulator, startFirestoreEmulator } from './support/emulators';
import { FakeComputeApi } from './support/fake-compute';
import { FunctionHost, serveFunctionZip } from './support/function-host';
import { putEmulatorDocument } from './support/http';
import { integrityEntry, linuxPcrs, pubsubData, tutorialDocument, windowsPcrs } from './support/fixtures';
import { runtimeMajor } from './support/node-runtime';
import { PROJECT, synthResponders } from './support/synth';

// The zip the plan uploads, served by the Functions Framework on the plan's Node major with
// the plan's entry point and environment, against the Firestore emulator and a loopback
// Compute API reached by the real client over REST.
const fn = synthResponders({}).only('google_cloudfunctions2_function') as Record<string, any>;
const env: Record<string, string> = fn.service_config.environment_variables;
const ZONE = 'europe-west1-b';

let firestore: RunningEmulator;
let host: FunctionHost;
const compute = new FakeComputeApi();
let messages = 0;

beforeAll(async () => {
  [firestore] = await Promise.all([startFirestoreEmulator(), compute.start()]);
  host = await serveFunctionZip({
    zipPath: loadFunctionBundle().zipPath,
    entryPoint: fn.build_config.entry_point,
    nodeMajor: runtimeMajor(fn.build_config.runtime),
    env: { ...env, FIRESTORE_EMULATOR_HOST: firestore.host, COMPUTE_API_ENDPOINT: compute.endpoint },
  });
  compute.add({ project: PROJECT, zone: ZONE, name: 'web-1', id: '1001' });
  compute.add({ project: PROJECT, zone: ZONE, name: 'web-2', id: '1002' });
  compute.add({ project: PROJECT, zone: ZONE, name: 'win-1', id: '1003' });
}, 90_000);

afterAll(async () => {
  await Promise.all([host?.stop(), firestore?.stop(), compute.stop()]);
});

async function deliver(entry: unknown) {
  compute.requests.length = 0;
  const before = host.logs.length;
  const status = await host.deliver(pubsubData(entry), `msg-${++messages}`);
  return { status, requests: compute.requests.map((r) => `${r.method} ${r.path.replace(`/compute/v1/projects/${PROJECT}/zones/${ZONE}/`, '')}`), logs: host.logs.slice(before) };
}

const entry = (o: Parameters<typeof integrityEntry>[0]) => integrityEntry({ projectId: PROJECT, zone: ZONE, ...o });

describe('the shipped function', () => {
  it('relearns a VM whose measurements match a tutorial-format baseline written into Firestore', async () => {
    await putEmulatorDocument(firestore.host, PROJECT, env.FIRESTORE_DATABASE!, env.BASELINE_COLLECTION!, 'baseline1', tutorialDocument(linuxPcrs('good')));
    const r = await deliver(entry({ name: 'web-1', instanceId: '1001', actual: linuxPcrs('good') }));
    expect(r.status).toBe(204);
    expect(r.requests).toEqual(['GET instances/web-1', 'PATCH instances/web-1/setShieldedInstanceIntegrityPolicy']);
    expect(compute.actions()[0]!.body).toBe('{"updateAutoLearnPolicy":true}');
    expect(r.logs).toEqual([expect.objectContaining({ severity: 'NOTICE', decision: 'relearn', baselineId: 'baseline1' })]);
  });

  it('relearns on a baseline in the project format, found by one point read', async () => {
    const doc = baselineDocument(parseMeasurements(windowsPcrs('good'), 't'));
    await putEmulatorDocument(firestore.host, PROJECT, env.FIRESTORE_DATABASE!, env.BASELINE_COLLECTION!, doc.id, doc.data);
    const r = await deliver(entry({ name: 'win-1', instanceId: '1003', actual: windowsPcrs('good') }));
    expect(r.requests).toEqual(['GET instances/win-1', 'PATCH instances/win-1/setShieldedInstanceIntegrityPolicy']);
    expect(r.logs).toEqual([expect.objectContaining({ decision: 'relearn', baselineId: doc.id, firestoreReads: 1 })]);
  });

  it('does not relearn a VM that has started again since the reported boot', async () => {
    compute.instances.find((i) => i.name === 'web-1')!.lastStartTimestamp = '2026-11-20T10:30:00.000Z';
    const r = await deliver(entry({ name: 'web-1', instanceId: '1001', actual: linuxPcrs('good') }));
    expect(r.requests).toEqual(['GET instances/web-1']);
    expect(r.logs).toEqual([expect.objectContaining({ severity: 'WARNING', decision: 'none', reason: 'superseded-by-later-boot' })]);
  });

  it('stops a VM whose measurements are not known good', async () => {
    const r = await deliver(entry({ name: 'web-2', instanceId: '1002', actual: linuxPcrs('tampered') }));
    expect(r.requests).toEqual(['POST instances/web-2/stop']);
    expect(r.logs).toEqual([expect.objectContaining({ severity: 'WARNING', decision: 'stop', operation: expect.stringMatching(/^operation-/) })]);
  });

  it('finds the name by id with one filtered list when the entry carries none', async () => {
    const r = await deliver(entry({ name: null, instanceId: '1002', actual: linuxPcrs('tampered') }));
    expect(r.requests).toEqual(['GET instances', 'POST instances/web-2/stop']);
    expect(compute.requests[0]!.query.filter).toBe('id = 1002');
  });

  it('does nothing when the policy evaluation passed', async () => {
    const r = await deliver(entry({ name: 'web-1', instanceId: '1001', passed: true }));
    expect(r.status).toBe(204);
    expect(r.requests).toEqual([]);
  });

  it('acknowledges an instance the Compute API does not know', async () => {
    const r = await deliver(entry({ name: 'deleted-vm', instanceId: '999', actual: linuxPcrs('tampered') }));
    expect(r.status).toBe(204);
    expect(r.requests).toEqual(['POST instances/deleted-vm/stop']);
    expect(r.logs).toEqual([expect.objectContaining({ severity: 'WARNING', instanceFound: false })]);
  });

  it('rejects an entry about another project', async () => {
    const r = await deliver(integrityEntry({ projectId: 'other-project-42', zone: ZONE, name: 'web-2', instanceId: '1002' }));
    expect(r.status).toBe(204);
    expect(r.requests).toEqual([]);
    expect(r.logs).toEqual([expect.objectContaining({ severity: 'ERROR', rejection: 'foreign-project' })]);
  });

  it('acknowledges a malformed entry with one structured error and no Compute call', async () => {
    const r = await deliver('{"truncated": ');
    expect(r.status).toBe(204);
    expect(r.requests).toEqual([]);
    expect(r.logs).toEqual([expect.objectContaining({ severity: 'ERROR', rejection: 'invalid-json' })]);
  });
});
