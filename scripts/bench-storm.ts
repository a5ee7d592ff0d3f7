// The storm section of `npm run bench`: our function and a port of the tutorial's function
// (scripts/bench/tutorial-port.ts) side by side under a storm of failed late-boot reports, each
// served as one Functions Framework process on the runtime's Node major, fed as a Pub/Sub push
// subscription feeds it, against one Firestore emulator and a loopback Compute API.
// Figures, not pass/fail.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { createFirestore } from '../function/runtime/clients';
import { FunctionSettings, functionEnvironment } from '../function/contract';
import { buildFunctionBundle, functionBuildOptions } from '../lib/bundle/build';
import { bundleDir, packageRoot } from '../lib/bundle/sources';
import { startFirestoreEmulator } from '../testkit/emulators';
import { FakeComputeApi } from '../testkit/fake-compute';
import { integrityEntry, linuxPcrs, tutorialDocument, windowsPcrs } from '../testkit/fixtures';
import { unpackFunction } from '../testkit/function-host';
import { nodeBinary } from '../testkit/node-runtime';
import { CountingProxy, startCountingProxy } from './bench/counting-proxy';
import { FunctionProcess, startFunctionProcess } from './bench/function-process';
import { closedLoop, percentile } from './bench/load';
import {
  LEDGER_COLUMNS,
  LEDGER_NOTE,
  LEDGER_TARGETS,
  LedgerAloneFigures,
  LedgerAlonePlan,
  LedgerCell,
  NEVER_REACHED,
  ledgerAlonePass,
  ledgerDetails,
  ledgerSettings,
  ledgerValues,
  ledgerVerdicts,
} from './bench/ledger-alone';
import { ReportTable, minutesAndSeconds } from './bench/report';
import { recommendedInFlight } from './bench/sizing';
import { TUTORIAL_COLLECTION, TUTORIAL_TARGETS } from './bench/tutorial-targets';
import { Verdict, median, missesText, rounds, verdictNotes, verdictText } from './bench/verdicts';

/** How much load, and how long: the full run, or `--quick` for a smoke run while iterating. */
interface StormPlan {
  readonly sizes: readonly number[];
  readonly concurrencies: readonly number[];
  /**
   * Events sent one at a time before the measurement, per cell (each cell is a fresh process):
   * enough to load and compile the code paths and create lazy clients. One at a time, because a
   * round of 32 concurrent events takes the tutorial about a minute at 10,000 baselines.
   */
  readonly warmup: number;
  readonly warmupCapMs: number;
  /**
   * Events of our function before the first cell, not reported, and how long they may take: the
   * emulator's JIT warms up on them. Too few, and whichever cells come first (ours at 0
   * baselines) run on a colder emulator: 8 s of priming left ours at 0 baselines at ≈60 ev/s
   * where the same function made 100–130 ev/s at 1,000 and 10,000 later in the run.
   */
  readonly primingEvents: number;
  readonly primingCapMs: number;
  /** Measured events per cell, unless the cap ends the cell first (the tutorial at 10,000 baselines). */
  readonly events: number;
  readonly capMs: number;
  /** Fresh processes for the cold-path median. */
  readonly coldRuns: number;
  /** The budget section: ours with the action budget off, on and not reached, on and reached. */
  readonly budget: BudgetPlan;
}

/**
 * How the budget section runs: each setting a cell of ours at concurrency
 * {@link BUDGET_CONCURRENCY}, `rounds` times in turn (off, not reached, reached, off, …), with a
 * cap long enough for every event to be sent (a capped "reached" cell would not reach its
 * limit); then one pass per setting with every Firestore call counted; then the decision ledger
 * alone at the recommended deployment's events in flight (scripts/bench/ledger-alone.ts). The
 * throughput target is judged on the median over the rounds of each round's ratio to off: on two
 * shared cores one round's ratio moves with the machine's load more than with the budget.
 */
interface BudgetPlan {
  readonly warmup: number;
  readonly events: number;
  readonly capMs: number;
  readonly rounds: number;
  readonly countedWarmup: number;
  readonly countedEvents: number;
  /** The ledger alone: distinct VMs per cell, rounds, and records of its warm-up (in flight: the recommended deployment's). */
  readonly ledger: Omit<LedgerAlonePlan, 'inFlight' | 'instances' | 'concurrency'>;
}

const FULL: StormPlan = {
  sizes: [0, 1_000, 10_000],
  concurrencies: [8, 32],
  warmup: 50,
  warmupCapMs: 3_000,
  primingEvents: 3_000,
  primingCapMs: 30_000,
  events: 1_000,
  capMs: 10_000,
  coldRuns: 5,
  budget: {
    warmup: 50,
    events: 1_000,
    capMs: 120_000,
    rounds: 3,
    countedWarmup: 10,
    countedEvents: 200,
    ledger: { vms: 900, rounds: 2, warmup: 400 },
  },
};
const QUICK: StormPlan = {
  sizes: [0, 1_000],
  concurrencies: [8, 32],
  warmup: 20,
  warmupCapMs: 2_000,
  primingEvents: 400,
  primingCapMs: 3_000,
  events: 150,
  capMs: 4_000,
  coldRuns: 3,
  budget: {
    warmup: 20,
    events: 200,
    capMs: 30_000,
    rounds: 1,
    countedWarmup: 10,
    countedEvents: 60,
    ledger: { vms: 200, rounds: 1, warmup: 160 },
  },
};

const RUNTIME_MAJOR = 24;
const ZONE = 'europe-west1-b';
const TOPIC = 'integrity-responder-events';
/** Stored baselines of the cold-path runs. */
const COLD_SIZE = 1_000;
/** Events of the pass that counts ours's gRPC calls too. */
const COUNTED_EVENTS = 100;
/** Largest Firestore batched write. */
const BATCH = 500;
/** The reused-clients variant is skipped where one round of concurrent events would take longer than this. */
const MAX_ROUND_MS = 30_000;

/** Concurrency of the budget section's cells: the issue's storm, and the recommended concurrency per instance. */
const BUDGET_CONCURRENCY = 8;

/** The action budget a cell of ours runs with: MAX_ACTIONS_PER_WINDOW, and what the row calls it. */
export interface BenchBudget {
  readonly label: string;
  readonly limit: number | 'unlimited';
}

/** The storm's own setting: every event stops a VM, and a budget would hold most of them. */
const BUDGET_OFF: BenchBudget = { label: 'off (unlimited)', limit: 'unlimited' };
/** The budget section's other two settings, by their labels. */
const NOT_REACHED_LABEL = 'on, not reached';
const REACHED_LABEL = 'on, reached';
/** The budget on and not reached: at least this share of the throughput with it off (the median over the rounds). */
const MIN_RATIO_TO_OFF = 0.8;

/** Which function a cell serves: ours, the tutorial's port, or that port with its clients kept per process. */
export type Side = 'ours' | 'tutorial' | 'tutorial, clients reused';
const SIDES: readonly Side[] = ['ours', 'tutorial', 'tutorial, clients reused'];

