import { REPO_ROOT } from '../support/paths';
import { spawn } from 'node:child_process';
import { AddressInfo, Socket, createServer } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, Io, run } from '../../cli/integrity-baselines';
import { baselineDocument } from '../../function/core/baseline';
import { MAX_CLOCK_SKEW_SECONDS } from '../../function/core/event-time';
import { parseMeasurements } from '../../function/core/parse';
import { RunningEmulator, freePort, useFirestoreEmulator } from '../../testkit/emulators';
import { FakeComputeApi } from '../../testkit/fake-compute';
import { MAX_FIRST_REPORT_DELAY_SECONDS, lateBootCommandBlock, lateBootQuery } from '../../cli/baselines/source-checks';
import { FakeLogging, startFakeLogging } from '../../testkit/fake-logging';
import { httpRequest } from '../../testkit/http';
import { DEFAULT_INSTANCE_ID, integrityEntry, linuxPcrs, otherIntegrityEntry, windowsPcrs } from '../../testkit/fixtures';
import { describeWithEmulators } from '../support/emulator-suite';

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

const ROOT = REPO_ROOT;
const PROJECT = 'fleet-prod-1234';
const ZONE = 'europe-west1-b';
const ID = DEFAULT_INSTANCE_ID;

interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the tool as its bin does, in a child process with the clients it builds itself (the
 * function's Compute client: its plain-HTTP transport does not run inside Jest's sandbox),
 * without blocking this process, where the loopback fakes answer. No credentials anywhere.
 */
function tool(args: readonly string[], o: { input?: string; env?: Record<string, string> } = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'integrity-baselines.ts'), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: mkdtempSync(join(tmpdir(), 'svir-home-')), METADATA_SERVER_DETECTION: 'none', ...o.env },
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(o.input ?? '');
  });
}

const iso = (ms: number) => new Date(ms).toISOString();
const MINUTE = 60_000;
const idOf = (pcrs: Parameters<typeof parseMeasurements>[0]) => baselineDocument(parseMeasurements(pcrs, 't')).id;
/** A fingerprint id as refusals and `list` show it. */
const short = (pcrs: Parameters<typeof parseMeasurements>[0]) => idOf(pcrs).slice(0, 19);

/** The loopback Compute Engine and Cloud Logging a capture talks to, with the canary VM started 10 minutes ago. */
async function startWorld(
  lastStart = Date.now() - 10 * MINUTE,
): Promise<{ compute: FakeComputeApi; logging: FakeLogging; env: Record<string, string> }> {
  const compute = new FakeComputeApi().add({ project: PROJECT, zone: ZONE, name: 'canary-1', id: ID, lastStartTimestamp: iso(lastStart) });
  await compute.start();
  const logging = await startFakeLogging();
  return { compute, logging, env: { COMPUTE_API_ENDPOINT: compute.endpoint, LOGGING_API_ENDPOINT: logging.url } };
}

async function stopWorld(w: { compute: FakeComputeApi; logging: FakeLogging } | undefined): Promise<void> {
  await w?.compute.stop();
  await w?.logging.close();
}

// Dated a second before this file loads: minutes after the start of each world (10 minutes before its test), as a first boot's report is.
const canary = integrityEntry({ name: 'canary-1', actual: windowsPcrs('new-kernel'), bootCounter: '5' });

