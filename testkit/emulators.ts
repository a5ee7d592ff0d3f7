import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { httpRequest } from './http';

/** Root of the Google Cloud SDK: where its Debian packages install it, unless overridden. */
const SDK_ROOT = process.env.GOOGLE_CLOUD_SDK_ROOT || '/usr/lib/google-cloud-sdk';
const FIRESTORE_EMULATOR = `${SDK_ROOT}/platform/cloud-firestore-emulator/cloud_firestore_emulator`;
const PUBSUB_EMULATOR = `${SDK_ROOT}/platform/pubsub-emulator/bin/cloud-pubsub-emulator`;

/** A running emulator: its `host:port`, and how to stop it (idempotent). */
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

/** Whether the emulators can run here; when not, what to install. */
export function emulatorsAvailable(): { readonly ok: true } | { readonly ok: false; readonly missing: string } {
  const missing: string[] = [];
  if (!existsSync(FIRESTORE_EMULATOR))
    missing.push(`the Firestore emulator (Debian package google-cloud-cli-firestore-emulator, ${FIRESTORE_EMULATOR})`);
  if (!existsSync(PUBSUB_EMULATOR))
    missing.push(`the Pub/Sub emulator (Debian package google-cloud-cli-pubsub-emulator, ${PUBSUB_EMULATOR})`);
  if (spawnSync('java', ['-version'], { stdio: 'ignore' }).status !== 0) missing.push('Java');
  return missing.length === 0
    ? { ok: true }
    : { ok: false, missing: `${missing.join('; ')} (the emulators run on Java: Debian package default-jre-headless)` };
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

async function startEmulator(
  label: string,
  binary: string,
  args: (port: number) => string[],
  tuning: EmulatorTuning,
  output: Output = { to: 'memory' },
): Promise<RunningEmulator & { readonly pid: number; unref(): void }> {
  if (!existsSync(binary)) throw new Error(`${label} emulator not found at ${binary}`);
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const jvm = JVM_OPTIONS[tuning];
  const fd = output.to === 'file' ? openSync(output.path, 'a') : undefined;
  const child = spawn(binary, args(port), {
    detached: true, // own process group, stopped as a group
    stdio: fd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', fd, fd],
    // Read by every JVM, whatever its launcher script does with JAVA_OPTS.
    env: jvm === undefined ? process.env : { ...process.env, JAVA_TOOL_OPTIONS: jvm },
  });
  if (fd !== undefined) closeSync(fd);
  running.add(child);
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
 * Emulators shared by the suites of one Jest worker. Starting a JVM costs seconds of CPU, and
 * the suites of a worker run one after another: the first suite of a worker that asks for an
 * emulator starts it, the next ones reuse it, each on a clean slate (`POST /reset`, which both
 * emulators answer by dropping every project's data: topics, subscriptions, documents). The
 * global setup names a directory in SHARED_EMULATORS_DIR; a worker records each emulator it
 * started there, and the global teardown stops them. Outside Jest (or without the directory),
 * every call starts an emulator of its own, stopped by its `stop()`.
 */
export const SHARED_EMULATORS_DIR = 'SVIR_SHARED_EMULATORS_DIR';

type Kind = 'firestore' | 'pubsub';

interface SharedRecord {
  readonly host: string;
  /** The emulator's process group. */
  readonly pid: number;
}

async function answers(host: string): Promise<boolean> {
  try {
    await httpRequest(`http://${host}/`);
    return true;
  } catch {
    return false;
  }
}

async function reset(label: string, host: string): Promise<void> {
  const res = await httpRequest(`http://${host}/reset`, { method: 'POST' });
  if (res.status !== 200) throw new Error(`${label} emulator on ${host} did not reset: ${res.status} ${res.body}`);
}

async function useShared(kind: Kind, label: string, binary: string, args: (port: number) => string[]): Promise<RunningEmulator> {
  const dir = process.env[SHARED_EMULATORS_DIR];
  if (!dir) return startEmulator(label, binary, args, 'short');
  const file = join(dir, `${kind}-${process.pid}.json`);
  let host: string | undefined;
  if (existsSync(file)) {
    const recorded = JSON.parse(readFileSync(file, 'utf8')) as SharedRecord;
    if (await answers(recorded.host)) host = recorded.host;
  }
  if (host === undefined) {
    const started = await startEmulator(label, binary, args, 'short', { to: 'file', path: join(dir, `${kind}-${process.pid}.log`) });
    // The global teardown stops it; nothing of this suite may keep the worker waiting for it.
    started.unref();
    writeFileSync(file, JSON.stringify({ host: started.host, pid: started.pid } satisfies SharedRecord));
    host = started.host;
  }
  await reset(label, host);
  const shared = host;
  // Stopping hands the emulator back empty (a push subscription left behind would go on
  // pushing to a function that is gone); the next suite resets it again before use.
  return { host: shared, stop: () => reset(label, shared).catch(() => undefined) };
}

/** The Firestore emulator of this Jest worker, emptied; a fresh one outside Jest. */
export function useFirestoreEmulator(): Promise<RunningEmulator> {
  return useShared('firestore', 'Firestore', FIRESTORE_EMULATOR, (port) => ['start', '--host=127.0.0.1', `--port=${port}`]);
}

/** The Pub/Sub emulator of this Jest worker, emptied; a fresh one outside Jest. */
export function usePubsubEmulator(): Promise<RunningEmulator> {
  return useShared('pubsub', 'Pub/Sub', PUBSUB_EMULATOR, (port) => ['--host=127.0.0.1', `--port=${port}`]);
}

/** Stops every emulator the workers recorded in `dir` (the global teardown). */
export async function stopSharedEmulators(dir: string): Promise<void> {
  const groups = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => (JSON.parse(readFileSync(join(dir, f), 'utf8')) as SharedRecord).pid);
  const alive = (pid: number) => {
    try {
      process.kill(-pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const signal = (sig: NodeJS.Signals) => {
    for (const pid of groups.filter(alive)) process.kill(-pid, sig);
  };
  signal('SIGTERM');
  const deadline = Date.now() + 3000;
  while (groups.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  signal('SIGKILL');
}
