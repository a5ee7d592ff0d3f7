import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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
  /**
   * Stops the function's process and starts another on the same port, as Cloud Run starts a new
   * instance: the next event meets a cold instance (no clients, no baseline index). `logs` goes on.
   */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** The files of a source zip that `npm ci` installs from. */
const INSTALL_INPUTS = ['package.json', 'package-lock.json', '.npmrc'] as const;

/**
 * Unpacks a source zip into a fresh directory and provides its dependencies: `install` uses the
 * tree `npm ci` makes from the zip's own lockfile (see {@link installedDependencies}); `link`
 * points node_modules at the project's own (fast, for tests of the bundle alone).
 */
export function unpackFunction(zipPath: string, dependencies: 'install' | 'link'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'svir-function-'));
  new AdmZip(zipPath).extractAllTo(dir, true);
  const modules = dependencies === 'link' ? join(packageRoot(__dirname), 'node_modules') : installedDependencies(installInputs(zipPath));
  symlinkSync(modules, join(dir, 'node_modules'), 'dir');
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Installs, ahead of the suites, the dependencies a zip locks (see {@link installedDependencies}). */
export function prepareFunctionDependencies(zipPath: string): void {
  installedDependencies(installInputs(zipPath));
}

function installInputs(zipPath: string): Map<string, Buffer> {
  const zip = new AdmZip(zipPath);
  const files = new Map<string, Buffer>();
  for (const name of INSTALL_INPUTS) {
    const data = zip.getEntry(name)?.getData();
    if (data !== undefined) files.set(name, data);
  }
  // The tests judge the rest of the zip; without a lockfile `npm ci` itself refuses.
  if (!files.has('package.json')) throw new Error(`${zipPath} holds no package.json`);
  return files;
}

/** What a run of {@link npmCiOffline} printed and how long it took. */
export interface OfflineInstall {
  readonly status: number | null;
  readonly stderr: string;
  readonly ms: number;
}

/**
 * Runs `npm ci --offline` in `dir` as the Cloud Functions build runs `npm ci` (production
 * dependencies only, `NODE_ENV=production`, the directory's own `.npmrc` in force), from npm's
 * local cache, which the repository's own `npm ci` fills: nothing comes from the registry.
 * Settings an enclosing `npm test` exports to its children are left out, so they cannot
 * override the directory's `.npmrc`.
 */
export function npmCiOffline(dir: string): OfflineInstall {
  const env: NodeJS.ProcessEnv = { NODE_ENV: 'production' };
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_/i.test(k) || /^npm_config_cache$/i.test(k)) env[k] ??= v;
  }
  const started = performance.now();
  const run = spawnSync('npm', ['ci', '--offline', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: dir,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return { status: run.status, stderr: run.stderr, ms: Math.round(performance.now() - started) };
}

/**
 * The `node_modules` that {@link npmCiOffline} makes from a zip's package.json, lockfile and
 * .npmrc: installed once per distinct set of those files (keyed by their SHA-256, shared by the
 * suites of a run and by later runs), into a staging directory renamed into place, so concurrent
 * suites never see a half-installed tree.
 */
function installedDependencies(inputs: ReadonlyMap<string, Buffer>): string {
  const h = createHash('sha256').update('npm ci --offline --omit=dev\0');
  for (const [name, data] of inputs) h.update(`${name}\0`).update(data).update('\0');
  const target = join(tmpdir(), `svir-function-deps-${h.digest('hex').slice(0, 16)}`);
  if (existsSync(join(target, 'node_modules'))) return join(target, 'node_modules');
  const staging = mkdtempSync(join(tmpdir(), 'svir-function-deps-staging-'));
  for (const [name, data] of inputs) writeFileSync(join(staging, name), data);
  const install = npmCiOffline(staging);
  if (install.status !== 0) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(
      `npm ci --offline from the function's lockfile failed (run 'npm ci' at the repository root to fill npm's cache): ${install.stderr}`,
    );
  }
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
 * Starts the Functions Framework installed in `dir/node_modules` on `port` through the bin link
 * npm made (the command the Cloud Functions image starts), serving the
 * CloudEvent function `target`, in its own process group (stopped as a group, and killed if the
 * caller is interrupted), with no metadata server and no variables but `env` and PATH.
 */
export function spawnFunctionsFramework(node: string, dir: string, target: string, port: number, env: Record<string, string>) {
  return spawn(
    node,
    [join(dir, 'node_modules', '.bin', 'functions-framework'), `--target=${target}`, '--signature-type=cloudevent', `--port=${port}`],
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
  const logs: Array<Record<string, unknown>> = [];
  let child: ChildProcess;
  let untrack: () => void;
  const start = async () => {
    child = spawnFunctionsFramework(nodeBinary(options.nodeMajor), options.dir, options.entryPoint, port, options.env);
    untrack = trackProcessGroup(child);
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
    const deadline = Date.now() + 20_000;
    while (!(await portOpen(port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await stop();
        throw new Error(`function did not start on port ${port}: ${JSON.stringify(logs)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
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
  await start();
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
    async restart() {
      await stop();
      await start();
    },
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
