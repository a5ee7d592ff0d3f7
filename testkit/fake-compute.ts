import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';

/** One request the fake Compute API received. */
export interface ComputeRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly body: string;
  readonly at: number;
}

/** An instance the fake API knows. */
export interface FakeInstance {
  readonly project: string;
  readonly zone: string;
  readonly name: string;
  readonly id: string;
  status?: string;
  /** RFC 3339; defaults to a minute before it was added, so before the fixtures' reports. */
  lastStartTimestamp?: string;
}

const ROUTE = /^\/compute\/v1\/projects\/([^/]+)\/zones\/([^/]+)\/instances(?:\/([^/]+)(?:\/([A-Za-z]+))?)?$/;
const ID_FILTER = /^\s*\(?\s*id\s*(?:=|eq)\s*"?(\d+)"?\s*\)?\s*$/;

/** A fault for the next action request: an HTTP error instead of acting, or a slow reply after acting. */
export type ComputeFault = { readonly status: 429 | 500 | 503 } | { readonly delayMs: number };

/**
 * A loopback server answering like the Compute Engine v1 REST API for the calls the
 * responder makes (instances list by id, get, stop, suspend,
 * setShieldedInstanceIntegrityPolicy): zonal operations in replies, 404 for unknown
 * instances. Every request is recorded. Like the real API, an action repeated with a
 * `requestId` it has already completed returns the first operation and does not act again.
 * Faults can be queued for the next action requests.
 */
export class FakeComputeApi {
  readonly requests: ComputeRequest[] = [];
  readonly instances: FakeInstance[] = [];
  /** Action requests that changed a VM (a repeated requestId does not). */
  readonly performed: ComputeRequest[] = [];
  private readonly faults: ComputeFault[] = [];
  private readonly completed = new Map<string, unknown>();
  private server?: Server;
  private operations = 0;

  /** `http://127.0.0.1:port`, for COMPUTE_API_ENDPOINT. */
  endpoint = '';

  add(instance: FakeInstance): this {
    this.instances.push({ status: 'RUNNING', lastStartTimestamp: new Date(Date.now() - 60_000).toISOString(), ...instance });
    return this;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as { port: number };
    this.endpoint = `http://127.0.0.1:${port}`;
    return this.endpoint;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  /** Queues faults, applied in order to the next action requests. */
  injectFaults(...faults: ComputeFault[]): void {
    this.faults.push(...faults);
  }

  /** Requests other than lookups: the ones that change a VM. */
  actions(): ComputeRequest[] {
    return this.requests.filter((r) => r.method !== 'GET');
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const record: ComputeRequest = {
        method: req.method ?? '',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        body,
        at: Date.now(),
      };
      this.requests.push(record);
      const reply = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
        res.end(JSON.stringify(json));
      };
      const notFound = (what: string) =>
        reply(404, {
          error: {
            code: 404,
            message: `The resource '${what}' was not found`,
            errors: [{ message: `The resource '${what}' was not found`, domain: 'global', reason: 'notFound' }],
          },
        });
      const m = ROUTE.exec(url.pathname);
      if (!m) return notFound(url.pathname);
      const [, project, zone, name, verb] = m as unknown as [string, string, string, string?, string?];
      const inZone = this.instances.filter((i) => i.project === project && i.zone === zone);
      if (name === undefined && req.method === 'GET') {
        const filter = url.searchParams.get('filter');
        const idMatch = filter ? ID_FILTER.exec(filter) : null;
        if (filter && !idMatch) return reply(400, { error: { code: 400, message: `Invalid value for field 'filter': '${filter}'.` } });
        const items = inZone.filter((i) => !idMatch || i.id === idMatch[1]).map((i) => this.instanceJson(i));
        return reply(200, { kind: 'compute#instanceList', id: `projects/${project}/zones/${zone}/instances`, items, selfLink: url.href });
      }
      const instance = inZone.find((i) => i.name === name);
      if (!instance) return notFound(`projects/${project}/zones/${zone}/instances/${name}`);
      if (verb === undefined && req.method === 'GET') return reply(200, this.instanceJson(instance));
      const ops: Record<string, [string, string]> = {
        stop: ['POST', 'stop'],
        suspend: ['POST', 'suspend'],
        setShieldedInstanceIntegrityPolicy: ['PATCH', 'setShieldedInstanceIntegrityPolicy'],
      };
      const op = verb ? ops[verb] : undefined;
      if (!op || op[0] !== req.method) return notFound(url.pathname);
      const requestId = url.searchParams.get('requestId');
      const earlier = requestId ? this.completed.get(requestId) : undefined;
      if (earlier) return reply(200, earlier);
      const fault = this.faults.shift();
      if (fault && 'status' in fault) {
        const reason = fault.status === 429 ? 'rateLimitExceeded' : 'backendError';
        return reply(fault.status, {
          error: { code: fault.status, message: reason, errors: [{ message: reason, domain: 'global', reason }] },
        });
      }
      if (verb === 'stop') instance.status = 'STOPPING';
      if (verb === 'suspend') instance.status = 'SUSPENDING';
      this.performed.push(record);
      const operation = this.operation(instance, op[1]);
      if (requestId) this.completed.set(requestId, operation);
      if (fault) {
        setTimeout(() => reply(200, operation), fault.delayMs);
        return;
      }
      return reply(200, operation);
    });
  }

  private instanceJson(i: FakeInstance) {
    return {
      kind: 'compute#instance',
      id: i.id,
      name: i.name,
      status: i.status,
      lastStartTimestamp: i.lastStartTimestamp,
      zone: `https://www.googleapis.com/compute/v1/projects/${i.project}/zones/${i.zone}`,
      selfLink: `https://www.googleapis.com/compute/v1/projects/${i.project}/zones/${i.zone}/instances/${i.name}`,
    };
  }

  private operation(i: FakeInstance, type: string) {
    const n = ++this.operations;
    return {
      kind: 'compute#operation',
      id: String(7000000000000000000n + BigInt(n)),
      name: `operation-${n}-${type}`,
      zone: `https://www.googleapis.com/compute/v1/projects/${i.project}/zones/${i.zone}`,
      operationType: type,
      targetLink: `https://www.googleapis.com/compute/v1/projects/${i.project}/zones/${i.zone}/instances/${i.name}`,
      targetId: i.id,
      status: 'RUNNING',
      progress: 0,
      insertTime: new Date().toISOString(),
      selfLink: `https://www.googleapis.com/compute/v1/projects/${i.project}/zones/${i.zone}/operations/operation-${n}-${type}`,
    };
  }
}