/** One cell: a side at a baseline-collection size and a concurrency. */
export interface Cell {
  readonly side: Side;
  readonly size: number;
  readonly concurrency: number;
  readonly failure?: string;
  readonly events?: number;
  readonly capped?: boolean;
  readonly eventsPerSecond?: number;
  readonly p50?: number;
  readonly p99?: number;
  /** Firestore documents read per event: the baseline database, the ledger database. */
  readonly baselineReads?: number;
  readonly ledgerReads?: number;
  /** Firestore requests per event, all databases; and those to the ledger database alone. */
  readonly firestoreCalls?: number;
  readonly ledgerCalls?: number;
  /** Mean time of a request to the baseline database, as the proxy saw it, ms. */
  readonly baselineRequestMs?: number;
  /** Median latency of the warm-up, whose events are sent one at a time. */
  readonly unloadedP50?: number;
  readonly computeCalls?: number;
  /** CPU time of the function process per event. */
  readonly cpuMs?: number;
  readonly errors?: ReadonlyMap<string, number>;
  readonly warmupErrors?: number;
  readonly peakRssMb?: number;
  /** Share of the machine's CPU time in use during the measurement (every process, both cores). */
  readonly machineBusy?: number;
  /** Why the cell was not run. */
  readonly skipped?: string;
  /** The action budget ours ran with (the storm's cells: off). */
  readonly budget?: BenchBudget;
  /** VMs stopped in the cell's window (warm-up included), as the Compute API saw them. */
  readonly contained?: number;
  /** Deliveries the function failed because the budget held the VM (left running, redelivered), and all other failures. */
  readonly held?: number;
  readonly failed?: number;
  /** The budget section's round the cell ran in. */
  readonly round?: number;
}

/** What every cell shares: the backends and the two served directories. */
interface Storm {
  readonly settings: FunctionSettings;
  readonly node: string;
  readonly proxy: CountingProxy;
  /** The emulator itself, for clients of the bench's own that go around the proxy. */
  readonly emulatorHost: string;
  readonly oursDir: string;
  readonly tutorialDir: string;
  cellCount: number;
}

/** Everything one storm run measured, for the report (the same figures it prints). */
export interface StormFigures {
  readonly quick: boolean;
  /** Load averages (1, 5, 15 min) before the storm and after it, and the machine's cores. */
  readonly loadBefore: readonly number[];
  readonly loadAfter: readonly number[];
  readonly cores: number;
  /** The Node.js version that served both functions. */
  readonly functionNode: string;
  readonly oursBundleMb: number;
  readonly tutorialBundleMb: number;
  readonly sizes: readonly number[];
  readonly concurrencies: readonly number[];
  readonly warmup: number;
  readonly events: number;
  readonly capSeconds: number;
  readonly primedEvents: number;
  readonly cells: readonly Cell[];
  /** Ours, one event at a time, every Firestore call counted (gRPC included). */
  readonly counted: Cell;
  /** Spawn → first decision answered, ms, per fresh process. */
  readonly cold: ReadonlyArray<{ readonly side: 'ours' | 'tutorial'; readonly runsMs: readonly number[] }>;
  /** The budget section. */
  readonly budget: BudgetFigures;
  /** Only the budget section ran (`--budget-only`): no cells, no counted pass, no cold path. */
  readonly budgetOnly: boolean;
  readonly tookSeconds: number;
}

/** What the budget section measured. */
export interface BudgetFigures {
  readonly warmup: number;
  readonly events: number;
  readonly concurrency: number;
  readonly rounds: number;
  /** Every measured cell, round by round, in the order run. */
  readonly cells: readonly Cell[];
  /** One pass per setting with every Firestore call counted, gRPC included. */
  readonly counted: readonly Cell[];
  readonly countedEvents: number;
  /** The decision ledger alone, at the recommended deployment's events in flight. */
  readonly ledger: LedgerAloneFigures;
}

const baselineDatabase = (size: number) => `bench-n${size}`;
const vmId = (i: number) => String(7_100_000_000_000 + i);
const vmName = (i: number) => `storm-vm-${i}`;

const say = (line = '') => process.stdout.write(`${line}\n`);

const loadAverage = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

