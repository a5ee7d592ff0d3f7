// A loopback HTTP proxy between the functions and the Firestore emulator that counts the
// documents Firestore returns to REST calls, per database (gRPC streams pass through uncounted). It runs as its own process so that buffering and
// parsing large query answers (10,000 documents) never stalls the load generator's event loop.
//
// What counts as a document read: a document GET answered 200 counts 1; a `:batchGet` answer
// counts its `found` entries (not `missing` ones); a `:runQuery` answer counts its `document`
// entries. Requests are counted too, per database, with the time the emulator took to answer
// them (from the request's arrival to the answer's end).

import { ChildProcess, spawn } from 'node:child_process';
import { Agent, createServer, request } from 'node:http';
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
  const call = (op: 'reset' | 'counts' | 'port') =>
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

function serve(upstream: string): void {
  const [upHost, upPort] = upstream.split(':') as [string, string];
  const agent = new Agent({ keepAlive: true });
  let counts: FirestoreCounts = {};
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
  // gRPC (HTTP/2, the baseline listener's watch stream) is passed through uncounted: what it
  // reads is read once per instance, not per event. Everything else is HTTP/1.1 REST, counted.
  const front = createNetServer((socket) => {
    socket.once('data', (first: Buffer) => {
      socket.pause();
      if (first.toString('latin1', 0, 3) === 'PRI') {
        const up = connect(Number(upPort), upHost, () => {
          up.write(first);
          socket.pipe(up);
          up.pipe(socket);
          socket.resume();
        });
        up.on('error', () => socket.destroy());
        socket.on('error', () => up.destroy());
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
    void listening.then((port) =>
      process.send!({ id: m.id, ...(m.op === 'counts' && { counts }), ...(m.op === 'port' && { port }) } satisfies Reply),
    );
  });
  // Gone with the bench: the IPC channel closes when the parent exits, however it exits.
  process.on('disconnect', () => process.exit(0));
}

if (require.main === module) serve(process.argv[2]!);
