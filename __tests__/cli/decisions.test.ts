import { AddressInfo, Socket, createServer } from 'node:net';
import { InstancesClient } from '@google-cloud/compute/build/src/v1/instances_client';
import type { Firestore } from '@google-cloud/firestore';
import { MAX_SCANNED, findDecisions } from '../../cli/baselines/decisions';
import { BIN, Io, run } from '../../cli/integrity-baselines';
import { FirestoreDecisionLedger } from '../../function/adapters/firestore-ledger';
import { createFirestore } from '../../function/runtime/clients';
import { LEDGER_DECISIONS_COLLECTION } from '../../function/contract';
import type { IntegrityReport } from '../../function/core/parse';
import { RunningEmulator, freePort, useFirestoreEmulator } from '../../testkit/emulators';
import { FakeComputeApi } from '../../testkit/fake-compute';
import { loopbackClientOptions } from '../../testkit/loopback-clients';
import { runTool } from '../../testkit/tools';
import { describeWithEmulators } from '../support/emulator-suite';

// `integrity-baselines decisions` against ledger documents written by the function's own ledger
// adapter, on the Firestore emulator: in process (its client over gRPC, as Jest's sandbox needs),
// and once as the bin runs (a child process, over REST).

const PROJECT = 'demo-responder';
const DATABASE = 'integrity-responder-decisions';
const HOUR = 3_600_000;
const MINUTE = 60_000;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], env: NodeJS.ProcessEnv = {}, extra: Partial<Io> = {}): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const io: Io = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), readStdin: () => '', env, ...extra };
  const code = await run(['decisions', ...args], io);
  return { code, stdout, stderr };
}