/** Prints a note wrapped at the 140 columns the tables fit in. */
function note(text: string): void {
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > 140) {
      say(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  say(line);
}

/**
 * Prints the storm figures: per cell, throughput, latency, Firestore documents read per event
 * (by database), Compute calls per event, errors and peak RSS of the function process; a
 * summary against the targets; and the cold path of both functions.
 */
export async function stormFigures(options: {
  readonly settings: FunctionSettings;
  readonly quick?: boolean;
  /** Only the budget section (and the priming it needs). */
  readonly budgetOnly?: boolean;
}): Promise<StormFigures> {
  const full = options.quick ? QUICK : FULL;
  const budgetOnly = options.budgetOnly === true;
  // The budget section's cells serve no stored baselines.
  const plan = budgetOnly ? { ...full, sizes: [0] } : full;
  const started = performance.now();
  const root = packageRoot(__dirname);
  const cleanups: Array<() => Promise<void> | void> = [];
  // Temporary directories go even when the run is interrupted (emulators.ts exits on SIGINT).
  const temporary: string[] = [];
  const removeTemporary = () => {
    for (const dir of temporary.splice(0)) rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', removeTemporary);
  const previousEnv = { host: process.env.FIRESTORE_EMULATOR_HOST, metadata: process.env.METADATA_SERVER_DETECTION };
  process.env.METADATA_SERVER_DETECTION = 'none';
  try {
    say();
    say(
      `storm: ${budgetOnly ? 'our function with the action budget off and on (--budget-only)' : "our function vs the tutorial's algorithm"}` +
        `${options.quick ? ' (--quick: a short smoke run, not figures to quote)' : ''}`,
    );
    // Everything shares two cores: a busy machine (a test run alongside) shows in every figure.
    const loadBefore = loadavg();
    say(`storm: load average before: ${loadAverage()} (${cpus().length} cores)`);
    const node = nodeBinary(RUNTIME_MAJOR);
    const functionNode = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();

    // Ours: the zip the plan uploads, installed as the Cloud Functions build installs it.
    const bundle = await buildFunctionBundle(root);
    const ours = unpackFunction(join(bundleDir(root), bundle.zipFile), 'install');
    temporary.push(ours.dir);
    // The tutorial port: bundled like ours (framework external) and served by the same framework.
    const tutorialDir = mkdtempSync(join(tmpdir(), 'svir-storm-tutorial-'));
    temporary.push(tutorialDir);
    const port = await bundleTutorialPort(root, tutorialDir, join(ours.dir, 'node_modules'));

    const firestore = await startFirestoreEmulator('throughput');
    cleanups.push(() => firestore.stop());
    const proxy = await startCountingProxy(firestore.host);
    cleanups.push(() => proxy.stop());
    const seeded = await seedBaselines(firestore.host, options.settings.projectId, plan.sizes);
    const seededSizes = plan.sizes.filter((s) => s > 0).map((s) => s.toLocaleString('en'));
    note(
      `storm: bundles ${(bundle.bundleBytes / 1e6).toFixed(1)} MB (ours) / ${(port.bytes / 1e6).toFixed(1)} MB (tutorial port); ` +
        (seededSizes.length === 0
          ? 'no baselines seeded'
          : `seeded ${seededSizes.join(' + ')} tutorial-format baselines in ${(seeded / 1000).toFixed(1)} s`),
    );
    if (!budgetOnly) {
      note(
        `storm: each cell is a fresh function process (node ${functionNode}), ` +
          `${plan.warmup} warm-up events (≤ ${plan.warmupCapMs / 1000} s), then ${plan.events} measured events or ${plan.capMs / 1000} s, ` +
          `whichever ends first (capped cells marked *; events in flight at the cap are answered and counted), closed loop over ` +
          `keep-alive connections`,
      );
    }
    note('storm: every event a fresh failed late-boot report with unknown measurements about its own VM: the decision is a stop');
    say();
    const storm: Storm = {
      settings: options.settings,
      node,
      proxy,
      emulatorHost: firestore.host,
      oursDir: ours.dir,
      tutorialDir,
      cellCount: 0,
    };
    // The emulator's JVM answers its first few thousand requests markedly slower (its JIT is
    // cold): whichever cell came first would pay for it.
    const primer = await runCell(storm, { ...plan, warmup: 0, events: plan.primingEvents, capMs: plan.primingCapMs }, 'ours', 0, 8);
    note(
      `storm: primed the emulator with ${primer.events ?? 0} events of ours (not reported)${primer.failure ? `: ${primer.failure}` : ''}`,
    );
    say();
    const cells: Cell[] = [];
    if (!budgetOnly) {
      printHeader();
      for (const size of plan.sizes) {
        for (const concurrency of plan.concurrencies) {
          for (const side of SIDES) {
            const skipped = side === 'tutorial, clients reused' ? tooSlow(cells, side, size, concurrency) : undefined;
            const cell = skipped !== undefined ? { side, size, concurrency, skipped } : await runCell(storm, plan, side, size, concurrency);
            cells.push(cell);
            printCell(cell);
          }
        }
        say();
      }
      note(COLUMNS_NOTE);
      say();
      printSummary(cells, plan);
      say();
    }

    const budget = await budgetSection(storm, plan.budget);
    say();

    let counted: Cell = { side: 'ours', size: 0, concurrency: 1, skipped: 'not run (--budget-only)' };
    const cold: string[] = [];
    const coldRuns: Array<StormFigures['cold'][number]> = [];
    if (!budgetOnly) {
      // The table's cells pass gRPC through uncounted (counting it would cost the proxy as much CPU
      // as the calls cost the function): ours's ledger is counted here, one event at a time.
      await storm.proxy.countGrpc(true);
      counted = await runCell(storm, { ...plan, warmup: 10, events: COUNTED_EVENTS, capMs: 60_000 }, 'ours', 0, 1);
      await storm.proxy.countGrpc(false);
      note(
        `storm: ours with every Firestore call counted, gRPC included (${counted.events ?? 0} events one at a time after 10 warm-up ` +
          `events, 0 baselines${counted.failure ? `; ${counted.failure}` : ''}): ${fixed(counted.firestoreCalls, 2)} Firestore calls per event; ` +
          `documents read per event: ${fixed(counted.baselineReads, 2)} baseline, ${fixed(counted.ledgerReads, 2)} ledger. In the table, ` +
          `ours's ledger calls (gRPC) pass through uncounted: its FS calls and ledger reads there are those over REST`,
      );

      say();
      for (const side of ['ours', 'tutorial'] as const) {
        const runs = await coldPath(storm, side, plan.coldRuns);
        coldRuns.push({ side, runsMs: runs });
        cold.push(`${side} ${Math.round(percentile(runs, 50))} ms (runs: ${runs.map((r) => Math.round(r)).join(', ')})`);
      }
      note(
        `storm: cold path, spawn → port answers → first decision answered (${COLD_SIZE.toLocaleString('en')} baselines), ` +
          `median of ${plan.coldRuns}: ${cold.join('; ')}`,
      );
    }
    const loadAfter = loadavg();
    say(`storm: load average after: ${loadAverage()}`);
    const took = (performance.now() - started) / 1000;
    say(`storm: section took ${Math.floor(took / 60)} min ${Math.round(took % 60)} s`);
    return {
      quick: options.quick === true,
      loadBefore,
      loadAfter,
      cores: cpus().length,
      functionNode,
      oursBundleMb: bundle.bundleBytes / 1e6,
      tutorialBundleMb: port.bytes / 1e6,
      sizes: plan.sizes,
      concurrencies: plan.concurrencies,
      warmup: plan.warmup,
      events: plan.events,
      capSeconds: plan.capMs / 1000,
      primedEvents: primer.events ?? 0,
      cells,
      counted,
      cold: coldRuns,
      budget,
      budgetOnly,
      tookSeconds: took,
    };
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch {
        // keep cleaning up
      }
    }
    removeTemporary();
    process.off('exit', removeTemporary);
    restoreEnv('FIRESTORE_EMULATOR_HOST', previousEnv.host);
    restoreEnv('METADATA_SERVER_DETECTION', previousEnv.metadata);
  }
}

/**
 * Why a cell is not worth running: one round of `concurrency` events would take longer than
 * {@link MAX_ROUND_MS}, judging by the same side at a lower concurrency.
 */
function tooSlow(cells: readonly Cell[], side: Side, size: number, concurrency: number): string | undefined {
  const earlier = cells.find((c) => c.side === side && c.size === size && c.concurrency < concurrency && c.eventsPerSecond !== undefined);
  if (earlier?.eventsPerSecond === undefined) return undefined;
  const roundMs = (concurrency / earlier.eventsPerSecond) * 1000;
  if (roundMs <= MAX_ROUND_MS) return undefined;
  return `skipped: one round of ${concurrency} events would take ≈ ${Math.round(roundMs / 1000)} s (${earlier.eventsPerSecond.toFixed(1)} ev/s at c${earlier.concurrency})`;
}

/** Jiffies of the whole machine from /proc/stat: busy and total. */
function machineTicks(): { busy: number; total: number } {
  const ticks = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  // idle and iowait are the 4th and 5th fields.
  return { busy: total - ticks[3]! - ticks[4]!, total };
}

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

/** Bundles scripts/bench/tutorial-port.ts into `dir` as a deployable function directory. */
async function bundleTutorialPort(root: string, dir: string, nodeModules: string): Promise<{ bytes: number }> {
  // The options of ours, without its proto pruning (the port is what a developer following the
  // tutorial would deploy: the client library as published).
  const result = await build(functionBuildOptions(root, 'scripts/bench/tutorial-port.ts'));
  const code = result.outputFiles[0]!.contents;
  writeFileSync(join(dir, 'index.js'), code);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'tutorial-port', private: true, main: 'index.js' }));
  // The same installed Functions Framework as ours.
  symlinkSync(nodeModules, join(dir, 'node_modules'), 'dir');
  return { bytes: code.length };
}

/**
 * Writes the tutorial-format baselines of every size into its own database (straight to the
 * emulator, not through the counting proxy): half Windows (six PCRs), half Linux (three).
 * Returns how long it took, ms.
 */
