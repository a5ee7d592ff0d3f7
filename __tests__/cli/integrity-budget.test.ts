import { AddressInfo, createServer } from 'node:net';
import type { Firestore } from '@google-cloud/firestore';
import { BIN, run } from '../../cli/integrity-budget';
import { type Io, localUser } from '../../cli/common';
import { FirestoreDecisionLedger } from '../../function/adapters/firestore-ledger';
import { createFirestore } from '../../function/runtime/clients';
import { BUDGET_SHARDS_SUBCOLLECTION, LEDGER_BUDGET_COLLECTION } from '../../function/contract';
import type { IntegrityReport } from '../../function/core/parse';
import { RunningEmulator, useFirestoreEmulator } from '../../testkit/emulators';
import { runTool } from '../../testkit/tools';
import { describeWithEmulators } from '../support/emulator-suite';

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: Io = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), readStdin: () => '', env };
  const code = await run(args, io);
  return { code, stdout, stderr };
}

describe(BIN, () => {
  it('answers --help with the commands', async () => {
    const r = await cli(['--help']);
    expect(r).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
    expect(r.stdout).toMatch(/show .*\n\s+reset /);
  });

  it.each(['show', 'reset'])('answers %s --help without doing its work', async (command) => {
    const r = await cli([command, '--help', '--project', 'fleet-sec-1234']);
    expect(r).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
    expect(r.stdout).toMatch(new RegExp(`^usage: integrity-budget ${command}`));
    expect(r.stdout).toContain('--database D');
  });

  it('refuses a reset without a reason, as a usage error in one line and where the options are', async () => {
    const r = await cli(['reset', '--project', 'fleet-prod-1234']);
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'integrity-budget: reset needs --reason TEXT: why the responder may act again, kept with the reset\n' +
        "run 'integrity-budget reset --help' for its options\n",
    });
  });

  it('takes --by on the emulator only: against Firestore the principal of the credentials is recorded, and the help says so', async () => {
    // Before any call: no credentials are needed to be refused.
    const r = await cli(['reset', '--project', 'fleet-prod-1234', '--reason', 'kernel vetted', '--by', 'alice']);
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'integrity-budget: --by is for the emulator only: against Firestore the principal of your credentials is recorded (gcloud auth application-default login)\n' +
        "run 'integrity-budget reset --help' for its options\n",
    });
    const help = await cli(['reset', '--help']);
    expect(help.stdout).toContain(
      '  --by NAME             on the emulator, who to record (default: your user and host name);\n' +
        '                        against Firestore the principal of your credentials is always recorded\n',
    );
  });

  it('asks for the project when neither --project nor GOOGLE_CLOUD_PROJECT names it', async () => {
    const r = await cli(['show']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--project is required \(or set GOOGLE_CLOUD_PROJECT\)/);
  });

  it.each<[string[], RegExp]>([
    [
      ['show', '--project', 'fleet-sec-1234', '--database', 'Prod DB'],
      /--database must be a database id like 'integrity-responder-decisions', got 'Prod DB'/,
    ],
    [
      ['show', '--project', 'fleet-sec-1234', '--window-seconds', '30'],
      /--window-seconds must be an integer from 60 to 604800 \(the responder's ACTION_WINDOW_SECONDS\), got '30'/,
    ],
    [['show', '--project', 'fleet-sec-1234', '--timeout', '0'], /--timeout must be a whole number of seconds/],
    [['show', '--project', 'fleet-sec-1234', 'extra'], /show takes no arguments, got 'extra'/],
    [['reset', '--reason', 'x', '--wirte'], /unknown option '--wirte'/],
    [['show', '--project', 'Bad Project'], /--project must be a Google Cloud project id, got 'Bad Project'/],
    [
      ['show', '--project', 'fleet-sec-1234', '--max-actions', '0'],
      /--max-actions must be an integer from 1 to 100000, or 'unlimited' \(the responder's MAX_ACTIONS_PER_WINDOW\), got '0'/,
    ],
    [
      ['show', '--project', 'fleet-sec-1234', '--max-actions', 'lots'],
      /--max-actions must be an integer from 1 to 100000, or 'unlimited' \(the responder's MAX_ACTIONS_PER_WINDOW\), got 'lots'/,
    ],
    [['show', '--project', 'fleet-sec-1234', '--json=yes'], /option '--json' does not take an argument/],
    [['show', '--project'], /option '--project <value>' argument missing/],
    [['reset', '--project', 'fleet-sec-1234', '--reason', ' '], /--reason must not be blank/],
    [['reset', '--project', 'fleet-sec-1234', '--reason', 'ok\nby: someone else'], /--reason must be printable text on one line/],
    [['reset', '--project', 'fleet-sec-1234', '--reason', 'ok', '--by', ''], /--by must not be blank/],
  ])('refuses %j with a usage error', async (args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('gives up after --timeout with a sentence naming what it asked, and where', async () => {
    // A server that accepts connections and never answers: the read can only time out.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const r = runTool('integrity-budget', ['show', '--project', 'fleet-sec-1234', '--timeout', '1'], {
        env: { PATH: process.env.PATH, FIRESTORE_EMULATOR_HOST: host, METADATA_SERVER_DETECTION: 'none' },
        timeoutMs: 20_000,
      });
      expect({ status: r.status, signal: r.signal, error: r.error, stderr: r.stderr }).toEqual({
        status: 1,
        signal: null,
        error: undefined,
        stderr:
          `integrity-budget: Firestore did not answer within 1 s when asked to read the action budget in integrity-responder-decisions ` +
          `in project fleet-sec-1234 on the emulator at ${host}; check the network, FIRESTORE_EMULATOR_HOST and your credentials\n`,
      });
    } finally {
      silent.close();
    }
  });
});

