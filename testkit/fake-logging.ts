import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';

/** One request the fake Logging API received. */
export interface LoggingRequest {
  readonly method: string;
  /** Path without the query string, like `/v2/entries:list`. */
  readonly path: string;
  readonly query: Record<string, string>;
  readonly headers: IncomingMessage['headers'];
  /** The JSON body, parsed; `undefined` when there was none or it was not JSON. */
  readonly body: any;
}

/**
 * How the fake answers instead of searching: an HTTP error with a Google-style body, an answer
 * held back for `delayMs`, or no answer at all (`hang`: the request stays open until
 * {@link FakeLogging.close}).
 */
export type LoggingFault =
  | { readonly status: 400 | 401 | 403 | 404 | 429 | 500 | 503; readonly message?: string }
  | { readonly delayMs: number }
  | { readonly hang: true };

/** The fake Logging API, started by {@link startFakeLogging}. */
export interface FakeLogging {
  /** `http://127.0.0.1:PORT`, for LOGGING_API_ENDPOINT. */
  readonly url: string;
  readonly port: number;
  /** The stored log entries, plain LogEntry JSON as `gcloud logging read --format=json` prints them. Push more any time. */
  readonly entries: Record<string, unknown>[];
  /**
   * Stores an entry as `entries.write` would: `receiveTimestamp` is the fake's to set (now, or
   * `receivedAt`), whatever the writer put there, while `timestamp` stays the writer's choice.
   * Returns the entry as stored.
   */
  write(entry: Record<string, unknown>, receivedAt?: Date): Record<string, unknown>;
  /** Every request received, in order. */
  readonly requests: LoggingRequest[];
  /** From now on answer the next `times` requests (default: all) with `fault` instead of searching. */
  fail(fault: LoggingFault, times?: number): void;
  /**
   * Makes the next `pages` searches answer an empty page with a `nextPageToken`, as the real API
   * does when it has not finished searching: the caller must follow the token.
   */
  searchSlowly(pages: number): void;
  /** Stops failing and searching slowly. */
  recover(): void;
  /** Closes the server, dropping requests still open. */
  close(): Promise<void>;
}

/** LogSeverity numbers, for answers to `$alt=json;enum-encoding=int` (what the Node client asks for). */
const SEVERITY: Record<string, number> = {
  DEFAULT: 0,
  DEBUG: 100,
  INFO: 200,
  NOTICE: 300,
  WARNING: 400,
  ERROR: 500,
  CRITICAL: 600,
  ALERT: 700,
  EMERGENCY: 800,
};

const STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

const DEFAULT_MESSAGE: Record<number, string> = {
  401: 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
  403: "Permission 'logging.logEntries.list' denied on resource (or it may not exist).",
  404: 'Requested entity was not found.',
  429: "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute' of service 'logging.googleapis.com'.",
  500: 'Internal error encountered.',
  503: 'The service is currently unavailable.',
};

class FilterError extends Error {}

/** Fields whose values the fake compares as times (`timestamp>="…"`, as gcloud adds to every query). */
const TIME_FIELDS = new Set(['timestamp', 'receiveTimestamp']);

type Comparison = '>=' | '>' | '<=' | '<';

/**
 * One restriction of a filter: `path = value`, `path:*`, `path:"text"` (the field contains the
 * text, ignoring case), or a comparison of a time field.
 */
type Term =
  | { readonly path: string[]; readonly op: 'eq'; readonly value: string }
  | { readonly path: string[]; readonly op: 'has' }
  | { readonly path: string[]; readonly op: 'contains'; readonly value: string }
  | { readonly path: string[]; readonly op: Comparison; readonly value: string };

/**
 * Parses the part of the Logging query language the tools and gcloud use: restrictions joined
 * by `AND` (or by juxtaposition), each `field="value"` (or an unquoted value), `field:*`,
 * `field:"text"`, or `timestamp`/`receiveTimestamp` compared with `>=`, `>`, `<=`, `<` to a
 * quoted RFC 3339 time, on dotted field paths whose segments may be quoted
 * (`labels."compute.googleapis.com/resource_name"`). Anything else — `OR`, `NOT`, parentheses,
 * other comparisons, an unquoted `field:value` — is a {@link FilterError}.
 */
