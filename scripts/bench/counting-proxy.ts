// A loopback proxy between the functions and the Firestore emulator that counts the documents
// Firestore returns, per database, over both transports: REST (HTTP/1.1, JSON) and gRPC
// (HTTP/2, protobuf; only connections opened while asked to, see `countGrpc`). It runs as its
// own process so that buffering and parsing large query answers (10,000 documents) never stalls
// the load generator's event loop.
//
// What counts as a document read: a document GET answered 200 counts 1; a `batchGet` answer
// counts its `found` entries (not `missing` ones); a `runQuery` answer counts its `document`
// entries. Requests are counted too, per database, with the time the emulator took to answer
// them (from the request's arrival to the answer's end). The baseline listener's watch stream
// (gRPC `Listen`) is passed through uncounted: it is opened once per instance, not per event.

import { ChildProcess, spawn } from 'node:child_process';
import { Agent, createServer, request } from 'node:http';
import {
  ClientHttp2Session,
  IncomingHttpHeaders,
  ServerHttp2Stream,
  connect as connectHttp2,
  constants,
  createServer as createHttp2Server,
} from 'node:http2';
import { connect, createServer as createNetServer } from 'node:net';
import { packageRoot } from '../../lib/bundle/sources';
import { trackProcessGroup } from '../../testkit/emulators';

/** Per database: documents read, requests made, and the sum of their times, ms. */
export type FirestoreCounts = Record<string, { documents: number; requests: number; ms: number }>;

export interface CountingProxy {
  /** `host:port`, for FIRESTORE_EMULATOR_HOST. */
  readonly host: string;
  /** Zeroes the counts. */
  reset(): Promise<void>;
  /** Whether gRPC connections opened from now on are counted (off at start: they pass through). */
  countGrpc(on: boolean): Promise<void>;
  counts(): Promise<FirestoreCounts>;
  stop(): Promise<void>;
}

type Reply = { id: number; counts?: FirestoreCounts; port?: number };

