import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AdmZip from 'adm-zip';
import { packageRoot } from '../lib/bundle/sources';
import { freePort, trackProcessGroup } from './emulators';
import { httpRequest } from './http';
import { nodeBinary } from './node-runtime';

/** A function served by the Functions Framework from an unpacked source zip. */
export interface FunctionHost {
  /** Base URL, ending in `/`. */
  readonly url: string;
  /** Every line the function printed, parsed when it is JSON. */
  readonly logs: Array<Record<string, unknown>>;
  /**
   * Delivers a Pub/Sub `messagePublished` CloudEvent the way Eventarc does (binary mode) and,
   * when it was acknowledged, waits for the handler's log line for this delivery. Delivering
   * the same `id` again is what a redelivery of the same message looks like to the function.
   */
  deliver(data: unknown, id: string): Promise<number>;
  /**
   * Waits until the function logged a line for this event id (the first one matching `where`,
   * e.g. the decision after retry lines; with `since`, the first at or after that index of
   * `logs`, e.g. the line of a second delivery); returns that line.
   */
  waitForLog(
    eventId: string,
    options?: { timeoutMs?: number; where?: (line: Record<string, unknown>) => boolean; since?: number },
  ): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/**
 * Unpacks a source zip into a fresh directory and provides its declared dependencies:
 * `install` runs `npm install --omit=dev` as the Cloud Functions build does; `link` points
 * node_modules at the project's own (fast, for tests of the bundle alone).
 */
export function unpackFunction(zipPath: string, dependencies: 'install' | 'link'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'svir-function-'));
  new AdmZip(zipPath).extractAllTo(dir, true);
  if (dependencies === 'link') {
    symlinkSync(join(packageRoot(__dirname), 'node_modules'), join(dir, 'node_modules'), 'dir');
  } else {
    symlinkSync(installedDependencies(readFileSync(join(dir, 'package.json'))), join(dir, 'node_modules'), 'dir');
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Installs, ahead of the suites, the dependencies a zip declares (see {@link installedDependencies}). */
export function prepareFunctionDependencies(zipPath: string): void {
  const packageJson = new AdmZip(zipPath).getEntry('package.json')?.getData();
  if (packageJson === undefined) throw new Error(`${zipPath} holds no package.json`);
  installedDependencies(packageJson);
}

/**
 * The `node_modules` that `npm install --omit=dev` makes from a zip's package.json, as the
 * Cloud Functions build does: installed once per distinct package.json (keyed by its SHA-256,
 * shared by the suites of a run and by later runs), into a staging directory renamed into place,
 * so concurrent suites never see a half-installed tree.
 */
function installedDependencies(packageJson: Buffer): string {
  const key = createHash('sha256').update(packageJson).digest('hex').slice(0, 16);
  const target = join(tmpdir(), `svir-function-deps-${key}`);
  if (existsSync(join(target, 'node_modules'))) return join(target, 'node_modules');
  const staging = mkdtempSync(join(tmpdir(), 'svir-function-deps-staging-'));
  writeFileSync(join(staging, 'package.json'), packageJson);
  execFileSync('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--no-package-lock', '--prefer-offline', '--loglevel=error'], {
    cwd: staging,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  try {
    renameSync(staging, target);
  } catch {
    // Another suite installed the same dependencies first: use theirs.
    rmSync(staging, { recursive: true, force: true });
  }
  return join(target, 'node_modules');
}

/** Whether something accepts connections on a loopback port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts the Functions Framework installed in `dir/node_modules` on `port`, serving the
 * CloudEvent function `target`, in its own process group (stopped as a group, and killed if the
 * caller is interrupted), with no metadata server and no variables but `env` and PATH.
 */
export function spawnFunctionsFramework(node: string, dir: string, target: string, port: number, env: Record<string, string>) {
  return spawn(
    node,
    [
      join(dir, 'node_modules/@google-cloud/functions-framework/build/src/main.js'),
      `--target=${target}`,
      '--signature-type=cloudevent',
      `--port=${port}`,
    ],
    {
      cwd: dir,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '', METADATA_SERVER_DETECTION: 'none', ...env },
    },
  );
}

/**
 * Serves an unpacked function with the Functions Framework it declares, on the given Node
 * major, in its own process group.
 */
export async function serveFunction(options: {
  dir: string;
  entryPoint: string;
  nodeMajor: number;
  env: Record<string, string>;
}): Promise<FunctionHost> {
  const port = await freePort();
  const child: ChildProcess = spawnFunctionsFramework(nodeBinary(options.nodeMajor), options.dir, options.entryPoint, port, options.env);
  const untrack = trackProcessGroup(child);
  const logs: Array<Record<string, unknown>> = [];
  let buffered = '';
  const collect = (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      try {
        logs.push(JSON.parse(line));
      } catch {
        logs.push({ text: line });
      }
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const stop = async () => {
    untrack();
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      const exited = new Promise((r) => child.once('exit', r));
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // gone
      }
      await exited;
    }
  };
  const deadline = Date.now() + 20_000;
  while (!(await portOpen(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`function did not start on port ${port}: ${JSON.stringify(logs)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const waitForLog: FunctionHost['waitForLog'] = async (eventId, { timeoutMs = 10_000, where = () => true, since = 0 } = {}) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = logs.find((l, i) => i >= since && l.eventId === eventId && where(l));
      if (line) return line;
      if (Date.now() > deadline)
        throw new Error(`no log line for event ${eventId} within ${timeoutMs} ms; logs: ${JSON.stringify(logs.slice(-5))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const url = `http://127.0.0.1:${port}/`;
  return {
    url,
    logs,
    stop,
    waitForLog,
    async deliver(data, id) {
      const since = logs.length;
      const res = await httpRequest(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'ce-id': id,
          'ce-specversion': '1.0',
          'ce-type': 'google.cloud.pubsub.topic.v1.messagePublished',
          'ce-source': '//pubsub.googleapis.com/projects/fleet-prod-1234/topics/integrity-responder-events',
          'ce-time': new Date().toISOString(),
        },
        body: JSON.stringify(data),
      });
      if (res.status < 300) await waitForLog(id, { timeoutMs: 5000, since });
      return res.status;
    },
  };
}
