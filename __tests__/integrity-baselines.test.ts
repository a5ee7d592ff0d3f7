import { AddressInfo, createServer } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, Io, run } from '../cli/integrity-baselines';
import { baselineDocument } from '../function/baseline';
import { parseMeasurements } from '../function/parse';
import { RunningEmulator, useFirestoreEmulator } from '../testkit/emulators';
import { httpRequest } from '../testkit/http';
import { integrityEntry, otherIntegrityEntry, windowsPcrs } from '../testkit/fixtures';
import { runTool } from '../testkit/tools';
import { describeWithEmulators } from './support/emulator-suite';

async function cli(args: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: Io = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), readStdin: () => stdin, env: {} };
  const code = await run(args, io);
  return { code, stdout, stderr };
}

function file(name: string, content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'svir-cli-')), name);
  writeFileSync(path, content);
  return path;
}

const canary = integrityEntry({ name: 'canary-1', actual: windowsPcrs('new-kernel'), bootCounter: '5' });

describe(`${BIN} capture`, () => {
  it('turns the late-boot entry of gcloud logging read output into a baseline document', async () => {
    const r = await cli(
      ['capture', '-', '--dry-run', '--actor', 'alice@example.com'],
      JSON.stringify([otherIntegrityEntry('startupEvent'), canary]),
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /^integrity-baselines: note: dry run, nothing written; 'state' and 'createdBy' are decided when it is written/,
    );
    const out = JSON.parse(r.stdout);
    const expected = baselineDocument(parseMeasurements(windowsPcrs('new-kernel'), 't'));
    expect(out.id).toBe(expected.id);
    expect(out.path).toBe(`integrity-responder-baselines/known_good_measurements/${expected.id}`);
    expect(out.data).toEqual({
      ...expected.data,
      state: 'active',
      description: 'late-boot measurements of canary-1 at boot 5',
      source: 'projects/fleet-prod-1234/zones/europe-west1-b/instances/canary-1',
      sourceInstanceId: '4617930134256183721',
      sourceBootCounter: '5',
      sourceReportTime: canary.timestamp,
      createdVia: 'capture',
      createdBy: 'alice@example.com',
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
  });

  it('says in a sentence what to do when the input holds no late-boot report', async () => {
    const r = await cli(['capture', file('startup.json', JSON.stringify([otherIntegrityEntry('startupEvent')])), '--dry-run']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^integrity-baselines: .*startup\.json holds no late-boot report .*gcloud logging read/);
  });

  it('names the file that is not JSON', async () => {
    const path = file('canary.json', '{"truncated": ');
    const r = await cli(['capture', path]);
    expect(r).toEqual(expect.objectContaining({ code: 1, stdout: '' }));
    expect(r.stderr).toContain(`${path} is not JSON`);
  });

  it('names the file it cannot read', async () => {
    const r = await cli(['capture', '/nonexistent/canary.json']);
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'integrity-baselines: cannot read /nonexistent/canary.json: no such file\n' });
  });

  it('reports unusable measurements as a sentence, never [object Object]', async () => {
    const broken = integrityEntry({ actual: [{ pcrNum: 'PCR_0', value: '' }] });
    const r = await cli(['capture', '-'], JSON.stringify(broken));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is not usable: lateBootReportEvent\.actualMeasurements\[0\]\.value must be a non-empty string/);
    expect(r.stderr).not.toContain('[object');
  });

  it('refuses an entry whose resource labels are not strings, as the responder does', async () => {
    const entry = integrityEntry();
    (entry.resource as { labels: Record<string, unknown> }).labels.project_id = { a: 1 };
    const r = await cli(['capture', '-', '--dry-run'], JSON.stringify(entry));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is not usable: resource\.labels\.project_id is not a project id: object/);
    expect(r.stdout).toBe('');
  });

  it('prints the usage and exits 2 on an unknown flag, before reading anything', async () => {
    const r = await cli(['capture', '/nonexistent/canary.json', '--wirte']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^integrity-baselines: unknown option '--wirte'\n\nusage: integrity-baselines capture/);
  });

  it('prints the usage and exits 2 without a file', async () => {
    const r = await cli(['capture']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/capture needs the file holding the log entry/);
  });

  it('refuses an invalid database id as a usage error', async () => {
    const r = await cli(['capture', '-', '--database', 'Prod DB']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--database must be '\(default\)' or a database id/);
  });

  it('answers --help without doing its work', async () => {
    const r = await cli(['capture', '/nonexistent/canary.json', '--help']);
    expect(r).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
    expect(r.stdout).toMatch(/^usage: integrity-baselines capture/);
  });
});

