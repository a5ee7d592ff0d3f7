import { BASELINE_POLICY_COLLECTION } from '../../function/contract';
import { InstancesClient } from '@google-cloud/compute/build/src/v1/instances_client';
import { Firestore } from '@google-cloud/firestore';
import { PassThroughClient } from 'google-auth-library';
import { BIN, COMMAND_USAGE, Io, run } from '../../cli/integrity-baselines';
import { FirestoreBaselineStore } from '../../function/adapters/firestore-store';
import { baselineDocument } from '../../function/core/baseline';
import { createFirestore } from '../../function/runtime/clients';
import { parseMeasurements } from '../../function/core/parse';
import { RunningEmulator, useFirestoreEmulator } from '../../testkit/emulators';
import { integrityEntry, linuxPcrs, otherIntegrityEntry, tutorialDocument } from '../../testkit/fixtures';
import { FakeComputeApi } from '../../testkit/fake-compute';
import { startFakeLogging } from '../../testkit/fake-logging';
import { describeWithEmulators } from '../support/emulator-suite';
import { CapturingLogger } from '../support/fakes';

// Every subcommand of the baseline tool against the Firestore emulator, in process (its
// Firestore client over gRPC: REST does not run inside Jest's sandbox; the spawned-process
// tests in integrity-baselines.test.ts cover the REST path the bin takes).
const PROJECT = 'demo-responder';
const DATABASE = 'integrity-responder-baselines';
let emulator: RunningEmulator;
let db: Firestore;
/** Compute Engine as capture asks it: the canary started before its reports of 2026-12-01. */
let compute: FakeComputeApi;
let collections = 0;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], stdin = '', extraEnv: Record<string, string> = {}): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    readStdin: () => stdin,
    env: { FIRESTORE_EMULATOR_HOST: emulator.host, GOOGLE_CLOUD_PROJECT: PROJECT, COMPUTE_API_ENDPOINT: compute.endpoint, ...extraEnv },
    openFirestore: (config) => createFirestore(config, 'grpc'),
    // Node's fetch: the default transport of a plain-HTTP client never answers inside Jest's sandbox.
    openInstances: async ({ computeEndpoint: e }) =>
      new InstancesClient({
        apiEndpoint: e!.host,
        port: e!.port,
        protocol: 'http',
        fallback: true,
        authClient: new PassThroughClient({ transporterOptions: { fetchImplementation: fetch } }),
      }),
  };
  const code = await run(args, io);
  return { code, stdout, stderr };
}

/** A fresh collection per test, and the tool's arguments naming it. */
function fresh() {
  const collection = `kg_${++collections}`;
  return { collection, at: ['--collection', collection], ref: db.collection(collection) };
}

const canaryEntry = (o: { passed?: boolean; boot?: string; seed?: string } = {}) =>
  integrityEntry({
    name: 'canary-1',
    instanceId: '5550001',
    actual: linuxPcrs(o.seed ?? 'kernel-6.9'),
    bootCounter: o.boot ?? '12',
    passed: o.passed ?? false,
    timestamp: '2026-12-01T10:00:00Z',
  });
const kernel69 = baselineDocument(parseMeasurements(linuxPcrs('kernel-6.9'), 't')).id;

async function json(args: string[]): Promise<Record<string, unknown>[]> {
  const r = await cli(args);
  expect(r).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
  return JSON.parse(r.stdout) as Record<string, unknown>[];
}

