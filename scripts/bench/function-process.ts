import { readFileSync } from 'node:fs';
import { freePort, trackProcessGroup } from '../../testkit/emulators';
import { portOpen, spawnFunctionsFramework } from '../../testkit/function-host';

/**
 * One Functions Framework process serving a CloudEvent function from a directory, started as
 * testkit/function-host.ts starts it (same command line), but with what a benchmark needs: its
 * pid (for /proc), the moment it was spawned, a tight readiness probe, and output kept as a
 * count and a short tail instead of every line.
 */
export interface FunctionProcess {
  /** Base URL, ending in `/`. */
  readonly url: string;
  readonly pid: number;
  /** `performance.now()` just before the spawn. */
  readonly spawnedAt: number;
  /** `performance.now()` when the port first accepted a connection. */
  readonly readyAt: number;
  /** Lines printed so far, and the last few of them. */
  output(): { readonly lines: number; readonly tail: readonly string[] };
  /** Peak resident set size (VmHWM) so far, MB. */
  peakRssMb(): number | undefined;
  /** User + system CPU time used so far, ms. */
  cpuMs(): number | undefined;
  /** Stops the process group (idempotent). */
  stop(): Promise<void>;
}

const TAIL_LINES = 20;
/** Clock ticks per second of /proc/<pid>/stat; 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

/** Serves `target` from `dir` with the Functions Framework in `dir/node_modules`, in its own process group. */
export async function startFunctionProcess(options: {
  readonly node: string;
  readonly dir: string;
  readonly target: string;
  readonly env: Record<string, string>;
  /** Readiness probe interval, ms: small, because the cold-path figure starts at the spawn. */
  readonly pollMs?: number;
  readonly startTimeoutMs?: number;
}): Promise<FunctionProcess> {
  const port = await freePort();
  const spawnedAt = performance.now();
  const child = spawnFunctionsFramework(options.node, options.dir, options.target, port, options.env);
  const untrack = trackProcessGroup(child);
  const pid = child.pid!;
  let lines = 0;
  const tail: string[] = [];
  let partial = '';
  const collect = (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines++;
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
    }
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    untrack();
    if (!alive()) return;
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      return; // already gone
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }, 3000);
    await exited;
    clearTimeout(timer);
  };
  const proc = (file: string): string | undefined => {
    try {
      return readFileSync(`/proc/${pid}/${file}`, 'utf8');
    } catch {
      return undefined;
    }
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  while (!(await portOpen(port))) {
    if (!alive() || Date.now() > deadline) {
      await stop();
      throw new Error(`${options.target} did not start on port ${port}:\n${[...tail, partial].join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, options.pollMs ?? 5));
  }
  const readyAt = performance.now();
  return {
    url: `http://127.0.0.1:${port}/`,
    pid,
    spawnedAt,
    readyAt,
    output: () => ({ lines, tail: [...tail] }),
    peakRssMb() {
      const kb = /^VmHWM:\s+(\d+) kB/m.exec(proc('status') ?? '')?.[1];
      return kb === undefined ? undefined : Number(kb) / 1024;
    },
    cpuMs() {
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const stat = proc('stat');
      if (stat === undefined) return undefined;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
    },
    stop,
  };
}