describe(`${BIN} capture`, () => {
  let world: Awaited<ReturnType<typeof startWorld>>;
  beforeEach(async () => {
    world = await startWorld();
  });
  afterEach(() => stopWorld(world));

  it('turns the late-boot entry of gcloud logging read output into a baseline document', async () => {
    const r = await tool(['capture', '-', '--dry-run', '--actor', 'alice@example.com'], {
      input: JSON.stringify([otherIntegrityEntry('startupEvent'), canary]),
      env: world.env,
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /^integrity-baselines: note: dry run, nothing written; 'state' and 'createdBy' are decided when it is written/,
    );
    const out = JSON.parse(r.stdout);
    const expected = baselineDocument(parseMeasurements(windowsPcrs('new-kernel'), 't'));
    expect(out.id).toBe(expected.id);
    // A dry run writes nothing and needs no project; it is not taken from the entry's.
    expect(out.project).toBeNull();
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

  it("refuses to write without --project, before reading anything: the VM's project is never assumed", async () => {
    const r = await cli(['capture', '/nonexistent/canary.json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^integrity-baselines: --project is required \(or set GOOGLE_CLOUD_PROJECT\): the project of the baseline database capture writes to; the VM's own project is never assumed, since with a folder or organization scope the baselines live in the responder's project \(--dry-run writes nothing and needs none\)\nrun 'integrity-baselines capture --help' for its options\n$/,
    );
    const instance = await cli(['capture', '--instance', 'canary-1', '--zone', ZONE, '--vm-project', PROJECT]);
    expect(instance.code).toBe(2);
    expect(instance.stderr).toMatch(/^integrity-baselines: --project is required .* capture writes to;/);
  });

  it('says in a sentence what to do when the input holds no late-boot report', async () => {
    const r = await cli(['capture', file('startup.json', JSON.stringify([otherIntegrityEntry('startupEvent')])), '--dry-run']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^integrity-baselines: .*startup\.json holds no late-boot report .*; read them with gcloud logging read /);
    expect(r.stderr).toContain(
      `AND jsonPayload.lateBootReportEvent:* AND timestamp>="<lastStartTimestamp>"' --project=<project> --format=json, with the ` +
        `VM's id and last start from gcloud compute instances describe NAME --zone ZONE --project PROJECT --format='value(id,lastStartTimestamp)'\n`,
    );
  });

  it('names the file that is not JSON', async () => {
    const path = file('canary.json', '{"truncated": ');
    const r = await cli(['capture', path, '--dry-run']);
    expect(r).toEqual(expect.objectContaining({ code: 1, stdout: '' }));
    expect(r.stderr).toContain(`${path} is not JSON`);
  });

  it('names the file it cannot read', async () => {
    const r = await cli(['capture', '/nonexistent/canary.json', '--dry-run']);
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'integrity-baselines: cannot read /nonexistent/canary.json: no such file\n' });
  });

  it('reports unusable measurements as a sentence, never [object Object]', async () => {
    const broken = integrityEntry({ actual: [{ pcrNum: 'PCR_0', value: '' }] });
    const r = await cli(['capture', '-', '--dry-run'], JSON.stringify(broken));
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

  it('says what is wrong and where the options are, and exits 2 on an unknown flag, before reading anything', async () => {
    const r = await cli(['capture', '/nonexistent/canary.json', '--wirte']);
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: "integrity-baselines: unknown option '--wirte'\nrun 'integrity-baselines capture --help' for its options\n",
    });
  });

  it('exits 2 without a file', async () => {
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
    // The file to save: bounded by the VM's last start, never by a fixed freshness; the block the docs show.
    expect(r.stdout).toContain(
      [
        `gcloud logging read 'logName:"shielded_vm_integrity"`,
        `  AND resource.labels.instance_id="<id>"`,
        `  AND jsonPayload.lateBootReportEvent:*`,
        `  AND timestamp>="<lastStartTimestamp>"' \\`,
        `  --project=<project> --format=json > entries.json`,
      ]
        .map((line) => `${' '.repeat(26)}${line}\n`)
        .join(''),
    );
    expect(lateBootCommandBlock().replace(/\n\s*/g, ' ').replace(/' \\ /, "' ").replace(' > entries.json', '')).toBe(lateBootQuery());
    expect(r.stdout).toContain(
      `gcloud compute instances describe NAME --zone ZONE --project PROJECT --format='value(id,lastStartTimestamp)'`,
    );
    expect(r.stdout).not.toMatch(/--freshness=/);
  });
});

describe(`${BIN} capture checks its source against Compute Engine`, () => {
  let world: Awaited<ReturnType<typeof startWorld>>;
  let now: number;
  beforeEach(async () => {
    now = Date.now();
    world = await startWorld(now - 10 * MINUTE);
  });
  afterEach(() => stopWorld(world));

  /** A late-boot report of the canary, written to Cloud Logging: dated `dated` (the writer's choice), received `received` (Logging's). */
  function report(o: { insertId: string; seed: string; dated: number; received?: number; boot?: string; id?: string }) {
    const entry = integrityEntry({
      name: 'canary-1',
      instanceId: o.id ?? ID,
      actual: linuxPcrs(o.seed),
      bootCounter: o.boot ?? '12',
      timestamp: iso(o.dated),
    });
    return world.logging.write({ ...entry, insertId: o.insertId }, new Date(o.received ?? o.dated));
  }
  /** The genuine report of the canary's current boot, written a minute after it started. */
  const genuine = () => report({ insertId: 'genuine-12', seed: 'kernel-6.9', dated: now - 9 * MINUTE });

  const byInstanceWith = (env: Record<string, string>, instance = 'canary-1') =>
    tool(['capture', '--instance', instance, '--zone', ZONE, '--vm-project', PROJECT, '--dry-run', '--actor', 'alice'], {
      env: { ...world.env, ...env },
    });
  const byInstance = (instance = 'canary-1') => byInstanceWith({}, instance);
  const fromFile = (entries: unknown[], env: Record<string, string> = world.env) =>
    tool(['capture', '-', '--dry-run', '--actor', 'alice'], { input: JSON.stringify(entries), env });
  const recorded = (r: ToolResult) => JSON.parse(r.stdout) as { id: string; data: Record<string, unknown> };

  it("records the newest boot of the VM Compute Engine names, reading that VM's reports by id since its last start", async () => {
    report({ insertId: 'previous-run', seed: 'kernel-6.7', boot: '10', dated: now - 30 * MINUTE });
    // A reboot from inside the guest into the same boot chain: one run, one set, two boots.
    report({ insertId: 'boot-11', seed: 'kernel-6.9', boot: '11', dated: now - 9.5 * MINUTE });
    genuine();

    const r = await byInstance();

    expect(r.stderr).toMatch(/^integrity-baselines: note: dry run, nothing written/);
    expect(r.code).toBe(0);
    expect(recorded(r)).toMatchObject({
      id: idOf(linuxPcrs('kernel-6.9')),
      data: {
        sourceInstanceId: ID,
        sourceBootCounter: '12',
        sourceReportTime: iso(now - 9 * MINUTE),
        source: expect.stringMatching(/\/canary-1$/),
      },
    });
    expect(world.compute.requests.map((q) => `${q.method} ${q.path}`)).toEqual([
      `GET /compute/v1/projects/${PROJECT}/zones/${ZONE}/instances/canary-1`,
    ]);
    expect(world.logging.requests.map((q) => q.body.filter)).toEqual([expect.stringContaining(`resource.labels.instance_id="${ID}"`)]);
    expect(world.logging.requests[0]!.body.filter).not.toContain('resource_name');
  });

  it('refuses a forged report dated in the future, names it, and records nothing', async () => {
    genuine();
    report({ insertId: 'forged-ahead', seed: 'rootkit', dated: now + 23 * 60 * MINUTE, received: now - MINUTE });

    const r = await byInstance();

    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: expect.stringMatching(
        new RegExp(
          `^integrity-baselines: refusing to record a baseline: the late-boot report about VM canary-1 \\(id ${ID}\\), ` +
            `insertId "forged-ahead" \\(timestamp ${iso(now + 23 * 60 * MINUTE).replace(/\./g, '\\.')}, received \\S+\\), is dated (22 h 59 min|23 h) ` +
            `ahead of this machine's clock \\(more than the ${MAX_CLOCK_SKEW_SECONDS} s of clock skew allowed\\); anyone with ` +
            `logging\\.logEntries\\.create in project ${PROJECT} \\(roles/logging\\.logWriter\\) can write such an entry, with the ` +
            `timestamp they choose, so this is possibly a forged report: investigate who wrote it, and check this machine's clock\\n$`,
        ),
      ),
    });
  });

  it('refuses a report dated later than Cloud Logging received it, even once that date has passed', async () => {
    genuine();
    // Claims the next boot: without the check it would be the newest, and recorded.
    report({ insertId: 'planted-earlier', seed: 'rootkit', boot: '13', dated: now - 2 * MINUTE, received: now - 8 * MINUTE });

    const r = await byInstance();

    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^integrity-baselines: refusing to record a baseline: the late-boot report about VM canary-1 \(id \d+\), insertId "planted-earlier" \(timestamp \S+, received \S+\), is dated 6 min after Cloud Logging received it; anyone with logging\.logEntries\.create/,
    );
  });

  it("refuses when the newest report was dated, or received, before the VM's last start: it is of an earlier run", async () => {
    report({ insertId: 'previous-run', seed: 'rootkit', dated: now - 30 * MINUTE });

    const before = await byInstance();

    expect(before.code).toBe(1);
    expect(before.stderr).toBe(
      `integrity-baselines: refusing to record a baseline: the newest late-boot report about VM canary-1 (id ${ID}) in ` +
        `Cloud Logging (projects/${PROJECT}, zone ${ZONE}), insertId "previous-run" (timestamp ${iso(now - 30 * MINUTE)}, ` +
        `received ${iso(now - 30 * MINUTE)}), is dated before the VM's last start (${iso(now - 10 * MINUTE)}, as Compute Engine ` +
        `gives it): it describes an earlier run, not the boot the VM runs now. Wait for the late-boot report of the current boot ` +
        `(one is written as each boot completes), then capture again\n`,
    );

    report({ insertId: 'sent-before-start', seed: 'rootkit', dated: now - 9 * MINUTE, received: now - 11 * MINUTE });
    const received = await byInstance();
    expect(received.stderr).toMatch(/insertId "sent-before-start" .*, was received by Cloud Logging before the VM's last start/);
  });

  it('ignores a report that carries the VM name label but another instance id', async () => {
    genuine();
    const impostor = report({ insertId: 'impostor', seed: 'rootkit', dated: now - MINUTE, id: '5555555555555555555' });

    const r = await byInstance();

    expect(r.code).toBe(0);
    expect(recorded(r).id).toBe(idOf(linuxPcrs('kernel-6.9')));
    // From a file, the impostor names a VM id Compute Engine does not know: refused.
    const file = await fromFile([impostor]);
    expect(file.code).toBe(1);
    expect(file.stderr).toMatch(
      new RegExp(
        `^integrity-baselines: refusing to record a baseline from standard input: Compute Engine has no VM 5555555555555555555 in ${PROJECT}/${ZONE} \\(`,
      ),
    );
  });

  it('records nothing when one boot has two reports with different measurements, and says no reboot explains it', async () => {
    genuine();
    // The same boot as the genuine report, spelled with a leading zero.
    report({ insertId: 'second-opinion', seed: 'rootkit', boot: '012', dated: now - 8 * MINUTE });

    const r = await byInstance();

    expect(r).toEqual({ code: 1, stdout: '', stderr: expect.any(String) });
    expect(r.stderr).toContain(
      `\n  insertId "second-opinion": boot 12 (written "012"), timestamp ${iso(now - 8 * MINUTE)}, received ${iso(now - 8 * MINUTE)}, ` +
        `measurement set 1 (${short(linuxPcrs('rootkit'))}…)` +
        `\n  insertId "genuine-12": boot 12, timestamp ${iso(now - 9 * MINUTE)}, received ${iso(now - 9 * MINUTE)}, ` +
        `measurement set 2 (${short(linuxPcrs('kernel-6.9'))}…)\n` +
        `Reports of one boot (boot 12) with different measurements cannot all be the VM's: at least one was written by someone else; `,
    );
  });

  it("refuses a report claiming a later boot with other measurements than the VM's own, and names every report of the run", async () => {
    report({ insertId: 'previous-run', seed: 'kernel-6.7', boot: '4', dated: now - 30 * MINUTE });
    report({ insertId: 'genuine-5', seed: 'kernel-7.0', boot: '5', dated: now - 9 * MINUTE });
    report({ insertId: 'genuine-5-again', seed: 'kernel-7.0', boot: '5', dated: now - 9 * MINUTE + 1000 });
    // A log writer's report for the next boot, dated and received now: every date check passes.
    report({ insertId: 'forged-6', seed: 'bootkit', boot: '6', dated: now - 2000, received: now });

    const r = await byInstance();

    const line = (id: string, boot: string, dated: number, received: number, set: number, seed: string) =>
      `  insertId "${id}": boot ${boot}, timestamp ${iso(dated)}, received ${iso(received)}, measurement set ${set} (${short(linuxPcrs(seed))}…)`;
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr:
        `integrity-baselines: refusing to record a baseline: the 3 late-boot reports about VM canary-1 (id ${ID}) in Cloud Logging ` +
        `(projects/${PROJECT}, zone ${ZONE}) since its last start (${iso(now - 10 * MINUTE)}, as Compute Engine gives it) hold 2 ` +
        `different sets of measurements, and capture cannot tell which one is the VM's:\n` +
        `${line('forged-6', '6', now - 2000, now, 1, 'bootkit')}\n` +
        `${line('genuine-5-again', '5', now - 9 * MINUTE + 1000, now - 9 * MINUTE + 1000, 2, 'kernel-7.0')}\n` +
        `${line('genuine-5', '5', now - 9 * MINUTE, now - 9 * MINUTE, 2, 'kernel-7.0')}\n` +
        `Either the VM rebooted into something else since it started (an update installed, then a reboot from inside the guest), ` +
        `or some of these reports were written by someone else; anyone with logging.logEntries.create in project ${PROJECT} ` +
        `(roles/logging.logWriter) can write a report, with the boot counter and timestamp they choose. Investigate who wrote them:\n` +
        `  gcloud logging read 'insertId="forged-6" OR insertId="genuine-5-again" OR insertId="genuine-5"' --project=${PROJECT} --freshness=30d\n` +
        `Then stop and start the canary, so that only its next boot counts, and capture again once its late-boot report is in; ` +
        `or record values you verified with 'integrity-baselines add'\n`,
    });
  });

  it('refuses the same forged later boot read from a file, checked against Compute Engine', async () => {
    const entries = [
      report({ insertId: 'forged-6', seed: 'bootkit', boot: '6', dated: now - 2000, received: now }),
      report({ insertId: 'genuine-5', seed: 'kernel-7.0', boot: '5', dated: now - 9 * MINUTE }),
    ];

    const r = await fromFile(entries);

    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      new RegExp(
        `^integrity-baselines: refusing to record a baseline: the 2 late-boot reports about VM canary-1 \\(id ${ID}\\) in standard input ` +
          `since its last start \\(\\S+, as Compute Engine gives it\\) hold 2 different sets of measurements, and capture cannot tell ` +
          `which one is the VM's:\n  insertId "forged-6": boot 6, .*\n  insertId "genuine-5": boot 5, .*\nEither the VM rebooted`,
      ),
    );
    expect(world.compute.requests).toHaveLength(1);
  });

  it('takes two reports of one boot with the same measurements, however the boot counter is spelled, as one', async () => {
    const entries = [genuine(), report({ insertId: 'again', seed: 'kernel-6.9', boot: '0012', dated: now - 8 * MINUTE })];

    const r = await byInstance();

    expect(r.code).toBe(0);
    expect(recorded(r)).toMatchObject({ id: idOf(linuxPcrs('kernel-6.9')), data: { sourceBootCounter: '12' } });
    const file = await fromFile(entries);
    expect(file.code).toBe(0);
    expect(recorded(file)).toMatchObject({ id: idOf(linuxPcrs('kernel-6.9')), data: { sourceBootCounter: '12' } });
  });

  it('says at once that nothing listens where COMPUTE_API_ENDPOINT, LOGGING_API_ENDPOINT or FIRESTORE_EMULATOR_HOST points', async () => {
    const closed = `127.0.0.1:${await freePort()}`;
    const started = Date.now();

    const compute = await tool(['capture', '--instance', 'canary-1', '--zone', ZONE, '--vm-project', PROJECT, '--dry-run'], {
      env: { ...world.env, COMPUTE_API_ENDPOINT: `http://${closed}` },
    });
    expect(compute).toEqual({
      code: 1,
      stdout: '',
      stderr:
        `integrity-baselines: cannot ask Compute Engine about VM canary-1 in ${PROJECT}/${ZONE}: nothing listens at http://${closed}, ` +
        `where COMPUTE_API_ENDPOINT points; start the stand-in there, or unset COMPUTE_API_ENDPOINT to use the Google API\n`,
    });

    const logging = await byInstanceWith({ LOGGING_API_ENDPOINT: `http://${closed}` });
    expect(logging).toEqual({
      code: 1,
      stdout: '',
      stderr:
        `integrity-baselines: cannot read Cloud Logging for the late-boot reports of VM id ${ID} in ${PROJECT}/${ZONE}: nothing listens ` +
        `at http://${closed}, where LOGGING_API_ENDPOINT points; start the stand-in there, or unset LOGGING_API_ENDPOINT to use the Google API\n`,
    });

    const firestore = await tool(['capture', '-', '--project', 'demo-responder'], {
      input: JSON.stringify([genuine()]),
      env: { ...world.env, FIRESTORE_EMULATOR_HOST: closed },
    });
    expect(firestore).toEqual({
      code: 1,
      stdout: '',
      stderr:
        `integrity-baselines: nothing listens at ${closed}, where FIRESTORE_EMULATOR_HOST points, so the tool cannot write a baseline ` +
        `to integrity-responder-baselines/known_good_measurements in project demo-responder on the emulator at ${closed}; start the ` +
        `Firestore emulator there, or unset FIRESTORE_EMULATOR_HOST to use Firestore itself\n`,
    });
    // Each said so at once, not after the 60 s deadline.
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('runs the same checks on a file when Compute Engine answers', async () => {
    const previous = report({ insertId: 'previous-run', seed: 'kernel-6.7', dated: now - 30 * MINUTE });

    const r = await fromFile([previous]);

    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^integrity-baselines: refusing to record a baseline: the newest late-boot report about VM canary-1 \(id \d+\) in standard input, insertId "previous-run" .* is dated before the VM's last start/,
    );
    expect(world.compute.requests.map((q) => q.path)).toEqual([`/compute/v1/projects/${PROJECT}/zones/${ZONE}/instances/${ID}`]);
    expect((await fromFile([genuine()])).code).toBe(0);
  });

  it('without Compute Engine, holds every late-boot report of the file to one set of measurements, an earlier run too', async () => {
    const genuine5 = report({ insertId: 'genuine-5', seed: 'kernel-7.0', boot: '5', dated: now - 9 * MINUTE });
    const forged6 = report({ insertId: 'forged-6', seed: 'bootkit', boot: '6', dated: now - 2000, received: now });
    const previous = report({ insertId: 'previous-run', seed: 'kernel-6.7', boot: '4', dated: now - 30 * MINUTE });

    const forged = await fromFile([forged6, genuine5], {});

    expect(forged.code).toBe(1);
    expect(forged.stdout).toBe('');
    const [warning, refusal, ...rest] = forged.stderr.split('\n');
    expect(warning).toMatch(
      /^integrity-baselines: warning: could not ask Compute Engine .* among the 2 late-boot reports in standard input$/,
    );
    expect(refusal).toBe(
      `integrity-baselines: refusing to record a baseline: the 2 late-boot reports about VM canary-1 (id ${ID}) in standard input ` +
        `(all of them: Compute Engine could not be asked when the VM last started) hold 2 different sets of measurements, and ` +
        `capture cannot tell which one is the VM's:`,
    );
    expect(rest.slice(0, 2)).toEqual([
      expect.stringMatching(/^ {2}insertId "forged-6": boot 6, timestamp \S+, received \S+, measurement set 1 \(sha256-\w{12}…\)$/),
      expect.stringMatching(/^ {2}insertId "genuine-5": boot 5, timestamp \S+, received \S+, measurement set 2 \(sha256-\w{12}…\)$/),
    ]);
    expect(forged.stderr).toContain('capture again once its late-boot report is in (from a file: only reports dated after that start);');

    // An earlier run's report, which Compute Engine's last start would have set aside, now counts as well.
    expect((await fromFile([genuine5, previous])).code).toBe(0);
    const unchecked = await fromFile([genuine5, previous], {});
    expect(unchecked.code).toBe(1);
    expect(unchecked.stderr).toMatch(/\n {2}insertId "genuine-5": .*\n {2}insertId "previous-run": boot 4, /);
  });

  it('says on one line which checks it could not make when Compute Engine cannot be asked, and still makes the others', async () => {
    const entry = genuine();
    // No COMPUTE_API_ENDPOINT and no credentials anywhere: the default endpoint cannot be asked.
    const r = await fromFile([entry], {});

    expect(r.code).toBe(0);
    const [warning, note, ...rest] = r.stderr.split('\n');
    expect(warning).toBe(
      `integrity-baselines: warning: could not ask Compute Engine about VM canary-1 (id ${ID}) in ${PROJECT}/${ZONE} ` +
        `(no usable Application Default Credentials), so NOT checked: that this VM exists, that the report is dated after ` +
        `its last start, and that standard input reaches back to that start. Checked: the report's date against this machine's clock and its receipt time, and one set of ` +
        `measurements among the 1 late-boot report in standard input (a single one: save every report of the VM since it last ` +
        `started, not --limit=1)`,
    );
    expect(note).toMatch(/^integrity-baselines: note: dry run/);
    expect(rest).toEqual(['']);
    expect(recorded(r).id).toBe(idOf(linuxPcrs('kernel-6.9')));

    // An endpoint that does not answer, and an entry without receiveTimestamp (a hand-made file).
    const accepted = new Set<Socket>();
    const silent = createServer((socket) => void accepted.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { receiveTimestamp: _, ...unreceived } = entry;
      const env = { COMPUTE_API_ENDPOINT: `http://127.0.0.1:${(silent.address() as AddressInfo).port}` };
      const slow = await tool(['capture', '-', '--dry-run', '--timeout', '1'], { input: JSON.stringify([unreceived]), env });
      expect(slow.code).toBe(0);
      expect(slow.stderr).toMatch(
        /^integrity-baselines: warning: could not ask Compute Engine about VM canary-1 \(id \d+\) in \S+ \(it did not answer within 1 s\), so NOT checked: that this VM exists, that the report is dated after its last start, and that standard input reaches back to that start; nor when Cloud Logging received it \(the entry has no receiveTimestamp\)\. Checked: the report's date against this machine's clock, and one set of measurements among the 1 late-boot report in standard input \(a single one: /,
      );

      // The checks that need no Compute Engine still refuse: here only this machine's clock can tell.
      const ahead = { ...unreceived, timestamp: iso(now + 60 * MINUTE) };
      const refused = await tool(['capture', '-', '--dry-run', '--timeout', '1'], { input: JSON.stringify([ahead]), env });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        /warning: could not ask Compute Engine .*\nintegrity-baselines: refusing to record a baseline: .* is dated (59 min \d+ s|1 h) ahead of this machine's clock/,
      );
      expect(`${r.stderr}${slow.stderr}${refused.stderr}`).not.toMatch(/\n\s+at /);
    } finally {
      for (const socket of accepted) socket.destroy();
      silent.close();
    }
  });
});

