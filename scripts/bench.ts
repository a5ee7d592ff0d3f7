import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AdmZip from 'adm-zip';
import { startFirestoreEmulator } from '../testkit/emulators';
import { FakeComputeApi } from '../testkit/fake-compute';
import { integrityEntry, linuxPcrs, pubsubData, tutorialDocument, windowsPcrs } from '../testkit/fixtures';
import { nodeBinary } from '../testkit/node-runtime';
import { FirestoreBaselineStore } from '../function/adapters/firestore-store';
import { baselineDocument } from '../function/core/baseline';
import { createFirestore } from '../function/runtime/clients';
import { createHandlerDeps } from '../function/runtime/composition';
import { loadConfig } from '../function/runtime/config';
import { FunctionSettings, SETTINGS, functionEnvironment } from '../function/contract';
import { handleMessage } from '../function/core/handler';
import { jsonLogger } from '../function/runtime/logger';
import { parseMeasurements } from '../function/core/parse';
import { buildFunctionBundle } from '../lib/bundle/build';
import { bundleDir, packageRoot } from '../lib/bundle/sources';
import { stormFigures } from './bench-storm';
import { handleArguments } from './usage';

const USAGE = `usage: npm run bench [-- [--storm-only] [--quick] | --help]

Prints the performance figures the project holds itself to, next to their targets: bundle size
and cold require() on the runtime's Node major, synth time (direct and through the cdktf CLI),
Firestore reads and Compute calls per failed event (on the Firestore emulator and a loopback
Compute API). Then the storm section (scripts/bench-storm.ts): the function and a port of the
original tutorial's function, each served by the Functions Framework, under a storm of failed
reports pushed as Pub/Sub pushes them: throughput, p50/p99 latency, Firestore documents read and
Compute calls per event, peak RSS, and the cold path (a few minutes).
Needs the Firestore emulator and tools/runtime-node (npm run setup:runtime-node).

  --storm-only   only the storm section
  --quick        a short storm run (fewer events, 0 and 1,000 baselines), for iterating
`;

const args = handleArguments(USAGE, ['--storm-only', '--quick']);

// Prints the performance figures the project commits to. Figures, not pass/fail: compare
// them with the targets in the README.

const root = packageRoot(__dirname);
const RUNTIME_MAJOR = 24;