describe(BIN, () => {
  it.each([[[]], [['frob']], [['--frob']]])('prints the usage and exits 2 for %j', async (args) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/usage: integrity-baselines <command>/);
  });

  it('answers --help with the commands', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /commands:\n {2}capture .*\n(.*\n)* {2}add .*\n {2}list .*\n {2}show <id> .*\n {2}approve <id> .*\n {2}revoke <id> .*\n {2}import-legacy /,
    );
  });
});

describe(`${BIN} capture against an unreachable or unauthorised Firestore`, () => {
  const capture = (args: string[], env: Record<string, string>) =>
    runTool('integrity-baselines', ['capture', '-', ...args], {
      input: JSON.stringify([canary]),
      env: { PATH: process.env.PATH, METADATA_SERVER_DETECTION: 'none', HOME: mkdtempSync(join(tmpdir(), 'svir-home-')), ...env },
      timeoutMs: 20000,
    });

  it('gives up after --timeout with a sentence instead of hanging', async () => {
    // A server that accepts connections and never answers: the write can only time out.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const r = capture(['--timeout', '2'], { FIRESTORE_EMULATOR_HOST: host });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `^integrity-baselines: Firestore did not answer within 2 s when asked to write a baseline to integrity-responder-baselines/known_good_measurements in project fleet-prod-1234 on the emulator at ${host}; check the network`,
        ),
      );
    } finally {
      silent.close();
    }
  });

  it('takes --actor on the emulator only: against Firestore the principal of the credentials is recorded', () => {
    const r = capture(['--project', 'fleet-prod-1234', '--actor', 'bob@example.com'], {
      GOOGLE_APPLICATION_CREDENTIALS: '/nonexistent/key.json',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /^integrity-baselines: --actor is for the emulator only: against Firestore the principal of your credentials is recorded/,
    );
  });

  it('refuses to record a change by nobody: the principal of the credentials, or what to do, in one line', () => {
    const r = capture(['--project', 'fleet-prod-1234'], { GOOGLE_APPLICATION_CREDENTIALS: '/nonexistent/key.json' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^integrity-baselines: could not tell which principal your credentials belong to \(.*\/nonexistent\/key\.json.*\); run 'gcloud auth application-default login', or name yourself with --actor\n$/,
    );
  });
});

describeWithEmulators(`${BIN} capture on the Firestore emulator`, () => {
  let firestore: RunningEmulator;
  beforeAll(async () => {
    firestore = await useFirestoreEmulator();
  }, 60000);
  afterAll(() => firestore?.stop());

  const capture = (args: string[]) =>
    runTool('integrity-baselines', ['capture', '-', ...args], {
      input: JSON.stringify([canary]),
      env: { PATH: process.env.PATH, FIRESTORE_EMULATOR_HOST: firestore.host, METADATA_SERVER_DETECTION: 'none' },
    });

  it('writes the baseline where the responder reads it, once', async () => {
    const id = baselineDocument(parseMeasurements(windowsPcrs('new-kernel'), 't')).id;
    const first = capture(['--project', 'demo-responder']);
    expect(first.stderr).toBe('');
    expect(first.stdout).toMatch(
      new RegExp(
        `^created integrity-responder-baselines/known_good_measurements/${id} \\(active, PCR_0,4,7,11,13,14, from canary-1 boot 5, by \\S+@\\S+\\)\n$`,
      ),
    );
    expect(first.status).toBe(0);
    const stored = await httpRequest(
      `http://${firestore.host}/v1/projects/demo-responder/databases/integrity-responder-baselines/documents/known_good_measurements/${id}`,
      {
        headers: { Authorization: 'Bearer owner' },
      },
    );
    expect(stored.status).toBe(200);

    const again = capture(['--project', 'demo-responder']);
    expect(again.status).toBe(1);
    expect(again.stderr).toBe(
      `integrity-baselines: a baseline with these measurements already exists: integrity-responder-baselines/known_good_measurements/${id} (active); 'integrity-baselines show ${id.slice(0, 19)}' prints it\n`,
    );
  });
});
