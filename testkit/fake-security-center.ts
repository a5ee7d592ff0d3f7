import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { closeServer, listenOnLoopback } from './http';

/** One request the fake Security Command Center API received. */
export interface SecurityCenterRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly body: string;
  /** The `Authorization` header, if the client sent one. */
  readonly authorization?: string;
}

/** A finding as the fake holds it: the Finding JSON of the v2 API, enums as names. */
export interface FakeFinding {
  /** `organizations/O/sources/S/locations/global/findings/F`. */
  readonly name: string;
  /** `organizations/O/sources/S/locations/global`. */
  readonly parent: string;
  state: 'ACTIVE' | 'INACTIVE';
  readonly category?: string;
  readonly severity?: string;
  readonly findingClass?: string;
  readonly resourceName?: string;
  readonly eventTime?: string;
  readonly description?: string;
  readonly externalUri?: string;
  /** Plain JSON values, as the API's `google.protobuf.Value` map reads in JSON. */
  readonly sourceProperties?: Record<string, unknown>;
  readonly createTime: string;
}

/** An HTTP error for the next request of one method, in Google's JSON error shape. */
export interface SecurityCenterFault {
  readonly method: 'createFinding' | 'setFindingState' | 'listFindings';
  readonly code: 400 | 403 | 404 | 409 | 429 | 500 | 503;
  readonly message?: string;
}

const STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

/** The Finding enums the fake stores, by the numbers a client asking for `enum-encoding=int` sends and reads. */
const ENUMS: Record<'state' | 'severity' | 'findingClass' | 'mute', readonly string[]> = {
  state: ['STATE_UNSPECIFIED', 'ACTIVE', 'INACTIVE'],
  severity: ['SEVERITY_UNSPECIFIED', 'CRITICAL', 'HIGH', 'MEDIUM', 'LOW'],
  findingClass: ['FINDING_CLASS_UNSPECIFIED', 'THREAT', 'VULNERABILITY', 'MISCONFIGURATION', 'OBSERVATION'],
  mute: ['MUTE_UNSPECIFIED', 'MUTED', 'UNMUTED', 'UNDEFINED'],
};

const SOURCE = 'organizations\\/([0-9]+)\\/sources\\/([0-9]+)';
const FINDINGS = new RegExp(`^\\/v2\\/${SOURCE}(?:\\/locations\\/([a-z0-9-]+))?\\/findings$`);
const SET_STATE = new RegExp(`^\\/v2\\/${SOURCE}(?:\\/locations\\/([a-z0-9-]+))?\\/findings\\/([^/:]+):setState$`);
const FINDING_ID = /^[A-Za-z0-9]{1,32}$/;

/**
 * A loopback server answering like the Security Command Center v2 REST API for the calls the
 * responder and its tools make: `findings.create` (`POST /v2/<source>/locations/<l>/findings?findingId=`),
 * `findings.setState` (`POST /v2/<finding>:setState`) and `findings.list` on a source. A source is
 * known once added ({@link addSource}); a finding id that exists is ALREADY_EXISTS, an unknown
 * finding or source NOT_FOUND, an id that is not 1 to 32 letters and digits INVALID_ARGUMENT, in
 * Google's JSON error shape. A finding name without a location is the `global` one, as the API
 * reads it. Enums are answered as numbers to a client that asks `$alt=json;enum-encoding=int`
 * (the Node.js client), as names otherwise (gcloud). Every request is recorded.
 */
export class FakeSecurityCenter {
  readonly requests: SecurityCenterRequest[] = [];
  /** Findings by name. */
  readonly findings = new Map<string, FakeFinding>();
  private readonly sources = new Set<string>();
  private readonly faults: SecurityCenterFault[] = [];
  private server?: Server;

  /** `http://127.0.0.1:port`, for SECURITY_CENTER_API_ENDPOINT. */
  endpoint = '';
  port = 0;

  /** Makes a source (`organizations/O/sources/S`) known, so that findings can be created in it. */
  addSource(source: string): this {
    this.sources.add(source);
    return this;
  }

  /** Queues HTTP errors, each for the next request of its method. */
  injectFaults(...faults: SecurityCenterFault[]): void {
    this.faults.push(...faults);
  }

