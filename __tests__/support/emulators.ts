import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

/** Where the Google Cloud SDK's Debian packages install the emulators. */
const FIRESTORE_EMULATOR = '/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud_firestore_emulator';

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
 * Starts the Firestore emulator on a free loopback port in its own process group and waits
 * until it answers. Fails with the package to install when the emulator is missing.
 */
export async function startFirestoreEmulator(): Promise<RunningEmulator> {
  if (!existsSync(FIRESTORE_EMULATOR)) {
    throw new Error(
      `Firestore emulator not found at ${FIRESTORE_EMULATOR}: install the Debian package google-cloud-cli-firestore-emulator (and a Java runtime, e.g. default-jre-headless)`,
    );
  }
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const child = spawn(FIRESTORE_EMULATOR, ['start', '--host=127.0.0.1', `--port=${port}`], {
    detached: true, // own process group, stopped as a group
    stdio: ['ignore', 'pipe', 'pipe'],
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
    if (child.exitCode !== null) throw new Error(`Firestore emulator exited with ${child.exitCode}:\n${output}`);
    try {
      const res = await fetch(`http://${host}/`);
      if (res.ok) return { host, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`Firestore emulator did not answer on ${host} within 30 s:\n${output}`);
}