async function seedBaselines(emulatorHost: string, projectId: string, sizes: readonly number[]): Promise<number> {
  const t = performance.now();
  process.env.FIRESTORE_EMULATOR_HOST = emulatorHost;
  for (const size of sizes) {
    if (size === 0) continue;
    const db = await createFirestore({ firestoreDatabase: baselineDatabase(size), projectId });
    try {
      const commit = (from: number) => {
        const batch = db.batch();
        for (let j = from; j < Math.min(size, from + BATCH); j++) {
          const pcrs = j % 2 === 0 ? windowsPcrs(`known-${j}`) : linuxPcrs(`known-${j}`);
          batch.set(db.collection(TUTORIAL_COLLECTION).doc(`baseline${j}`), tutorialDocument(pcrs));
        }
        return batch.commit();
      };
      // A few batches at a time: the emulator commits them in parallel.
      for (let i = 0; i < size; i += 4 * BATCH) {
        await Promise.all(
          [0, 1, 2, 3]
            .map((k) => i + k * BATCH)
            .filter((from) => from < size)
            .map(commit),
        );
      }
    } finally {
      await db.terminate();
    }
  }
  return performance.now() - t;
}

/** Starts one side's function process against the storm's backends and a Compute API. */
function startSide(
  storm: Storm,
  side: Side,
  size: number,
  ledgerDatabase: string,
  compute: FakeComputeApi,
  budget: BenchBudget = BUDGET_OFF,
): Promise<FunctionProcess> {
  const backends = { FIRESTORE_EMULATOR_HOST: storm.proxy.host, COMPUTE_API_ENDPOINT: compute.endpoint };
  if (side === 'ours') {
    return startFunctionProcess({
      node: storm.node,
      dir: storm.oursDir,
      target: 'respondToIntegrityEvent',
      env: {
        ...functionEnvironment({
          ...storm.settings,
          // The most terse level the construct allows: the stop decision lines (WARNING) are
          // written, as in production, and say how many known-good documents each event read.
          logLevel: 'notice',
          baselineCollection: TUTORIAL_COLLECTION,
          firestoreDatabase: baselineDatabase(size),
          ledgerDatabase,
          // Every event stops a VM: off, the action budget would hold most of them (the
          // budget section runs it on). A window of an hour: no cell runs into a window's end.
          maxActionsPerWindow: budget.limit,
          actionWindowSeconds: 3600,
        }),
        ...backends,
      },
    });
  }
  return startFunctionProcess({
    node: storm.node,
    dir: storm.tutorialDir,
    target: side === 'tutorial' ? TUTORIAL_TARGETS.perEvent : TUTORIAL_TARGETS.reusedClients,
    env: { TUTORIAL_PROJECT_ID: storm.settings.projectId, TUTORIAL_DATABASE: baselineDatabase(size), ...backends },
  });
}

/** The body a Pub/Sub push subscription POSTs for one failed late-boot report about VM `i`. */
function pushBody(projectId: string, messageId: string, i: number): string {
  const now = new Date().toISOString();
  const entry = integrityEntry({
    projectId,
    zone: ZONE,
    instanceId: vmId(i),
    name: vmName(i),
    bootCounter: '2',
    passed: false,
    actual: linuxPcrs(`unknown-${i}`),
    timestamp: now,
  });
  return JSON.stringify({
    message: { data: Buffer.from(JSON.stringify(entry)).toString('base64'), messageId, publishTime: now },
    subscription: `projects/${projectId}/subscriptions/${TOPIC}-push`,
  });
}

/** The push endpoint path on a function's URL, as the harness's subscriptions use it. */
const pushUrl = (fn: FunctionProcess, projectId: string) => `${fn.url}projects/${projectId}/topics/${TOPIC}`;

/** Whether a failed delivery's answer is the function's for an action the budget held (ActionHeldError). */
const heldAnswer = (what: string) => /action budget exhausted/.test(what);

async function runCell(
  storm: Storm,
  plan: Pick<StormPlan, 'warmup' | 'warmupCapMs' | 'events' | 'capMs'>,
  side: Side,
  size: number,
  concurrency: number,
  budget: BenchBudget = BUDGET_OFF,
): Promise<Cell> {
  const { projectId } = storm.settings;
  const tag = ++storm.cellCount;
  // A Compute API per cell: its request log is the cell's, and its instance list stays short.
  const compute = new FakeComputeApi();
  await compute.start();
  let fn: FunctionProcess | undefined;
  try {
    for (let i = 0; i < plan.warmup + plan.events; i++) compute.add({ project: projectId, zone: ZONE, name: vmName(i), id: vmId(i) });
    // Ours records its decisions in a ledger database of its own per cell: the VM ids repeat
    // from cell to cell, and a ledger that knew them would answer "already handled".
    fn = await startSide(storm, side, size, `bench-ledger-cell-${tag}`, compute, budget);
    const url = pushUrl(fn, projectId);
    const body = (offset: number) => (i: number) => pushBody(projectId, `${tag}${String(offset + i).padStart(6, '0')}`, offset + i);
    const warm = await closedLoop({ url, concurrency: 1, count: plan.warmup, capMs: plan.warmupCapMs, body: body(0) });
    await storm.proxy.reset();
    compute.requests.length = 0;
    const cpuBefore = fn.cpuMs() ?? NaN;
    const machineBefore = machineTicks();
    const run = await closedLoop({ url, concurrency, count: plan.events, capMs: plan.capMs, body: body(plan.warmup) });
    const cpuAfter = fn.cpuMs() ?? NaN;
    const machineAfter = machineTicks();
    const counts = await storm.proxy.counts();
    const n = run.completed;
    const documents = (db: string) => (counts[db]?.documents ?? 0) / n;
    const ledgerCounts = Object.entries(counts).filter(([db]) => db !== baselineDatabase(size));
    const ledger = ledgerCounts.reduce((sum, [, c]) => sum + c.documents, 0);
    const failures = [...run.errors];
    return {
      side,
      size,
      concurrency,
      ...(side === 'ours' && {
        budget,
        contained: compute.performed.filter((r) => r.path.endsWith('/stop')).length,
        held: failures.filter(([what]) => heldAnswer(what)).reduce((sum, [, n]) => sum + n, 0),
        failed: failures.filter(([what]) => !heldAnswer(what)).reduce((sum, [, n]) => sum + n, 0),
      }),
      events: n,
      capped: run.capped,
      eventsPerSecond: n / (run.elapsedMs / 1000),
      p50: percentile(run.latenciesMs, 50),
      p99: percentile(run.latenciesMs, 99),
      baselineReads: documents(baselineDatabase(size)),
      ledgerReads: ledger / n,
      firestoreCalls: Object.values(counts).reduce((sum, c) => sum + c.requests, 0) / n,
      ledgerCalls: ledgerCounts.reduce((sum, [, c]) => sum + c.requests, 0) / n,
      baselineRequestMs: (counts[baselineDatabase(size)]?.ms ?? NaN) / (counts[baselineDatabase(size)]?.requests ?? NaN),
      unloadedP50: percentile(warm.latenciesMs, 50),
      computeCalls: compute.requests.length / n,
      cpuMs: (cpuAfter - cpuBefore) / n,
      errors: run.errors,
      warmupErrors: warm.completed - warm.ok,
      peakRssMb: fn.peakRssMb(),
      machineBusy: (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total),
    };
  } catch (e) {
    const tail = fn?.output().tail.slice(-5).join(' | ');
    return { side, size, concurrency, failure: `${e instanceof Error ? e.message : String(e)}${tail ? ` (output: ${tail})` : ''}` };
  } finally {
    await fn?.stop();
    await compute.stop();
  }
}