describe(`${BIN} decisions`, () => {
  it('answers --help with every filter, the JSON form it prints, and examples', async () => {
    const r = await cli(['--help']);
    expect(r).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
    expect(r.stdout).toMatch(/^usage: integrity-baselines decisions/);
    expect(r.stdout).toContain('--decision D          only this decision (relearn, stop, none)');
    expect(r.stdout).toContain('--outcome O           only this outcome (pending, done, held)');
    expect(r.stdout).toContain('print one JSON array (not JSON lines)');
    expect(r.stdout).toMatch(/\nexamples:\n {2}integrity-baselines decisions --project \S+ --since 2h\n/);
  });

  it('is listed among the commands', async () => {
    let out = '';
    expect(await run(['--help'], { stdout: (t) => (out += t), stderr: () => undefined, readStdin: () => '', env: {} })).toBe(0);
    expect(out).toMatch(/\n {2}decisions {7}what the responder decided/);
  });

  it.each<[string[], RegExp]>([
    [
      ['--since', 'yesterday'],
      /--since must be an RFC 3339 time with a zone \(like 2026-12-06T09:00:00Z\) or a time ago .*; got 'yesterday'/,
    ],
    [['--since', '2026-12-06T09:00:00'], /--since must be an RFC 3339 time with a zone/],
    [['--until', '2026-02-31T00:00:00Z'], /--until must be an RFC 3339 time/],
    [['--until', '0h'], /--until must be/],
    [['--since', '1h', '--until', '2h'], /--since \(\S+\) must come before --until \(\S+\)/],
    [['--limit', '0'], /--limit must be a whole number from 1 to 1000, got '0'/],
    [['--limit', '1001'], /--limit must be a whole number from 1 to 1000, got '1001'/],
    [['--limit', '5x'], /--limit must be a whole number from 1 to 1000, got '5x'/],
    [
      ['--decision', 'hold'],
      /--decision must be one of relearn, stop, none, got 'hold' \(a stop the action budget held is --decision stop --outcome held\)\n/,
    ],
    [
      ['--decision', 'suspend'],
      /--decision must be one of relearn, stop, none, got 'suspend' \(a suspend is recorded as decision stop: --decision stop\)\n/,
    ],
    [['--decision', 'relearned'], /--decision must be one of relearn, stop, none, got 'relearned'\n/],
    [['--outcome', 'failed'], /--outcome must be one of pending, done, held, got 'failed'/],
    [['--zone', 'Europe West'], /--zone: 'Europe West' is not a Compute Engine zone/],
    [['--vm-project', 'Fleet'], /--vm-project must be a Google Cloud project id, got 'Fleet'/],
    [['--instance', 'Canary_1'], /--instance: 'Canary_1' is not an instance name/],
    [['--instance', 'canary-1'], /--instance canary-1 is a name: give its --zone too/],
    [['canary-1'], /decisions takes no arguments besides options, got 'canary-1' \(a VM goes with --instance\)/],
    [['--project', 'Bad Project'], /--project must be a Google Cloud project id, got 'Bad Project'/],
    [['--database', 'Ledger'], /--database must be a database id like 'integrity-responder-decisions', got 'Ledger'/],
    [['--timeout', 'soon'], /--timeout must be a whole number of seconds from 1 to 600, got 'soon'/],
    [['--collection', 'x'], /unknown option '--collection'/],
    [['--json=yes'], /option '--json' does not take an argument/],
    [['--since'], /option '--since <value>' argument missing/],
  ])('refuses %j as a usage error, before any call', async (args, message) => {
    // A --project in the case comes later, and wins.
    const r = await cli(['--project', PROJECT, ...args]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^integrity-baselines: ${message.source}`));
    // One line of error and one of where to read more: the 60 lines of the help would scroll it away.
    expect(r.stderr).toMatch(/^[^\n]*\nrun 'integrity-baselines decisions --help' for its options\n$/);
  });

  it('asks for the project of the ledger when neither --project nor GOOGLE_CLOUD_PROJECT names it', async () => {
    const r = await cli([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^integrity-baselines: --project is required \(or set GOOGLE_CLOUD_PROJECT\): the project of the decision ledger\n/,
    );
  });

  it('says at once that nothing listens where FIRESTORE_EMULATOR_HOST points', async () => {
    const host = `127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const r = runTool('integrity-baselines', ['decisions', '--project', PROJECT], {
      env: { PATH: process.env.PATH, FIRESTORE_EMULATOR_HOST: host, METADATA_SERVER_DETECTION: 'none' },
      timeoutMs: 20_000,
    });
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
      status: 1,
      stdout: '',
      stderr:
        `integrity-baselines: nothing listens at ${host}, where FIRESTORE_EMULATOR_HOST points, so the tool cannot read the decisions ` +
        `of ${DATABASE}/${LEDGER_DECISIONS_COLLECTION} in project ${PROJECT} on the emulator at ${host}; start the Firestore emulator ` +
        `there, or unset FIRESTORE_EMULATOR_HOST to use Firestore itself\n`,
    });
    // Not the 60 s of the default deadline.
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('gives up after --timeout on a server that never answers', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const r = runTool('integrity-baselines', ['decisions', '--project', PROJECT, '--timeout', '1'], {
        env: { PATH: process.env.PATH, FIRESTORE_EMULATOR_HOST: host, METADATA_SERVER_DETECTION: 'none' },
        timeoutMs: 20_000,
      });
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
        status: 1,
        stdout: '',
        stderr:
          `integrity-baselines: Firestore did not answer within 1 s when asked to read the decisions of ${DATABASE}/${LEDGER_DECISIONS_COLLECTION} ` +
          `in project ${PROJECT} on the emulator at ${host}; check the network, FIRESTORE_EMULATOR_HOST and your credentials\n`,
      });
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });
});

