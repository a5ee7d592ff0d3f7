import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { closeServer, listenOnLoopback } from './http';

/** One request the fake Resource Manager API received. */
export interface ResourceManagerRequest {
  readonly method: string;
  /**
   * The host the client addressed: the `Host` header, or the host of an absolute request target
   * (a client that reaches the fake as its HTTP proxy, as gcloud does in the tests).
   */
  readonly host: string;
  /** The path as sent, still percent-encoded. */
  readonly path: string;
  readonly query: Record<string, string>;
  readonly body: string;
  /** The `Authorization` header, if the client sent one. */
  readonly authorization?: string;
}

/** A tag binding as the fake holds it and the API answers it. */
export interface FakeTagBinding {
  /** `tagBindings/<parent, percent-encoded>/tagValues/<n>`. */
  readonly name: string;
  /** Full resource name of the resource, e.g. `//compute.googleapis.com/projects/<number>/zones/Z/instances/<id>`. */
  readonly parent: string;
  /** `tagValues/<n>`. */
  readonly tagValue: string;
  readonly tagValueNamespacedName?: string;
}

/**
 * An error for the next request of one method, in Google's JSON error shape: the HTTP answer, or
 * with `inOperation` (creating and deleting only) the error the operation ends with, changing nothing.
 */
export interface ResourceManagerFault {
  readonly method: 'createTagBinding' | 'deleteTagBinding' | 'listTagBindings' | 'getProject' | 'getOperation';
  readonly code: 400 | 403 | 404 | 409 | 429 | 500 | 503;
  readonly message?: string;
  readonly inOperation?: boolean;
}

/** A long-running operation of the fake: done after `pollsLeft` reads of it. */
interface StoredOperation {
  readonly name: string;
  readonly metadataType: string;
  pollsLeft: number;
  readonly result: { readonly type: string; readonly value: Record<string, unknown> } | { readonly error: GoogleErrorBody };
  /** Applied when the operation becomes done: the binding it creates or deletes. */
  readonly apply: () => void;
}

interface GoogleErrorBody {
  readonly code: number;
  readonly message: string;
  readonly status: string;
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
/** `google.rpc.Code` of each HTTP status above, as an operation's `error.code` carries it. */
const RPC_CODE: Record<string, number> = { INVALID_ARGUMENT: 3, NOT_FOUND: 5, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7 };

const TYPE = 'type.googleapis.com/google.cloud.resourcemanager.v3.';
/**
 * The parent the fake takes for a VM: the project by number and the instance by numeric id, as
 * the responder sends it. The API is documented to take a project id there too (and to answer
 * with the number); the fake is stricter, so that a test sees what the adapter sends.
 */
const VM_PARENT = /^\/\/compute\.googleapis\.com\/projects\/([1-9][0-9]*)\/zones\/([a-z]+-[a-z]+[0-9]+-[a-z])\/instances\/([0-9]+)$/;
const BINDING_NAME = /^tagBindings\/(.+)\/(tagValues\/[0-9]+)$/;

/**
 * A loopback server answering like Resource Manager v3 over REST for the calls the quarantine
 * makes: `tagBindings.create`, `tagBindings.list` (paged), `tagBindings.delete`,
 * `operations.get` and `projects.get`. Creating and deleting return a long-running operation,
 * done at once or after {@link operationPolls} reads, and take effect when it is done. Errors come
 * in Google's JSON shape (`{"error":{"code":409,"message":…,"status":"ALREADY_EXISTS"}}`): a
 * binding that exists is ALREADY_EXISTS, one that does not is NOT_FOUND, a project the fake does not
 * know is PERMISSION_DENIED (the API does not say whether a project it will not show exists).
 *
 * Every request is recorded with the host it addressed. The fake answers any host: a VM's
 * bindings go to its zone's endpoint (`<zone>-cloudresourcemanager.googleapis.com`), which a
 * test sees in {@link ResourceManagerRequest.host} when the client reaches the fake as a proxy.
 */
export class FakeResourceManager {
  readonly requests: ResourceManagerRequest[] = [];
  /** Tag bindings by parent (full resource name), in the order they were created. */
  readonly bindings = new Map<string, FakeTagBinding[]>();
  /** Project numbers by project id. */
  readonly projects = new Map<string, string>();
  /** Reads of an operation before it is done: 0 answers the create or delete with a done operation. */
  operationPolls = 0;
  /** Largest page `tagBindings.list` answers, whatever `pageSize` asks. */
  maxPageSize = 300;
  private readonly faults: ResourceManagerFault[] = [];
  private readonly operations = new Map<string, StoredOperation>();
  private operationCount = 0;
  private server?: Server;