/** Spawn → the port answers → one event answered, for `runs` fresh processes; ms each. */
async function coldPath(storm: Storm, side: 'ours' | 'tutorial', runs: number): Promise<number[]> {
  const { projectId } = storm.settings;
  const tag = ++storm.cellCount;
  const compute = new FakeComputeApi();
  await compute.start();
  const times: number[] = [];
  try {
    for (let i = 0; i < runs; i++) compute.add({ project: projectId, zone: ZONE, name: vmName(i), id: vmId(i) });
    for (let i = 0; i < runs; i++) {
      const fn = await startSide(storm, side, COLD_SIZE, `bench-ledger-cold-${tag}`, compute);
      try {
        const r = await closedLoop({
          url: pushUrl(fn, projectId),
          concurrency: 1,
          count: 1,
          capMs: 60_000,
          body: () => pushBody(projectId, `${tag}${String(i).padStart(6, '0')}`, i),
        });
        times.push(performance.now() - fn.spawnedAt);
        if (r.ok !== 1) throw new Error(`${side}: the cold event failed: ${[...r.errors.keys()].join('; ')}`);
      } finally {
        await fn.stop();
      }
    }
  } finally {
    await compute.stop();
  }
  return times;
}

/**
 * The budget section: ours under the same storm with the action budget off, on with a limit the
 * storm never reaches, and on with one it reaches halfway through (the warm-up's stops count
 * too), each a fresh process with a ledger of its own, in turn for every round; then one pass per
 * setting with every Firestore call counted (gRPC included) at the same concurrency.
 */
async function budgetSection(storm: Storm, plan: BudgetPlan): Promise<BudgetFigures> {
  const settings = (warmup: number, events: number): BenchBudget[] => [
    BUDGET_OFF,
    { label: NOT_REACHED_LABEL, limit: NEVER_REACHED },
    { label: REACHED_LABEL, limit: warmup + Math.floor(events / 2) },
  ];
  const cellPlan = { warmup: plan.warmup, warmupCapMs: plan.capMs, events: plan.events, capMs: plan.capMs };
  note(
    `storm: the action budget (ADR 0033): ours at concurrency ${BUDGET_CONCURRENCY}, 0 baselines, ${plan.warmup} warm-up events ` +
      `(one at a time) then ${plan.events} measured, every event a stop; the budget off, on with a limit of ` +
      `${NEVER_REACHED.toLocaleString('en')} per hour (never reached), and on with a limit of ${plan.warmup} + ${plan.events / 2} ` +
      `(reached halfway: the warm-up's stops count); ${rounds(plan.rounds)} in turn, each setting a fresh process and ledger; ` +
      `the throughput target is judged on the median over the rounds of each round's ratio to off`,
  );
  say();
  printBudgetHeader();
  const cells: Cell[] = [];
  for (let round = 1; round <= plan.rounds; round++) {
    let off: Cell | undefined;
    for (const budget of settings(plan.warmup, plan.events)) {
      const cell = { ...(await runCell(storm, cellPlan, 'ours', 0, BUDGET_CONCURRENCY, budget)), round };
      off ??= cell;
      cells.push(cell);
      printBudgetCell(cell, off);
    }
  }
  for (const v of budgetVerdicts(cells)) note(`budget: ${verdictText(v)}`);
  await storm.proxy.countGrpc(true);
  const counted: Cell[] = [];
  try {
    const countedPlan = { warmup: plan.countedWarmup, warmupCapMs: 60_000, events: plan.countedEvents, capMs: 60_000 };
    for (const budget of settings(plan.countedWarmup, plan.countedEvents)) {
      counted.push(await runCell(storm, countedPlan, 'ours', 0, BUDGET_CONCURRENCY, budget));
    }
  } finally {
    await storm.proxy.countGrpc(false);
  }
  say();
  for (const line of budgetCallLines(counted, plan.countedEvents)) say(line);
  note(BUDGET_NOTE);

  // The recommended deployment has this many events in flight across its instances: distinct
  // VMs race for the same shards there, which one process at concurrency 8 never shows.
  const ledgerPlan: LedgerAlonePlan = { ...plan.ledger, ...recommendedInFlight() };
  say();
  note(ledgerAbout(ledgerPlan, process.version));
  say();
  printLedgerRow(LEDGER_COLUMNS.map(([name]) => name));
  const ledgerCells: LedgerCell[] = [];
  const ledger = await ledgerAlonePass({
    emulatorHost: storm.emulatorHost,
    projectId: storm.settings.projectId,
    plan: ledgerPlan,
    onCell: (cell) => {
      ledgerCells.push(cell);
      printLedgerRow(ledgerValues(cell, ledgerCells));
      for (const line of ledgerDetails([cell])) say(`${''.padStart(12)}${line}`);
    },
  });
  for (const v of ledgerVerdicts(ledger.cells)) note(`ledger alone: ${verdictText(v)}`);
  note(LEDGER_NOTE);
  return {
    warmup: plan.warmup,
    events: plan.events,
    concurrency: BUDGET_CONCURRENCY,
    rounds: plan.rounds,
    cells,
    counted,
    countedEvents: plan.countedEvents,
    ledger,
  };
}

function printLedgerRow(values: readonly string[]): void {
  say(values.map((v, i) => (i === 0 ? v.padEnd(LEDGER_COLUMNS[i]![1]) : v.padStart(LEDGER_COLUMNS[i]?.[1] ?? 0))).join(' '));
}

/** What the ledger-alone pass measures, and what it does not, as printed and in the report. */
function ledgerAbout(plan: LedgerAlonePlan, node: string): string {
  const settings = ledgerSettings(plan.vms);
  const limit = (k: number) => settings[k]!.limit.toLocaleString('en');
  return (
    `The decision ledger alone (ADR 0033): FirestoreDecisionLedger.record driven directly, ${plan.inFlight} records in flight ` +
    `(a pool of ${plan.inFlight} workers: the recommended deployment's ${plan.instances} instances × concurrency ${plan.concurrency}), ` +
    `${plan.vms.toLocaleString('en')} distinct VMs with random 19-digit instance ids, each one failed late-boot report proposing a ` +
    `stop, with the budget off, on with a limit of ${limit(1)} per hour (not reached), and on with a limit of ${limit(2)}, half the ` +
    'VMs (reached); ' +
    `${rounds(plan.rounds)} in turn, each cell a Firestore database of its own, after ${plan.warmup} records in a throwaway ` +
    `database. It measures the ledger's Firestore calls only, over gRPC straight to the emulator: no function process, no ` +
    `Compute API, and one Node process (the bench's own, node ${node}) standing in for ${plan.instances} instances, on the emulator, not ` +
    "Firestore. After each pass the window is read back: its shards' counts must sum to the VMs counted, one marker each, no " +
    "shard over its share of the limit. In a real event the ledger's calls are a small part of the event's time (the wait for " +
    `the stop's operation dominates), so far fewer records are in the ledger at once than events are in flight: this pass is ` +
    `the worst case, where all ${plan.inFlight} are`
  );
}

