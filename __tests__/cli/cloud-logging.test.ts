import { REPO_ROOT } from '../support/paths';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  MAX_REPORTS,
  VmReportsQuery,
  lateBootFilter,
  lateBootReportsSince,
  loggingEndpoint,
  plainLogEntry,
} from '../../cli/baselines/cloud-logging';
import { parseMessage } from '../../function/core/parse';
import { FakeLogging, startFakeLogging } from '../../testkit/fake-logging';
import { integrityEntry } from '../../testkit/fixtures';
import { httpRequest } from '../../testkit/http';

// The real Logging client (REST) against the loopback Logging API: what the baseline tool
// reads when it looks a VM's reports up itself instead of reading a gcloud-saved entry.

const project = 'fleet-prod-1234';
const zone = 'europe-west1-b';
const id = '4617930134256183721';
const vm: VmReportsQuery = { vmProject: project, zone, instanceId: id };
const LOG = `projects/${project}/logs/compute.googleapis.com%2Fshielded_vm_integrity`;

let fake: FakeLogging;
let env: NodeJS.ProcessEnv;

/** What the CLI does with an entry: the parser the function uses, on the entry as a Pub/Sub message. */
const parsed = (entry: unknown) => parseMessage({ message: { data: Buffer.from(JSON.stringify(entry)).toString('base64') } });

const at = (day: number) => `2026-11-${String(day).padStart(2, '0')}T10:00:00Z`;

/** web-1's boots 4, 5 and 6 (the newest late-boot), then entries that must never be read although newer. */
function fleet(): Record<string, unknown>[] {
  return [
    integrityEntry({ bootCounter: '5', timestamp: at(10) }),
    integrityEntry({ bootCounter: '6', timestamp: '2026-11-11T10:00:00.123456789Z' }),
    integrityEntry({ bootCounter: '4', timestamp: at(9) }),
    // Newer, but not late-boot reports of web-1's id in this zone and project:
    integrityEntry({ bootCounter: '7', kind: 'earlyBootReportEvent', timestamp: at(12) }),
    integrityEntry({ bootCounter: '9', name: 'web-2', instanceId: '1111111111111111111', timestamp: at(13) }),
    integrityEntry({ bootCounter: '8', zone: 'europe-west1-c', instanceId: '2222222222222222222', timestamp: at(14) }),
    integrityEntry({ bootCounter: '8', projectId: 'other-project-99', timestamp: at(15) }),
    // web-1's name label, another VM's id: the label is the writer's to choose.
    integrityEntry({ bootCounter: '9', name: 'web-1', instanceId: '3333333333333333333', timestamp: at(16) }),
  ];
}

const boots = (entries: Record<string, unknown>[]) => entries.map((e) => (e.jsonPayload as { bootCounter: string }).bootCounter);

beforeAll(() => {
  process.env.METADATA_SERVER_DETECTION = 'none';
});

beforeEach(async () => {
  fake = await startFakeLogging(fleet());
  env = { LOGGING_API_ENDPOINT: fake.url };
});

afterEach(async () => {
  await fake.close();
});