/** The function's settings in every measurement: the construct's defaults, errors-only logging. */
const BENCH_SETTINGS: FunctionSettings = {
  responseMode: SETTINGS.responseMode.default,
  firestoreDatabase: 'bench-baselines',
  baselineCollection: 'known_good_0',
  baselineApproval: SETTINGS.baselineApproval.default,
  ledgerDatabase: 'bench-decisions',
  projectId: 'fleet-prod-1234',
  logLevel: 'error',
  maxEventAgeSeconds: SETTINGS.maxEventAgeSeconds.default,
  relearnMaxAgeSeconds: SETTINGS.relearnMaxAgeSeconds.default,
  staleEventPolicy: SETTINGS.staleEventPolicy.default,
  computeTimeoutSeconds: SETTINGS.computeTimeoutSeconds.default,
  failureAction: SETTINGS.failureAction.default,
  exemptLabel: SETTINGS.exemptLabel.default!,
  enforcement: SETTINGS.enforcement.default,
  scope: 'projects/fleet-prod-1234',
  excludedProjects: SETTINGS.excludedProjects.default!,
  instanceGroupAction: SETTINGS.instanceGroupAction.default,
  maxActionsPerWindow: SETTINGS.maxActionsPerWindow.default,
  actionWindowSeconds: SETTINGS.actionWindowSeconds.default,
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function row(name: string, value: string, target: string): void {
  process.stdout.write(`${name.padEnd(72)} ${value.padStart(14)}   (target ${target})\n`);
}

function time(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

async function bundleFigures(): Promise<void> {
  const m = await buildFunctionBundle(root);
  row('bundle: index.js size', `${(m.bundleBytes / 1e6).toFixed(2)} MB`, '≤ 7 MB');
  row('bundle: zip size', `${(m.zipBytes / 1e6).toFixed(2)} MB`, '-');

  const dir = mkdtempSync(join(tmpdir(), 'svir-bench-'));
  try {
    new AdmZip(join(bundleDir(root), m.zipFile)).extractAllTo(dir, true);
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
    writeFileSync(
      join(dir, 'probe.js'),
      `const t = process.hrtime.bigint(); require('./index.js'); process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));`,
    );
    const node = nodeBinary(RUNTIME_MAJOR);
    const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
    const runs = Array.from({ length: 11 }, () =>
      Number(
        execFileSync(node, ['probe.js'], {
          cwd: dir,
          encoding: 'utf8',
          env: { PATH: process.env.PATH ?? '', METADATA_SERVER_DETECTION: 'none', ...functionEnvironment(BENCH_SETTINGS) },
        }),
      ),
    );
    row(`bundle: cold require('index.js') median of 11, node ${version}`, `${median(runs).toFixed(0)} ms`, '≤ 300 ms');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function synthFigures(): void {
  const quietTerraform = join(mkdtempSync(join(tmpdir(), 'svir-tfrc-')), 'terraformrc');
  writeFileSync(quietTerraform, '');
  const env = { ...process.env, CHECKPOINT_DISABLE: '1', DISABLE_VERSION_CHECK: '1', CI: 'true', TF_CLI_CONFIG_FILE: quietTerraform };
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { cwd: root, env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  };
  const app = ['--require', 'tsx/cjs', 'main.ts']; // the cdktf.json app command
  run(process.execPath, app); // warm the disk cache (and the bundle) once
  const direct = Array.from({ length: 5 }, () => time(() => run(process.execPath, app)));
  row('synth: app run directly (node --require tsx/cjs main.ts), median of 5', `${(median(direct) / 1000).toFixed(2)} s`, '≤ 2 s');
  const cdktf = join(root, 'node_modules', '.bin', 'cdktf');
  const cli = Array.from({ length: 3 }, () => time(() => run(cdktf, ['synth', '--quiet'])));
  row('synth: through the cdktf CLI (cdktf synth), median of 3', `${(median(cli) / 1000).toFixed(2)} s`, '≤ 5 s');
}

async function perEventFigures(): Promise<void> {
  const firestore = await startFirestoreEmulator();
  const compute = new FakeComputeApi();
  await compute.start();
  process.env.FIRESTORE_EMULATOR_HOST = firestore.host;
  process.env.METADATA_SERVER_DETECTION = 'none';
  const project = 'fleet-prod-1234';
  const zone = 'europe-west1-b';
  compute.add({ project, zone, name: 'web-1', id: '1001' });
  const config = loadConfig({ ...functionEnvironment(BENCH_SETTINGS), COMPUTE_API_ENDPOINT: compute.endpoint });
  const db = await createFirestore(config);
  try {
    const logger = jsonLogger('error');
    for (const count of [0, 100, 1000]) {
      const collection = `known_good_${count}`;
      for (let i = 0; i < count; i += 400) {
        const batch = db.batch();
        for (let j = i; j < Math.min(count, i + 400); j++)
          batch.set(db.collection(collection).doc(`noise-${j}`), tutorialDocument(windowsPcrs(`noise-${j}`)));
        await batch.commit();
      }
      const own = baselineDocument(parseMeasurements(linuxPcrs('own'), 'bench'));
      await db.collection(collection).doc(own.id).set(own.data);
      await db
        .collection(collection)
        .doc('tutorial-style')
        .set(tutorialDocument(linuxPcrs('tutorial')));
      const store = new FirestoreBaselineStore(async () => db, collection, logger);
      const reads = async (seed: string) => (await store.findExactMatch(parseMeasurements(linuxPcrs(seed), 'bench'))).reads;
      row(
        `reads per failed event with ${String(count).padStart(4)} baselines: own / tutorial / none`,
        `${await reads('own')} / ${await reads('tutorial')} / ${await reads('tampered')}`,
        'constant; own = 1',
      );
    }
    const deps = createHandlerDeps(config, logger);
    const cases = [
      ['stop', 'web-1', 'tampered', '3 (get + stop + wait)', '11'],
      ['stop, instance id only in the entry', null, 'tampered', '3 (get + stop + wait)', '12'],
      ['relearn', 'web-1', 'own', '3 (get + relearn + wait)', '13'],
    ] as const;
    for (const [label, name, seed, target, boot] of cases) {
      compute.requests.length = 0;
      const vm = compute.instances.find((i) => i.id === '1001')!;
      vm.status = 'RUNNING';
      await handleMessage(
        pubsubData(integrityEntry({ projectId: project, zone, instanceId: '1001', name, bootCounter: boot, actual: linuxPcrs(seed) })),
        deps,
        { id: `bench-${label}` },
      );
      const calls = compute.requests.map((r) => `${r.method} ${r.path.split('/').slice(-1)[0]}`).join(', ');
      row(`compute calls per failed event: ${label}`, String(compute.requests.length), `${target}; ${calls}`);
    }
  } finally {
    await db.terminate();
    await Promise.all([firestore.stop(), compute.stop()]);
  }
}

async function main(): Promise<void> {
  if (!args.includes('--storm-only')) {
    await bundleFigures();
    synthFigures();
    await perEventFigures();
  }
  await stormFigures({ settings: BENCH_SETTINGS, quick: args.includes('--quick') });
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