  /** The requests as `METHOD path`. */
  lines(): string[] {
    return this.requests.map((r) => `${r.method} ${r.path}`);
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.port = await listenOnLoopback(this.server);
    this.endpoint = `http://127.0.0.1:${this.port}`;
    return this.endpoint;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    await closeServer(this.server);
    this.server = undefined;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const path = decodeURIComponent(url.pathname);
      const request: SecurityCenterRequest = {
        method: req.method ?? '',
        path,
        query: Object.fromEntries(url.searchParams),
        body,
        ...(req.headers.authorization !== undefined && { authorization: req.headers.authorization }),
      };
      this.requests.push(request);
      const intEnums = (url.searchParams.get('$alt') ?? '').includes('enum-encoding=int');
      const reply = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
        res.end(JSON.stringify(json));
      };
      const fail = (code: number, message: string) => reply(code, { error: { code, message, status: STATUS[code] ?? 'UNKNOWN' } });
      const faulted = (method: SecurityCenterFault['method']) => {
        const i = this.faults.findIndex((f) => f.method === method);
        if (i < 0) return false;
        const [fault] = this.faults.splice(i, 1) as [SecurityCenterFault];
        fail(fault.code, fault.message ?? `injected ${STATUS[fault.code]} for ${method}`);
        return true;
      };
      const show = (f: FakeFinding) => findingJson(f, intEnums);

      const findings = FINDINGS.exec(path);
      if (findings && request.method === 'POST') {
        if (faulted('createFinding')) return;
        const [, org, source, location = 'global'] = findings as unknown as [string, string, string, string?];
        if (!this.sources.has(`organizations/${org}/sources/${source}`))
          return fail(404, `Source organizations/${org}/sources/${source} not found.`);
        const findingId = url.searchParams.get('findingId') ?? '';
        if (!FINDING_ID.test(findingId)) return fail(400, `Invalid finding id '${findingId}': it must be 1 to 32 letters and digits.`);
        const parent = `organizations/${org}/sources/${source}/locations/${location}`;
        const name = `${parent}/findings/${findingId}`;
        if (this.findings.has(name)) return fail(409, 'Requested entity already exists');
        let sent: Record<string, unknown>;
        try {
          sent = JSON.parse(body || '{}') as Record<string, unknown>;
        } catch {
          return fail(400, 'Invalid JSON payload received.');
        }
        const finding: FakeFinding = {
          ...readEnums(sent),
          ...pick(sent, ['category', 'resourceName', 'eventTime', 'description', 'externalUri', 'sourceProperties']),
          state: readEnums(sent).state === 'INACTIVE' ? 'INACTIVE' : 'ACTIVE',
          name,
          parent,
          createTime: new Date().toISOString(),
        } as FakeFinding;
        this.findings.set(name, finding);
        return reply(200, show(finding));
      }

      const setState = SET_STATE.exec(path);
      if (setState && request.method === 'POST') {
        if (faulted('setFindingState')) return;
        const [, org, source, location = 'global', id] = setState as unknown as [string, string, string, string | undefined, string];
        const name = `organizations/${org}/sources/${source}/locations/${location}/findings/${id}`;
        const finding = this.findings.get(name);
        if (!finding) return fail(404, `Finding ${name} not found.`);
        const state = readEnums(JSON.parse(body || '{}') as Record<string, unknown>).state;
        if (state !== 'ACTIVE' && state !== 'INACTIVE') return fail(400, `Invalid state '${String(state)}'.`);
        finding.state = state;
        return reply(200, show(finding));
      }

      if (findings && request.method === 'GET') {
        if (faulted('listFindings')) return;
        const [, org, source, location] = findings as unknown as [string, string, string, string?];
        const prefix = `organizations/${org}/sources/${source}/locations/${location ?? 'global'}/findings/`;
        const found = [...this.findings.values()].filter((f) => f.name.startsWith(prefix));
        return reply(200, {
          ...(found.length > 0 && {
            listFindingsResults: found.map((f) => ({
              finding: show(f),
              resource: { name: f.resourceName, type: 'google.compute.Instance' },
            })),
          }),
          totalSize: found.length,
        });
      }
      fail(404, `The requested URL ${path} was not found on this server.`);
    });
  }
}

/** The Finding's enums in a request body, as names whether they came as names or numbers. */
function readEnums(sent: Record<string, unknown>): Partial<Record<keyof typeof ENUMS, string>> {
  const out: Partial<Record<keyof typeof ENUMS, string>> = {};
  for (const key of Object.keys(ENUMS) as (keyof typeof ENUMS)[]) {
    const v = sent[key];
    if (typeof v === 'number') out[key] = ENUMS[key][v] ?? String(v);
    else if (typeof v === 'string') out[key] = v;
  }
  return out;
}

function pick(sent: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => sent[k] !== undefined).map((k) => [k, sent[k]]));
}

/** A finding as the API answers it, enums as numbers or names. */
function findingJson(f: FakeFinding, intEnums: boolean): Record<string, unknown> {
  const json: Record<string, unknown> = { ...f, mute: 'UNDEFINED' };
  if (intEnums) {
    for (const key of Object.keys(ENUMS) as (keyof typeof ENUMS)[]) {
      if (typeof json[key] === 'string') json[key] = ENUMS[key].indexOf(json[key] as string);
    }
  }
  return json;
}
