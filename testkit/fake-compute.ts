import { createHash } from 'node:crypto';
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
  /** The VM's labels, as `instances.get` returns them. */
  labels?: Record<string, string>;
  /** The VM's metadata (`created-by` for a member of a group), as `instances.get` returns it. */
  metadata?: Record<string, string>;
  /** How many times a group recreated it (repair). */
  repairs?: number;
  /**
   * The disks attached to it, as `instances.get` lists them. {@link FakeComputeApi.add} gives a VM
   * without any one boot persistent disk named after it (`projects/P/zones/Z/disks/<name>`).
   */
  disks?: FakeAttachedDisk[];
}

/** A disk attached to a fake instance. */
export interface FakeAttachedDisk {
  /** The name the guest sees it under. */
  readonly deviceName: string;
  /** `PERSISTENT` (the default) or `SCRATCH`, a local SSD, which has no source and no snapshot. */
  readonly type?: 'PERSISTENT' | 'SCRATCH';
  /**
   * The persistent disk: `projects/P/zones/Z/disks/D` (or `…/regions/R/disks/D`), written into
   * `instances.get` as a full URL. `snapshots.insert` takes a snapshot of a disk listed here only.
   */
  readonly source?: string;
  readonly boot?: boolean;
  readonly diskSizeGb?: number;
}

/** A snapshot the fake API holds (`snapshots.insert`), in the project it was created in. */
export interface FakeSnapshot {
  readonly project: string;
  readonly name: string;
  readonly id: string;
  /** The disk as a path, `projects/P/zones/Z/disks/D`; the API answers it as a full URL. */
  readonly sourceDisk: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly description?: string;
  /** CREATING until its operation is done, then READY. */
  status: 'CREATING' | 'READY';
  /** RFC 3339, by the fake's clock. */
  readonly creationTimestamp: string;
  /** The global operation that creates it. */
  readonly operation: string;
}

/**
 * A managed instance group the fake API knows, zonal (`zones`) or regional (`regions`). Its
 * members are instances added with {@link FakeComputeApi.addGroup}.
 */
export interface FakeGroup {
  readonly project: string;
  readonly scope: 'zones' | 'regions';
  /** Zone or region. */
  readonly location: string;
  readonly name: string;
  targetSize: number;
  /** Member instance ids, with the group's current action on each. */
  readonly members: Map<string, string>;
  /**
   * `defaultActionOnFailure` REPAIR (the API's default): a member stopped or suspended by
   * anything but the group is recreated, `repairDelayMs` after it stopped.
   */
  readonly repair: boolean;
  readonly repairDelayMs: number;
  /** How long a member stays listed (ABANDONING) after `abandonInstances`. */
  readonly abandonDelayMs: number;
}

const INSTANCES = /^\/compute\/v1\/projects\/([^/]+)\/zones\/([^/]+)\/instances(?:\/([^/]+)(?:\/([A-Za-z]+))?)?$/;
const OPERATIONS = /^\/compute\/v1\/projects\/([^/]+)\/zones\/([^/]+)\/operations\/([^/]+)(?:\/(wait))?$/;
const GROUPS = /^\/compute\/v1\/projects\/([^/]+)\/(zones|regions)\/([^/]+)\/instanceGroupManagers\/([^/]+)(?:\/([A-Za-z]+))?$/;
const ID_FILTER = /^\s*\(?\s*id\s*(?:=|eq)\s*"?(\d+)"?\s*\)?\s*$/;
const SNAPSHOTS = /^\/compute\/v1\/projects\/([^/]+)\/global\/snapshots(?:\/([^/]+))?$/;
const GLOBAL_OPERATIONS = /^\/compute\/v1\/projects\/([^/]+)\/global\/operations\/([^/]+)(?:\/(wait))?$/;
/** A resource name as Compute Engine takes it (RFC 1035). */
const RESOURCE_NAME = /^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const LABEL_KEY = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;
const API_ROOT = 'https://www.googleapis.com/compute/v1/';
/** The Cloud Storage multi-region a snapshot of a disk in a region of this prefix goes to by default. */
const MULTI_REGIONS: Readonly<Record<string, string>> = { europe: 'eu', us: 'us', northamerica: 'us', southamerica: 'us', asia: 'asia' };

