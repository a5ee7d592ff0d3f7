import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describeMissing, emulatorPaths, missingRequirements } from '../scripts/setup/system-packages';
import { httpRequest } from './http';
import { SHARED_EMULATORS_DIR, killGroup as killSharedGroup, readCurrent, recordSpawn, writeCurrent } from './shared-emulators';

// In the Google Cloud SDK that GOOGLE_CLOUD_SDK_ROOT names, else where its Debian packages put it.
// scripts/setup, which installs them, holds the paths and package names.
const { firestore: FIRESTORE_EMULATOR, pubsub: PUBSUB_EMULATOR } = emulatorPaths(process.env);

/**
 * A running emulator: its `host:port`, and how to stop it (idempotent). For the emulator a Jest
 * worker shares between its suites, `stop()` empties it and hands it back.
 */
export interface RunningEmulator {
  readonly host: string;
  stop(): Promise<void>;
}

/** Asks the OS for a free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const running = new Set<ChildProcess>();

/** Registers a detached child (its own process group) to be killed if the run is interrupted. */
export function trackProcessGroup(child: ChildProcess): () => void {
  running.add(child);
  return () => running.delete(child);
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal); // the whole group: launcher script, JVM and all
  } catch {
    // already gone
  }
}

// A test run that is interrupted must not leave JVMs behind.
for (const signal of ['exit', 'SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of running) killGroup(child, 'SIGKILL');
    if (signal !== 'exit') process.exit(130);
  });
}

/**
 * Whether the emulators can run here; when not, what is missing, with its Debian package (`npm
 * test` and `npm run demo` install them where they can, or say how).
 */
export function emulatorsAvailable(): { readonly ok: true } | { readonly ok: false; readonly missing: string } {
  const missing = missingRequirements(process.env);
  return missing.length === 0 ? { ok: true } : { ok: false, missing: describeMissing(missing) };
}

/**
 * How an emulator's JVM is tuned. `short` (the default: test suites, demos) compiles with the
 * client compiler only and collects with the serial collector: measured here, starting both
 * emulators and making 300 commits and reads took 3–4 s of CPU instead of 8 s, and less time.
 * `throughput` keeps the JVM's defaults, whose optimising compiler pays off over minutes of load
 * (the storm bench).
 */
export type EmulatorTuning = 'short' | 'throughput';

const JVM_OPTIONS: Record<EmulatorTuning, string | undefined> = {
  short: '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:CICompilerCount=1',
  throughput: undefined,
};

/** Where an emulator's output goes: kept in memory for the error message, or written to a file. */
type Output = { readonly to: 'memory' } | { readonly to: 'file'; readonly path: string };

interface StartOptions {
  readonly output?: Output;
  /** Called with the process group right after the spawn, before the emulator answers. */
  readonly onSpawn?: (pid: number) => void;
}