/** Starts the proxy process in front of `upstream` (`host:port`). */
export async function startCountingProxy(upstream: string): Promise<CountingProxy> {
  const child: ChildProcess = spawn(process.execPath, ['--require', 'tsx/cjs', __filename, upstream], {
    cwd: packageRoot(__dirname),
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const untrack = trackProcessGroup(child);
  const waiting = new Map<number, (r: Reply) => void>();
  child.on('message', (m: Reply) => waiting.get(m.id)?.(m));
  let calls = 0;
  const call = (op: 'reset' | 'counts' | 'port' | 'count-grpc' | 'pass-grpc') =>
    new Promise<Reply>((resolve, reject) => {
      const id = ++calls;
      const onExit = () => reject(new Error(`the counting proxy exited (${child.exitCode ?? child.signalCode})`));
      child.once('exit', onExit);
      waiting.set(id, (r) => {
        waiting.delete(id);
        child.off('exit', onExit);
        resolve(r);
      });
      child.send({ id, op });
    });
  const stop = async () => {
    untrack();
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      return;
    }
    await exited;
  };
  try {
    const { port } = await call('port');
    return {
      host: `127.0.0.1:${port}`,
      reset: async () => void (await call('reset')),
      countGrpc: async (on: boolean) => void (await call(on ? 'count-grpc' : 'pass-grpc')),
      counts: async () => (await call('counts')).counts ?? {},
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Documents in a `:batchGet` or `:runQuery` answer (a JSON array of stream messages). */
function documentsIn(kind: 'batchGet' | 'runQuery', body: string): number {
  let messages: unknown;
  try {
    messages = JSON.parse(body);
  } catch {
    return 0; // an error page, not a stream of messages
  }
  if (!Array.isArray(messages)) return 0;
  const key = kind === 'batchGet' ? 'found' : 'document';
  return messages.filter((m) => m !== null && typeof m === 'object' && key in m).length;
}

/**
 * Messages of a gRPC answer that carry field 1 at their top level: `found` of a
 * BatchGetDocumentsResponse (`missing` is field 2), `document` of a RunQueryResponse. The answer is
 * a sequence of length-prefixed messages (1 byte flag, 4 bytes length, the protobuf).
 */
function grpcDocumentsIn(body: Buffer): number {
  let documents = 0;
  for (let at = 0; at + 5 <= body.length;) {
    const end = at + 5 + body.readUInt32BE(at + 1);
    if (body[at] !== 0 || end > body.length) return documents; // compressed or cut short: not ours to read
    if (hasTopLevelField1(body, at + 5, end)) documents++;
    at = end;
  }
  return documents;
}

/** Whether the protobuf message in `b[from, to)` has a top-level field number 1. */
function hasTopLevelField1(b: Buffer, from: number, to: number): boolean {
  let at = from;
  const varint = () => {
    let value = 0;
    for (let shift = 0; at < to; shift += 7) {
      const byte = b[at++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) break;
    }
    return value;
  };
  while (at < to) {
    const tag = varint();
    if (tag >>> 3 === 1) return true;
    switch (tag & 7) {
      case 0:
        varint();
        break;
      case 1:
        at += 8;
        break;
      case 2:
        at += varint();
        break;
      case 5:
        at += 4;
        break;
      default:
        return false;
    }
  }
  return false;
}

function serve(upstream: string): void {
  const [upHost, upPort] = upstream.split(':') as [string, string];
  const agent = new Agent({ keepAlive: true });
  let counts: FirestoreCounts = {};
  /** Whether HTTP/2 connections opened from now on go through the counting gRPC server. */
  let countGrpc = false;
  const tally = (database: string, documents: number, ms: number) => {
    const c = (counts[database] ??= { documents: 0, requests: 0, ms: 0 });
    c.requests++;
    c.documents += documents;
    c.ms += ms;
  };
  const server = createServer((req, res) => {
    const arrived = performance.now();
    const path = req.url ?? '/';
    const database = /\/databases\/([^/]+)\/documents/.exec(path)?.[1] ?? '(none)';
    const kind = /:batchGet(?:\?|$)/.test(path)
      ? 'batchGet'
      : /:runQuery(?:\?|$)/.test(path)
        ? 'runQuery'
        : req.method === 'GET' && /\/documents\/[^:?]+/.test(path)
          ? 'get'
          : 'other';
    const forward = request({ host: upHost, port: Number(upPort), method: req.method, path, headers: req.headers, agent }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => {
        if (kind === 'batchGet' || kind === 'runQuery') chunks.push(c);
        res.write(c);
      });
      up.on('end', () => {
        // Counted before the answer ends: once a function has its answer, the count includes it.
        const ok = up.statusCode === 200;
        const documents = !ok ? 0 : kind === 'get' ? 1 : kind === 'other' ? 0 : documentsIn(kind, Buffer.concat(chunks).toString('utf8'));
        tally(database, documents, performance.now() - arrived);
        res.end();
      });
      up.on('error', () => res.destroy());
    });
    forward.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(String(e));
    });
    req.pipe(forward);
  });
  // gRPC: HTTP/2 without TLS, each call forwarded on one session to the emulator.
  let session: ClientHttp2Session | undefined;
  const upstreamSession = () => {
    if (session === undefined || session.closed || session.destroyed) {
      session = connectHttp2(`http://${upstream}`);
      session.on('error', () => (session = undefined));
    }
    return session;
  };
  /** The headers of a message without HTTP/2's pseudo-headers (`:status`, `:path`, …). */
  const plain = (headers: IncomingHttpHeaders) => Object.fromEntries(Object.entries(headers).filter(([name]) => !name.startsWith(':')));
  const grpc = createHttp2Server();
  grpc.on('stream', (stream: ServerHttp2Stream, asked: IncomingHttpHeaders) => {
    const arrived = performance.now();
    const path = String(asked[':path'] ?? '');
    const method = path.split('/').pop() ?? '';
    const params = decodeURIComponent(String(asked['x-goog-request-params'] ?? asked['google-cloud-resource-prefix'] ?? ''));
    const database = /databases\/([^/&]+)/.exec(params)?.[1] ?? '(none)';
    const counted = method !== 'Listen';
    const reads = counted && (method === 'BatchGetDocuments' || method === 'RunQuery');
    const up = upstreamSession().request({ ':method': 'POST', ':path': path, ...plain(asked) });
    const chunks: Buffer[] = [];
    let status = '0';
    let trailers: IncomingHttpHeaders = {};
    let ended = false;
    up.on('response', (answer, flags) => {
      status = String(answer['grpc-status'] ?? status);
      const headers = { ':status': answer[':status'] ?? 200, ...plain(answer) };
      // A gRPC error often comes as one HEADERS frame that ends the stream ("trailers-only"):
      // forwarded as such, or the client would read its status as UNKNOWN.
      ended = (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0;
      stream.respond(headers, ended ? { endStream: true } : { waitForTrailers: true });
    });
    stream.on('wantTrailers', () => stream.sendTrailers(plain(trailers)));
    up.on('data', (c: Buffer) => {
      if (reads) chunks.push(c);
      stream.write(c);
    });
    up.on('trailers', (t) => {
      status = String(t['grpc-status'] ?? status);
      trailers = t;
    });
    up.on('end', () => {
      if (counted) tally(database, status === '0' ? grpcDocumentsIn(Buffer.concat(chunks)) : 0, performance.now() - arrived);
      if (!ended) stream.end();
    });
    up.on('error', () => {
      if (counted) tally(database, 0, performance.now() - arrived);
      stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    });
    stream.on('close', () => {
      if (!up.closed) up.close(constants.NGHTTP2_CANCEL);
    });
    stream.pipe(up);
  });
  // HTTP/2 (gRPC) opens with its connection preface, `PRI * HTTP/2.0`; anything else is HTTP/1.1.
  // Counting gRPC costs as much CPU as the calls themselves on this machine: an HTTP/2
  // connection is counted only when opened while `count-grpc` is on (piped to the counting
  // server on a port of its own: the HTTP/2 session reads its socket's handle directly, so bytes
  // already read cannot be handed back to it); otherwise it is piped to the emulator, uncounted.
  const grpcPort = new Promise<number>((resolve) => grpc.listen(0, '127.0.0.1', () => resolve((grpc.address() as { port: number }).port)));
  const front = createNetServer((socket) => {
    socket.once('data', (first: Buffer) => {
      socket.pause();
      if (first.toString('latin1', 0, 3) === 'PRI') {
        const through = (port: number, host: string) => {
          const inner = connect(port, host, () => {
            inner.write(first);
            socket.pipe(inner);
            inner.pipe(socket);
            socket.resume();
          });
          inner.on('error', () => socket.destroy());
          socket.on('error', () => inner.destroy());
        };
        if (countGrpc) void grpcPort.then((port) => through(port, '127.0.0.1'));
        else through(Number(upPort), upHost);
      } else {
        socket.unshift(first);
        server.emit('connection', socket);
        socket.resume();
      }
    });
  });
  const listening = new Promise<number>((resolve) =>
    front.listen(0, '127.0.0.1', () => resolve((front.address() as { port: number }).port)),
  );
  // Registered at once: a message that arrives before there is a listener is lost.
  process.on('message', (m: { id: number; op: string }) => {
    if (m.op === 'reset') counts = {};
    if (m.op === 'count-grpc') countGrpc = true;
    if (m.op === 'pass-grpc') countGrpc = false;
    void listening.then((port) =>
      process.send!({ id: m.id, ...(m.op === 'counts' && { counts }), ...(m.op === 'port' && { port }) } satisfies Reply),
    );
  });
  // Gone with the bench: the IPC channel closes when the parent exits, however it exits.
  process.on('disconnect', () => process.exit(0));
}

if (require.main === module) serve(process.argv[2]!);