/**
 * Compute Engine's snapshot rate, per source disk: "at most once every 10 minutes", or a burst
 * of "at most 6 requests in 60 minutes"
 * (https://cloud.google.com/compute/docs/disks/snapshots#restrictions, detailed in
 * https://cloud.google.com/compute/docs/disks/snapshot-best-practices). The fake reads the two
 * sentences as one sliding window: `snapshots.insert` of a disk is refused when
 * {@link SNAPSHOT_BURST} snapshots of that disk were accepted in the {@link SNAPSHOT_WINDOW_MS}
 * before it (by the fake's clock), whatever project they went to. That allows a burst of 6, and
 * one every 10 minutes on average. Refused requests and repeats of a request id do not count.
 */
export const SNAPSHOT_BURST = 6;
/** See {@link SNAPSHOT_BURST}. */
export const SNAPSHOT_WINDOW_MS = 60 * 60_000;
/** The operation error code of the snapshot rate limit. */
export const RATE_EXCEEDED = 'RESOURCE_OPERATION_RATE_EXCEEDED';

/**
 * A fault for the next action request: an HTTP error instead of acting; a slow reply after
 * acting; an operation that is accepted but ends in error; or one that stays RUNNING for a while.
 */
export type ComputeFault =
  | { readonly status: 403 | 429 | 500 | 503 }
  | { readonly delayMs: number }
  | { readonly operationError: { readonly code: string; readonly message: string } }
  | { readonly operationPendingMs: number };

/**
 * A fault for the next `snapshots.insert`: the snapshot rate limit whatever the disk's history,
 * answered at once as HTTP 403 (`http`) or in the finished operation (`operation`); another HTTP
 * error; an operation that ends in another error; or one that stays RUNNING for a while (by the
 * fake's clock).
 */
export type SnapshotFault =
  | { readonly rateExceeded: 'http' | 'operation' }
  | { readonly status: 403 | 429 | 500 | 503 }
  | { readonly operationError: { readonly code: string; readonly message: string } }
  | { readonly operationPendingMs: number };

/** The Compute REST representation of a zonal operation, as far as the fake fills it in. */
export interface FakeOperationJson {
  readonly kind: 'compute#operation';
  readonly id: string;
  readonly name: string;
  readonly zone: string;
  readonly operationType: string;
  readonly targetLink: string;
  readonly targetId: string;
  status: 'RUNNING' | 'DONE';
  progress: number;
  readonly insertTime: string;
  endTime?: string;
  error?: { errors: Array<{ code: string; message: string }> };
  httpErrorStatusCode?: number;
  httpErrorMessage?: string;
  readonly selfLink: string;
}

interface StoredOperation {
  readonly json: FakeOperationJson;
  readonly project: string;
  readonly zone: string;
  readonly instance: FakeInstance;
  readonly verb: string;
  /** The instance's status before the action, restored when the operation fails. */
  readonly statusBefore: string | undefined;
  readonly doneAt: number;
  readonly error?: { readonly code: string; readonly message: string };
}

/** A global operation (`snapshots.insert`), with what it does once done. */
interface StoredGlobalOperation {
  readonly json: Omit<FakeOperationJson, 'zone'>;
  readonly project: string;
  /** The snapshot it creates, removed if the operation ends in error. */
  readonly snapshot?: FakeSnapshot;
  readonly doneAt: number;
  readonly error?: { readonly code: string; readonly message: string; readonly httpStatus: number };
}

const ACTIONS: Record<string, string> = { stop: 'POST', suspend: 'POST', setShieldedInstanceIntegrityPolicy: 'PATCH' };

/**
 * A loopback server answering like the Compute Engine v1 REST API for the calls the
 * responder makes: `instances.get`, `stop`, `suspend` and `setShieldedInstanceIntegrityPolicy`
 * on `instances/{instance}`, where `{instance}` is a name or a numeric id as in the real API;
 * `instances.list` with an `id = N` filter (kept for older callers); `zoneOperations.get`
 * and `zoneOperations.wait`; and, for managed instance groups (zonal and regional), `get`,
 * `listManagedInstances` and `abandonInstances` (see {@link addGroup}; a group that repairs
 * recreates a member stopped or suspended while it still lists it). 404 for unknown instances,
 * groups and operations. Every request is recorded.
 *
 * Operations are stateful, stored by name. An action replies with its operation RUNNING (as the
 * real API usually does) and the instance STOPPING/SUSPENDING; the operation becomes DONE when it
 * is waited on or read, and only then does the instance reach TERMINATED/SUSPENDED. Like the real
 * API, an action repeated with a `requestId` it has already seen returns that first operation
 * (same name, as it is now) and does not act again. Faults can be queued for the next action
 * requests (see {@link ComputeFault}).
 *
 * Evidence snapshots: `snapshots.insert`, `get` and `list` in a project's `global/snapshots`, and
 * `globalOperations.get` and `wait`. An insert is answered with its global operation RUNNING and
 * the snapshot CREATING; both are done when read once {@link snapshotOperationMs} have passed
 * by the fake's clock. The source disk must be a persistent disk of a known instance (404
 * otherwise); a name the project holds already is answered 409 `alreadyExists`; a request id
 * seen before answers its first operation. The rate rule of {@link SNAPSHOT_BURST} refuses a
 * snapshot in its operation (`RESOURCE_OPERATION_RATE_EXCEEDED`, no snapshot made);
 * {@link injectSnapshotFaults} forces that or other failures.
 */