async function startEmulator(
  label: string,
  binary: string,
  args: (port: number) => string[],
  tuning: EmulatorTuning,
  { output = { to: 'memory' }, onSpawn }: StartOptions = {},
): Promise<RunningEmulator & { readonly pid: number; unref(): void }> {
  if (!existsSync(binary)) throw new Error(`${label} emulator not found at ${binary}`);
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const jvm = JVM_OPTIONS[tuning];
  const fd = output.to === 'file' ? openSync(output.path, 'w') : undefined;
  const child = spawn(binary, args(port), {
    detached: true, // own process group, stopped as a group
    stdio: fd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', fd, fd],
    // Read by every JVM, whatever its launcher script does with JAVA_OPTS.
    env: jvm === undefined ? process.env : { ...process.env, JAVA_TOOL_OPTIONS: jvm },
  });
  if (fd !== undefined) closeSync(fd);
  running.add(child);
  if (child.pid !== undefined) onSpawn?.(child.pid);
  let captured = '';
  child.stdout?.on('data', (d: Buffer) => (captured += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (captured += d.toString()));
  const outputSoFar = () => (output.to === 'file' ? readFileSync(output.path, 'utf8') : captured);
  const stop = async (): Promise<void> => {
    running.delete(child);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    killGroup(child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${label} emulator exited with ${child.exitCode}:\n${outputSoFar()}`);
    try {
      await httpRequest(`http://${host}/`);
      return { host, stop, pid: child.pid!, unref: () => (running.delete(child), child.unref()) };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`${label} emulator did not answer on ${host} within 30 s:\n${outputSoFar()}`);
}

/** Starts the Firestore emulator on a free loopback port in its own process group. */
export function startFirestoreEmulator(tuning: EmulatorTuning = 'short'): Promise<RunningEmulator> {
  return startEmulator('Firestore', FIRESTORE_EMULATOR, (port) => ['start', '--host=127.0.0.1', `--port=${port}`], tuning);
}

/** Starts the Pub/Sub emulator on a free loopback port in its own process group. */
export function startPubsubEmulator(tuning: EmulatorTuning = 'short'): Promise<RunningEmulator> {
  return startEmulator('Pub/Sub', PUBSUB_EMULATOR, (port) => ['--host=127.0.0.1', `--port=${port}`], tuning);
}

/*
 * Emulators shared by the suites of one Jest worker (ADR 0019). Starting a JVM costs seconds of
 * CPU, and the suites of a worker run one after another: the first suite of a worker that asks
 * for an emulator starts it, later ones reuse it, each on a clean slate: new, or emptied by
 * `POST /reset` (the Firestore emulator drops every project's documents, the Pub/Sub emulator its
 * topics and subscriptions). The global setup names a directory in SHARED_EMULATORS_DIR
 * (testkit/shared-emulators.ts): each emulator's process group is recorded there as it is
 * spawned, and the run stops every recorded group when it ends, however it ends. Outside Jest
 * (no directory), every call starts an emulator of its own, ended by its `stop()`.
 */

type Kind = 'firestore' | 'pubsub';

/** How long a reset or a liveness probe of a shared emulator may take before it is replaced. */
const SHARED_PROBE_MS = 10_000;

/** Kinds taken by this test file and not yet handed back (each test file has its own copy of this module). */
const taken = new Set<Kind>();

async function resetWorks(host: string): Promise<boolean> {
  try {
    return (await httpRequest(`http://${host}/reset`, { method: 'POST', timeoutMs: SHARED_PROBE_MS })).status === 200;
  } catch {
    return false;
  }
}

async function useShared(kind: Kind, label: string, binary: string, args: (port: number) => string[]): Promise<RunningEmulator> {
  const dir = process.env[SHARED_EMULATORS_DIR];
  if (!dir) return startEmulator(label, binary, args, 'short');
  if (taken.has(kind)) throw new Error(`this test file already holds the shared ${label} emulator: stop() it before asking again`);
  taken.add(kind);
  try {
    let current = readCurrent(dir, kind);
    // One that stopped answering, or cannot be emptied (a reset waits on pulls still hanging), is replaced.
    if (current !== undefined && !(await resetWorks(current.host))) {
      killSharedGroup(current.pid);
      current = undefined;
    }
    if (current === undefined) {
      const started = await startEmulator(label, binary, args, 'short', {
        output: { to: 'file', path: join(dir, `${kind}-${process.pid}-${Date.now()}.log`) },
        onSpawn: (pid) => recordSpawn(dir, pid),
      });
      // The run stops it; nothing of this test file may keep the worker waiting for it.
      started.unref();
      current = { host: started.host, pid: started.pid };
      writeCurrent(dir, kind, current);
    }
    const { host, pid } = current;
    return {
      host,
      // Handed back empty: a push subscription left behind would go on pushing to a function that
      // is gone. One that cannot be emptied is ended; the next suite starts another.
      stop: async () => {
        if (!taken.delete(kind)) return;
        if (!(await resetWorks(host))) killSharedGroup(pid);
      },
    };
  } catch (e) {
    taken.delete(kind);
    throw e;
  }
}

/** The Firestore emulator of this Jest worker, emptied; a fresh one outside Jest. */
export function useFirestoreEmulator(): Promise<RunningEmulator> {
  return useShared('firestore', 'Firestore', FIRESTORE_EMULATOR, (port) => ['start', '--host=127.0.0.1', `--port=${port}`]);
}

/** The Pub/Sub emulator of this Jest worker, emptied; a fresh one outside Jest. */
export function usePubsubEmulator(): Promise<RunningEmulator> {
  return useShared('pubsub', 'Pub/Sub', PUBSUB_EMULATOR, (port) => ['--host=127.0.0.1', `--port=${port}`]);
}