const BUDGET_COLUMNS: ReadonlyArray<readonly [string, number]> = [
  ['budget', 16],
  ['limit', 8],
  ['round', 5],
  ['events', 6],
  ['ev/s', 6],
  ['÷ off', 6],
  ['p50 ms', 6],
  ['p99 ms', 6],
  ['contained', 9],
  ['held', 5],
  ['failed', 6],
  ['Compute/ev', 10],
  ['CPU ms/ev', 9],
];

function printBudgetHeader(): void {
  say(BUDGET_COLUMNS.map(([name, width], i) => (i === 0 ? name.padEnd(width) : name.padStart(width))).join(' '));
}

/** The limit as the table writes it. */
const limitText = (b: BenchBudget | undefined) => (b === undefined ? '-' : b.limit === 'unlimited' ? 'none' : b.limit.toLocaleString('en'));

/** Throughput of a budget cell relative to the budget-off cell of its round. */
function ratioToOff(cell: Cell, off: Cell | undefined): string {
  if (off?.eventsPerSecond === undefined || cell.eventsPerSecond === undefined) return '-';
  return `${(cell.eventsPerSecond / off.eventsPerSecond).toFixed(2)}×`;
}

/** A measured budget cell's values, one per column of {@link BUDGET_COLUMNS}. */
function budgetValues(c: Cell, off: Cell | undefined): string[] {
  if (c.failure !== undefined) {
    return [c.budget?.label ?? '-', limitText(c.budget), String(c.round ?? '-'), `failed: ${c.failure}`];
  }
  return [
    c.budget?.label ?? '-',
    limitText(c.budget),
    String(c.round ?? '-'),
    `${c.events}${c.capped ? '*' : ''}`,
    fixed(c.eventsPerSecond, 1),
    ratioToOff(c, off),
    fixed(c.p50, 0),
    fixed(c.p99, 0),
    String(c.contained ?? '-'),
    String(c.held ?? '-'),
    String(c.failed ?? '-'),
    fixed(c.computeCalls, 2),
    fixed(c.cpuMs, 1),
  ];
}

function printBudgetCell(c: Cell, off: Cell | undefined): void {
  const values = budgetValues(c, off);
  say(values.map((v, i) => (i === 0 ? v.padEnd(BUDGET_COLUMNS[i]![1]) : v.padStart(BUDGET_COLUMNS[i]?.[1] ?? 0))).join(' '));
  for (const [what, count] of c.errors ?? []) {
    if (!heldAnswer(what)) say(`${''.padStart(12)}${count} × ${what}`);
  }
}

/** The counted passes, a line per setting: Firestore calls and ledger documents read per event. */
function budgetCallLines(counted: readonly Cell[], events: number): string[] {
  return counted.map(
    (c) =>
      `storm: budget ${c.budget?.label ?? '-'} (limit ${limitText(c.budget)}), every Firestore call counted over ${c.events ?? 0} of ` +
      `${events} events at c${c.concurrency}${c.failure ? `, failed: ${c.failure}` : ''}: ${fixed(c.firestoreCalls, 2)} Firestore calls ` +
      `(${fixed(c.ledgerCalls, 2)} to the ledger) and ${fixed(c.ledgerReads, 2)} ledger documents read per event; ${fixed(c.computeCalls, 2)} Compute calls per event; ` +
      `${c.contained ?? '-'} contained, ${c.held ?? '-'} held, ${c.failed ?? '-'} failed`,
  );
}

/**
 * For each target of the budget table, whether the run met it: the throughput of the budget on and
 * not reached on the median over the rounds of its ratio to off in the same round; exactly the
 * limit contained in every round's reached cell; no failed delivery in any cell.
 */
function budgetVerdicts(cells: readonly Cell[]): Verdict[] {
  const at = (c: Cell) => `round ${c.round ?? '-'}, ${c.budget?.label ?? '-'}`;
  const ran = (c: Cell | undefined): c is Cell => c !== undefined && c.failure === undefined && c.eventsPerSecond !== undefined;
  const roundNumbers = [...new Set(cells.map((c) => c.round))];
  const ratios = roundNumbers.flatMap((round) => {
    const off = cells.find((c) => c.round === round && c.budget?.limit === 'unlimited');
    const notReached = cells.find((c) => c.round === round && c.budget?.label === NOT_REACHED_LABEL);
    return ran(off) && ran(notReached) ? [notReached.eventsPerSecond! / off.eventsPerSecond!] : [];
  });
  const ratio = median(ratios);
  const throughput: Verdict = {
    target: `${NOT_REACHED_LABEL} ÷ off ≥ ${MIN_RATIO_TO_OFF.toFixed(2)}×, the median over the rounds`,
    met: ratios.length > 0 && ratio >= MIN_RATIO_TO_OFF,
    detail:
      ratios.length === 0
        ? 'no round measured both'
        : `median ${ratio.toFixed(2)}× over ${rounds(ratios.length)}` +
          `${ratios.length < roundNumbers.length ? ` of ${roundNumbers.length}` : ''}` +
          `${ratios.length > 1 ? `: ${ratios.map((r) => `${r.toFixed(2)}×`).join(', ')}` : ''}`,
  };

  const reached = cells.filter((c) => c.budget?.label === REACHED_LABEL);
  const containedMisses = reached.flatMap((c) =>
    c.failure !== undefined
      ? [`${at(c)}: the cell failed`]
      : c.contained !== c.budget?.limit
        ? [`${at(c)}: ${c.contained ?? '-'} contained, not ${limitText(c.budget)}`]
        : [],
  );
  const limits = [...new Set(reached.map((c) => limitText(c.budget)))].join(', ');
  const contained: Verdict = {
    target: `${REACHED_LABEL}: contained = the limit`,
    met: reached.length > 0 && containedMisses.length === 0,
    detail:
      reached.length === 0
        ? 'no cell ran'
        : containedMisses.length === 0
          ? `${limits} contained, the limit, in ${reached.length === 1 ? 'the one round' : `each of ${reached.length} rounds`}`
          : missesText(containedMisses),
  };

  const failedMisses = cells.flatMap((c) =>
    c.failure !== undefined ? [`${at(c)}: the cell failed`] : (c.failed ?? 0) > 0 ? [`${at(c)}: ${c.failed} failed`] : [],
  );
  const failed: Verdict = {
    target: 'failed deliveries = 0 in every cell',
    met: cells.length > 0 && failedMisses.length === 0,
    detail: cells.length === 0 ? 'no cell ran' : failedMisses.length === 0 ? `0 in all ${cells.length} cells` : missesText(failedMisses),
  };
  return [throughput, contained, failed];
}

/**
 * The targets of the budget table, by column (issue 24): on and not reached, within a fifth of the
 * throughput of off (the median over the rounds) and no failed delivery; on and reached, exactly
 * the limit contained. {@link budgetVerdicts} judges them.
 */
const BUDGET_TARGETS: readonly string[] = [
  'target',
  '-',
  '-',
  '-',
  '-',
  `≥ ${MIN_RATIO_TO_OFF.toFixed(2)}× (not reached; the median over the rounds)`,
  '-',
  '-',
  '= limit (reached)',
  '-',
  '0',
  '-',
  '-',
];

