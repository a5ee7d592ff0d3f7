import { Agent, request } from 'node:http';

/** What a closed-loop run measured. */
export interface LoadResult {
  /** Requests answered (whatever the status) or failed. */
  readonly completed: number;
  /** Answered with a 2xx status. */
  readonly ok: number;
  /** Non-2xx answers and failed requests, by `status: first line of the body` (or the error). */
  readonly errors: ReadonlyMap<string, number>;
  /** Latency of every completed request, ms, in completion order. */
  readonly latenciesMs: readonly number[];
  /** From the first request to the last answer, ms. */
  readonly elapsedMs: number;
  /** The time cap ended the run before `count` requests were sent. */
  readonly capped: boolean;
}

/**
 * Closed-loop load: `concurrency` workers, each sending its next request when its previous one
 * is answered, over one keep-alive agent (as a push subscription's front end reuses connections),
 * until `count` requests are sent or `capMs` has passed; requests in flight at the cap finish.
 */
export async function closedLoop(options: {
  readonly url: string;
  readonly concurrency: number;
  readonly count: number;
  readonly capMs: number;
  /** The body of request `i` (0-based), built when it is sent. */
  readonly body: (i: number) => string;
  readonly timeoutMs?: number;
}): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const errors = new Map<string, number>();
  const latenciesMs: number[] = [];
  let next = 0;
  let ok = 0;
  let capped = false;
  const start = performance.now();
  const deadline = start + options.capMs;
  const fail = (key: string) => errors.set(key, (errors.get(key) ?? 0) + 1);
  const send = (i: number) =>
    new Promise<void>((resolve) => {
      const body = Buffer.from(options.body(i));
      const t = performance.now();
      const done = (status: number | undefined, text: string) => {
        latenciesMs.push(performance.now() - t);
        if (status !== undefined && status >= 200 && status < 300) ok++;
        else fail(`${status ?? 'error'}: ${text.split('\n')[0]!.slice(0, 160)}`);
        resolve();
      };
      const req = request(
        options.url,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => {
            if (text.length < 2000) text += c.toString();
          });
          res.on('end', () => done(res.statusCode, text));
          res.on('error', (e) => done(undefined, e.message));
        },
      );
      req.setTimeout(options.timeoutMs ?? 120_000, () => req.destroy(new Error('no answer within the request timeout')));
      req.on('error', (e) => done(undefined, e.message));
      req.end(body);
    });
  const worker = async () => {
    for (;;) {
      if (next >= options.count) return;
      if (performance.now() >= deadline) {
        capped = true;
        return;
      }
      await send(next++);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const elapsedMs = performance.now() - start;
  agent.destroy();
  return { completed: latenciesMs.length, ok, errors, latenciesMs, elapsedMs, capped };
}

/** Nearest-rank percentile (`p` in 0–100) of unsorted values; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}
