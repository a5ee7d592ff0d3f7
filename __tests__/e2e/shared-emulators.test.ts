import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { httpRequest } from '../../testkit/http';
import { SHARED_EMULATORS_DIR, stopSharedEmulators } from '../../testkit/shared-emulators';

// The emulators a Jest worker shares between its suites (ADR 0019), with a stand-in for the
// emulator binaries: a Node HTTP server on the --port it is given, answering `GET /` and
// `POST /reset` as the emulators do, and telling how many resets it had (`GET /resets`).
const FAKE_SERVER = `
const http = require('node:http');
const port = Number(process.argv.find((a) => a.startsWith('--port=')).slice('--port='.length));
let resets = 0;
http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/reset') { resets++; res.end('Resetting...'); return; }
  res.end(req.url === '/resets' ? String(resets) : 'Ok');
}).listen(port, '127.0.0.1');
setTimeout(() => process.exit(0), 120000); // never outlives a broken test by long
`;

type Emulators = typeof import('../../testkit/emulators');

describe('emulators shared by the suites of a worker', () => {
  const saved = { sdk: process.env.GOOGLE_CLOUD_SDK_ROOT, dir: process.env[SHARED_EMULATORS_DIR] };
  let sdk: string;
  let dir: string;

  /** A fresh copy of the module, as each test file gets: it reads the SDK root when it loads. */
  function loadEmulators(): Emulators {
    let loaded: Emulators | undefined;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      loaded = require('../../testkit/emulators') as Emulators;
    });
    return loaded!;
  }

  const resets = async (host: string) => Number((await httpRequest(`http://${host}/resets`)).body);
  const spawned = () => readdirSync(dir).filter((f) => /^spawned-\d+$/.test(f));
  const groupOf = (record: string) => Number(/\d+/.exec(record)![0]);
  const gone = (pid: number) => {
    try {
      process.kill(-pid, 0);
      return false;
    } catch {
      return true;
    }
  };

  beforeAll(() => {
    sdk = mkdtempSync(join(tmpdir(), 'svir-fake-sdk-'));
    const server = join(sdk, 'fake-emulator.js');
    writeFileSync(server, FAKE_SERVER);
    for (const binary of [
      'platform/cloud-firestore-emulator/cloud_firestore_emulator',
      'platform/pubsub-emulator/bin/cloud-pubsub-emulator',
    ]) {
      mkdirSync(dirname(join(sdk, binary)), { recursive: true });
      writeFileSync(join(sdk, binary), `#!/bin/sh\nexec '${process.execPath}' '${server}' "$@"\n`);
      chmodSync(join(sdk, binary), 0o755);
    }
    process.env.GOOGLE_CLOUD_SDK_ROOT = sdk;
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'svir-shared-test-'));
    process.env[SHARED_EMULATORS_DIR] = dir;
  });

  afterEach(async () => {
    await stopSharedEmulators(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  afterAll(() => {
    rmSync(sdk, { recursive: true, force: true });
    for (const [name, value] of [
      ['GOOGLE_CLOUD_SDK_ROOT', saved.sdk],
      [SHARED_EMULATORS_DIR, saved.dir],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it("gives the worker's next suite the same emulator, reset after each suite and before the next", async () => {
    const first = await loadEmulators().useFirestoreEmulator();
    expect(spawned()).toHaveLength(1);
    expect(await resets(first.host)).toBe(0); // new, so empty
    await first.stop();
    expect(await resets(first.host)).toBe(1);

    const next = await loadEmulators().useFirestoreEmulator(); // the next test file of the worker
    expect(next.host).toBe(first.host);
    expect(await resets(next.host)).toBe(2);
    expect(spawned()).toHaveLength(1);
    await next.stop();
  });

  it('refuses a second hold of the same emulator in one test file until the first is handed back', async () => {
    const emulators = loadEmulators();
    const held = await emulators.usePubsubEmulator();
    await expect(emulators.usePubsubEmulator()).rejects.toThrow(
      'this test file already holds the shared Pub/Sub emulator: stop() it before asking again',
    );
    await held.stop();
    const again = await emulators.usePubsubEmulator();
    expect(again.host).toBe(held.host);
    await again.stop();
  });

  it('replaces an emulator that stopped answering, and records the new one', async () => {
    const first = await loadEmulators().useFirestoreEmulator();
    await first.stop();
    const [record] = spawned();
    process.kill(-groupOf(record!), 'SIGKILL');
    while (!gone(groupOf(record!))) await new Promise((r) => setTimeout(r, 20));

    const next = await loadEmulators().useFirestoreEmulator();
    expect(next.host).not.toBe(first.host);
    expect(await resets(next.host)).toBe(0);
    expect(spawned()).toHaveLength(2);
    await next.stop();
  });

  it('ends every recorded process group when the run stops, past a record of a group already gone', async () => {
    const emulators = loadEmulators();
    const firestore = await emulators.useFirestoreEmulator();
    const pubsub = await emulators.usePubsubEmulator();
    // A group that no longer exists (above the highest pid the kernel hands out).
    const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
    writeFileSync(join(dir, `spawned-${pidMax + 1}`), '');
    const groups = spawned().map(groupOf);
    expect(groups).toHaveLength(3);

    await stopSharedEmulators(dir);
    for (const pid of groups) expect({ pid, gone: gone(pid) }).toEqual({ pid, gone: true });
    for (const host of [firestore.host, pubsub.host]) await expect(httpRequest(`http://${host}/`)).rejects.toThrow(/ECONNREFUSED/);
  });
});