/** What the budget table's columns mean. */
const BUDGET_NOTE =
  "÷ off: events/s over the budget-off cell of the same round (its target is judged on the median over the rounds: one round's " +
  'ratio moves with the load of the two shared cores more than with the budget); contained: VMs stopped in the window, ' +
  'warm-up included (the Compute API counts them); held: deliveries the function failed because the budget held the VM (left running, ' +
  'redelivered by Pub/Sub); failed: every other answer that was not 2xx; Compute/ev: Compute API calls per measured event ' +
  '(get, stop, wait; a held event only gets); CPU ms/ev: CPU time of the function process per event. Firestore calls per ' +
  "event are those of the counted passes (the cells pass the ledger's gRPC through uncounted)";

// Printing. Widths fit a 140-column terminal.

const COLUMNS: ReadonlyArray<readonly [string, number]> = [
  ['size', 6],
  ['conc', 4],
  ['side', 24],
  ['events', 7],
  ['ev/s', 7],
  ['p50 ms', 7],
  ['p99 ms', 7],
  ['reads/ev', 9],
  ['ledger', 6],
  ['FS calls', 8],
  ['Compute', 7],
  ['CPU ms/ev', 9],
  ['busy', 5],
  ['errors', 6],
  ['peak RSS', 9],
];

function printRow(values: readonly string[]): void {
  say(
    values
      .map((v, i) => {
        const [, width] = COLUMNS[i]!;
        return i === 2 ? v.padEnd(width) : v.padStart(width);
      })
      .join(' '),
  );
}

function printHeader(): void {
  printRow(COLUMNS.map(([name]) => name));
}

const fixed = (x: number | undefined, digits: number) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(digits));

/** A measured cell's values, one per column of {@link COLUMNS}. */
function cellValues(c: Cell): string[] {
  const lead = [c.size.toLocaleString('en'), String(c.concurrency), c.side];
  const errors = [...(c.errors ?? new Map<string, number>()).values()].reduce((a, b) => a + b, 0);
  return [
    ...lead,
    `${c.events}${c.capped ? '*' : ''}`,
    fixed(c.eventsPerSecond, 1),
    fixed(c.p50, 0),
    fixed(c.p99, 0),
    fixed(c.baselineReads, c.baselineReads !== undefined && c.baselineReads >= 100 ? 0 : 2),
    c.side === 'ours' ? fixed(c.ledgerReads, 2) : '-',
    fixed(c.firestoreCalls, 2),
    fixed(c.computeCalls, 2),
    fixed(c.cpuMs, 1),
    c.machineBusy === undefined ? '-' : `${Math.round(c.machineBusy * 100)}%`,
    String(errors),
    c.peakRssMb === undefined ? '-' : `${c.peakRssMb.toFixed(0)} MB`,
  ];
}

function printCell(c: Cell): void {
  if (c.failure !== undefined || c.skipped !== undefined) {
    say(
      `${c.size.toLocaleString('en').padStart(6)} ${String(c.concurrency).padStart(4)} ${c.side.padEnd(24)} ${c.skipped ?? `failed: ${c.failure}`}`,
    );
    return;
  }
  printRow(cellValues(c));
  for (const [what, count] of c.errors ?? []) say(`${''.padStart(12)}${count} × ${what}`);
  if (c.warmupErrors) say(`${''.padStart(12)}(and ${c.warmupErrors} errors during the warm-up)`);
}

/** The concurrencies and sizes a summary is laid out by. */
type SummaryPlan = Pick<StormPlan, 'sizes' | 'concurrencies'>;

/** The summary against the targets: its column names, its target row and one row per size. */
function summary(cells: readonly Cell[], plan: SummaryPlan): { columns: string[]; targets: string[]; rows: string[][] } {
  const find = (side: Side, size: number, concurrency: number) =>
    cells.find((c) => c.side === side && c.size === size && c.concurrency === concurrency && c.eventsPerSecond !== undefined);
  const ratio = (size: number, concurrency: number, against: Side) => {
    const o = find('ours', size, concurrency)?.eventsPerSecond;
    const t = find(against, size, concurrency)?.eventsPerSecond;
    return o === undefined || t === undefined ? '-' : `${(o / t).toFixed(1)}×`;
  };
  const both = (size: number, concurrency: number) =>
    `${ratio(size, concurrency, 'tutorial')} (${ratio(size, concurrency, 'tutorial, clients reused')})`;
  const [low, high] = [plan.concurrencies[0]!, plan.concurrencies[plan.concurrencies.length - 1]!];
  return {
    columns: [
      'size',
      `ev/s ratio c${low}`,
      `ev/s ratio c${high}`,
      `p99 at c${low}`,
      'p50 at c1',
      'known-good reads/ev',
      'baseline query ms',
    ],
    targets: ['target', '≥ 2×', '≥ 2×', '≤ 100 ms', '-', '0 (warm)', '-'],
    rows: plan.sizes.map((size) => {
      const ours = plan.concurrencies.map((c) => find('ours', size, c)).filter((c) => c !== undefined);
      const atLow = find('ours', size, low);
      return [
        size.toLocaleString('en'),
        both(size, low),
        both(size, high),
        `${fixed(atLow?.p99, 0)} ms`,
        `${fixed(atLow?.unloadedP50, 0)} ms`,
        ours.length === 0 ? '-' : fixed(Math.max(...ours.map((c) => c.baselineReads ?? NaN)), 2),
        `${fixed(atLow?.baselineRequestMs, 1)} ms`,
      ];
    }),
  };
}

const summaryNote = (low: number) =>
  `p50 at c1: ours's warm-up, one event at a time; baseline query ms: mean time the emulator took to answer ours's one ` +
  `baseline query per event at c${low} (at the proxy, under load). On the emulator it grows with the collection; Firestore ` +
  `serves it from an index`;

function printSummary(cells: readonly Cell[], plan: StormPlan): void {
  const widths = [6, 16, 16, 11, 12, 21, 22];
  const line = (values: readonly string[]) => say(values.map((v, i) => v.padStart(widths[i]!)).join(' '));
  const { columns, targets, rows } = summary(cells, plan);
  say('storm summary: ours / tutorial throughput (in brackets: ours / tutorial with reused clients), and ours alone');
  line(columns);
  line(targets);
  for (const row of rows) line(row);
  note(summaryNote(plan.concurrencies[0]!));
}

/** What the cell table's columns mean, as the storm prints it under the table. */
const COLUMNS_NOTE =
  'reads/ev: Firestore documents read per event in the baseline database / the ledger database; FS calls, Compute: requests per ' +
  "event to Firestore (all databases; over REST only: ours's ledger speaks gRPC, counted in the pass after the summary) and " +
  'to the Compute API; CPU ms/ev: CPU time of the function process per event; busy: ' +
  'share of both cores in use during the cell (all processes: function, emulator, proxy, load generator); peak RSS: VmHWM of ' +
  'the function process; errors: answers other than 2xx';

/**
 * The storm's figures as report tables: every cell, the summary against the targets, the pass
 * that counts every call, and the cold path. The same figures the storm prints.
 */
