import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
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
import { FunctionSettings, NONE, SETTINGS, functionEnvironment } from '../function/contract';
import { handleMessage } from '../function/core/handler';
import { jsonLogger } from '../function/runtime/logger';
import { parseMeasurements } from '../function/core/parse';
import { buildFunctionBundle } from '../lib/bundle/build';
import { bundleDir, packageRoot } from '../lib/bundle/sources';
import { stormFigures, stormTables } from './bench-storm';
import { BenchOptions, BenchUsageError, REPORT_PATH, parseBenchArguments } from './bench/options';
import { FigureTable, ReportTable, renderReport } from './bench/report';
import { sizingRows, sizingTable } from './bench/sizing';

const USAGE = `usage: npm run bench [-- [--storm-only | --budget-only] [--quick] [--write-report | --report-file <path>] [--jest-seconds <n>] | --help]

Prints the performance figures the project holds itself to, next to their targets: bundle size
and cold require() on the runtime's Node major, synth time (direct and through the cdktf CLI),
Firestore reads and Compute calls per failed event (on the Firestore emulator and a loopback
Compute API). Then the storm section (scripts/bench-storm.ts): the function and a port of the
original tutorial's function, each served by the Functions Framework, under a storm of failed
reports pushed as Pub/Sub pushes them: throughput, p50/p99 latency, Firestore documents read and
Compute calls per event, peak RSS, and the cold path (a few minutes); and ours with the action
budget off, on with a limit the storm never reaches, and on with one it reaches: events/s, p99,
VMs contained and held, failed deliveries, Firestore and Compute calls and CPU per event.
Needs the Firestore emulator and tools/runtime-node (npm run setup:runtime-node).

  --storm-only          only the storm section
  --budget-only         only the storm's action-budget section (a few minutes)
  --quick               a short storm run (fewer events, 0 and 1,000 baselines), for iterating
  --write-report        also write every figure, with the run's commit, time and machine load, to
                        ${REPORT_PATH}, the report the docs link to (a full run only)
  --report-file <path>  write that report to <path> instead (any run; for iterating)
  --jest-seconds <n>    the seconds of Jest's "Time:" line of a whole \`npx jest\` run, for the
                        report's test-suite row (the bench does not run the suite)
`;

/** What every project script does with --help and a wrong argument (as scripts/usage.ts does for flags). */
function readOptions(): BenchOptions {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  try {
    return parseBenchArguments(argv);
  } catch (e) {
    if (!(e instanceof BenchUsageError)) throw e;
    process.stderr.write(`bench: ${e.message}\n\n${USAGE}`);
    process.exit(2);
  }
}

const options = readOptions();

// Prints the performance figures the project commits to, next to their targets, and with
// --write-report writes them to the report the docs link to. Figures, not pass/fail.

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
  containmentSteps: NONE,
  forensicsProject: NONE,
  snapshotRetentionDays: SETTINGS.snapshotRetentionDays.default,
  quarantineTagValue: NONE,
  findingsSource: NONE,
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Prints one figure as the bench always has, and records it in its report table. */
function row(table: FigureTable, name: string, value: string, target: string): void {
  process.stdout.write(`${name.padEnd(72)} ${value.padStart(14)}   (target ${target})\n`);
  table.add(name, value, target);
}