describe('lateBootReportsSince', () => {
  it("reads a VM's late-boot reports by id, newest first, down to the first one dated before the start, as gcloud prints them", async () => {
    const entries = await lateBootReportsSince(vm, '2026-11-10T12:00:00Z', env, 10);

    // Exactly the stored JSON: the protobuf shape the client returns is turned back into plain JSON.
    expect(entries).toEqual([fleet()[1], fleet()[0]]);
    const result = parsed(entries[0]);
    expect(result).toMatchObject({
      status: 'report',
      report: { kind: 'lateBoot', passed: false, bootCounter: '6', instance: { projectId: project, zone, id, name: 'web-1' } },
    });
    expect(result.status === 'report' && result.report.timestamp).toBe('2026-11-11T10:00:00.123456789Z');
    // A report dated exactly at the start is of the current run: reading goes on past it.
    expect(boots(await lateBootReportsSince(vm, at(10), env, 10))).toEqual(['6', '5', '4']);
  });

  it('never reads by the instance-name label: a report naming the VM under another id is not returned', async () => {
    const entries = await lateBootReportsSince(vm, at(1), env, 10);

    expect(boots(entries)).toEqual(['6', '5', '4']);
    expect(entries.every((e) => (e.resource as { labels: { instance_id: string } }).labels.instance_id === id)).toBe(true);
  });

  it('sends entries.list requests: the project, the filter by instance id, newest first, a page of 100, no credentials', async () => {
    await lateBootReportsSince(vm, at(1), env, 10);

    expect(fake.requests).toHaveLength(1);
    const [first] = fake.requests;
    expect(first).toMatchObject({ method: 'POST', path: '/v2/entries:list', query: { $alt: 'json;enum-encoding=int' } });
    expect(first!.headers.authorization).toBeUndefined();
    expect(first!.body).toEqual({
      resourceNames: [`projects/${project}`],
      filter:
        `logName="${LOG}" AND resource.type="gce_instance" AND resource.labels.zone="${zone}" ` +
        `AND resource.labels.instance_id="${id}" AND jsonPayload.lateBootReportEvent:*`,
      orderBy: 'timestamp desc',
      pageSize: 100,
    });
    expect(lateBootFilter(vm)).toBe(first!.body.filter);
  });

  it('resolves nothing when the VM has no late-boot report', async () => {
    await expect(lateBootReportsSince({ ...vm, instanceId: '4444444444444444444' }, at(1), env, 10)).resolves.toEqual([]);
    fake.entries.splice(0, fake.entries.length, integrityEntry({ kind: 'earlyBootReportEvent' }));
    await expect(lateBootReportsSince(vm, at(1), env, 10)).resolves.toEqual([]);
    expect(fake.requests).toHaveLength(2);
  });

  it('reads page after page, and stops at the page holding the first report dated before the start', async () => {
    const day = (n: number) => new Date(Date.parse('2026-10-01T00:00:00Z') + n * 3_600_000).toISOString();
    fake.entries.splice(
      0,
      fake.entries.length,
      ...Array.from({ length: 250 }, (_, n) => integrityEntry({ bootCounter: String(n), timestamp: day(n) })),
    );

    const entries = await lateBootReportsSince(vm, day(90), env, 10);

    expect(entries).toHaveLength(161);
    expect(boots(entries).slice(-2)).toEqual(['90', '89']);
    expect(fake.requests.map((r) => r.body.pageToken === undefined)).toEqual([true, false]);
  });

  it('refuses more than MAX_REPORTS reports since the start: a VM writes one per boot', async () => {
    fake.entries.splice(
      0,
      fake.entries.length,
      ...Array.from({ length: MAX_REPORTS + 1 }, (_, n) => integrityEntry({ bootCounter: String(n), timestamp: at(20) })),
    );

    await expect(lateBootReportsSince(vm, at(19), env, 10)).rejects.toThrow(
      `Cloud Logging holds more than ${MAX_REPORTS} late-boot reports of VM id ${id} in ${project}/${zone} dated since ${at(19)}, the VM's last start; a VM writes one per boot`,
    );
  });

  it('follows page tokens while Cloud Logging answers empty pages that are still searching', async () => {
    fake.searchSlowly(2);

    const entries = await lateBootReportsSince(vm, at(10), env, 10);

    expect(boots(entries)).toEqual(['6', '5', '4']);
    expect(fake.requests).toHaveLength(3);
    const tokens = fake.requests.map((r) => r.body.pageToken);
    expect(tokens[0]).toBeUndefined();
    expect(tokens[1]).toEqual(expect.any(String));
    expect(fake.requests[2]!.body).toEqual({ ...fake.requests[0]!.body, pageToken: tokens[2] });
  });

  it('retries an unavailable Cloud Logging once it answers again', async () => {
    fake.fail({ status: 503 }, 1);

    await expect(lateBootReportsSince(vm, at(10), env, 10)).resolves.toHaveLength(3);
    expect(fake.requests).toHaveLength(2);
  });

  it('turns a 403 into a sentence naming the permission and a role that grants it, without retrying', async () => {
    fake.fail({ status: 403 });

    const error: unknown = await lateBootReportsSince(vm, at(10), env, 10).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(Error);
    const { message } = error as Error;
    expect(message).toMatch(/^Cloud Logging refused to list log entries in project fleet-prod-1234 \(Permission/);
    expect(message).toContain('needs logging.logEntries.list there, for example through roles/logging.viewer');
    expect(fake.requests).toHaveLength(1);
  });

  it('gives up after the timeout when Cloud Logging never answers', async () => {
    fake.fail({ hang: true });
    const started = Date.now();

    await expect(lateBootReportsSince(vm, at(10), env, 1)).rejects.toThrow(
      /^Cloud Logging did not answer within 1 s for the late-boot reports of VM id 4617930134256183721 in fleet-prod-1234\/europe-west1-b; check the network, LOGGING_API_ENDPOINT \(now http:\/\/127\.0\.0\.1:\d+\) and your credentials/,
    );
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(4000);
  });

  it('says at once when nothing listens at LOGGING_API_ENDPOINT', async () => {
    const closed = `http://127.0.0.1:${await unusedPort()}`;

    await expect(lateBootReportsSince(vm, at(10), { LOGGING_API_ENDPOINT: closed }, 1)).rejects.toThrow(
      `cannot read Cloud Logging for the late-boot reports of VM id ${id} in fleet-prod-1234/europe-west1-b: nothing listens at ${closed}, ` +
        `where LOGGING_API_ENDPOINT points; start the stand-in there, or unset LOGGING_API_ENDPOINT to use the Google API`,
    );
  });

  it('refuses an invalid instance id, zone, project or start before sending anything', async () => {
    const refused = (q: VmReportsQuery, since = at(10)) => lateBootReportsSince(q, since, env, 10);

    await expect(refused({ ...vm, instanceId: 'web-1' })).rejects.toThrow("'web-1' is not a numeric instance id");
    await expect(refused({ ...vm, instanceId: '1" OR logName:"x' })).rejects.toThrow(/is not an instance name/);
    await expect(refused({ ...vm, instanceId: '01' })).rejects.toThrow(/'01' is not an instance id/);
    await expect(refused({ ...vm, instanceId: '18446744073709551616' })).rejects.toThrow(/is not an instance id/);
    await expect(refused({ ...vm, zone: 'europe-west1' })).rejects.toThrow(
      "'europe-west1' is not a Compute Engine zone (like us-central1-a)",
    );
    await expect(refused({ ...vm, vmProject: 'Fleet"' })).rejects.toThrow("'Fleet\"' is not a Google Cloud project id");
    await expect(refused({ vmProject: 'x', zone: 'z', instanceId: '-' })).rejects.toThrow(/project id.*; .*zone.*; .*instance name/);
    await expect(refused(vm, 'yesterday')).rejects.toThrow("cannot look up late-boot reports since 'yesterday': not an RFC 3339 time");
    expect(fake.requests).toEqual([]);
  });

  it('refuses a LOGGING_API_ENDPOINT that is not http(s)://host[:port], before sending anything', async () => {
    await expect(lateBootReportsSince(vm, at(10), { LOGGING_API_ENDPOINT: `${fake.url}/v2` }, 10)).rejects.toThrow(
      `LOGGING_API_ENDPOINT must be http(s)://host[:port] with no path; got '${fake.url}/v2'`,
    );
    await expect(lateBootReportsSince(vm, at(10), { LOGGING_API_ENDPOINT: '127.0.0.1:8089' }, 10)).rejects.toThrow(
      'LOGGING_API_ENDPOINT must be',
    );
    expect(fake.requests).toEqual([]);
  });

  it('refuses an answer about another VM than the one asked for', async () => {
    // A stand-in that ignores the filter: a baseline from another VM's report must never be recorded.
    const careless = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ entries: [integrityEntry({ name: 'web-1', instanceId: '1111111111111111111' })] }));
      });
    });
    await new Promise<void>((resolve) => careless.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(careless.address() as AddressInfo).port}`;
      await expect(lateBootReportsSince(vm, at(10), { LOGGING_API_ENDPOINT: url }, 10)).rejects.toThrow(
        /^Cloud Logging answered with an entry that is not a late-boot report of VM id 4617930134256183721 in fleet-prod-1234\/europe-west1-b/,
      );
    } finally {
      careless.closeAllConnections();
      await new Promise<void>((resolve) => careless.close(() => resolve()));
    }
  });
});

describe('lateBootReportsSince on the default endpoint', () => {
  it('says how to set up credentials when there are none, and the process lives on', async () => {
    // In a child process with no credentials anywhere: Application Default Credentials are looked
    // up before any request, and the generated client turns a failure there into an unhandled
    // rejection unless the caller initialises it first. No Google endpoint is contacted.
    const root = REPO_ROOT;
    const home = mkdtempSync(join(tmpdir(), 'no-adc-'));
    const script = `
      const { lateBootReportsSince } = require(${JSON.stringify(join(root, 'cli/baselines/cloud-logging.ts'))});
      lateBootReportsSince(${JSON.stringify(vm)}, '2026-11-10T10:00:00Z', {}, 10).then(
        (entry) => process.stdout.write('found ' + JSON.stringify(entry)),
        (e) => setTimeout(() => process.stdout.write(e.name + ': ' + e.message), 200),
      );
    `;

    const { stdout } = await promisify(execFile)(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
      cwd: root,
      timeout: 20_000,
      env: { PATH: process.env.PATH, HOME: home, METADATA_SERVER_DETECTION: 'none' },
    });

    expect(stdout).toBe(
      'CliError: could not read Cloud Logging for the late-boot reports of VM id 4617930134256183721 in fleet-prod-1234/europe-west1-b: ' +
        'Could not load the default credentials. Browse to https://cloud.google.com/docs/authentication/getting-started for more information; ' +
        "set up Application Default Credentials with 'gcloud auth application-default login' or GOOGLE_APPLICATION_CREDENTIALS",
    );
  });
});

describe('loggingEndpoint', () => {
  it('reads http and https endpoints, with default ports, and nothing when unset', () => {
    expect(loggingEndpoint({})).toBeUndefined();
    expect(loggingEndpoint({ LOGGING_API_ENDPOINT: '' })).toBeUndefined();
    expect(loggingEndpoint({ LOGGING_API_ENDPOINT: 'http://127.0.0.1:8089' })).toEqual({ protocol: 'http', host: '127.0.0.1', port: 8089 });
    expect(loggingEndpoint({ LOGGING_API_ENDPOINT: 'https://logging.example.com/' })).toEqual({
      protocol: 'https',
      host: 'logging.example.com',
      port: 443,
    });
    expect(loggingEndpoint({ LOGGING_API_ENDPOINT: 'http://[::1]:9' })).toEqual({ protocol: 'http', host: '::1', port: 9 });
    expect(() => loggingEndpoint({ LOGGING_API_ENDPOINT: 'ftp://x' })).toThrow('with no path');
  });
});

describe('plainLogEntry', () => {
  it('turns the protobuf shape the client returns into plain LogEntry JSON, leaving defaults out', () => {
    const value = (kind: string, v: unknown) => ({ [kind]: v, kind });
    const proto = {
      labels: {},
      insertId: 'abc',
      httpRequest: null,
      resource: { labels: { zone }, type: 'gce_instance' },
      timestamp: { seconds: '1795168800', nanos: 5_000_000 },
      receiveTimestamp: { seconds: '1795168801', nanos: 0 },
      severity: 'DEFAULT',
      logName: LOG,
      operation: { id: '', producer: '', first: false, last: false },
      trace: '',
      sourceLocation: null,
      spanId: '',
      traceSampled: false,
      split: null,
      jsonPayload: {
        fields: {
          s: value('stringValue', 'x'),
          n: value('numberValue', 3.5),
          b: value('boolValue', false),
          z: value('nullValue', 'NULL_VALUE'),
          l: value('listValue', { values: [value('numberValue', 1), value('structValue', { fields: {} })] }),
          o: value('structValue', { fields: { k: value('stringValue', '') } }),
        },
      },
      payload: 'jsonPayload',
    };

    expect(plainLogEntry(proto)).toEqual({
      insertId: 'abc',
      logName: LOG,
      resource: { type: 'gce_instance', labels: { zone } },
      jsonPayload: { s: 'x', n: 3.5, b: false, z: null, l: [1, {}], o: { k: '' } },
      timestamp: '2026-11-20T10:00:00.005Z',
      receiveTimestamp: '2026-11-20T10:00:01Z',
    });
    expect(plainLogEntry({ ...proto, severity: 'NOTICE', timestamp: { seconds: '1795168800', nanos: 1 } })).toMatchObject({
      severity: 'NOTICE',
      timestamp: '2026-11-20T10:00:00.000000001Z',
    });
  });
});

describe('fake Logging API', () => {
  const list = (body: unknown) =>
    httpRequest(`${fake.url}/v2/entries:list`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('answers a filter it cannot read with 400 INVALID_ARGUMENT', async () => {
    for (const filter of [
      'resource.type="gce_instance" OR logName:*',
      'jsonPayload.bootCounter>3',
      'labels.x!="y"',
      'labels.x:y',
      'timestamp>="yesterday"',
      '(a="b")',
      'a="b',
    ]) {
      const res = await list({ resourceNames: [`projects/${project}`], filter });
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body)).toEqual({
        error: { code: 400, message: expect.stringContaining('filter'), status: 'INVALID_ARGUMENT' },
      });
    }
  });

  it('returns only entries of the projects in resourceNames, in timestamp order, a page at a time', async () => {
    const all = async (resourceNames: string[], orderBy?: string) => {
      const seen: string[] = [];
      let pageToken: string | undefined;
      do {
        const res = await list({ resourceNames, filter: 'jsonPayload.bootCounter:*', orderBy, pageSize: 2, pageToken });
        expect(res.status).toBe(200);
        const page = JSON.parse(res.body) as { entries?: Array<Record<string, any>>; nextPageToken?: string };
        seen.push(...(page.entries ?? []).map((e) => `${e.resource.labels.project_id}:${e.jsonPayload.bootCounter}`));
        pageToken = page.nextPageToken;
      } while (pageToken);
      return seen;
    };

    expect(await all([`projects/${project}`])).toEqual([
      'fleet-prod-1234:4',
      'fleet-prod-1234:5',
      'fleet-prod-1234:6',
      'fleet-prod-1234:7',
      'fleet-prod-1234:9',
      'fleet-prod-1234:8',
      'fleet-prod-1234:9',
    ]);
    expect(await all(['projects/other-project-99'], 'timestamp desc')).toEqual(['other-project-99:8']);
    expect(await all([`projects/${project}`, 'projects/other-project-99'], 'timestamp desc')).toHaveLength(8);
    expect((await list({ resourceNames: [], filter: '' })).status).toBe(400);
    expect((await list({ resourceNames: [`projects/${project}`], orderBy: 'insertId' })).status).toBe(400);
  });

  it("answers gcloud logging read's query: a time bound, and logName containing a text", async () => {
    // What gcloud sent for `gcloud logging read 'logName:"shielded_vm_integrity" AND …'` (its own one-day bound first).
    const res = await list({
      resourceNames: [`projects/${project}`],
      filter: `timestamp>="${at(10)}" AND logName:"SHIELDED_vm_integrity" AND resource.labels.instance_id="${id}" AND jsonPayload.lateBootReportEvent:*`,
      orderBy: 'timestamp desc',
      pageSize: 1000,
    });

    expect(res.status).toBe(200);
    expect((JSON.parse(res.body) as { entries: Record<string, unknown>[] }).entries).toEqual([fleet()[1], fleet()[0]]);
    const before = await list({ resourceNames: [`projects/${project}`], filter: `receiveTimestamp<"${at(1)}"` });
    expect(JSON.parse(before.body)).toEqual({});
  });

  it("answers the query bounded by a VM's last start as gcloud sends it: unchanged, in Compute Engine's spelling of the time", async () => {
    // gcloud adds no bound of its own to a filter that names a timestamp, --freshness or not (ADR 0021).
    const res = await list({
      resourceNames: [`projects/${project}`],
      filter: `logName:"shielded_vm_integrity" AND resource.labels.instance_id="${id}" AND jsonPayload.lateBootReportEvent:* AND timestamp>="2026-11-10T02:00:00.000-08:00"`,
      orderBy: 'timestamp desc',
      pageSize: 1000,
    });

    expect(res.status).toBe(200);
    expect(boots((JSON.parse(res.body) as { entries: Record<string, unknown>[] }).entries)).toEqual(['6', '5']);
  });

  it('stamps an entry written to it with the time it received it, whatever the writer said', async () => {
    const received = new Date('2026-11-30T08:00:00.250Z');
    const stored = fake.write({ ...integrityEntry({ timestamp: at(29) }), receiveTimestamp: at(1) }, received);

    expect(stored).toMatchObject({ timestamp: at(29), receiveTimestamp: '2026-11-30T08:00:00.250Z' });
    const res = await list({ resourceNames: [`projects/${project}`], filter: `receiveTimestamp>="2026-11-30T08:00:00Z"` });
    expect(JSON.parse(res.body)).toEqual({ entries: [stored] });
  });
});

async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