export class FakeComputeApi {
  readonly requests: ComputeRequest[] = [];
  readonly instances: FakeInstance[] = [];
  /** Action requests that changed a VM (a repeated requestId does not). */
  readonly performed: ComputeRequest[] = [];
  private readonly faults: ComputeFault[] = [];
  /** Operation name by the requestId that created it. */
  private readonly byRequestId = new Map<string, string>();
  private readonly operations = new Map<string, StoredOperation>();
  readonly groups: FakeGroup[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private server?: Server;
  private operationCount = 0;
  /** Snapshots in every project, in the order they were created. */
  readonly snapshots: FakeSnapshot[] = [];
  private readonly snapshotFaults: SnapshotFault[] = [];
  private readonly globalOperations = new Map<string, StoredGlobalOperation>();
  /** When each snapshot of a disk (by path) was accepted, by the fake's clock. */
  private readonly snapshotTimes = new Map<string, number[]>();
  /** How long a snapshot's operation stays RUNNING, by the fake's clock. */
  snapshotOperationMs = 0;
  /** The clock of the snapshot rate rule, snapshot times and global operations (ms since the epoch). */
  readonly now: () => number;

  /** @param options.now the clock the snapshot calls read, for tests that must not sleep; `Date.now` by default. */
  constructor(options: { readonly now?: () => number } = {}) {
    this.now = options.now ?? Date.now;
  }

  /** `http://127.0.0.1:port`, for COMPUTE_API_ENDPOINT. */
  endpoint = '';

  add(instance: FakeInstance): this {
    this.instances.push({
      status: 'RUNNING',
      lastStartTimestamp: new Date(Date.now() - 60_000).toISOString(),
      disks: [
        {
          deviceName: instance.name,
          type: 'PERSISTENT',
          source: `projects/${instance.project}/zones/${instance.zone}/disks/${instance.name}`,
          boot: true,
        },
      ],
      ...instance,
    });
    return this;
  }

  /**
   * Adds a managed instance group and its members: each member gets the group's path as its
   * `created-by` metadata, as Compute Engine writes it, and the group's target size counts them.
   */
  addGroup(
    group: Pick<FakeGroup, 'project' | 'scope' | 'location' | 'name'> &
      Partial<Pick<FakeGroup, 'repair' | 'repairDelayMs' | 'abandonDelayMs'>>,
    ...members: FakeInstance[]
  ): FakeGroup {
    const g: FakeGroup = {
      repair: true,
      repairDelayMs: 300,
      abandonDelayMs: 0,
      ...group,
      targetSize: members.length,
      members: new Map(members.map((m) => [m.id, 'NONE'])),
    };
    this.groups.push(g);
    for (const m of members) this.add({ ...m, metadata: { ...m.metadata, 'created-by': fakeGroupPath(g) } });
    return g;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as { port: number };
    this.endpoint = `http://127.0.0.1:${port}`;
    return this.endpoint;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  /**
   * Forgets every instance, group, operation, recorded request and queued fault, and cancels the
   * pending replies and repairs, so that the next test starts from an empty API on the same
   * endpoint. Operation numbers keep counting: an operation name is never handed out twice.
   */
  reset(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.requests.length = 0;
    this.instances.length = 0;
    this.performed.length = 0;
    this.faults.length = 0;
    this.groups.length = 0;
    this.byRequestId.clear();
    this.operations.clear();
    this.snapshots.length = 0;
    this.snapshotFaults.length = 0;
    this.globalOperations.clear();
    this.snapshotTimes.clear();
    this.snapshotOperationMs = 0;
  }

  /** Queues faults, applied in order to the next action requests. */
  injectFaults(...faults: ComputeFault[]): void {
    this.faults.push(...faults);
  }

  /** Queues faults, applied in order to the next `snapshots.insert` requests (not to other actions). */
  injectSnapshotFaults(...faults: SnapshotFault[]): void {
    this.snapshotFaults.push(...faults);
  }

  /** Requests about snapshots: `snapshots.insert`, `get` and `list`. */
  snapshotRequests(): ComputeRequest[] {
    return this.requests.filter((r) => SNAPSHOTS.test(r.path));
  }

  /** Requests about global operations: `globalOperations.wait` and `get`. */
  globalOperationWaits(): ComputeRequest[] {
    return this.requests.filter((r) => GLOBAL_OPERATIONS.test(r.path));
  }

  /** Requests that would change a VM: every non-GET request on an instance (operation waits excluded). */
  actions(): ComputeRequest[] {
    return this.requests.filter((r) => r.method !== 'GET' && INSTANCES.test(r.path));
  }

  /** Requests to managed instance groups: `get`, `listManagedInstances`, `abandonInstances`. */
  groupRequests(): ComputeRequest[] {
    return this.requests.filter((r) => GROUPS.test(r.path));
  }

  /** Requests about operations: `zoneOperations.wait` and `zoneOperations.get`. */
  operationWaits(): ComputeRequest[] {
    return this.requests.filter((r) => OPERATIONS.test(r.path));
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

      const o = OPERATIONS.exec(url.pathname);
      if (o) {
        const [, project, zone, name, wait] = o as unknown as [string, string, string, string, string?];
        const op = this.operations.get(name);
        if (!op || op.project !== project || op.zone !== zone || req.method !== (wait ? 'POST' : 'GET')) {
          return notFound(`projects/${project}/zones/${zone}/operations/${name}`);
        }
        this.settle(op);
        return reply(200, op.json);
      }

      const g = GLOBAL_OPERATIONS.exec(url.pathname);
      if (g) {
        const [, project, name, wait] = g as unknown as [string, string, string, string?];
        const op = this.globalOperations.get(name);
        if (!op || op.project !== project || req.method !== (wait ? 'POST' : 'GET')) {
          return notFound(`projects/${project}/global/operations/${name}`);
        }
        this.settleGlobal(op);
        return reply(200, op.json);
      }

      const sn = SNAPSHOTS.exec(url.pathname);
      if (sn) return this.handleSnapshots(sn, req.method ?? '', url, body, reply, notFound);

      const gm = GROUPS.exec(url.pathname);
      if (gm) return this.handleGroup(gm, req.method ?? '', url, body, record, reply, notFound);

      const m = INSTANCES.exec(url.pathname);
      if (!m) return notFound(url.pathname);
      const [, project, zone, seg, verb] = m as unknown as [string, string, string, string?, string?];
      const inZone = this.instances.filter((i) => i.project === project && i.zone === zone);
      if (seg === undefined && req.method === 'GET') {
        const filter = url.searchParams.get('filter');
        const idMatch = filter ? ID_FILTER.exec(filter) : null;
        if (filter && !idMatch) return reply(400, { error: { code: 400, message: `Invalid value for field 'filter': '${filter}'.` } });
        const items = inZone.filter((i) => !idMatch || i.id === idMatch[1]).map((i) => this.instanceJson(i));
        return reply(200, { kind: 'compute#instanceList', id: `projects/${project}/zones/${zone}/instances`, items, selfLink: url.href });
      }
      // `{instance}` is a name or a numeric id; a name never looks like an id (it starts with a letter).
      const instance = seg === undefined ? undefined : inZone.find((i) => i.id === seg || i.name === seg);
      if (!instance) return notFound(`projects/${project}/zones/${zone}/instances/${seg ?? ''}`);
      if (verb === undefined && req.method === 'GET') return reply(200, this.instanceJson(instance));
      if (!verb || ACTIONS[verb] !== req.method) return notFound(url.pathname);

      const requestId = url.searchParams.get('requestId');
      const earlier = requestId ? this.operations.get(this.byRequestId.get(requestId) ?? '') : undefined;
      if (earlier) return reply(200, earlier.json);
      const fault = this.faults.shift();
      if (fault && 'status' in fault) {
        const reason = fault.status === 429 ? 'rateLimitExceeded' : fault.status === 403 ? 'forbidden' : 'backendError';
        return reply(fault.status, {
          error: { code: fault.status, message: reason, errors: [{ message: reason, domain: 'global', reason }] },
        });
      }
      const statusBefore = instance.status;
      if (verb === 'stop') instance.status = 'STOPPING';
      if (verb === 'suspend') instance.status = 'SUSPENDING';
      this.performed.push(record);
      const op = this.operation(instance, verb, statusBefore, fault);
      if (requestId) this.byRequestId.set(requestId, op.json.name);
      if (fault && 'delayMs' in fault) {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          reply(200, op.json);
        }, fault.delayMs);
        this.timers.add(timer);
        return;
      }
      return reply(200, op.json);
    });
  }

  /** Finishes an operation whose time has come: DONE, with its effect on the instance. */
  private settle(op: StoredOperation): void {
    if (op.json.status === 'DONE' || Date.now() < op.doneAt) return;
    op.json.status = 'DONE';
    op.json.progress = 100;
    op.json.endTime = new Date().toISOString();
    if (op.error) {
      op.json.error = { errors: [{ ...op.error }] };
      op.json.httpErrorStatusCode = 400;
      op.json.httpErrorMessage = 'BAD REQUEST';
      op.instance.status = op.statusBefore;
      return;
    }
    if (op.verb === 'stop') op.instance.status = 'TERMINATED';
    if (op.verb === 'suspend') op.instance.status = 'SUSPENDED';
    if (op.verb === 'stop' || op.verb === 'suspend') this.scheduleRepair(op.instance);
  }

  /**
   * A group that repairs failed VMs recreates a member stopped or suspended by anything but
   * itself: the same name and id here, booted again from its template (RUNNING, a new start).
   */
  private scheduleRepair(instance: FakeInstance): void {
    const group = this.groupOf(instance);
    if (!group?.repair) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.groupOf(instance) !== group) return;
      if (instance.status !== 'TERMINATED' && instance.status !== 'SUSPENDED') return;
      instance.status = 'RUNNING';
      instance.lastStartTimestamp = new Date().toISOString();
      instance.repairs = (instance.repairs ?? 0) + 1;
    }, group.repairDelayMs);
    this.timers.add(timer);
  }

  /** The group listing the instance, if any. */
  groupOf(instance: FakeInstance): FakeGroup | undefined {
    return this.groups.find((g) => g.project === instance.project && g.members.has(instance.id));
  }

  private handleGroup(
    match: RegExpExecArray,
    method: string,
    url: URL,
    body: string,
    record: ComputeRequest,
    reply: (status: number, json: unknown) => void,
    notFound: (what: string) => void,
  ): void {
    const [, project, scope, location, name, verb] = match as unknown as [string, string, 'zones' | 'regions', string, string, string?];
    const group = this.groups.find((g) => g.project === project && g.scope === scope && g.location === location && g.name === name);
    if (!group) return notFound(`projects/${project}/${scope}/${location}/instanceGroupManagers/${name}`);
    const link = `https://www.googleapis.com/compute/v1/${fakeGroupPath(group)}`;
    if (verb === undefined && method === 'GET') {
      return reply(200, {
        kind: 'compute#instanceGroupManager',
        name,
        targetSize: group.targetSize,
        instanceLifecyclePolicy: { defaultActionOnFailure: group.repair ? 'REPAIR' : 'DO_NOTHING' },
        selfLink: link,
      });
    }
    if (verb === 'listManagedInstances' && method === 'POST') {
      const managedInstances = [...group.members].map(([id, currentAction]) => {
        const i = this.instances.find((x) => x.id === id)!;
        return { id, instance: this.instanceLink(i), instanceStatus: i.status, currentAction };
      });
      return reply(200, { managedInstances });
    }
    if (verb !== 'abandonInstances' || method !== 'POST') return notFound(url.pathname);
    const requestId = url.searchParams.get('requestId');
    const earlier = requestId ? this.operations.get(this.byRequestId.get(requestId) ?? '') : undefined;
    if (earlier) return reply(200, earlier.json);
    const fault = this.faults.shift();
    if (fault && 'status' in fault) {
      const reason = fault.status === 429 ? 'rateLimitExceeded' : 'backendError';
      return reply(fault.status, {
        error: { code: fault.status, message: reason, errors: [{ message: reason, domain: 'global', reason }] },
      });
    }
    const urls = ((JSON.parse(body || '{}') as { instances?: string[] }).instances ?? []).map(String);
    const ids = urls.map((u) => [...group.members.keys()].find((id) => this.instanceLink(this.instances.find((x) => x.id === id)!) === u));
    if (urls.length === 0 || ids.includes(undefined)) {
      return reply(400, { error: { code: 400, message: `Invalid value for field 'instances': ${JSON.stringify(urls)}` } });
    }
    // An operationError fault: the abandon is refused, its operation DONE with the error.
    const refused = fault && 'operationError' in fault ? fault.operationError : undefined;
    if (!refused) {
      this.performed.push(record);
      const members = ids as string[];
      for (const id of members) group.members.set(id, 'ABANDONING');
      const leave = () => {
        for (const id of members) if (group.members.delete(id)) group.targetSize--;
      };
      if (group.abandonDelayMs > 0) {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          leave();
        }, group.abandonDelayMs);
        this.timers.add(timer);
      } else leave();
    }
    // DONE as soon as the abandon is scheduled, as the API documents.
    const n = ++this.operationCount;
    const opName = `operation-${n}-abandonInstances`;
    const scopeLink = `https://www.googleapis.com/compute/v1/projects/${project}/${scope}/${location}`;
    const json = {
      kind: 'compute#operation',
      id: String(7000000000000000000n + BigInt(n)),
      name: opName,
      ...(scope === 'zones' ? { zone: scopeLink } : { region: scopeLink }),
      operationType: 'abandonInstances',
      targetLink: link,
      status: 'DONE',
      progress: 100,
      insertTime: new Date().toISOString(),
      endTime: new Date().toISOString(),
      ...(refused && { error: { errors: [{ ...refused }] }, httpErrorStatusCode: 400, httpErrorMessage: 'BAD REQUEST' }),
      selfLink: `${scopeLink}/operations/${opName}`,
    };
    // Stored so a repeated request id answers with the same operation; the fake never serves it
    // through the zonal operations path (its instance is none).
    this.operations.set(opName, {
      json: json as unknown as FakeOperationJson,
      project,
      zone: `(${scope}) ${location}`,
      instance: undefined as unknown as FakeInstance,
      verb: 'abandonInstances',
      statusBefore: undefined,
      doneAt: 0,
    });
    if (requestId) this.byRequestId.set(requestId, opName);
    return reply(200, json);
  }

  /** `snapshots.insert`, `get` and `list` in a project's `global/snapshots`. */
  private handleSnapshots(
    match: RegExpExecArray,
    method: string,
    url: URL,
    body: string,
    reply: (status: number, json: unknown) => void,
    notFound: (what: string) => void,
  ): void {
    const [, project, name] = match as unknown as [string, string, string?];
    const inProject = this.snapshots.filter((x) => x.project === project);
    if (method === 'GET' && name !== undefined) {
      const snapshot = inProject.find((x) => x.name === name);
      if (!snapshot) return notFound(`projects/${project}/global/snapshots/${name}`);
      this.settleGlobal(this.globalOperations.get(snapshot.operation));
      return reply(200, this.snapshotJson(snapshot));
    }
    if (method === 'GET') {
      for (const x of inProject) this.settleGlobal(this.globalOperations.get(x.operation));
      return reply(200, {
        kind: 'compute#snapshotList',
        id: `projects/${project}/global/snapshots`,
        items: inProject.map((x) => this.snapshotJson(x)),
        selfLink: `${API_ROOT}projects/${project}/global/snapshots`,
      });
    }
    if (method !== 'POST' || name !== undefined) return notFound(url.pathname);

    const requestId = url.searchParams.get('requestId');
    const earlier = requestId ? this.globalOperations.get(this.byRequestId.get(requestId) ?? '') : undefined;
    if (earlier) return reply(200, earlier.json);
    const resource = JSON.parse(body || '{}') as {
      name?: string;
      sourceDisk?: string;
      labels?: Record<string, string>;
      description?: string;
    };
    const invalid = (field: string, value: unknown, why: string) =>
      reply(400, {
        error: {
          code: 400,
          message: `Invalid value for field 'resource.${field}': '${String(value)}'. ${why}`,
          errors: [{ message: `Invalid value for field 'resource.${field}'`, domain: 'global', reason: 'invalid' }],
        },
      });
    if (!resource.name || !RESOURCE_NAME.test(resource.name)) {
      return invalid('name', resource.name, `Must be a match of regex '${RESOURCE_NAME.source}'`);
    }
    const labels = resource.labels ?? {};
    const badLabel = Object.entries(labels).find(([k, v]) => !LABEL_KEY.test(k) || !LABEL_VALUE.test(v));
    if (badLabel) {
      return invalid('labels', `${badLabel[0]}=${badLabel[1]}`, 'Label keys and values must be lowercase letters, digits, _ or -.');
    }
    if (Object.keys(labels).length > 64) return invalid('labels', Object.keys(labels).length, 'At most 64 labels.');
    const sourceDisk = diskPath(resource.sourceDisk ?? '');
    if (inProject.some((x) => x.name === resource.name)) {
      const what = `projects/${project}/global/snapshots/${resource.name}`;
      return reply(409, {
        error: {
          code: 409,
          message: `The resource '${what}' already exists`,
          errors: [{ message: `The resource '${what}' already exists`, domain: 'global', reason: 'alreadyExists' }],
        },
      });
    }
    const disk = this.instances
      .flatMap((i) => i.disks ?? [])
      .find((d) => d.type !== 'SCRATCH' && d.source !== undefined && diskPath(d.source) === sourceDisk);
    if (!disk) return notFound(sourceDisk || String(resource.sourceDisk));
    // Faults apply to an insert the API would otherwise accept.
    const fault = this.snapshotFaults.shift();
    if (fault && 'status' in fault) {
      const reason = fault.status === 429 ? 'rateLimitExceeded' : fault.status === 403 ? 'forbidden' : 'backendError';
      return reply(fault.status, {
        error: { code: fault.status, message: reason, errors: [{ message: reason, domain: 'global', reason }] },
      });
    }

    const now = this.now();
    const accepted = (this.snapshotTimes.get(sourceDisk) ?? []).filter((t) => t > now - SNAPSHOT_WINDOW_MS);
    const rateMessage = `Operation rate exceeded for resource '${sourceDisk}'. Too frequent operations from the source resource.`;
    const limited = fault && 'rateExceeded' in fault ? fault.rateExceeded : accepted.length >= SNAPSHOT_BURST ? 'operation' : undefined;
    if (limited === 'http') {
      return reply(403, {
        error: {
          code: 403,
          message: rateMessage,
          errors: [{ message: rateMessage, domain: 'usageLimits', reason: RATE_EXCEEDED }],
          details: [
            {
              '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
              reason: RATE_EXCEEDED,
              domain: 'compute.googleapis.com',
              metadata: { resource: sourceDisk },
            },
          ],
        },
      });
    }
    const error =
      limited === 'operation'
        ? { code: RATE_EXCEEDED, message: rateMessage, httpStatus: 403 }
        : fault && 'operationError' in fault
          ? { ...fault.operationError, httpStatus: 400 }
          : undefined;
    const n = ++this.operationCount;
    const snapshotId = String(5000000000000000000n + BigInt(n));
    const opName = `operation-${n}-snapshots-insert`;
    const snapshot: FakeSnapshot = {
      project,
      name: resource.name,
      id: snapshotId,
      sourceDisk,
      labels: { ...labels },
      ...(resource.description !== undefined && { description: resource.description }),
      status: 'CREATING',
      creationTimestamp: new Date(now).toISOString(),
      operation: opName,
    };
    if (!error) {
      this.snapshots.push(snapshot);
      this.snapshotTimes.set(sourceDisk, [...accepted, now]);
    }
    const pending = fault && 'operationPendingMs' in fault ? fault.operationPendingMs : this.snapshotOperationMs;
    const op: StoredGlobalOperation = {
      json: {
        kind: 'compute#operation',
        id: String(7000000000000000000n + BigInt(n)),
        name: opName,
        operationType: 'insert',
        targetLink: `${API_ROOT}projects/${project}/global/snapshots/${resource.name}`,
        targetId: snapshotId,
        status: 'RUNNING',
        progress: 0,
        insertTime: new Date(now).toISOString(),
        selfLink: `${API_ROOT}projects/${project}/global/operations/${opName}`,
      },
      project,
      ...(!error && { snapshot }),
      doneAt: now + pending,
      ...(error && { error }),
    };
    this.globalOperations.set(opName, op);
    if (requestId) this.byRequestId.set(requestId, opName);
    return reply(200, op.json);
  }

  /** Finishes a global operation whose time has come by the fake's clock, and its snapshot. */
  private settleGlobal(op: StoredGlobalOperation | undefined): void {
    if (!op || op.json.status === 'DONE' || this.now() < op.doneAt) return;
    op.json.status = 'DONE';
    op.json.progress = 100;
    op.json.endTime = new Date(this.now()).toISOString();
    if (op.error) {
      op.json.error = { errors: [{ code: op.error.code, message: op.error.message }] };
      op.json.httpErrorStatusCode = op.error.httpStatus;
      op.json.httpErrorMessage = op.error.httpStatus === 403 ? 'FORBIDDEN' : 'BAD REQUEST';
      return;
    }
    if (op.snapshot) op.snapshot.status = 'READY';
  }

  private snapshotJson(x: FakeSnapshot) {
    const disk = this.instances.flatMap((i) => i.disks ?? []).find((d) => d.source !== undefined && diskPath(d.source) === x.sourceDisk);
    return {
      kind: 'compute#snapshot',
      id: x.id,
      creationTimestamp: x.creationTimestamp,
      name: x.name,
      ...(x.description !== undefined && { description: x.description }),
      status: x.status,
      sourceDisk: `${API_ROOT}${x.sourceDisk}`,
      diskSizeGb: String(disk?.diskSizeGb ?? 10),
      storageBytes: x.status === 'READY' ? '1073741824' : '0',
      storageBytesStatus: x.status === 'READY' ? 'UP_TO_DATE' : 'UPDATING',
      // No storageLocations was asked for: a project with default snapshot settings stores it in
      // the multi-region nearest the disk.
      storageLocations: [MULTI_REGIONS[/\/(?:zones|regions)\/([a-z]+)-/.exec(x.sourceDisk)?.[1] ?? ''] ?? 'us'],
      labels: x.labels,
      labelFingerprint: createHash('sha256').update(JSON.stringify(x.labels)).digest().subarray(0, 8).toString('base64'),
      snapshotType: 'STANDARD',
      selfLink: `${API_ROOT}projects/${x.project}/global/snapshots/${x.name}`,
    };
  }

  private instanceLink(i: FakeInstance): string {
    return `https://www.googleapis.com/compute/v1/projects/${i.project}/zones/${i.zone}/instances/${i.name}`;
  }

  private instanceJson(i: FakeInstance) {
    return {
      kind: 'compute#instance',
      id: i.id,
      name: i.name,
      status: i.status,
      lastStartTimestamp: i.lastStartTimestamp,
      ...(i.labels && { labels: i.labels }),
      ...(i.metadata && {
        metadata: { kind: 'compute#metadata', items: Object.entries(i.metadata).map(([key, value]) => ({ key, value })) },
      }),
      ...(i.disks && {
        disks: i.disks.map((d, index) => ({
          kind: 'compute#attachedDisk',
          type: d.type ?? 'PERSISTENT',
          mode: 'READ_WRITE',
          ...(d.source !== undefined && d.type !== 'SCRATCH' && { source: `${API_ROOT}${diskPath(d.source)}` }),
          deviceName: d.deviceName,
          index,
          boot: d.boot ?? false,
          autoDelete: true,
          interface: d.type === 'SCRATCH' ? 'NVME' : 'SCSI',
          diskSizeGb: String(d.diskSizeGb ?? (d.type === 'SCRATCH' ? 375 : 10)),
        })),
      }),
      zone: `https://www.googleapis.com/compute/v1/projects/${i.project}/zones/${i.zone}`,
      selfLink: `https://www.googleapis.com/compute/v1/projects/${i.project}/zones/${i.zone}/instances/${i.name}`,
    };
  }

  private operation(i: FakeInstance, type: string, statusBefore: string | undefined, fault: ComputeFault | undefined): StoredOperation {
    const n = ++this.operationCount;
    const name = `operation-${n}-${type}`;
    const zoneLink = `https://www.googleapis.com/compute/v1/projects/${i.project}/zones/${i.zone}`;
    const op: StoredOperation = {
      json: {
        kind: 'compute#operation',
        id: String(7000000000000000000n + BigInt(n)),
        name,
        zone: zoneLink,
        operationType: type,
        targetLink: `${zoneLink}/instances/${i.name}`,
        targetId: i.id,
        status: 'RUNNING',
        progress: 0,
        insertTime: new Date().toISOString(),
        selfLink: `${zoneLink}/operations/${name}`,
      },
      project: i.project,
      zone: i.zone,
      instance: i,
      verb: type,
      statusBefore,
      doneAt: Date.now() + (fault && 'operationPendingMs' in fault ? fault.operationPendingMs : 0),
      ...(fault && 'operationError' in fault ? { error: fault.operationError } : {}),
    };
    this.operations.set(name, op);
    return op;
  }
}

/** `projects/P/zones/Z/instanceGroupManagers/N` (or `regions/R`), as `created-by` holds it. */
export function fakeGroupPath(g: Pick<FakeGroup, 'project' | 'scope' | 'location' | 'name'>): string {
  return `projects/${g.project}/${g.scope}/${g.location}/instanceGroupManagers/${g.name}`;
}

/** `projects/P/zones/Z/disks/D` from a disk URL, full (`https://…/compute/v1/projects/…`) or partial. */
function diskPath(url: string): string {
  const at = url.indexOf('projects/');
  return at < 0 ? url : url.slice(at);
}