describeWithEmulators(`${BIN} decisions on the Firestore emulator`, () => {
  let emulator: RunningEmulator;
  let db: Firestore;
  let compute: FakeComputeApi;
  /** The ledger's clock: each record is written at the time a test sets. */
  let clock = new Date();
  const now = Date.now();
  const at = (ms: number) => new Date(ms).toISOString();

  /** A failed late-boot report about a VM. */
  const report = (projectId: string, zone: string, id: string, bootCounter: string): IntegrityReport => ({
    kind: 'lateBoot',
    passed: false,
    actualMeasurements: [{ pcr: 0, value: 'v' }],
    instance: { projectId, zone, id },
    bootCounter,
    timestamp: clock.toISOString(),
  });

  const env = () => ({ FIRESTORE_EMULATOR_HOST: emulator.host, GOOGLE_CLOUD_PROJECT: PROJECT, COMPUTE_API_ENDPOINT: compute.endpoint });
  const decisions = (args: string[]) =>
    cli(args, env(), {
      openFirestore: (config) => createFirestore(config, 'grpc'),
      openInstances: async ({ computeEndpoint }) => new InstancesClient(loopbackClientOptions(computeEndpoint!.port)),
    });
  const json = async (args: string[]) => {
    const r = await decisions([...args, '--json']);
    expect(r).toEqual(expect.objectContaining({ code: 0 }));
    return JSON.parse(r.stdout) as Array<Record<string, any>>;
  };
  const ids = async (args: string[]) => (await json(args)).map((d) => `${d.instanceId}-${d.bootCounter}`);

  beforeAll(async () => {
    emulator = await useFirestoreEmulator();
    process.env.FIRESTORE_EMULATOR_HOST = emulator.host;
    process.env.METADATA_SERVER_DETECTION = 'none';
    db = await createFirestore({ projectId: PROJECT, firestoreDatabase: DATABASE }, 'grpc');
    compute = new FakeComputeApi().add({ project: 'fleet-a-1234', zone: 'europe-west1-b', name: 'canary-1', id: '1001' });
    await compute.start();

    // What the responder recorded over the last five hours, through its own ledger adapter.
    const ledger = new FirestoreDecisionLedger(async () => db, { clock: () => clock });
    const budget = { limit: 1, windowSeconds: 604800 };
    const record = async (
      ms: number,
      r: IntegrityReport,
      proposed: Parameters<FirestoreDecisionLedger['record']>[0]['proposed'],
      o: { containment?: 'suspend'; budget?: typeof budget } = {},
    ) => {
      clock = new Date(ms);
      const recorded = await ledger.record(
        {
          report: r,
          proposed,
          fingerprint: `fp-${r.instance.id}-${r.bootCounter}`,
          requestIdFor: (a) => `${a}-${r.instance.id}-${r.bootCounter}`,
          ...(o.containment && { containment: o.containment }),
        },
        o.budget,
      );
      return {
        key: {
          projectId: r.instance.projectId,
          zone: r.instance.zone,
          instanceId: r.instance.id,
          bootCounter: r.bootCounter!,
          kind: r.kind,
        },
        recorded,
      };
    };
    // canary-1 (id 1001): stopped at boot 3, relearned at boot 4 once its baseline was recorded.
    const stopped = await record(now - 5 * HOUR, report('fleet-a-1234', 'europe-west1-b', '1001', '3'), {
      action: 'stop',
      reason: 'not-known-good',
    });
    await ledger.complete(stopped.key, stopped.recorded.requestId, { operation: { name: 'operation-1', status: 'DONE' }, status: 'DONE' });
    const relearned = await record(now - 4 * HOUR, report('fleet-a-1234', 'europe-west1-b', '1001', '4'), {
      action: 'relearn',
      reason: 'known-good',
      baselineId: `sha256-${'ab'.repeat(32)}`,
    });
    await ledger.complete(relearned.key, relearned.recorded.requestId, {
      operation: { name: 'operation-2', status: 'DONE' },
      status: 'DONE',
    });
    // web-7 (id 3003) took the budget's only slot; app-2 (id 2002) was held for want of one.
    await record(
      now - 3 * HOUR,
      report('fleet-b-1234', 'us-central1-a', '3003', '9'),
      { action: 'stop', reason: 'not-known-good' },
      { budget },
    );
    const held = await record(
      now - 2 * HOUR,
      report('fleet-b-1234', 'us-central1-a', '2002', '1'),
      { action: 'stop', reason: 'policy-failed' },
      { budget },
    );
    expect(held.recorded.record.outcome).toBe('held');
    // An exempt VM (id 4004): nothing done.
    const exempt = await record(now - HOUR, report('fleet-b-1234', 'us-central1-b', '4004', '2'), {
      action: 'stop',
      reason: 'not-known-good',
    });
    await ledger.complete(exempt.key, exempt.recorded.requestId, { decision: { action: 'none', reason: 'exempt' }, status: 'exempt' });
    // A VM suspended rather than stopped (id 5005), its operation not done yet.
    await record(
      now - 30 * MINUTE,
      report('fleet-b-1234', 'us-central1-a', '5005', '6'),
      { action: 'stop', reason: 'not-known-good' },
      { containment: 'suspend' },
    );
  }, 60_000);

  afterAll(async () => {
    await compute?.stop();
    await db?.terminate();
    await emulator?.stop();
    delete process.env.FIRESTORE_EMULATOR_HOST;
  });

  it('shows what the responder did, newest first, as a table', async () => {
    const r = await decisions([]);
    expect(r).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
    const [header, ...rows] = r.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^RECORDED\s+PROJECT\s+ZONE\s+INSTANCE\s+BOOT\s+REPORT\s+DECISION\s+REASON\s+OUTCOME$/);
    expect(rows).toEqual([
      expect.stringMatching(/^\S+ \S+Z\s+fleet-b-1234\s+us-central1-a\s+5005\s+6\s+late-boot\s+suspend\s+not-known-good\s+pending$/),
      expect.stringMatching(/^\S+ \S+Z\s+fleet-b-1234\s+us-central1-b\s+4004\s+2\s+late-boot\s+none\s+exempt\s+done \(exempt\)$/),
      expect.stringMatching(
        /^\S+ \S+Z\s+fleet-b-1234\s+us-central1-a\s+2002\s+1\s+late-boot\s+stop\s+policy-failed\s+held since \S+ \S+Z$/,
      ),
      expect.stringMatching(/^\S+ \S+Z\s+fleet-b-1234\s+us-central1-a\s+3003\s+9\s+late-boot\s+stop\s+not-known-good\s+pending$/),
      expect.stringMatching(
        /^\S+ \S+Z\s+fleet-a-1234\s+europe-west1-b\s+1001\s+4\s+late-boot\s+relearn\s+known-good sha256-abababababab…\s+done$/,
      ),
      expect.stringMatching(/^\S+ \S+Z\s+fleet-a-1234\s+europe-west1-b\s+1001\s+3\s+late-boot\s+stop\s+not-known-good\s+done$/),
    ]);
    expect(rows[5]).toMatch(
      new RegExp(
        `^${at(now - 5 * HOUR)
          .slice(0, 19)
          .replace('T', ' ')}Z `,
      ),
    );
    process.stdout.write(`${BIN} decisions:\n${r.stdout}`);
  });

  it('prints one JSON array of the ledger documents as stored, with their ids', async () => {
    const all = await json([]);
    expect(all).toHaveLength(6);
    expect(all[4]).toEqual(
      expect.objectContaining({
        id: 'fleet-a-1234~europe-west1-b~1001-4-lateBoot',
        instanceId: '1001',
        projectId: 'fleet-a-1234',
        zone: 'europe-west1-b',
        bootCounter: '4',
        kind: 'lateBoot',
        decision: { action: 'relearn', reason: 'known-good', baselineId: `sha256-${'ab'.repeat(32)}` },
        outcome: 'done',
        operation: 'operation-2',
        operationStatus: 'DONE',
        recordedAt: at(now - 4 * HOUR),
        completedAt: expect.any(String),
      }),
    );
    expect(all.map((d) => d.recordedAt)).toEqual([...all.map((d) => d.recordedAt)].sort().reverse());
  });

  it('filters by instance id, or by name through Compute Engine', async () => {
    expect(await ids(['--instance', '1001'])).toEqual(['1001-4', '1001-3']);
    const byName = await decisions(['--instance', 'canary-1', '--zone', 'europe-west1-b', '--vm-project', 'fleet-a-1234', '--json']);
    expect(byName.code).toBe(0);
    expect(byName.stderr).toBe(
      'integrity-baselines: note: VM canary-1 in fleet-a-1234/europe-west1-b is instance id 1001 (Compute Engine)\n',
    );
    expect((JSON.parse(byName.stdout) as Array<{ id: string }>).map((d) => d.id)).toEqual([
      'fleet-a-1234~europe-west1-b~1001-4-lateBoot',
      'fleet-a-1234~europe-west1-b~1001-3-lateBoot',
    ]);
    expect(compute.requests.map((q) => `${q.method} ${q.path}`)).toContain(
      'GET /compute/v1/projects/fleet-a-1234/zones/europe-west1-b/instances/canary-1',
    );
    const gone = await decisions(['--instance', 'web-9', '--zone', 'europe-west1-b', '--vm-project', 'fleet-a-1234']);
    expect(gone).toEqual(
      expect.objectContaining({
        code: 1,
        stdout: '',
        stderr: expect.stringMatching(
          /^integrity-baselines: Compute Engine has no VM web-9 in fleet-a-1234\/europe-west1-b .*; the decisions about a VM deleted since are found by its numeric id: --instance ID\n$/,
        ),
      }),
    );
  });

  it('filters by project, zone, decision and outcome: the values the ledger records', async () => {
    expect(await ids(['--vm-project', 'fleet-a-1234'])).toEqual(['1001-4', '1001-3']);
    expect(await ids(['--zone', 'us-central1-a'])).toEqual(['5005-6', '2002-1', '3003-9']);
    expect(await ids(['--decision', 'relearn'])).toEqual(['1001-4']);
    expect(await ids(['--decision', 'stop'])).toEqual(['5005-6', '2002-1', '3003-9', '1001-3']);
    expect(await ids(['--decision', 'none'])).toEqual(['4004-2']);
    expect(await ids(['--outcome', 'held'])).toEqual(['2002-1']);
    expect(await ids(['--outcome', 'pending', '--vm-project', 'fleet-b-1234', '--zone', 'us-central1-a'])).toEqual(['5005-6', '3003-9']);
    expect(await ids(['--instance', '1001', '--decision', 'stop'])).toEqual(['1001-3']);
  });

  it('filters by time, RFC 3339 or relative, and bounds the count with --limit', async () => {
    expect(await ids(['--since', '150m'])).toEqual(['5005-6', '4004-2', '2002-1']);
    expect(await ids(['--since', at(now - 3 * HOUR)])).toEqual(['5005-6', '4004-2', '2002-1', '3003-9']);
    expect(await ids(['--until', '3h'])).toEqual(['3003-9', '1001-4', '1001-3']);
    expect(await ids(['--since', '4h', '--until', at(now - HOUR)])).toEqual(['2002-1', '3003-9']);
    expect(await ids(['--instance', '1001', '--since', '270m'])).toEqual(['1001-4']);

    const limited = await decisions(['--limit', '2']);
    expect(limited.code).toBe(0);
    expect(limited.stdout.trimEnd().split('\n')).toHaveLength(3);
    expect(limited.stderr).toBe(
      'integrity-baselines: note: showing the newest 2; more decisions match: raise --limit (up to 1000) or narrow with --since/--until\n',
    );
    expect(await ids(['--limit', '2', '--zone', 'us-central1-a'])).toEqual(['5005-6', '2002-1']);
  });

  it('says so when nothing matches, and prints an empty array with --json', async () => {
    const none = await decisions(['--vm-project', 'nowhere-1234', '--decision', 'relearn', '--since', at(now - HOUR)]);
    expect(none).toEqual({
      code: 0,
      stdout:
        `no decisions in ${DATABASE}/${LEDGER_DECISIONS_COLLECTION} in project ${PROJECT} on the emulator at ${emulator.host} ` +
        `(VM project nowhere-1234, decision relearn, since ${at(now - HOUR)})\n`,
      stderr: '',
    });
    expect(await json(['--instance', '999'])).toEqual([]);
    const other = await decisions(['--database', 'other-decisions']);
    expect(other.stdout).toMatch(/^no decisions in other-decisions\/integrity_decisions in project demo-responder /);
  });

  it('stops a filtered scan after a bounded number of documents and says how far back it read', async () => {
    expect(MAX_SCANNED).toBe(5000);
    // The same search with a bound of 3: the newest three are read, one of them matches.
    const cut = await findDecisions(db, { zone: 'europe-west1-b' }, 50, 3);
    expect(cut).toEqual({ rows: [], scanned: 3, more: false, cut: { reachedBack: at(now - 2 * HOUR) } });
    const enough = await findDecisions(db, { zone: 'us-central1-b' }, 50, 3);
    expect(enough).toEqual(expect.objectContaining({ scanned: 3, cut: { reachedBack: at(now - 2 * HOUR) } }));
    expect(enough.rows.map((r) => r.record.instanceId)).toEqual(['4004']);
    // Unfiltered, only the page asked for is read.
    expect(await findDecisions(db, {}, 2, 3)).toEqual(expect.objectContaining({ scanned: 3, more: true }));
    expect((await findDecisions(db, {}, 10, 100)).scanned).toBe(6);
  });

  it('runs as the bin does, over REST', async () => {
    const r = runTool('integrity-baselines', ['decisions', '--project', PROJECT, '--instance', '1001', '--json'], {
      env: { PATH: process.env.PATH, FIRESTORE_EMULATOR_HOST: emulator.host, METADATA_SERVER_DETECTION: 'none' },
      timeoutMs: 30_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect((JSON.parse(r.stdout) as Array<{ bootCounter: string }>).map((d) => d.bootCounter)).toEqual(['4', '3']);
  });
});