describeWithEmulators(`${BIN} on the Firestore emulator`, () => {
  beforeAll(async () => {
    emulator = await useFirestoreEmulator();
    process.env.FIRESTORE_EMULATOR_HOST = emulator.host;
    process.env.METADATA_SERVER_DETECTION = 'none';
    db = await createFirestore({ projectId: PROJECT, firestoreDatabase: DATABASE }, 'grpc');
    compute = new FakeComputeApi()
      .add({
        project: 'fleet-prod-1234',
        zone: 'europe-west1-b',
        name: 'canary-1',
        id: '5550001',
        // Started minutes before its first late-boot report (the fixtures' 10:00), as a VM reports.
        lastStartTimestamp: '2026-12-01T09:55:00Z',
      })
      .add({ project: 'fleet-prod-1234', zone: 'europe-west1-b', name: 'idle-1', id: '777', lastStartTimestamp: '2026-12-01T09:00:00Z' });
    await compute.start();
  }, 60_000);

  afterAll(async () => {
    await compute?.stop();
    await db?.terminate();
    await emulator?.stop();
    delete process.env.FIRESTORE_EMULATOR_HOST;
  });

  it('captures a canary with its provenance, lists it and shows it', async () => {
    const { at, ref } = fresh();
    const captured = await cli(
      ['capture', '-', ...at, '--actor', 'alice@example.com', '--note', 'kernel 6.9 canary'],
      JSON.stringify([canaryEntry()]),
    );
    expect(captured).toEqual({
      code: 0,
      stdout:
        `created ${DATABASE}/${at[1]}/${kernel69} (active, PCR_0,4,7, from canary-1 boot 12, by alice@example.com) ` +
        `in project ${PROJECT} on the emulator at ${emulator.host}\n`,
      stderr: '',
    });
    const stored = (await ref.doc(kernel69).get()).data()!;
    expect(stored).toEqual(
      expect.objectContaining({
        state: 'active',
        description: 'kernel 6.9 canary',
        source: 'projects/fleet-prod-1234/zones/europe-west1-b/instances/canary-1',
        sourceInstanceId: '5550001',
        sourceBootCounter: '12',
        sourceReportTime: '2026-12-01T10:00:00Z',
        createdVia: 'capture',
        createdBy: 'alice@example.com',
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        PCR_0: expect.objectContaining({ pcrNum: 'PCR_0', hashAlgo: 'SHA1' }),
      }),
    );

    const listed = await cli(['list', ...at]);
    expect(listed.code).toBe(0);
    const [header, row, ...rest] = listed.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ID\s+STATE\s+PCRS\s+SOURCE\s+BY\s+CREATED\s+EXPIRES$/);
    expect(row).toMatch(
      new RegExp(`^${kernel69.slice(0, 19)}…\\s+active\\s+PCR_0,4,7\\s+canary-1 boot 12\\s+alice@example.com\\s+\\d{4}-`),
    );
    expect(rest).toEqual([]);

    const [shown] = [await json(['show', kernel69.slice(0, 19), ...at, '--json'])] as unknown as [Record<string, unknown>];
    expect(shown).toEqual(
      expect.objectContaining({ id: kernel69, format: 'own', state: 'active', vouches: true, createdBy: 'alice@example.com' }),
    );
    const text = await cli(['show', kernel69, ...at]);
    expect(text.stdout).toMatch(/state: +active \(vouches for these measurements\)\n/);
    expect(text.stdout).toMatch(/sourceBootCounter: +12\n/);
  });

  it('captures the newest late-boot report of a VM straight from Cloud Logging', async () => {
    const { at, ref } = fresh();
    const logging = await startFakeLogging([
      // Boot 11 ran before the VM's last start: an earlier run, set aside.
      { ...canaryEntry({ boot: '11', seed: 'kernel-6.8' }), timestamp: '2026-12-01T09:00:00Z' },
      { ...canaryEntry({ boot: '12' }), timestamp: '2026-12-01T10:05:00Z' },
      { ...otherIntegrityEntry('earlyBootReportEvent'), timestamp: '2026-12-01T12:00:00Z' },
    ]);
    try {
      const env = { LOGGING_API_ENDPOINT: logging.url };
      const args = [
        'capture',
        '--instance',
        'canary-1',
        '--zone',
        'europe-west1-b',
        '--vm-project',
        'fleet-prod-1234',
        ...at,
        '--actor',
        'alice',
      ];
      const r = await cli(args, '', env);
      expect(r).toEqual(
        expect.objectContaining({
          code: 0,
          stderr: '',
          // Written to the baseline database's project (GOOGLE_CLOUD_PROJECT here), not to the VM's.
          stdout: expect.stringMatching(
            /^created .*\/sha256-\w+ \(active, PCR_0,4,7, from canary-1 boot 12, by alice\) in project demo-responder on the emulator at \S+\n$/,
          ),
        }),
      );
      expect((await ref.doc(kernel69).get()).data()).toEqual(
        expect.objectContaining({ sourceBootCounter: '12', sourceInstanceId: '5550001', sourceReportTime: '2026-12-01T10:05:00Z' }),
      );
      expect(logging.requests[0]!.body).toEqual(
        expect.objectContaining({ resourceNames: ['projects/fleet-prod-1234'], orderBy: 'timestamp desc', pageSize: 100 }),
      );

      const none = await cli(
        ['capture', '--instance', '777', '--zone', 'europe-west1-b', '--vm-project', 'fleet-prod-1234', ...at],
        '',
        env,
      );
      expect(none.code).toBe(1);
      expect(none.stderr).toMatch(/holds no late-boot report of VM idle-1 \(id 777\); boot it/);
      expect((await cli(['capture', '--instance', 'canary-1', ...at], '', env)).stderr).toMatch(/--instance needs --zone/);
      expect((await cli(['capture', 'file.json', '--instance', 'canary-1', '--zone', 'z', ...at], '', env)).code).toBe(2);
    } finally {
      await logging.close();
    }
  });

  it('refuses a report that passed unless --force, and says why', async () => {
    const { at, ref } = fresh();
    const refused = await cli(['capture', '-', ...at, '--actor', 'a'], JSON.stringify(canaryEntry({ passed: true })));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/passed its policy evaluation: .* Pass --force to record it anyway\n$/);
    expect((await ref.get()).size).toBe(0);
    const forced = await cli(['capture', '-', ...at, '--actor', 'a', '--force'], JSON.stringify(canaryEntry({ passed: true })));
    expect(forced.code).toBe(0);
    expect(forced.stderr).toMatch(/warning: recording a report that passed its policy evaluation/);
  });

  it('refuses entries that are not late-boot reports, saying which they are', async () => {
    const { at } = fresh();
    const r = await cli(['capture', '-', ...at], JSON.stringify([otherIntegrityEntry('earlyBootReportEvent')]));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/holds no late-boot report .*: only early-boot reports, whose measurements the responder never relearns/);
  });

  it('adds explicit PCR values, and refuses malformed ones as usage errors', async () => {
    const { at, ref } = fresh();
    const pcrs = linuxPcrs('image-42').flatMap((p) => ['--pcr', `${p.pcrNum}=${p.value}`]);
    const r = await cli([
      'add',
      ...pcrs,
      '--hash-algo',
      'SHA1',
      '--note',
      'image build 42',
      '--source',
      'image-42',
      ...at,
      '--actor',
      'ci@example.com',
    ]);
    expect(r.code).toBe(0);
    const id = baselineDocument(parseMeasurements(linuxPcrs('image-42'), 't')).id;
    expect((await ref.doc(id).get()).data()).toEqual(
      expect.objectContaining({ createdVia: 'add', source: 'image-42', createdBy: 'ci@example.com', state: 'active' }),
    );
    // Each refusal names the --pcr as it was given, not the parser's path to it (--pcr[1].pcrNum).
    const refused = async (args: string[]) => {
      const r = await cli(['add', ...args, ...at]);
      expect(r.code).toBe(2);
      return r.stderr.split('\n')[0];
    };
    expect(await refused(['--pcr', 'PCR_99=AAAA', '--note', 'x'])).toBe(
      'integrity-baselines: --pcr PCR_99=…: PCR_99 is not a PCR name like PCR_0 (PCR_0 to PCR_23, no leading zeros)',
    );
    expect(await refused(['--pcr', 'PCR_07=AAAA', '--note', 'x'])).toMatch(
      /^integrity-baselines: --pcr PCR_07=…: PCR_07 is not a PCR name/,
    );
    expect(await refused(['--pcr', 'PCR_0=AAAA', '--pcr', 'PCR_4=AAAA', '--pcr', 'PCR_0=BBBB', '--note', 'x'])).toBe(
      'integrity-baselines: --pcr PCR_0 is given twice',
    );
    expect(await refused(['--pcr', 'PCR_0', '--note', 'x'])).toBe("integrity-baselines: --pcr must be PCR_n=VALUE, got 'PCR_0'");
    // --note and --source as the help defines them.
    expect(await refused(pcrs)).toBe(
      "integrity-baselines: add needs --note: why these measurements are trusted (stored as 'description'); --source says where they come from",
    );
    expect(COMMAND_USAGE.add).toContain("--note TEXT           why these measurements are trusted (stored as 'description')");
    expect(COMMAND_USAGE.add).toContain("--source TEXT         where the values come from (stored as 'source')");
  });

  it('records an expiry; an expired baseline is listed as such and never matches', async () => {
    const { at, ref, collection } = fresh();
    expect((await cli(['capture', '-', ...at, '--expires-at', '2020-01-01T00:00:00Z'], JSON.stringify(canaryEntry()))).stderr).toMatch(
      /--expires-at 2020-01-01T00:00:00Z is in the past/,
    );
    expect((await cli(['capture', '-', ...at, '--expires-at', 'tomorrow'], JSON.stringify(canaryEntry()))).code).toBe(2);
    expect((await cli(['capture', '-', ...at, '--expires-at', '2999-01-01T00:00:00Z'], JSON.stringify(canaryEntry()))).code).toBe(0);
    expect((await ref.doc(kernel69).get()).get('expiresAt')).toBe('2999-01-01T00:00:00.000Z');
    await ref.doc(kernel69).update({ expiresAt: '2021-01-01T00:00:00Z' });
    expect((await json(['list', ...at, '--json']))[0]).toEqual(expect.objectContaining({ state: 'expired', vouches: false }));
    const store = new FirestoreBaselineStore(async () => db, collection, new CapturingLogger());
    expect((await store.findExactMatch(parseMeasurements(linuxPcrs('kernel-6.9'), 't'))).matched).toBe(false);
  });

  it('applies the two-person rule of the policy document: proposed, then approved by another principal only', async () => {
    const { at, collection } = fresh();
    await db
      .collection(BASELINE_POLICY_COLLECTION)
      .doc(`responder-${collection}`)
      .set({ baselineCollection: collection, requireApproval: true });
    const store = new FirestoreBaselineStore(async () => db, collection, new CapturingLogger(), { approval: 'two-person' });
    const measurements = parseMeasurements(linuxPcrs('kernel-6.9'), 't');

    const captured = await cli(['capture', '-', ...at, '--actor', 'alice@example.com'], JSON.stringify(canaryEntry()));
    expect(captured.stdout).toMatch(
      /\(proposed, .*\nit matches nothing until another principal approves it:\n {2}integrity-baselines approve sha256-/,
    );
    expect((await store.findExactMatch(measurements)).matched).toBe(false);

    const self = await cli(['approve', kernel69.slice(0, 19), ...at, '--actor', 'Alice@Example.com']);
    expect(self.code).toBe(1);
    expect(self.stderr).toMatch(/was recorded by alice@example.com: the two-person rule needs another principal to approve it/);

    const other = await cli(['approve', kernel69.slice(0, 19), ...at, '--actor', 'bob@example.com']);
    expect(other).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
    expect(other.stdout).toMatch(
      /^approved .* \(by bob@example.com; recorded by alice@example.com\)\nit vouches from the next event on\n$/,
    );
    expect(await store.findExactMatch(measurements)).toEqual(expect.objectContaining({ matched: true, baselineId: kernel69 }));
    expect((await cli(['approve', kernel69, ...at, '--actor', 'carol@example.com'])).stderr).toMatch(
      /already approved, by bob@example.com/,
    );
  });

  it('says what is the case when approving an active baseline where the two-person rule is off: nothing to approve', async () => {
    const { at, ref } = fresh();
    await cli(['capture', '-', ...at, '--actor', 'alice@example.com'], JSON.stringify(canaryEntry()));
    for (const approver of ['alice@example.com', 'bob@example.com']) {
      const r = await cli(['approve', kernel69.slice(0, 19), ...at, '--actor', approver]);
      expect(r).toEqual({
        code: 0,
        stdout:
          `nothing to approve: ${DATABASE}/${at[1]}/${kernel69} is already active, and the two-person rule is off for ${at[1]} ` +
          `(no document in integrity_responder_policies requires approval), so an active baseline needs none; it vouches\n`,
        stderr: '',
      });
    }
    expect((await ref.doc(kernel69).get()).get('approvedBy')).toBeUndefined();

    // A baseline proposed on purpose still waits for a second principal, and the message says the rule is off.
    const proposed = fresh();
    await cli(['capture', '-', ...proposed.at, '--actor', 'alice@example.com', '--propose'], JSON.stringify(canaryEntry()));
    const self = await cli(['approve', kernel69, ...proposed.at, '--actor', 'alice@example.com']);
    expect(self).toEqual(
      expect.objectContaining({
        code: 1,
        stderr:
          `integrity-baselines: ${DATABASE}/${proposed.at[1]}/${kernel69} was recorded by alice@example.com and proposed: approve takes ` +
          `another principal than its creator, whether or not the two-person rule is on (here it is off)\n`,
      }),
    );
    expect((await cli(['approve', kernel69, ...proposed.at, '--actor', 'bob@example.com'])).stdout).toMatch(
      /^approved .* \(by bob@example.com; recorded by alice@example.com\)\nit vouches from the next event on\n$/,
    );
  });

  it('refuses explicit values that could never match a late-boot report', async () => {
    const { at, ref } = fresh();
    const [pcr0, pcr4, pcr7] = linuxPcrs('image-9').map((p) => `${p.pcrNum}=${p.value}`);
    const alone = await cli(['add', '--pcr', pcr4!, '--note', 'kernel 6.9 from the build', ...at]);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(
      /^integrity-baselines: these values \(PCR_4\) could never match: a baseline matches a late-boot report only when it holds exactly the report's PCRs, and every late-boot report holds PCR_0, PCR_4, PCR_7; add PCR_0, PCR_7 \(a Linux VM reports PCR_0, 4 and 7, a Windows VM also 11, 13 and 14\)\nrun 'integrity-baselines add --help' for its options\n$/,
    );
    expect((await cli(['add', '--pcr', pcr0!, '--pcr', pcr7!, '--note', 'x', ...at])).stderr).toMatch(
      /\(PCR_0,7\) could never match.*; add PCR_4 /,
    );
    expect((await ref.get()).size).toBe(0);
    expect((await cli(['add', '--pcr', pcr0!, '--pcr', pcr4!, '--pcr', pcr7!, '--note', 'x', ...at, '--actor', 'ci'])).code).toBe(0);
  });

  it('revokes a baseline and every document holding its measurements, for good, from the next lookup on', async () => {
    const { at, ref, collection } = fresh();
    const store = new FirestoreBaselineStore(async () => db, collection, new CapturingLogger());
    const measurements = parseMeasurements(linuxPcrs('kernel-6.9'), 't');
    await cli(['capture', '-', ...at, '--actor', 'alice'], JSON.stringify(canaryEntry()));
    await ref.doc('baseline1').set(tutorialDocument(linuxPcrs('kernel-6.9')));
    expect((await store.findExactMatch(measurements)).matched).toBe(true);

    expect((await cli(['revoke', kernel69, ...at])).stderr).toMatch(/revoke needs --reason/);
    const r = await cli(['revoke', kernel69.slice(0, 15), ...at, '--reason', 'CVE-2026-0001 in shim', '--actor', 'secops']);
    expect(r).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
    expect(r.stdout.trimEnd().split('\n').sort()).toEqual([
      'by secops: these measurements match nothing from the next event on',
      `revoked ${DATABASE}/${at[1]}/baseline1`,
      `revoked ${DATABASE}/${at[1]}/${kernel69}`,
    ]);
    expect((await ref.doc('baseline1').get()).data()).toEqual(
      expect.objectContaining({ state: 'revoked', revokeReason: 'CVE-2026-0001 in shim', revokedBy: 'secops' }),
    );
    expect((await store.findExactMatch(measurements)).matched).toBe(false);

    const again = await cli(['revoke', kernel69, ...at, '--reason', 'again', '--actor', 'carol']);
    expect(again).toEqual({
      code: 0,
      stderr: '',
      stdout: expect.stringMatching(
        new RegExp(
          `^${DATABASE}/${at[1]}/baseline1, ${DATABASE}/${at[1]}/${kernel69} were already revoked by secops at \\S+ \\(reason: "CVE-2026-0001 in shim"\\): ` +
            `nothing was written, and the new reason "again" was not recorded; these measurements match nothing already\n$`,
        ),
      ),
    });
    expect((await ref.doc(kernel69).get()).data()).toEqual(
      expect.objectContaining({ revokedBy: 'secops', revokeReason: 'CVE-2026-0001 in shim' }),
    );
    const recapture = await cli(['capture', '-', ...at], JSON.stringify(canaryEntry()));
    expect(recapture.stderr).toMatch(
      /these measurements were revoked \(.*, by secops: CVE-2026-0001 in shim\); revoked measurements are never trusted again/,
    );
    expect((await cli(['approve', kernel69, ...at, '--actor', 'bob'])).stderr).toMatch(
      /is revoked: revoked measurements are never trusted again/,
    );
    expect((await json(['list', ...at, '--json', '--state', 'revoked'])).map((v) => v.id).sort()).toEqual(['baseline1', kernel69]);
  });

  it('revokes measurements held only by a tutorial document for good: a fingerprint marker keeps them from being recorded again', async () => {
    const { at, ref, collection } = fresh();
    await ref.doc('baseline1').set(tutorialDocument(linuxPcrs('kernel-6.9')));
    const r = await cli(['revoke', 'baseline1', ...at, '--reason', 'bad shim', '--actor', 'secops']);
    expect(r.stdout).toMatch(new RegExp(`revoked .*/${kernel69} \\(created: the fingerprint of these measurements`));
    expect((await ref.doc(kernel69).get()).data()).toEqual(
      expect.objectContaining({ state: 'revoked', createdVia: 'revoke', revokeReason: 'bad shim' }),
    );
    const pcrs = linuxPcrs('kernel-6.9').flatMap((p) => ['--pcr', `${p.pcrNum}=${p.value}`]);
    // Not even under another hash algorithm: a revocation covers the values.
    const add = await cli(['add', ...pcrs, '--hash-algo', 'SHA256', '--note', 're-adding', ...at, '--actor', 'mallory']);
    expect(add.code).toBe(2); // 28 characters are not a SHA256 digest
    const again = await cli(['add', ...pcrs, '--note', 're-adding', ...at, '--actor', 'mallory']);
    expect(again).toEqual(expect.objectContaining({ code: 1, stderr: expect.stringMatching(/these measurements were revoked/) }));
    const store = new FirestoreBaselineStore(async () => db, collection, new CapturingLogger());
    expect((await store.findExactMatch(parseMeasurements(linuxPcrs('kernel-6.9'), 't'))).matched).toBe(false);
  });

  it('lists a document vetoed by a revoked one as vetoed, and says so when approving', async () => {
    const { at, ref } = fresh();
    await ref.doc('aa-copy').set(tutorialDocument(linuxPcrs('kernel-6.9')));
    await ref.doc('zz-revoked').set({ ...tutorialDocument(linuxPcrs('kernel-6.9')), state: 'revoked' });
    const views = await json(['list', ...at, '--json']);
    expect(views.find((v) => v.id === 'aa-copy')).toEqual(
      expect.objectContaining({ state: 'vetoed', vouches: false, why: 'zz-revoked, holding the same measurements, is revoked' }),
    );
    expect((await cli(['show', 'aa-copy', ...at])).stdout).toMatch(
      /state: +vetoed — zz-revoked, holding the same measurements, is revoked/,
    );
    // The state says it all: not "revoked — it is revoked".
    expect((await cli(['show', 'zz-revoked', ...at])).stdout).toMatch(/\nstate: +revoked \(does not vouch\)\n/);

    const expiring = fresh();
    const doc = baselineDocument(parseMeasurements(linuxPcrs('image-7'), 't'), {
      state: 'proposed',
      createdBy: 'alice',
      expiresAt: '2021-01-01T00:00:00Z',
    });
    await expiring.ref.doc(doc.id).set(doc.data);
    const approved = await cli(['approve', doc.id, ...expiring.at, '--actor', 'bob']);
    expect(approved.stdout).toMatch(/\nbut it does not vouch: it expired at 2021-01-01T00:00:00.000Z\n$/);
  });

  it('refuses what could disguise a baseline or record nobody', async () => {
    const { at } = fresh();
    const pcrs = linuxPcrs('image-8').flatMap((p) => ['--pcr', `${p.pcrNum}=${p.value}`]);
    const disguised = await cli(['add', ...pcrs, '--note', 'kernel 6.9\nsource: projects/x/zones/y/instances/canary', ...at]);
    expect(disguised).toEqual(
      expect.objectContaining({ code: 2, stderr: expect.stringMatching(/--note must be printable text on one line/) }),
    );
    expect((await cli(['add', ...pcrs, '--note', 'x', '--actor', ' ', ...at])).stderr).toMatch(/--actor must not be blank/);
    expect((await cli(['add', '--pcr', 'PCR_0=!!notbase64', '--note', 'x', ...at])).stderr).toMatch(/PCR_0 must be a base64 digest/);
    expect((await cli(['add', ...pcrs, '--note', 'x', '--expires-at', '2027-02-31T00:00:00Z', ...at])).code).toBe(2);
    for (const id of ['..', '__name__', 'sha256-0123']) expect((await cli(['show', id, ...at])).code).toBe(2);
    expect((await cli(['show', 'sha256-0123', ...at])).stderr).toMatch(/give at least 15 characters of a sha256- id/);
    expect((await cli(['capture', '--instance', 'Canary_1', '--zone', 'us-central1-a', ...at])).code).toBe(2);
  });

  it('captures from a file holding one VM only, its newest boot', async () => {
    const { at, ref } = fresh();
    const other = {
      ...canaryEntry({ boot: '3' }),
      resource: { type: 'gce_instance', labels: { instance_id: '999', project_id: 'fleet-prod-1234', zone: 'europe-west1-b' } },
    };
    const mixed = await cli(['capture', '-', ...at], JSON.stringify([canaryEntry(), other]));
    expect(mixed.stderr).toMatch(
      /holds late-boot reports of 2 VMs \(instance ids 5550001, 999\); save the entries of the reference VM only/,
    );
    // Two boots since the start with the same measurements: the newest boot is named, whatever
    // the order or offsets of their timestamps.
    const older = { ...canaryEntry({ boot: '11' }), timestamp: '2026-12-01T12:00:00+02:00' };
    const newer = { ...canaryEntry({ boot: '12' }), timestamp: '2026-12-01T10:05:00Z' };
    expect((await cli(['capture', '-', ...at, '--actor', 'alice'], JSON.stringify([older, newer]))).code).toBe(0);
    expect((await ref.doc(kernel69).get()).get('sourceBootCounter')).toBe('12');
  });

  it('imports tutorial documents idempotently, keeps the originals unless asked, and names the unusable ones', async () => {
    const { at, ref } = fresh();
    await ref.doc('baseline1').set({ ...tutorialDocument(linuxPcrs('kernel-6.8')), description: 'typed by hand' });
    await ref.doc('broken').set({ PCR_0: 'not a map' });
    const id = baselineDocument(parseMeasurements(linuxPcrs('kernel-6.8'), 't')).id;

    const dry = await cli(['import-legacy', ...at, '--dry-run', '--actor', 'alice']);
    expect(dry.stdout).toMatch(/would import .*\/baseline1 → .*\/sha256-\w+ \(active\)/);
    expect((await ref.doc(id).get()).exists).toBe(false);

    const first = await cli(['import-legacy', ...at, '--actor', 'alice']);
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/skipped .*\/broken: its PCR fields are malformed/);
    expect(first.stdout).toMatch(/1 imported, 0 already present, 1 unusable/);
    expect((await ref.doc(id).get()).data()).toEqual(
      expect.objectContaining({
        importedFrom: 'baseline1',
        createdVia: 'import-legacy',
        description: 'typed by hand',
        state: 'active',
        createdBy: 'alice',
      }),
    );
    expect((await ref.doc('baseline1').get()).exists).toBe(true);

    await ref.doc('broken').delete();
    const second = await cli(['import-legacy', ...at, '--actor', 'alice']);
    expect(second).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
    expect(second.stdout).toMatch(/0 imported, 1 already present/);

    const third = await cli(['import-legacy', ...at, '--actor', 'alice', '--delete-originals']);
    expect(third.stdout).toMatch(/1 originals deleted/);
    expect((await ref.doc('baseline1').get()).exists).toBe(false);
    expect((await ref.doc(id).get()).exists).toBe(true);
  });

  it('imports a revocation with the measurements, and skips documents of an unknown state', async () => {
    const { at, ref, collection } = fresh();
    await ref.doc('aa-typed-later').set(tutorialDocument(linuxPcrs('kernel-6.8')));
    await ref.doc('zz-revoked').set({ ...tutorialDocument(linuxPcrs('kernel-6.8')), state: 'revoked', revokeReason: 'old shim' });
    await ref.doc('odd').set({ ...tutorialDocument(linuxPcrs('kernel-5')), state: 'suspended' });
    const id = baselineDocument(parseMeasurements(linuxPcrs('kernel-6.8'), 't')).id;
    const r = await cli(['import-legacy', ...at, '--actor', 'alice', '--delete-originals']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/skipped .*\/odd: its state "suspended" is unknown/);
    expect(r.stdout).toMatch(/imported .*\/aa-typed-later, .*\/zz-revoked → .*\/sha256-\w+ \(revoked\); originals deleted/);
    expect((await ref.doc(id).get()).data()).toEqual(expect.objectContaining({ state: 'revoked', revokeReason: 'old shim' }));
    const store = new FirestoreBaselineStore(async () => db, collection, new CapturingLogger());
    expect((await store.findExactMatch(parseMeasurements(linuxPcrs('kernel-6.8'), 't'))).matched).toBe(false);
    expect((await store.findExactMatch(parseMeasurements(linuxPcrs('kernel-5'), 't'))).matched).toBe(false);
  });

  it('names a missing or ambiguous id and what to do', async () => {
    const { at } = fresh();
    expect(await cli(['show', 'sha256-0123456789ab', ...at])).toEqual(
      expect.objectContaining({
        code: 1,
        stderr: expect.stringMatching(/no baseline .*sha256-0123456789ab .*'integrity-baselines list' shows the ids/),
      }),
    );
    expect((await cli(['show', 'a/b', ...at])).code).toBe(2);
    expect((await cli(['list', ...at])).stdout).toMatch(/^no baselines in .*; record one with 'integrity-baselines capture'/);
  });

  it.each(['capture', 'add', 'list', 'show', 'approve', 'revoke', 'import-legacy'])(
    'answers %s --help without doing its work',
    async (command) => {
      const r = await cli([command, '--help']);
      expect(r).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
      expect(r.stdout).toMatch(new RegExp(`^usage: integrity-baselines ${command}`));
      expect(r.stdout).toMatch(/Exit codes: 0 done, 1 failed, 2 usage error/);
    },
  );
});