export function parseFilter(filter: string): Term[] {
  const terms: Term[] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < filter.length && /\s/.test(filter[i]!)) i++;
  };
  const quoted = (): string => {
    let out = '';
    i++; // opening quote
    while (i < filter.length && filter[i] !== '"') {
      if (filter[i] === '\\') i++;
      if (i >= filter.length) break;
      out += filter[i++];
    }
    if (filter[i] !== '"') throw new FilterError(`unterminated string at character ${i}`);
    i++;
    return out;
  };
  const word = (): string => {
    const m = /^[A-Za-z0-9_@./%-]+/.exec(filter.slice(i));
    if (!m) throw new FilterError(`unexpected '${filter.slice(i, i + 10)}' at character ${i}`);
    i += m[0].length;
    return m[0];
  };
  const path = (): string[] => {
    const segments: string[] = [];
    for (;;) {
      if (filter[i] === '"') segments.push(quoted());
      else {
        const m = /^[A-Za-z_@][A-Za-z0-9_]*/.exec(filter.slice(i));
        if (!m) throw new FilterError(`expected a field name at character ${i}`);
        segments.push(m[0]);
        i += m[0].length;
      }
      if (filter[i] !== '.') return segments;
      i++;
    }
  };
  skipSpace();
  if (i === filter.length) return terms;
  for (;;) {
    if (/^(?:OR|NOT)\b|^[-()]/.test(filter.slice(i))) throw new FilterError(`'${filter.slice(i, i + 3)}' is not supported by the fake`);
    const p = path();
    skipSpace();
    const comparison = /^(>=|<=|>|<)/.exec(filter.slice(i))?.[1] as Comparison | undefined;
    if (filter.startsWith(':*', i)) {
      i += 2;
      terms.push({ path: p, op: 'has' });
    } else if (filter.startsWith(':"', i)) {
      i++;
      terms.push({ path: p, op: 'contains', value: quoted() });
    } else if (comparison !== undefined) {
      if (p.length !== 1 || !TIME_FIELDS.has(p[0]!))
        throw new FilterError(`the fake compares only timestamp and receiveTimestamp, not ${p.join('.')}`);
      i += comparison.length;
      skipSpace();
      if (filter[i] !== '"') throw new FilterError(`expected a quoted time after ${p.join('.')}${comparison} at character ${i}`);
      const value = quoted();
      if (nanosOf(value) < 0n) throw new FilterError(`'${value}' is not an RFC 3339 time`);
      terms.push({ path: p, op: comparison, value });
    } else if (filter[i] === '=' && filter[i + 1] !== '~') {
      i++;
      skipSpace();
      terms.push({ path: p, op: 'eq', value: filter[i] === '"' ? quoted() : word() });
    } else {
      throw new FilterError(`expected '="value"', ':*', ':"text"' or a time comparison after ${p.join('.')} at character ${i}`);
    }
    skipSpace();
    if (i === filter.length) return terms;
    if (/^AND\b/.test(filter.slice(i))) {
      i += 3;
      skipSpace();
    }
  }
}

function lookup(entry: unknown, path: readonly string[]): unknown {
  let v: any = entry;
  for (const segment of path) {
    if (v === null || typeof v !== 'object' || !Object.prototype.hasOwnProperty.call(v, segment)) return undefined;
    v = v[segment];
  }
  return v;
}

function matches(entry: Record<string, unknown>, terms: readonly Term[]): boolean {
  return terms.every((t) => {
    const v = lookup(entry, t.path);
    if (t.op === 'has') return v !== undefined && v !== null;
    const scalar = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
    if (t.op === 'eq') return scalar && String(v) === t.value;
    if (t.op === 'contains') return scalar && String(v).toLowerCase().includes(t.value.toLowerCase());
    const at = nanosOf(v);
    if (at < 0n) return false;
    const bound = nanosOf(t.value);
    return t.op === '>=' ? at >= bound : t.op === '>' ? at > bound : t.op === '<=' ? at <= bound : at < bound;
  });
}