export function stormTables(s: StormFigures): ReportTable[] {
  const load = (l: readonly number[]) => l.map((x) => x.toFixed(2)).join(' / ');
  const context =
    `Load average ${load(s.loadBefore)} before the storm, ${load(s.loadAfter)} after it (${s.cores} cores); ` +
    `the section took ${minutesAndSeconds(s.tookSeconds)}.`;
  const budget = budgetTable(s, context);
  if (s.budgetOnly) return [budget];
  const cellRows = s.cells.map((c) => {
    if (c.failure === undefined && c.skipped === undefined) return cellValues(c);
    const values = COLUMNS.map(() => '-');
    values.splice(0, 4, c.size.toLocaleString('en'), String(c.concurrency), c.side, c.skipped ?? `failed: ${c.failure}`);
    return values;
  });
  const errorNotes = s.cells.flatMap((c) => [
    ...[...(c.errors ?? [])].map(
      ([what, count]) => `- ${c.side} at ${c.size.toLocaleString('en')} baselines, c${c.concurrency}: ${count} × ${what}`,
    ),
    ...(c.warmupErrors
      ? [`- ${c.side} at ${c.size.toLocaleString('en')} baselines, c${c.concurrency}: ${c.warmupErrors} errors during the warm-up`]
      : []),
  ]);
  const sum = summary(s.cells, s);
  const low = s.concurrencies[0]!;
  const counted = s.counted;
  const coldRow = (side: 'ours' | 'tutorial') => {
    const runs = s.cold.find((c) => c.side === side)?.runsMs ?? [];
    return [
      `${side}: spawn → port answers → first decision answered, ${COLD_SIZE.toLocaleString('en')} baselines, median of ${runs.length}`,
      runs.length === 0 ? '-' : `${Math.round(percentile(runs, 50))} ms`,
      '-',
      runs.map((r) => Math.round(r)).join(', '),
    ];
  };
  return [
    {
      title: 'Storm: every cell',
      about:
        `${s.quick ? '**A --quick run: a short smoke run, not figures to quote.** ' : ''}` +
        `Our function (the shipped zip) and the port of the tutorial's, each a fresh Functions Framework process on node ` +
        `${s.functionNode} per cell, under failed late-boot reports pushed as Pub/Sub pushes them: ${s.warmup} warm-up events, then ` +
        `${s.events} measured events or ${s.capSeconds} s, whichever ends first (capped cells marked *), closed loop. The emulator ` +
        `was primed with ${s.primedEvents} events of ours first. Bundles: ${s.oursBundleMb.toFixed(1)} MB (ours), ` +
        `${s.tutorialBundleMb.toFixed(1)} MB (tutorial port). ${context}`,
      columns: COLUMNS.map(([name]) => name),
      rows: cellRows,
      notes: [COLUMNS_NOTE + '.', ...(errorNotes.length > 0 ? ['', 'Errors:', '', ...errorNotes] : [])],
    },
    {
      title: 'Storm: against the targets',
      about:
        'Ours / tutorial throughput (in brackets: ours / tutorial with its clients reused), and ours alone, per stored-baseline count. ' +
        'The first row is the target of each column.',
      columns: sum.columns,
      rows: [sum.targets, ...sum.rows],
      notes: [summaryNote(low) + '.'],
    },
    {
      title: 'Storm: every call counted',
      about:
        `Ours, ${counted.events ?? 0} events one at a time after 10 warm-up events, 0 baselines, with every Firestore call counted, ` +
        `gRPC included (in the cells above ours's ledger calls pass through uncounted).${counted.failure ? ` Failed: ${counted.failure}.` : ''}`,
      columns: ['figure', 'measured', 'target'],
      rows: [
        ['Firestore calls per event (ledger read, commit, completion)', fixed(counted.firestoreCalls, 2), '-'],
        ['known-good documents read per event', fixed(counted.baselineReads, 2), '0 (warm)'],
        ['ledger documents read per event', fixed(counted.ledgerReads, 2), '-'],
        ['Compute calls per event (get, stop, wait)', fixed(counted.computeCalls, 2), '-'],
      ],
    },
    {
      title: 'Storm: cold path',
      about: 'A fresh function process per run, from its spawn to the answer to its first event (a stop).',
      columns: ['figure', 'measured', 'target', 'runs, ms'],
      rows: [coldRow('ours'), coldRow('tutorial')],
    },
    budget,
  ];
}

/**
 * The budget section as a report table: every cell, then the counted passes in the notes, then
 * the ledger alone as a table of its own in the same section.
 */
function budgetTable(s: StormFigures, context: string): ReportTable {
  const b = s.budget;
  const l = b.ledger;
  const ledgerDetailLines = ledgerDetails(l.cells);
  const offOf = (c: Cell) => b.cells.find((o) => o.round === c.round && o.budget?.limit === 'unlimited');
  return {
    title: 'Storm: the action budget off and on',
    about:
      `${s.quick ? '**A --quick run: a short smoke run, not figures to quote.** ' : ''}` +
      `Ours (the shipped zip, node ${s.functionNode}) at concurrency ${b.concurrency}, 0 baselines, ${b.warmup} warm-up events ` +
      `then ${b.events} measured, every event a stop, with the action budget off, on with a limit of ` +
      `${NEVER_REACHED.toLocaleString('en')} per hour (never reached), and on with a limit the storm reaches halfway (the ` +
      `warm-up's stops count); each setting a fresh process and ledger, ${rounds(b.rounds)} in turn ` +
      `([ADR 0033](adr/0033-budget-shards.md)). The throughput target is judged on the median over the rounds of each ` +
      `round's ratio to off, given under the table with each target's verdict. The decision ledger alone, at the recommended ` +
      `deployment's events in flight, follows in a table of its own. ${context}`,
    columns: BUDGET_COLUMNS.map(([name]) => name),
    rows: [
      BUDGET_TARGETS,
      ...b.cells.map((c) => {
        const values = budgetValues(c, offOf(c));
        return [...values, ...BUDGET_COLUMNS.slice(values.length).map(() => '-')];
      }),
    ],
    notes: [
      BUDGET_NOTE + '.',
      '',
      ...verdictNotes(budgetVerdicts(b.cells)),
      '',
      'Every Firestore call counted, one pass per setting:',
      '',
      ...budgetCallLines(b.counted, b.countedEvents).map((line) => `- ${line.replace(/^storm: /, '')}`),
    ],
    subtables: [
      {
        title: `The decision ledger alone, ${l.inFlight} records in flight`,
        about:
          `${s.quick ? '**A --quick run: a short smoke run, not figures to quote.** ' : ''}` +
          `${ledgerAbout(l, l.node).replace('(ADR 0033)', '([ADR 0033](adr/0033-budget-shards.md))')}. The first row is the ` +
          'target of each column.',
        columns: LEDGER_COLUMNS.map(([name]) => name),
        rows: [LEDGER_TARGETS, ...l.cells.map((c) => ledgerValues(c, l.cells))],
        notes: [
          LEDGER_NOTE + '.',
          '',
          ...verdictNotes(ledgerVerdicts(l.cells)),
          ...(ledgerDetailLines.length > 0 ? ['', 'Errors and missed targets:', '', ...ledgerDetailLines.map((line) => `- ${line}`)] : []),
        ],
      },
    ],
  };
}
