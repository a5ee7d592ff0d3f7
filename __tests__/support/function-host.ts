import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AdmZip from 'adm-zip';
import { packageRoot } from '../../lib/bundle/sources';
import { freePort } from './emulators';
import { httpRequest } from './http';
import { nodeBinary } from './node-runtime';

/** A function served by the Functions Framework from an unpacked source zip. */
export interface FunctionHost {
  readonly url: string;
  /** Every line the function printed, parsed when it is JSON. */
  readonly logs: Array<Record<string, unknown>>;
  /**
   * Delivers a Pub/Sub `messagePublished` CloudEvent the way Eventarc does (binary mode) and,
   * when it was acknowledged, waits for the handler's log line for it (stdout and the HTTP
   * reply travel separately).
   */
  deliver(data: unknown, id: string): Promise<number>;
  stop(): Promise<void>;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/**
 * Unpacks the zip, resolves its declared dependency from the project's node_modules, and
 * serves it with the Functions Framework on the given Node major in its own process group.
 */
export async function serveFunctionZip(options: {
  zipPath: string;
  entryPoint: string;
  nodeMajor: number;
  env: Record<string, string>;
}): Promise<FunctionHost> {
  const dir = mkdtempSync(join(tmpdir(), 'svir-function-'));
  new AdmZip(options.zipPath).extractAllTo(dir, true);
  symlinkSync(join(packageRoot(__dirname), 'node_modules'), join(dir, 'node_modules'), 'dir');
  const port = await freePort();
  const child: ChildProcess = spawn(
    nodeBinary(options.nodeMajor),
    [join(dir, 'node_modules/@google-cloud/functions-framework/build/src/main.js'), `--target=${options.entryPoint}`, '--signature-type=cloudevent', `--port=${port}`],
    { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', METADATA_SERVER_DETECTION: 'none', ...options.env } },
  );
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
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      const exited = new Promise((r) => child.once('exit', r));
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // gone
      }
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  while (!(await portOpen(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`function did not start on port ${port}: ${JSON.stringify(logs)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = `http://127.0.0.1:${port}/`;
  return {
    url,
    logs,
    stop,
    async deliver(data, id) {
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
      const deadline = Date.now() + 5000;
      while (res.status < 300 && !logs.some((l) => l.eventId === id) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      return res.status;
    },
  };
}