describe(`${BIN} capture refuses reports that do not reach back to the VM's last start`, () => {
  const DAY = 24 * 60 * MINUTE;
  let world: Awaited<ReturnType<typeof startWorld>>;
  let now: number;
  let lastStart: string;
  beforeEach(async () => {
    now = Date.now();
    lastStart = iso(now - 8 * DAY);
    world = await startWorld(now - 8 * DAY);
  });
  afterEach(() => stopWorld(world));

  /** A late-boot report of the canary's boot 5 or later, written (and received) when it is dated. */
  const write = (insertId: string, seed: string, dated: number, boot = '5') =>
    world.logging.write(
      { ...integrityEntry({ name: 'canary-1', actual: linuxPcrs(seed), bootCounter: boot, timestamp: iso(dated) }), insertId },
      new Date(dated),
    );
  const REPORTS = `logName:"shielded_vm_integrity" AND resource.labels.instance_id="${ID}" AND jsonPayload.lateBootReportEvent:*`;
  /**
   * What `gcloud logging read '<filter>' --format=json` saves. gcloud sends a filter that names a
   * timestamp as it is, and puts its own `timestamp>=` bound (now - --freshness) before any other.
   */
  async function gcloudRead(filter: string): Promise<Array<Record<string, unknown>>> {
    const res = await httpRequest(`${world.logging.url}/v2/entries:list`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ resourceNames: [`projects/${PROJECT}`], filter, orderBy: 'timestamp desc', pageSize: 1000 }),
    });
    expect(res.status).toBe(200);
    return (JSON.parse(res.body) as { entries?: Array<Record<string, unknown>> }).entries ?? [];
  }
  /** The file of `gcloud logging read '<REPORTS>' --freshness=7d --format=json`. */
  const sevenDays = () => gcloudRead(`timestamp>="${iso(now - 7 * DAY)}" AND ${REPORTS}`);
  const capture = (entries: unknown[], o: { args?: string[]; env?: Record<string, string> } = {}) =>
    tool(['capture', '-', ...(o.args ?? ['--dry-run', '--actor', 'alice'])], {
      input: JSON.stringify(entries),
      env: { ...world.env, ...o.env },
    });
  /** The query bounded by the VM's last start, as the tool prints it. */
  const bounded = () => `${REPORTS} AND timestamp>="${lastStart}"`;

  it('refuses a file saved with --freshness=7d that holds a forged report and not the first boot, names the last start and the query, and writes nothing', async () => {
    write('genuine-5', 'kernel-7.0', now - 8 * DAY + MINUTE);
    const forged = write('forged', 'bootkit', now - DAY);
    const file = await sevenDays();
    expect(file.map((e) => e.insertId)).toEqual(['forged']);
    // A Firestore that counts who connects: the refusal comes before any write is tried.
    const firestore = createServer((socket) => socket.destroy());
    let connections = 0;
    firestore.on('connection', () => connections++);
    await new Promise<void>((resolve) => firestore.listen(0, '127.0.0.1', resolve));
    try {
      const r = await capture(file, {
        args: ['--project', 'demo-responder', '--actor', 'alice'],
        env: { FIRESTORE_EMULATOR_HOST: `127.0.0.1:${(firestore.address() as AddressInfo).port}` },
      });

      expect(r).toEqual({
        code: 1,
        stdout: '',
        stderr:
          `integrity-baselines: refusing to record a baseline: the earliest late-boot report about VM canary-1 (id ${ID}) in ` +
          `standard input since its last start (${lastStart}, as Compute Engine gives it), insertId "forged" (timestamp ` +
          `${forged.timestamp}, received ${forged.receiveTimestamp}), came 7 d after that start, and the first boot after a ` +
          `start reports within minutes (15 min allowed). So the reports in standard input do not reach back to the start: ` +
          `the first boot's is missing, and others that matter may be (a fixed --freshness or a --limit cuts them off): what ` +
          `is left may be a report someone else wrote since. Save every late-boot report since the VM's last start and ` +
          `capture from that file:\n  gcloud logging read '${bounded()}' --project=${PROJECT} --format=json\n(or capture with --instance, which reads them itself)\n`,
      });
      expect(connections).toBe(0);
    } finally {
      firestore.close();
    }
    // The query it prints saves the genuine report too, and the two sets are refused.
    const all = await gcloudRead(bounded());
    expect(all.map((e) => e.insertId)).toEqual(['forged', 'genuine-5']);
    const complete = await capture(all);
    expect(complete.code).toBe(1);
    expect(complete.stderr).toMatch(/hold 2 different sets of measurements/);
  });

  it("records a file saved with the query bounded by the VM's last start, whose first report came right after it", async () => {
    write('boot-5', 'kernel-7.0', now - 8 * DAY + MINUTE);
    // A reboot from inside the guest two days ago, into the same boot chain.
    write('boot-6', 'kernel-7.0', now - 2 * DAY, '6');

    const cut = await capture(await sevenDays());
    expect(cut.code).toBe(1);
    expect(cut.stderr).toContain(`insertId "boot-6" (timestamp ${iso(now - 2 * DAY)}, received ${iso(now - 2 * DAY)}), came 6 d after`);

    const r = await capture(await gcloudRead(bounded()));
    expect(r.stderr).toMatch(/^integrity-baselines: note: dry run, nothing written/);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ id: idOf(linuxPcrs('kernel-7.0')), data: { sourceBootCounter: '6' } });
  });

  it(`takes a first report dated and received up to ${MAX_FIRST_REPORT_DELAY_SECONDS} s after the start, and no later`, async () => {
    const start = now - 8 * DAY;
    const onTime = write('on-time', 'kernel-7.0', start + MAX_FIRST_REPORT_DELAY_SECONDS * 1000);
    const late = write('late', 'kernel-7.0', start + MAX_FIRST_REPORT_DELAY_SECONDS * 1000 + 1000);
    // Dated in time, received later: Cloud Logging's receipt counts too.
    const receivedLate = { ...onTime, insertId: 'received-late', receiveTimestamp: late.receiveTimestamp };

    expect((await capture([onTime])).code).toBe(0);
    for (const entry of [late, receivedLate]) {
      const r = await capture([entry]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`, came 15 min 1 s after that start, and the first boot after a start reports within minutes`);
    }
  });

  it('refuses with --instance too when Cloud Logging no longer holds the first boot after the start', async () => {
    // The first boot's report is past the log bucket's retention; a log writer wrote one yesterday.
    write('forged', 'bootkit', now - DAY);

    const r = await tool(['capture', '--instance', 'canary-1', '--zone', ZONE, '--vm-project', PROJECT, '--dry-run', '--actor', 'alice'], {
      env: world.env,
    });

    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      new RegExp(
        `^integrity-baselines: refusing to record a baseline: the earliest late-boot report about VM canary-1 \\(id ${ID}\\) in ` +
          `Cloud Logging \\(projects/${PROJECT}, zone ${ZONE}\\) since its last start \\(${lastStart.replace(/\./g, '\\.')}, as ` +
          `Compute Engine gives it\\), insertId "forged" .*, came 7 d after that start, .* So Cloud Logging no longer holds the ` +
          `first boot's report .* Stop and start the canary, then capture again once its late-boot report is in\\.`,
      ),
    );
  });
});