function time(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

async function bundleFigures(): Promise<ReportTable> {
  const table = new FigureTable(
    'Bundle',
    "The function's bundle as the plan uploads it, and how long a fresh Node process of the runtime's major takes to " +
      '`require()` it (the Google clients load on first use, not then).',
  );
  const m = await buildFunctionBundle(root);
  row(table, 'bundle: index.js size', `${(m.bundleBytes / 1e6).toFixed(2)} MB`, '≤ 7 MB');
  row(table, 'bundle: zip size', `${(m.zipBytes / 1e6).toFixed(2)} MB`, '-');

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
    row(table, `bundle: cold require('index.js') median of 11, node ${version}`, `${median(runs).toFixed(0)} ms`, '≤ 300 ms');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return table.table();
}

function synthFigures(): ReportTable {
  const table = new FigureTable(
    'Synth',
    'The example stack (`main.ts`) synthesized with the bundle already built: the app run directly, and through the cdktf CLI.',
  );
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
  row(table, 'synth: app run directly (node --require tsx/cjs main.ts), median of 5', `${(median(direct) / 1000).toFixed(2)} s`, '≤ 2 s');
  const cdktf = join(root, 'node_modules', '.bin', 'cdktf');
  const cli = Array.from({ length: 3 }, () => time(() => run(cdktf, ['synth', '--quiet'])));
  row(table, 'synth: through the cdktf CLI (cdktf synth), median of 3', `${(median(cli) / 1000).toFixed(2)} s`, '≤ 5 s');
  return table.table();
}

async function perEventFigures(): Promise<ReportTable> {
  const table = new FigureTable(
    'Per event',
    'Known-good documents read per failed event by the baseline store on a cold instance (the equality query), with 0, 100 ' +
      'and 1,000 baselines stored, and Compute calls per decision, on the Firestore emulator and a loopback Compute API.',
  );
  const firestore = await startFirestoreEmulator();
  const compute = new FakeComputeApi();
  await compute.start();
  process.env.FIRESTORE_EMULATOR_HOST = firestore.host;
  process.env.METADATA_SERVER_DETECTION = 'none';
  const project = 'fleet-prod-1234';
  const zone = 'europe-west1-b';
  compute.add({ project, zone, name: 'web-1', id: '1001' });
  // The relearn has a VM of its own: one stopped by the cases before would need a start after
  // its stop and before its report (ADR 0020), which is not what this row measures.
  compute.add({ project, zone, name: 'web-2', id: '1002' });
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
        table,
        `reads per failed event with ${String(count).padStart(4)} baselines: own / tutorial / none`,
        `${await reads('own')} / ${await reads('tutorial')} / ${await reads('tampered')}`,
        'constant; own = 1',
      );
    }
    const deps = createHandlerDeps(config, logger);
    const cases = [
      ['stop', '1001', 'web-1', 'tampered', '3 (get + stop + wait)', '11'],
      ['stop, instance id only in the entry', '1001', null, 'tampered', '3 (get + stop + wait)', '12'],
      ['relearn', '1002', 'web-2', 'own', '3 (get + relearn + wait)', '13'],
    ] as const;
    for (const [label, instanceId, name, seed, target, boot] of cases) {
      compute.requests.length = 0;
      const vm = compute.instances.find((i) => i.id === instanceId)!;
      vm.status = 'RUNNING';
      await handleMessage(
        pubsubData(integrityEntry({ projectId: project, zone, instanceId, name, bootCounter: boot, actual: linuxPcrs(seed) })),
        deps,
        { id: `bench-${label}` },
      );
      const calls = compute.requests.map((r) => `${r.method} ${r.path.split('/').slice(-1)[0]}`).join(', ');
      row(table, `compute calls per failed event: ${label}`, String(compute.requests.length), `${target}; ${calls}`);
    }
  } finally {
    await db.terminate();
    await Promise.all([firestore.stop(), compute.stop()]);
  }
  return table.table();
}

/** The test suite's row: Jest's own time, as given with --jest-seconds; the bench does not run the suite. */
function testSuiteFigures(): ReportTable {
  const table = new FigureTable(
    'Test suite',
    "Jest's own time for the whole suite (`npx jest`, 3 workers), read from the `Time:` line of a run and given to the bench " +
      'with `--jest-seconds`: the bench does not run the suite, and this row is as exact as that line.',
  );
  row(
    table,
    "npm test: Jest's time for the whole suite (given with --jest-seconds)",
    options.jestSeconds === undefined ? 'not given' : `${options.jestSeconds} s`,
    '≤ 90 s',
  );
  return table.table();
}

/** The commit checked out, and how many paths differ from it. */
function checkout(): { commit: string; uncommittedPaths: number } {
  const git = (...a: string[]) => execFileSync('git', a, { cwd: root, encoding: 'utf8' });
  return {
    commit: git('rev-parse', 'HEAD').trim(),
    uncommittedPaths: git('status', '--porcelain')
      .split('\n')
      .filter((l) => l.trim() !== '').length,
  };
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const started = performance.now();
  const loadAverage = loadavg();
  const { commit, uncommittedPaths } = checkout();
  const tables: ReportTable[] = [];
  if (!options.stormOnly && !options.budgetOnly) {
    tables.push(await bundleFigures());
    tables.push(synthFigures());
    tables.push(await perEventFigures());
  }
  const storm = await stormFigures({ settings: BENCH_SETTINGS, quick: options.quick, budgetOnly: options.budgetOnly });
  tables.push(...stormTables(storm));
  if (!options.budgetOnly) {
    const sizing = sizingRows(storm);
    process.stdout.write('\n');
    for (const r of sizing) {
      process.stdout.write(
        `sizing: ${r.setting}: ${r.inFlight} in flight × ${r.perEventMs === undefined ? '-' : `${r.perEventMs.toFixed(0)} ms`} ` +
          `(${r.basis}) → ${r.seconds === undefined ? '-' : `${r.seconds.toFixed(1)} s`} for 10,000 reports\n`,
      );
    }
    tables.push(sizingTable(sizing));
    tables.push(testSuiteFigures());
  }
  if (options.reportFile !== undefined) {
    const file = resolve(root, options.reportFile);
    const report = renderReport(
      {
        command: ['npm run bench', ...(options.argv.length > 0 ? ['--', ...options.argv] : [])].join(' '),
        startedAt,
        commit,
        uncommittedPaths,
        cores: cpus().length,
        loadAverage,
        node: process.version,
        scope:
          [
            ...(options.stormOnly ? ['the storm only (--storm-only)'] : []),
            ...(options.budgetOnly ? ["the storm's action-budget section only (--budget-only)"] : []),
            ...(options.quick ? ['a short storm (--quick): a smoke run, not figures to quote'] : []),
          ].join('; ') || 'full',
        tookSeconds: (performance.now() - started) / 1000,
      },
      tables,
    );
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, report);
    process.stdout.write(`bench: report written to ${relative(process.cwd(), file) || file}\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