/** An RFC 3339 timestamp as nanoseconds since the epoch, for ordering; unparseable sorts first. */
function nanosOf(timestamp: unknown): bigint {
  if (typeof timestamp !== 'string') return -1n;
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(timestamp);
  const ms = m ? Date.parse(`${m[1]}${m[3]}`) : NaN;
  if (!m || Number.isNaN(ms)) return -1n;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** The project of a `projects/P/logs/L` log name. */
function projectOf(entry: Record<string, unknown>): string | undefined {
  return typeof entry.logName === 'string' ? /^projects\/([^/]+)\/logs\//.exec(entry.logName)?.[1] : undefined;
}

/**
 * Starts a loopback server answering like the Cloud Logging v2 REST API's `entries.list`
 * (`POST /v2/entries:list`, body `{resourceNames, filter, orderBy, pageSize, pageToken}`) over
 * the entries it holds (entries put with {@link FakeLogging.write} carry a `receiveTimestamp`
 * the fake set, as Logging sets it). It honours `resourceNames` (`projects/P` only: entries of other
 * projects are not returned), the filter subset {@link parseFilter} reads, `orderBy`
 * (`timestamp asc`, the default, or `timestamp desc`), `pageSize` (default 50, at most 1000)
 * and page tokens. Like the real API it answers `$alt=json;enum-encoding=int` with numeric
 * severities. A filter, order or token it cannot read is a 400 INVALID_ARGUMENT, so a wrong
 * query fails loudly instead of matching nothing. Every request is recorded.
 */
export async function startFakeLogging(entries: Record<string, unknown>[] = []): Promise<FakeLogging> {
  const stored = [...entries];
  const requests: LoggingRequest[] = [];
  let fault: { fault: LoggingFault; times: number } | undefined;
  let slowPages = 0;
  const held = new Set<ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    let body: any;
    try {
      body = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      body = undefined;
    }
    requests.push({
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body,
    });
    const reply = (status: number, json: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
      res.end(JSON.stringify(json));
    };
    const error = (status: number, message: string) =>
      reply(status, { error: { code: status, message, status: STATUS[status] ?? 'UNKNOWN' } });

    if (fault !== undefined && fault.times > 0) {
      const f = fault.fault;
      fault.times--;
      if ('hang' in f) {
        held.add(res);
        res.on('close', () => held.delete(res));
        return;
      }
      if ('status' in f) return error(f.status, f.message ?? DEFAULT_MESSAGE[f.status] ?? 'Request failed.');
      const timer = setTimeout(() => {
        timers.delete(timer);
        answer();
      }, f.delayMs);
      timers.add(timer);
      return;
    }
    answer();

    function answer(): void {
      if (url.pathname !== '/v2/entries:list') return error(404, `The fake Logging API does not serve ${req.method} ${url.pathname}.`);
      if (req.method !== 'POST') return error(404, `entries.list is POST /v2/entries:list, not ${req.method}.`);
      if (body === null || typeof body !== 'object' || Array.isArray(body)) return error(400, 'Invalid JSON payload received.');
      const { resourceNames, filter = '', orderBy = '', pageSize = 50, pageToken = '' } = body;
      if (!Array.isArray(resourceNames) || resourceNames.length === 0)
        return error(400, 'resourceNames: At least one resource name must be specified.');
      const projects = new Set<string>();
      for (const name of resourceNames) {
        const m = typeof name === 'string' ? /^projects\/([^/]+)$/.exec(name) : null;
        if (!m) return error(400, `Invalid resource name '${String(name)}': the fake serves projects/PROJECT_ID only.`);
        projects.add(m[1]!);
      }
      if (typeof filter !== 'string') return error(400, 'filter must be a string.');
      let terms: Term[];
      try {
        terms = parseFilter(filter);
      } catch (e) {
        return error(400, `Unparseable filter: ${(e as Error).message}: ${filter}`);
      }
      const order = String(orderBy).trim().toLowerCase();
      if (order !== '' && order !== 'timestamp asc' && order !== 'timestamp desc') {
        return error(400, `Invalid orderBy '${String(orderBy)}': only "timestamp asc" and "timestamp desc" are supported.`);
      }
      const size = Number(pageSize === 0 ? 50 : pageSize);
      if (!Number.isInteger(size) || size < 0 || size > 1000) return error(400, `pageSize must be 0 to 1000, got ${String(pageSize)}.`);
      const fingerprint = JSON.stringify([[...projects].sort(), filter, order]);
      let offset = 0;
      if (pageToken !== '') {
        let token: any;
        try {
          token = JSON.parse(Buffer.from(String(pageToken), 'base64url').toString('utf8'));
        } catch {
          token = undefined;
        }
        if (!token || token.q !== fingerprint || !Number.isInteger(token.offset)) {
          return error(400, 'Invalid page token: it belongs to another query or is not a token this server issued.');
        }
        offset = token.offset;
      }
      const tokenFor = (next: number) => Buffer.from(JSON.stringify({ q: fingerprint, offset: next })).toString('base64url');
      if (slowPages > 0) {
        // Nothing found yet, search on from the same place.
        slowPages--;
        return reply(200, { nextPageToken: tokenFor(offset) });
      }
      const found = stored
        .map((entry, index) => ({ entry, index, at: nanosOf(entry.timestamp) }))
        .filter(({ entry }) => projects.has(projectOf(entry) ?? '') && matches(entry, terms))
        .sort((a, b) => (a.at === b.at ? a.index - b.index : a.at < b.at ? -1 : 1));
      if (order === 'timestamp desc') found.reverse();
      const page = found.slice(offset, offset + size).map(({ entry }) => entry);
      const numeric = (url.searchParams.get('$alt') ?? '').includes('enum-encoding=int');
      const out: Record<string, unknown> = {};
      if (page.length > 0) {
        out.entries = numeric
          ? page.map((e) => (typeof e.severity === 'string' && e.severity in SEVERITY ? { ...e, severity: SEVERITY[e.severity] } : e))
          : page;
      }
      if (offset + size < found.length) out.nextPageToken = tokenFor(offset + size);
      reply(200, out);
    }
  };

  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => handle(req, res, raw));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    entries: stored,
    write(entry: Record<string, unknown>, receivedAt = new Date()) {
      const written = { ...entry, receiveTimestamp: receivedAt.toISOString() };
      stored.push(written);
      return written;
    },
    requests,
    fail(f: LoggingFault, times = Number.POSITIVE_INFINITY) {
      fault = { fault: f, times };
    },
    searchSlowly(pages: number) {
      slowPages = pages;
    },
    recover() {
      fault = undefined;
      slowPages = 0;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      held.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