  /** `http://127.0.0.1:port`, for RESOURCE_MANAGER_API_ENDPOINT. */
  endpoint = '';
  port = 0;

  /** Makes a project known, so that `projects.get` answers it. */
  addProject(projectId: string, projectNumber: string): this {
    this.projects.set(projectId, projectNumber);
    return this;
  }

  /** Stores a binding as if it had been created earlier; returns it. */
  addBinding(parent: string, tagValue: string): FakeTagBinding {
    const binding = bindingOf(parent, tagValue);
    this.bindings.set(parent, [...(this.bindings.get(parent) ?? []), binding]);
    return binding;
  }

  /** The tag values bound to a resource, in order. */
  valuesOn(parent: string): string[] {
    return (this.bindings.get(parent) ?? []).map((b) => b.tagValue);
  }

  /** Queues HTTP errors, each for the next request of its method. */
  injectFaults(...faults: ResourceManagerFault[]): void {
    this.faults.push(...faults);
  }

  /** Requests whose path starts with `prefix` (e.g. `/v3/projects/`), as `METHOD path`. */
  lines(prefix = ''): string[] {
    return this.requests.filter((r) => r.path.startsWith(prefix)).map((r) => `${r.method} ${r.path}`);
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
      const target = req.url ?? '/';
      const absolute = /^https?:\/\//.test(target);
      const url = new URL(target, 'http://fake');
      // The raw path: `new URL` would keep it encoded too, but say so explicitly for the names.
      const path = absolute ? target.slice(target.indexOf('/', target.indexOf('//') + 2)).split('?')[0]! : target.split('?')[0]!;
      const request: ResourceManagerRequest = {
        method: req.method ?? '',
        host: absolute ? url.host : (req.headers.host ?? ''),
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
      const fail = (code: number, message: string) => reply(code, { error: errorBody(code, message) });
      const faulted = (method: ResourceManagerFault['method']) => {
        const i = this.faults.findIndex((f) => f.method === method);
        if (i < 0) return false;
        const [fault] = this.faults.splice(i, 1) as [ResourceManagerFault];
        const message = fault.message ?? `injected ${STATUS[fault.code]} for ${method}`;
        if (!fault.inOperation) fail(fault.code, message);
        else
          reply(
            200,
            this.operationJson(
              this.startOperation(
                `${method[0]!.toUpperCase()}${method.slice(1)}Metadata`,
                { error: errorBody(fault.code, message) },
                () => undefined,
              ),
            ),
          );
        return true;
      };

      if (path === '/v3/tagBindings' && request.method === 'POST') {
        if (faulted('createTagBinding')) return;
        return this.create(body, reply, fail);
      }
      if (path === '/v3/tagBindings' && request.method === 'GET') {
        if (faulted('listTagBindings')) return;
        return this.list(url.searchParams, reply, fail);
      }
      if (path.startsWith('/v3/tagBindings/') && request.method === 'DELETE') {
        if (faulted('deleteTagBinding')) return;
        return this.delete(path.slice('/v3/'.length), reply, fail);
      }
      const operation = /^\/v3\/(operations\/[^/]+)$/.exec(path);
      if (operation && request.method === 'GET') {
        if (faulted('getOperation')) return;
        const op = this.operations.get(decodeURIComponent(operation[1]!));
        if (!op) return fail(404, `Operation ${operation[1]} not found`);
        if (op.pollsLeft > 0) op.pollsLeft -= 1;
        return reply(200, this.operationJson(op));
      }
      const project = /^\/v3\/projects\/([^/]+)$/.exec(path);
      if (project && request.method === 'GET') {
        if (faulted('getProject')) return;
        const id = decodeURIComponent(project[1]!);
        const number = this.projects.get(id) ?? ([...this.projects.values()].includes(id) ? id : undefined);
        if (number === undefined) return fail(403, `The caller does not have permission`);
        const projectId = [...this.projects].find(([, n]) => n === number)![0];
        return reply(200, {
          name: `projects/${number}`,
          parent: 'organizations/800000000001',
          projectId,
          state: intEnums ? 1 : 'ACTIVE',
          displayName: projectId,
          createTime: '2024-01-01T00:00:00.000Z',
          etag: `W/"${number}"`,
        });
      }
      fail(404, `The requested URL ${path} was not found on this server.`);
    });
  }

