import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
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

async function startEmulator(
  label: string,
  binary: string,
  args: (port: number) => string[],
  tuning: EmulatorTuning,
): Promise<RunningEmulator> {
  if (!existsSync(binary)) throw new Error(`${label} emulator not found at ${binary}`);
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const jvm = JVM_OPTIONS[tuning];
  const child = spawn(binary, args(port), {
    detached: true, // own process group, stopped as a group
    stdio: ['ignore', 'pipe', 'pipe'],
    // Read by every JVM, whatever its launcher script does with JAVA_OPTS.
    env: jvm === undefined ? process.env : { ...process.env, JAVA_TOOL_OPTIONS: jvm },
  });
  running.add(child);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
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
    if (child.exitCode !== null) throw new Error(`${label} emulator exited with ${child.exitCode}:\n${output}`);
    try {
      await httpRequest(`http://${host}/`);
      return { host, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`${label} emulator did not answer on ${host} within 30 s:\n${output}`);
}

/** Starts the Firestore emulator on a free loopback port in its own process group. */
export function startFirestoreEmulator(tuning: EmulatorTuning = 'short'): Promise<RunningEmulator> {
  return startEmulator('Firestore', FIRESTORE_EMULATOR, (port) => ['start', '--host=127.0.0.1', `--port=${port}`], tuning);
}

/** Starts the Pub/Sub emulator on a free loopback port in its own process group. */
export function startPubsubEmulator(tuning: EmulatorTuning = 'short'): Promise<RunningEmulator> {
  return startEmulator('Pub/Sub', PUBSUB_EMULATOR, (port) => ['--host=127.0.0.1', `--port=${port}`], tuning);
}