describeWithEmulators(`${BIN} on the Firestore emulator`, () => {
  const PROJECT = 'demo-responder';
  const DATABASE = 'integrity-responder-decisions';
  const WEEK = 604800;
  let firestore: RunningEmulator;
  let db: Firestore;
  let ledger: FirestoreDecisionLedger;
  let instances = 0;

  beforeAll(async () => {
    firestore = await useFirestoreEmulator();
    process.env.FIRESTORE_EMULATOR_HOST = firestore.host;
    process.env.METADATA_SERVER_DETECTION = 'none';
    // Over gRPC in Jest; the tool itself runs in a child process, over REST as shipped.
    db = await createFirestore({ projectId: PROJECT, firestoreDatabase: DATABASE }, 'grpc');
    ledger = new FirestoreDecisionLedger(async () => db);
  }, 60000);

  afterAll(async () => {
    await db?.terminate();
    await firestore?.stop();
    delete process.env.FIRESTORE_EMULATOR_HOST;
  });

  const budgetCli = (args: string[]) =>
    runTool('integrity-budget', args, {
      env: { PATH: process.env.PATH, FIRESTORE_EMULATOR_HOST: firestore.host, METADATA_SERVER_DETECTION: 'none' },
    });

  /**
   * A stop the responder records now about VM `id`, through `into`, with a budget of `limit` per
   * week: a window that long keeps the test clear of a window's end (the tool reads the length
   * from the ledger).
   */
  const stopOf = (into: FirestoreDecisionLedger, id: string, limit: number) => {
    const report: IntegrityReport = {
      kind: 'lateBoot',
      passed: false,
      actualMeasurements: [{ pcr: 0, value: 'v' }],
      instance: { projectId: PROJECT, zone: 'europe-west1-b', id },
      bootCounter: '3',
      timestamp: new Date().toISOString(),
    };
    return into.record(
      { report, proposed: { action: 'stop', reason: 'not-known-good' }, fingerprint: 'fp', requestIdFor: () => `req-${id}` },
      { limit, windowSeconds: WEEK },
    );
  };
  /** A stop about a VM of its own, in the default database. */
  const stop = (limit: number) => stopOf(ledger, String(7_000_000_000 + ++instances), limit);

  it('shows an empty budget, then an exhausted one, resets it with who and why, and the responder acts again', async () => {
    const empty = budgetCli(['show', '--project', PROJECT]);
    expect(empty.stderr).toBe('');
    expect(empty.status).toBe(0);
    expect(empty.stdout).toMatch(/^action budget of integrity-responder-decisions in project demo-responder on the emulator at /);
    expect(empty.stdout).toContain('\ntotal:   0: no VM stopped or suspended in this window\n');

    expect((await stop(2)).budget?.status).toBe('counted');
    expect((await stop(2)).budget?.status).toBe('counted');
    expect((await stop(2)).budget?.status).toBe('exhausted');

    const full = budgetCli(['show', '--project', PROJECT, '--json']);
    expect(full.status).toBe(0);
    const shown = JSON.parse(full.stdout);
    expect(shown).toEqual(
      expect.objectContaining({
        project: PROJECT,
        database: DATABASE,
        counted: 2,
        limit: 2,
        total: 2,
        exhausted: true,
        resets: [],
        window: expect.objectContaining({ seconds: WEEK, lengthFrom: 'ledger' }),
      }),
    );
    const text = budgetCli(['show', '--project', PROJECT]);
    expect(text.stdout).toMatch(/\nused: {4}2 of 2 \(the limit when the last action was counted\): EXHAUSTED since /);
    process.stdout.write(`${BIN} show:\n${text.stdout}`);

    const reset = budgetCli(['reset', '--project', PROJECT, '--reason', 'kernel 6.9 baseline recorded', '--by', 'alice']);
    expect(reset.stderr).toBe('');
    expect(reset.status).toBe(0);
    expect(reset.stdout).toMatch(
      /^reset the window .* of integrity-responder-decisions in project demo-responder .*: 2 counted → 0 \(by alice: kernel 6.9 baseline recorded\); held events are acted on at their next redelivery\n$/,
    );
    process.stdout.write(`${BIN} reset: ${reset.stdout}`);

    const after = JSON.parse(budgetCli(['show', '--project', PROJECT, '--json']).stdout);
    expect(after).toEqual(
      expect.objectContaining({
        counted: 0,
        total: 2,
        exhausted: false,
        filledAt: null,
        resets: [{ at: expect.any(String), by: 'alice', reason: 'kernel 6.9 baseline recorded', countBefore: 2 }],
      }),
    );
    expect((await stop(2)).budget).toEqual(expect.objectContaining({ status: 'counted', shardUsed: 1 }));
    expect(JSON.parse(budgetCli(['show', '--project', PROJECT, '--json']).stdout)).toEqual(
      expect.objectContaining({ counted: 1, total: 3, shards: { written: 2, of: 2 } }),
    );
  });

  it('sums the shards many stops were counted in, and a reset clears every one of them', async () => {
    const at = ['--project', PROJECT, '--database', 'sharded-decisions'];
    const sharded = await createFirestore({ projectId: PROJECT, firestoreDatabase: 'sharded-decisions' }, 'grpc');
    try {
      const many = new FirestoreDecisionLedger(async () => sharded);
      const results = await Promise.all(Array.from({ length: 45 }, (_, i) => stopOf(many, String(9_100_000_000 + i), 40)));
      expect(results.filter((r) => r.budget?.status === 'counted')).toHaveLength(40);
      const text = budgetCli(['show', ...at]);
      expect(text.stderr).toBe('');
      expect(text.stdout).toMatch(/\nused: {4}40 of 40 \(the limit when the last action was counted\): EXHAUSTED since /);
      expect(text.stdout).toContain('\nshards:  32 of 32 written (the count is their sum)\n');
      const reset = JSON.parse(budgetCli(['reset', ...at, '--reason', 'rollout vetted', '--json']).stdout);
      expect(reset).toEqual(
        expect.objectContaining({ counted: 0, total: 40, exhausted: false, reset: expect.objectContaining({ countBefore: 40 }) }),
      );
      const shards = await sharded.collectionGroup(BUDGET_SHARDS_SUBCOLLECTION).get();
      expect(shards.docs.map((d) => d.get('count') as number)).toEqual(Array.from({ length: 32 }, () => 0));
      expect(shards.docs.every((d) => d.get('filledAt') === undefined)).toBe(true);
    } finally {
      await sharded.terminate();
    }
  });

  it('says the limit is unknown before the responder counted anything, and takes it from --max-actions', async () => {
    const at = ['--project', PROJECT, '--database', 'empty-decisions'];
    const unknown = budgetCli(['show', ...at]);
    expect(unknown.stderr).toBe('');
    // The assumed length said within one pair of parentheses.
    const window = unknown.stdout.split('\n')[1]!;
    expect(window).toMatch(
      /^window: {2}\S+ – \S+ \(3600 s: the default, assumed since no window was counted yet; pass --window-seconds if yours differs\), frees in \d+ (s|min)$/,
    );
    expect(window).not.toMatch(/\([^)]*\(/);
    expect(unknown.stdout).toMatch(
      /\nused: {4}0 of an unknown limit: the responder has counted no action in this ledger yet, and only its MAX_ACTIONS_PER_WINDOW setting \(maxActionsPerWindow, default 50\) holds it; pass --max-actions N to compare\n/,
    );
    expect(budgetCli(['show', ...at, '--max-actions', '2']).stdout).toMatch(/\nused: {4}0 of 2 \(the limit given with --max-actions\)\n/);
    expect(JSON.parse(budgetCli(['show', ...at, '--json']).stdout)).toEqual(
      expect.objectContaining({ counted: 0, limit: null, limitFrom: 'unknown', exhausted: false }),
    );
    expect(JSON.parse(budgetCli(['show', ...at, '--json', '--max-actions', '2']).stdout)).toEqual(
      expect.objectContaining({ counted: 0, limit: 2, limitFrom: 'option', exhausted: false }),
    );
  });

  it('shows the limit the responder counted its last action against when nothing is counted in this window yet', async () => {
    const earlier = await createFirestore({ projectId: PROJECT, firestoreDatabase: 'earlier-decisions' }, 'grpc');
    try {
      // An hour ago, in a window of a minute, against a limit of 7.
      const then = new Date(Date.now() - 3600_000);
      const report: IntegrityReport = {
        kind: 'lateBoot',
        passed: false,
        actualMeasurements: [{ pcr: 0, value: 'v' }],
        instance: { projectId: PROJECT, zone: 'europe-west1-b', id: '8000000001' },
        bootCounter: '3',
        timestamp: then.toISOString(),
      };
      await new FirestoreDecisionLedger(async () => earlier, { clock: () => then }).record(
        { report, proposed: { action: 'stop', reason: 'not-known-good' }, fingerprint: 'fp', requestIdFor: () => 'req-earlier' },
        { limit: 7, windowSeconds: 60 },
      );
      const r = budgetCli(['show', '--project', PROJECT, '--database', 'earlier-decisions']);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/\nwindow: {2}\S+ – \S+ \(60 s\), frees in \d+ s\n/);
      expect(r.stdout).toContain(
        `\nused:    0 of 7 (the limit the responder counted its last action against, at ${then.toISOString()}; pass --max-actions N if it changed since)\n`,
      );
      const unlimited = budgetCli([
        'show',
        '--project',
        PROJECT,
        '--database',
        'earlier-decisions',
        '--max-actions',
        'unlimited',
        '--json',
      ]);
      expect(JSON.parse(unlimited.stdout)).toEqual(
        expect.objectContaining({ counted: 0, limit: 'unlimited', limitFrom: 'option', exhausted: false }),
      );
    } finally {
      await earlier.terminate();
    }
  });

  it('records the local user on the emulator when --by does not name someone, as integrity-baselines does', async () => {
    const at = ['--project', PROJECT, '--database', 'local-decisions'];
    const local = await createFirestore({ projectId: PROJECT, firestoreDatabase: 'local-decisions' }, 'grpc');
    try {
      const report: IntegrityReport = {
        kind: 'lateBoot',
        passed: false,
        actualMeasurements: [{ pcr: 0, value: 'v' }],
        instance: { projectId: PROJECT, zone: 'europe-west1-b', id: '9000000001' },
        bootCounter: '3',
        timestamp: new Date().toISOString(),
      };
      await new FirestoreDecisionLedger(async () => local).record(
        { report, proposed: { action: 'stop', reason: 'not-known-good' }, fingerprint: 'fp', requestIdFor: () => 'req-local' },
        { limit: 1, windowSeconds: WEEK },
      );
      const r = budgetCli(['reset', ...at, '--reason', 'canary vetted', '--json']);
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout).reset).toEqual(expect.objectContaining({ by: localUser(), reason: 'canary vetted', countBefore: 1 }));
    } finally {
      await local.terminate();
    }
  });

  it('has nothing to reset in a window where nothing is counted, and writes nothing', async () => {
    const r = budgetCli(['reset', '--project', PROJECT, '--database', 'other-decisions', '--reason', 'test']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^nothing to reset: no VM stopped or suspended is counted in the window /);
    const other = await createFirestore({ projectId: PROJECT, firestoreDatabase: 'other-decisions' }, 'grpc');
    try {
      expect((await other.collection(LEDGER_BUDGET_COLLECTION).get()).size).toBe(0);
    } finally {
      await other.terminate();
    }
  });
});