  private create(body: string, reply: (status: number, json: unknown) => void, fail: (code: number, message: string) => void): void {
    let binding: Partial<FakeTagBinding>;
    try {
      binding = JSON.parse(body) as Partial<FakeTagBinding>;
    } catch {
      return fail(400, 'Invalid JSON payload received.');
    }
    const { parent, tagValue } = binding;
    if (typeof parent !== 'string' || !VM_PARENT.test(parent)) {
      return fail(
        400,
        `field [binding.resource] has issue [Must be a valid One Platform resource name of a tag-compatible resource: '${String(parent)}']`,
      );
    }
    if (typeof tagValue !== 'string' || !/^tagValues\/[0-9]+$/.test(tagValue)) {
      return fail(400, `field [binding.tag_value] has issue [Must be of the form tagValues/<number>: '${String(tagValue)}']`);
    }
    if (this.valuesOn(parent).includes(tagValue)) return fail(409, `A binding already exists between ${tagValue} and ${parent}.`);
    const created = bindingOf(parent, tagValue);
    const op = this.startOperation('CreateTagBindingMetadata', { type: `${TYPE}TagBinding`, value: { ...created } }, () => {
      if (!this.valuesOn(parent).includes(tagValue)) this.bindings.set(parent, [...(this.bindings.get(parent) ?? []), created]);
    });
    reply(200, this.operationJson(op));
  }

  private list(
    params: URLSearchParams,
    reply: (status: number, json: unknown) => void,
    fail: (code: number, message: string) => void,
  ): void {
    const parent = params.get('parent');
    if (!parent) return fail(400, 'field [parent] has issue [Must be specified]');
    const all = this.bindings.get(parent) ?? [];
    const start = Number(params.get('pageToken') ?? '0');
    const size = Math.min(Number(params.get('pageSize') ?? '0') || this.maxPageSize, this.maxPageSize);
    const page = all.slice(start, start + size);
    const next = start + size < all.length ? String(start + size) : undefined;
    // The API leaves out an empty list, as JSON proto answers do.
    reply(200, { ...(page.length > 0 && { tagBindings: page }), ...(next !== undefined && { nextPageToken: next }) });
  }

  private delete(encodedName: string, reply: (status: number, json: unknown) => void, fail: (code: number, message: string) => void): void {
    // A binding's name holds its parent percent-encoded; clients encode that `%` once more in
    // the path (`%252F`: the Node.js client and gcloud alike), and the server decodes it once.
    const name = decodeURIComponent(encodedName);
    const binding = BINDING_NAME.test(name) ? this.findBinding(name) : undefined;
    if (!binding) return fail(404, `TagBinding ${name} not found.`);
    const op = this.startOperation('DeleteTagBindingMetadata', { type: 'type.googleapis.com/google.protobuf.Empty', value: {} }, () => {
      const left = (this.bindings.get(binding.parent) ?? []).filter((b) => b.name !== binding.name);
      if (left.length > 0) this.bindings.set(binding.parent, left);
      else this.bindings.delete(binding.parent);
    });
    reply(200, this.operationJson(op));
  }

  private findBinding(name: string): FakeTagBinding | undefined {
    for (const list of this.bindings.values()) {
      const found = list.find((b) => b.name === name);
      if (found) return found;
    }
    return undefined;
  }

  private startOperation(metadataType: string, result: StoredOperation['result'], apply: () => void): StoredOperation {
    this.operationCount += 1;
    const op: StoredOperation = {
      name: `operations/rctb.fake.${this.operationCount}`,
      metadataType,
      pollsLeft: this.operationPolls,
      result,
      apply,
    };
    this.operations.set(op.name, op);
    return op;
  }

  private operationJson(op: StoredOperation): Record<string, unknown> {
    const metadata = { '@type': `${TYPE}${op.metadataType}` };
    if (op.pollsLeft > 0) return { name: op.name, metadata };
    op.apply();
    return 'error' in op.result
      ? { name: op.name, metadata, done: true, error: { code: RPC_CODE[op.result.error.status] ?? 2, message: op.result.error.message } }
      : { name: op.name, metadata, done: true, response: { '@type': op.result.type, ...op.result.value } };
  }
}

/** A binding of `tagValue` to `parent`, named as Resource Manager names it. */
function bindingOf(parent: string, tagValue: string): FakeTagBinding {
  return { name: `tagBindings/${encodeURIComponent(parent)}/${tagValue}`, parent, tagValue };
}

function errorBody(code: number, message: string): GoogleErrorBody {
  return { code, message, status: STATUS[code] ?? 'UNKNOWN' };
}