describe(BIN, () => {
  it('answers --help with the commands', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /commands:\n {2}capture .*\n(.*\n)* {2}add .*\n {2}list .*\n {2}show <id> .*\n {2}approve <id> .*\n {2}revoke <id> .*\n {2}import-legacy /,
    );
  });
});

describe(`${BIN} capture against an unreachable or unauthorised Firestore`, () => {
  let world: Awaited<ReturnType<typeof startWorld>>;
  beforeEach(async () => {
    world = await startWorld();
  });
  afterEach(() => stopWorld(world));

  const capture = (args: string[], env: Record<string, string>) =>
    tool(['capture', '-', ...args], { input: JSON.stringify([canary]), env: { ...world.env, ...env } });

  it('gives up after --timeout with a sentence instead of hanging', async () => {
    // A server that accepts connections and never answers: the write can only time out.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const r = await capture(['--timeout', '2', '--project', 'fleet-prod-1234'], { FIRESTORE_EMULATOR_HOST: host });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `^integrity-baselines: Firestore did not answer within 2 s when asked to write a baseline to integrity-responder-baselines/known_good_measurements in project fleet-prod-1234 on the emulator at ${host}; check the network`,
          // A line of its own: on a loaded machine the Compute check may time out first and warn.
          'm',
        ),
      );
    } finally {
      // Closing stops listening; the connections it accepted would keep Jest's worker alive.
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('takes --actor on the emulator only: against Firestore the principal of the credentials is recorded', async () => {
    const r = await capture(['--project', 'fleet-prod-1234', '--actor', 'bob@example.com'], {
      GOOGLE_APPLICATION_CREDENTIALS: '/nonexistent/key.json',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^integrity-baselines: --actor is for the emulator only: against Firestore the principal of your credentials is recorded/,
    );
  });

  it('refuses to record a change by nobody: the principal of the credentials, or what to do, in one line', async () => {
    const r = await capture(['--project', 'fleet-prod-1234'], { GOOGLE_APPLICATION_CREDENTIALS: '/nonexistent/key.json' });
    expect(r.code).toBe(1);
    // The variable is set: what is wrong is the file it names.
    expect(r.stderr).toBe(
      'integrity-baselines: could not write a baseline to integrity-responder-baselines/known_good_measurements in project fleet-prod-1234: ' +
        "GOOGLE_APPLICATION_CREDENTIALS names /nonexistent/key.json, which does not exist; point it at a service-account or authorized-user JSON key, or unset it to use 'gcloud auth application-default login'\n",
    );
  });
});

describeWithEmulators(`${BIN} capture on the Firestore emulator`, () => {
  let firestore: RunningEmulator;
  let world: Awaited<ReturnType<typeof startWorld>>;
  beforeAll(async () => {
    firestore = await useFirestoreEmulator();
  }, 60000);
  afterAll(() => firestore?.stop());
  beforeEach(async () => {
    world = await startWorld();
  });
  afterEach(() => stopWorld(world));

  const capture = (args: string[]) =>
    tool(['capture', '-', ...args], { input: JSON.stringify([canary]), env: { ...world.env, FIRESTORE_EMULATOR_HOST: firestore.host } });

  it('writes the baseline where the responder reads it, once', async () => {
    const id = baselineDocument(parseMeasurements(windowsPcrs('new-kernel'), 't')).id;
    const first = await capture(['--project', 'demo-responder']);
    expect(first.stderr).toBe('');
    expect(first.stdout).toMatch(
      new RegExp(
        `^created integrity-responder-baselines/known_good_measurements/${id} \\(active, PCR_0,4,7,11,13,14, from canary-1 boot 5, by \\S+@\\S+\\) ` +
          `in project demo-responder on the emulator at ${firestore.host}\n$`,
      ),
    );
    expect(first.code).toBe(0);
    const stored = await httpRequest(
      `http://${firestore.host}/v1/projects/demo-responder/databases/integrity-responder-baselines/documents/known_good_measurements/${id}`,
      {
        headers: { Authorization: 'Bearer owner' },
      },
    );
    expect(stored.status).toBe(200);

    const again = await capture(['--project', 'demo-responder']);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(
      `integrity-baselines: a baseline with these measurements already exists: integrity-responder-baselines/known_good_measurements/${id} ` +
        `in project demo-responder (active); 'integrity-baselines show ${id.slice(0, 19)}' prints it\n`,
    );
  });

  it('writes nothing when a log writer claims a later boot of the canary with other measurements', async () => {
    const now = Date.now();
    const write = (insertId: string, seed: string, boot: string, dated: number, received: number) =>
      world.logging.write(
        { ...integrityEntry({ name: 'canary-1', actual: linuxPcrs(seed), bootCounter: boot, timestamp: iso(dated) }), insertId },
        new Date(received),
      );
    // Values no other test of this database records: each document must be absent.
    write('genuine-5', 'kernel-7.1', '5', now - 9 * MINUTE, now - 9 * MINUTE);
    write('forged-6', 'bootkit', '6', now - 2000, now);

    const r = await tool(['capture', '--instance', 'canary-1', '--zone', ZONE, '--vm-project', PROJECT, '--project', 'demo-responder'], {
      env: { ...world.env, FIRESTORE_EMULATOR_HOST: firestore.host },
    });

    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/insertId "forged-6": boot 6, .*\n {2}insertId "genuine-5": boot 5, /);
    for (const seed of ['bootkit', 'kernel-7.1']) {
      const stored = await httpRequest(
        `http://${firestore.host}/v1/projects/demo-responder/databases/integrity-responder-baselines/documents/known_good_measurements/${idOf(linuxPcrs(seed))}`,
        { headers: { Authorization: 'Bearer owner' } },
      );
      expect(stored.status).toBe(404);
    }
  });

  it('records the report it checked against Compute Engine and Cloud Logging, with --instance', async () => {
    const now = Date.now();
    const entry = integrityEntry({
      name: 'canary-1',
      actual: linuxPcrs('kernel-7.0'),
      bootCounter: '31',
      timestamp: iso(now - 5 * MINUTE),
    });
    world.logging.write({ ...entry, insertId: 'boot-31' }, new Date(now - 5 * MINUTE));

    const r = await tool(['capture', '--instance', ID, '--zone', ZONE, '--vm-project', PROJECT, '--project', 'demo-responder'], {
      env: { ...world.env, FIRESTORE_EMULATOR_HOST: firestore.host },
    });

    expect(r.stderr).toBe('');
    const id = idOf(linuxPcrs('kernel-7.0'));
    expect(r.stdout).toMatch(
      new RegExp(
        `^created integrity-responder-baselines/known_good_measurements/${id} \\(active, PCR_0,4,7, from canary-1 boot 31, by \\S+\\) in project demo-responder `,
      ),
    );
    expect(r.code).toBe(0);
    const stored = await httpRequest(
      `http://${firestore.host}/v1/projects/demo-responder/databases/integrity-responder-baselines/documents/known_good_measurements/${id}`,
      { headers: { Authorization: 'Bearer owner' } },
    );
    expect(JSON.parse(stored.body).fields).toMatchObject({
      sourceInstanceId: { stringValue: ID },
      sourceBootCounter: { stringValue: '31' },
      source: { stringValue: `projects/${PROJECT}/zones/${ZONE}/instances/canary-1` },
    });
  });
});
