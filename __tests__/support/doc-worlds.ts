import type { Firestore } from '@google-cloud/firestore';
import { FirestoreDecisionLedger } from '../../function/adapters/firestore-ledger';
import { baselineDocument } from '../../function/core/baseline';
import type { ActionBudget } from '../../function/core/budget';
import { budgetWindow } from '../../function/core/budget';
import { createFirestore } from '../../function/runtime/clients';
import { SETTINGS, BASELINE_POLICY_COLLECTION, RELEASE_POLICY_DOCUMENT } from '../../function/contract';
import type { ContainmentSteps, RecordedDecision } from '../../function/core/ledger';
import { ledgerDocumentId } from '../../function/core/ledger';
import { findingId, snapshotName, summaryOf } from '../../function/core/playbook';
import { IntegrityReport, parseMeasurements, parseMessage } from '../../function/core/parse';
import { FakeComputeApi, FakeInstance } from '../../testkit/fake-compute';
import { startFakeLogging } from '../../testkit/fake-logging';
import { FakeResourceManager } from '../../testkit/fake-resource-manager';
import { FakeSecurityCenter } from '../../testkit/fake-security-center';
import { LoggedPcr, integrityEntry, linuxPcrs, pubsubData } from '../../testkit/fixtures';

/*
 * The worlds the operator tools' commands of docs/operating/ run in (__tests__/docs/commands.test.ts): for
 * each block of commands, what the doc's narrative takes for granted, seeded on the Firestore
 * emulator and in the loopback Compute Engine and Cloud Logging fakes. Names, ids and times are
 * the docs' own: the responder's databases in project sec-ops-1234, the fleet in
 * fleet-prod-1234, the canary-1 VM whose kernel 6.9 fails its late-boot check.
 */

/** The responder's project: its baseline and ledger databases (the docs' `sec-ops-1234`). */
const RESPONDER_PROJECT = 'sec-ops-1234';
/** The VMs' project (the docs' `fleet-prod-1234`). */
const FLEET_PROJECT = 'fleet-prod-1234';
const ZONE = 'us-central1-a';
const BASELINE_DATABASE = 'integrity-responder-baselines';
const LEDGER_DATABASE = 'integrity-responder-decisions';
const MINUTE = 60_000;

/** What the canary reports after the update: the docs' baseline sha256-bc71b5ae5a6d…. */
const KERNEL_69 = linuxPcrs('kernel-6.9');
const KERNEL_69_ID = baselineDocument(parseMeasurements(KERNEL_69, 'kernel 6.9')).id;

/** Where the commands of a block reach the fakes; the Firestore emulator is the test's. */
export interface SeededWorld {
  /** The fake Compute Engine API (`COMPUTE_API_ENDPOINT`), when the block reads VMs. */
  readonly compute?: string;
  /** The fake Cloud Logging API (`LOGGING_API_ENDPOINT`), when the block reads log entries. */
  readonly logging?: string;
  /** The fake Resource Manager API (`RESOURCE_MANAGER_API_ENDPOINT`), when the block removes a tag binding. */
  readonly resourceManager?: string;
  /** The fake Security Command Center API (`SECURITY_CENTER_API_ENDPOINT`), when the block changes a finding. */
  readonly securityCenter?: string;
  /** Stops the fakes. */
  close(): Promise<void>;
}

/** What the test does with some commands of a block, named by a pattern of their text in the doc. */
export interface CommandCheck {
  readonly command: RegExp;
  /** Appended to the command: what the emulator needs that the doc leaves out (`--actor`). */
  readonly append?: string;
  /** Its exit status, where the doc says it is not 0. */
  readonly status?: number;
  /** What its output, standard output then standard error, must match. */
  readonly output?: readonly RegExp[];
}

/** One run of a block, in a world seeded one way. */
export interface WorldVariant {
  /** How the world differs from the block's other runs (test names). */
  readonly name: string;
  /** Whether the output the doc shows is this run's (a doc shows one case). */
  readonly showsDocOutput: boolean;
  /** Seeds the emptied Firestore emulator at `emulatorHost` and starts the fakes. */
  seed(emulatorHost: string): Promise<SeededWorld>;
  readonly checks: readonly CommandCheck[];
}

/** The world of the blocks that tell one story. */
export interface DocWorld {
  /** What the block runs against, as the table of commands says it. */
  readonly label: string;
  /** Whether a block, given the text of its commands in order, tells this world's story. */
  serves(commands: readonly string[]): boolean;
  readonly variants: readonly WorldVariant[];
}

function parseReport(entry: Record<string, unknown>): IntegrityReport {
  const parsed = parseMessage(pubsubData(entry));
  if (parsed.status !== 'report') throw new Error(`fixture entry not a report: ${JSON.stringify(parsed)}`);
  return parsed.report;
}

/**
 * A client of a database of the responder's project on the emulator, over gRPC (the REST transport
 * does not run in Jest's sandbox). The client library reads the emulator's address from
 * FIRESTORE_EMULATOR_HOST, which the test removes once its runs are done.
 */
async function firestore(emulatorHost: string, database: string): Promise<Firestore> {
  process.env.FIRESTORE_EMULATOR_HOST = emulatorHost;
  return createFirestore({ projectId: RESPONDER_PROJECT, firestoreDatabase: database }, 'grpc');
}

async function startFakes(
  instances: readonly FakeInstance[],
  entries: readonly Record<string, unknown>[],
): Promise<Required<Pick<SeededWorld, 'compute' | 'logging' | 'close'>>> {
  const compute = new FakeComputeApi();
  for (const i of instances) compute.add(i);
  await compute.start();
  const logging = await startFakeLogging();
  // As Cloud Logging received them: a second after their timestamp.
  for (const e of entries) logging.write(e, new Date(Date.parse(String(e.timestamp)) + 1000));
  return {
    compute: compute.endpoint,
    logging: logging.url,
    close: async () => {
      await compute.stop();
      await logging.close();
    },
  };
}

/** A failed late-boot report of a VM of the fleet, at boot 12: by default canary-1's, of kernel 6.9. */
function lateBootFailure(instanceId: string, at: number, o: { readonly name?: string; readonly actual?: LoggedPcr[] } = {}) {
  return integrityEntry({
    name: o.name ?? 'canary-1',
    instanceId,
    projectId: FLEET_PROJECT,
    zone: ZONE,
    actual: o.actual ?? KERNEL_69,
    policy: linuxPcrs('kernel-6.8'),
    bootCounter: '12',
    timestamp: new Date(at).toISOString(),
  });
}

/**
 * The responder's decisions, recorded through its own ledger adapter at the times given. Each
 * returns once the record is as the function leaves it: `done` when the action completed.
 */
function ledgerOf(db: Firestore) {
  let clock = new Date();
  const ledger = new FirestoreDecisionLedger(async () => db, { clock: () => clock });
  return async (
    at: number,
    vm: { readonly id: string; readonly zone?: string; readonly name?: string; readonly boot: string; readonly actual?: LoggedPcr[] },
    proposed: Parameters<FirestoreDecisionLedger['record']>[0]['proposed'],
    o: { readonly containment?: 'suspend'; readonly budget?: ActionBudget; readonly completed?: RecordedDecision | 'done' } = {},
  ) => {
    clock = new Date(at);
    const report = parseReport(
      integrityEntry({
        instanceId: vm.id,
        projectId: FLEET_PROJECT,
        zone: vm.zone ?? ZONE,
        name: vm.name ?? null,
        bootCounter: vm.boot,
        actual: vm.actual ?? linuxPcrs(`vm-${vm.id}`),
        policy: linuxPcrs('kernel-6.8'),
        timestamp: new Date(at - 1000).toISOString(),
      }),
    );
    const recorded = await ledger.record(
      {
        report,
        proposed,
        fingerprint: baselineDocument(report.actualMeasurements).id,
        requestIdFor: (action) => `${action}-${vm.id}-${vm.boot}`,
        ...(o.containment && { containment: o.containment }),
      },
      o.budget,
    );
    if (o.completed !== undefined) {
      const key = { projectId: FLEET_PROJECT, zone: vm.zone ?? ZONE, instanceId: vm.id, bootCounter: vm.boot, kind: 'lateBoot' as const };
      await ledger.complete(
        key,
        recorded.requestId,
        o.completed === 'done'
          ? { operation: { name: `operation-${vm.id}-${vm.boot}`, status: 'DONE' }, status: 'DONE' }
          : { decision: o.completed, status: o.completed.reason },
      );
    }
    return recorded;
  };
}

/** A window length at which `a` and `b` fall in one window of the budget (windows are fixed, from the epoch). */
function windowHolding(a: number, b: number): number {
  const { max, min } = SETTINGS.actionWindowSeconds;
  for (let seconds = max; seconds >= min; seconds -= 3600) {
    if (budgetWindow(a, seconds).id === budgetWindow(b, seconds).id) return seconds;
  }
  throw new Error(`no window length holds both ${new Date(a).toISOString()} and ${new Date(b).toISOString()}`);
}

/** Waits out the end of the current window of `seconds` when it comes within `marginMs`. */
async function clearOfWindowEnd(seconds: number, marginMs: number): Promise<void> {
  const left = Date.parse(budgetWindow(Date.now(), seconds).end) - Date.now();
  if (left < marginMs) await new Promise((resolve) => setTimeout(resolve, left + 100));
}

const tool = (command: string) => new RegExp(`^(npx integrity-baselines|npm run baselines --) ${command}`);
const budgetTool = (command: string) => new RegExp(`^(npx integrity-budget|npm run budget --) ${command}`);
const onlyToolCommands = (commands: readonly string[], subcommand: RegExp) => {
  const tools = commands.filter((c) => /^(npx integrity-|npm run (baselines|budget) --)/.test(c));
  return tools.length > 0 && tools.every((c) => subcommand.test(c));
};

/** The canary started ten minutes ago, its late-boot report of kernel 6.9 a minute later, and (rule on) the two-person rule's policy. */
function rollout(twoPerson: boolean): WorldVariant['seed'] {
  return async (emulatorHost) => {
    if (twoPerson) {
      // As the construct writes it with requireBaselineApproval.
      const db = await firestore(emulatorHost, BASELINE_DATABASE);
      await db
        .collection(BASELINE_POLICY_COLLECTION)
        .doc('integrity-responder')
        .set({ baselineCollection: 'known_good_measurements', requireApproval: true });
      await db.terminate();
    }
    const start = Date.now() - 10 * MINUTE;
    return startFakes(
      [
        {
          project: FLEET_PROJECT,
          zone: ZONE,
          name: 'canary-1',
          id: '4617930134256183721',
          lastStartTimestamp: new Date(start).toISOString(),
        },
      ],
      [lateBootFailure('4617930134256183721', start + MINUTE)],
    );
  };
}

const ROLLOUT_CHECKS = {
  capture: { command: tool('capture'), append: '--actor alice@example.com' },
  // A colleague: the two-person rule takes another principal than the one who recorded it.
  approve: { command: tool('approve'), append: '--actor bob@example.com' },
} as const;
const KERNEL_69_PATH = `integrity-responder-baselines/known_good_measurements/${KERNEL_69_ID}`;

const containmentTool = (command: string) => new RegExp(`^(npx integrity-containment|npm run containment --) ${command}`);
/** The quarantine's tag value and the findings source of the docs' organization. */
const QUARANTINE_TAG = 'tagValues/281474976710657';
const FINDINGS_SOURCE = 'organizations/800000000001/sources/4242';

/**
 * canary-1 (boot 12, kernel 6.9) contained with the whole playbook, as the function leaves it
 * through its own ledger adapter: both persistent disks snapshotted into forensics-1234 (its local
 * SSD skipped), the quarantine's tag bound, the VM stopped, a finding raised; and (rule on) the
 * release policy the construct writes with requireReleaseApproval.
 */
function containedCanary(twoPerson: boolean): WorldVariant['seed'] {
  return async (emulatorHost) => {
    const db = await firestore(emulatorHost, LEDGER_DATABASE);
    if (twoPerson) await db.collection(BASELINE_POLICY_COLLECTION).doc(RELEASE_POLICY_DOCUMENT).set({ requireApproval: true });
    const rm = new FakeResourceManager().addProject(FLEET_PROJECT, '731946285012');
    const scc = new FakeSecurityCenter().addSource(FINDINGS_SOURCE);
    await Promise.all([rm.start(), scc.start()]);
    const id = '4617930134256183721';
    const key = { projectId: FLEET_PROJECT, zone: ZONE, instanceId: id, bootCounter: '12', kind: 'lateBoot' as const };
    const ledger = new FirestoreDecisionLedger(async () => db);
    const report = parseReport(lateBootFailure(id, Date.now() - 10 * MINUTE));
    const recorded = await ledger.record({
      report,
      proposed: { action: 'stop', reason: 'not-known-good' },
      fingerprint: KERNEL_69_ID,
      requestIdFor: (action) => `${action}-${id}-12`,
      playbook: ['snapshot', 'quarantine'],
    });
    const at = new Date().toISOString();
    const disks = ['canary-1', 'canary-1-data'].map((d, i) => ({
      deviceName: i === 0 ? 'persistent-disk-0' : 'data',
      type: 'PERSISTENT',
      source: `https://www.googleapis.com/compute/v1/projects/${FLEET_PROJECT}/zones/${ZONE}/disks/${d}`,
    }));
    const finding = `${FINDINGS_SOURCE}/locations/global/findings/${findingId(key)}`;
    scc.findings.set(finding, { name: finding, parent: `${FINDINGS_SOURCE}/locations/global`, state: 'ACTIVE', createTime: at });
    const steps: ContainmentSteps = {
      snapshot: {
        snapshots: disks.map((d, i) => ({
          deviceName: d.deviceName,
          disk: d.source,
          snapshot: `projects/forensics-1234/global/snapshots/${snapshotName(key, d, recorded.requestId)}`,
          operation: `operation-1733562000000-snapshot-${i}`,
          at,
        })),
        skipped: ['local-ssd-0'],
        done: true,
        at,
      },
      quarantine: {
        tagValue: QUARANTINE_TAG,
        binding: rm.addBinding(`//compute.googleapis.com/projects/731946285012/zones/${ZONE}/instances/${id}`, QUARANTINE_TAG).name,
        at,
      },
      finding: { name: finding, at },
    };
    const noted = await ledger.noteSteps(key, recorded.requestId, steps);
    const containing = { report, key, recorded, reason: 'not-known-good' as const } as unknown as Parameters<typeof summaryOf>[0];
    await ledger.complete(key, recorded.requestId, {
      operation: { name: `operation-${id}-12`, status: 'DONE' },
      status: 'DONE',
      containment: summaryOf(containing, noted, 'stop', at),
    });
    if (ledgerDocumentId(key) !== summaryOf(containing, noted, 'stop', at).record) throw new Error('the summary names another record');
    await db.terminate();
    return {
      resourceManager: rm.endpoint,
      securityCenter: scc.endpoint,
      close: async () => void (await Promise.all([rm.stop(), scc.stop()])),
    };
  };
}

const CONTAINMENT_CHECKS = {
  show: {
    command: containmentTool('show'),
    output: [
      /\nsnapshot: +projects\/forensics-1234\/global\/snapshots\/ivm-4617930134256183721-12-\S+ of disk data /,
      /\nquarantine: +tag value tagValues\/281474976710657, binding tagBindings\//,
    ],
  },
} as const;

/** The worlds of the blocks of docs/operating/ that run the operator tools. */
export const DOC_WORLDS: readonly DocWorld[] = [
  {
    label: 'canary-1 contained with the whole playbook (snapshots, quarantine, stop, finding), the two-person rule off, then on',
    serves: (commands) => commands.some((c) => containmentTool('').test(c)),
    variants: [
      {
        name: 'one principal releases',
        showsDocOutput: true,
        seed: containedCanary(false),
        checks: [
          CONTAINMENT_CHECKS.show,
          {
            command: containmentTool('release'),
            append: '--by alice@example.com',
            output: [/: quarantine tag \S+ removed from the VM; finding \S+ set INACTIVE\n/],
          },
        ],
      },
      {
        name: 'the two-person rule on',
        showsDocOutput: false,
        seed: containedCanary(true),
        checks: [
          CONTAINMENT_CHECKS.show,
          {
            command: containmentTool('release'),
            append: '--by alice@example.com',
            output: [/^release of \S+ requested by alice@example\.com: the release policy/],
          },
        ],
      },
    ],
  },
  {
    label: 'canary-1 failing with kernel 6.9, the two-person rule off, then on',
    serves: (commands) => commands.some((c) => tool('capture --instance canary-1').test(c)),
    variants: [
      {
        name: 'two-person rule off',
        showsDocOutput: true,
        seed: rollout(false),
        checks: [
          ROLLOUT_CHECKS.capture,
          { command: tool('show'), output: [new RegExp(`^baseline ${KERNEL_69_PATH}\nstate: +active \\(vouches`)] },
          {
            ...ROLLOUT_CHECKS.approve,
            output: [new RegExp(`^nothing to approve: ${KERNEL_69_PATH} is already active, and the two-person rule is off`)],
          },
          { command: tool('list'), output: [/\nsha256-bc71b5ae5a6d… +active +PCR_0,4,7 +canary-1 boot 12 +alice@example\.com /] },
          { command: tool('revoke'), output: [new RegExp(`^revoked ${KERNEL_69_PATH}\nby \\S+: these measurements match nothing`)] },
        ],
      },
      {
        name: 'two-person rule on',
        showsDocOutput: false,
        seed: rollout(true),
        checks: [
          { ...ROLLOUT_CHECKS.capture, output: [/^created \S+ \(proposed, PCR_0,4,7, from canary-1 boot 12, by alice@example\.com\)/] },
          { command: tool('show'), output: [/\nstate: +proposed \(does not vouch/] },
          {
            ...ROLLOUT_CHECKS.approve,
            output: [new RegExp(`^approved ${KERNEL_69_PATH} \\(by bob@example\\.com; recorded by alice@example\\.com\\)\nit vouches`)],
          },
          { command: tool('list'), output: [/\nsha256-bc71b5ae5a6d… +active +PCR_0,4,7 +canary-1 boot 12 +alice@example\.com /] },
          { command: tool('revoke'), output: [new RegExp(`^revoked ${KERNEL_69_PATH}\n`)] },
        ],
      },
    ],
  },
  {
    label: 'canary-1 started at the time shown, its report in Cloud Logging; gcloud on the fakes too',
    serves: (commands) => commands.some((c) => tool('capture canary\\.json').test(c)),
    variants: [
      {
        name: 'its report saved with gcloud',
        showsDocOutput: true,
        seed: async () => {
          const start = Date.parse('2026-12-06T09:12:44.123-08:00');
          return startFakes(
            [
              {
                project: FLEET_PROJECT,
                zone: ZONE,
                name: 'canary-1',
                id: '4518234529716502390',
                lastStartTimestamp: '2026-12-06T09:12:44.123-08:00',
              },
              { project: FLEET_PROJECT, zone: ZONE, name: 'web-1', id: '3003', lastStartTimestamp: new Date(start).toISOString() },
            ],
            // Another VM's report, newer: the filter of the doc's `gcloud logging read` leaves it out.
            [
              lateBootFailure('4518234529716502390', start + MINUTE),
              lateBootFailure('3003', start + 2 * MINUTE, { name: 'web-1', actual: linuxPcrs('web') }),
            ],
          );
        },
        checks: [
          {
            command: tool('capture canary\\.json --dry-run'),
            output: [new RegExp(`"id": ?"${KERNEL_69_ID}"`), /note: dry run, nothing written/],
          },
          {
            command: tool('capture canary\\.json --project'),
            output: [
              new RegExp(`^created ${KERNEL_69_PATH} \\(active, PCR_0,4,7, from canary-1 boot 12, by \\S+\\) in project sec-ops-1234`),
            ],
          },
        ],
      },
    ],
  },
  {
    label: "the responder's decisions about canary-1, web-1 and four other VMs in its ledger",
    serves: (commands) => onlyToolCommands(commands, tool('decisions')),
    variants: [
      {
        name: 'the ledger of the last hours',
        showsDocOutput: true,
        seed: async (emulatorHost) => {
          const now = Date.now();
          const db = await firestore(emulatorHost, LEDGER_DATABASE);
          const record = ledgerOf(db);
          // canary-1's stop takes the budget's only slot, so 2002's stop is held: one window holds both.
          const budget = { limit: 1, windowSeconds: windowHolding(now - 180 * MINUTE, now - 90 * MINUTE) };
          // Before the last two hours: web-1 stopped; canary-1 stopped with kernel 6.9, then relearned once vetted.
          await record(
            now - 300 * MINUTE,
            { id: '3003', name: 'web-1', boot: '3' },
            { action: 'stop', reason: 'not-known-good' },
            { completed: 'done' },
          );
          const canary = { id: '4617930134256183721', name: 'canary-1', actual: KERNEL_69 };
          await record(
            now - 180 * MINUTE,
            { ...canary, boot: '12' },
            { action: 'stop', reason: 'not-known-good' },
            { budget, completed: 'done' },
          );
          await record(
            now - 170 * MINUTE,
            { ...canary, boot: '13' },
            { action: 'relearn', reason: 'known-good', baselineId: KERNEL_69_ID },
            { completed: 'done' },
          );
          // The last two hours: the rows the doc shows.
          await record(
            now - 110 * MINUTE,
            { id: '1001', zone: 'europe-west1-b', boot: '4' },
            { action: 'relearn', reason: 'known-good', baselineId: `sha256-${'ab'.repeat(32)}` },
            { completed: 'done' },
          );
          const held = await record(now - 90 * MINUTE, { id: '2002', boot: '1' }, { action: 'stop', reason: 'policy-failed' }, { budget });
          if (held.record.outcome !== 'held') throw new Error(`2002's stop was not held: ${JSON.stringify(held.record)}`);
          await record(
            now - 60 * MINUTE,
            { id: '4004', zone: 'us-central1-b', boot: '2' },
            { action: 'stop', reason: 'not-known-good' },
            { completed: { action: 'none', reason: 'exempt' } },
          );
          await record(
            now - 30 * MINUTE,
            { id: '5005', boot: '6' },
            { action: 'stop', reason: 'not-known-good' },
            { containment: 'suspend' },
          );
          await db.terminate();
          return startFakes(
            [
              { project: FLEET_PROJECT, zone: ZONE, name: 'canary-1', id: canary.id },
              { project: FLEET_PROJECT, zone: ZONE, name: 'web-1', id: '3003' },
            ],
            [],
          );
        },
        checks: [
          {
            command: tool('decisions --project sec-ops-1234 --instance 4617930134256183721 --json'),
            // One JSON array, newest first: the relearn of boot 13, then the stop of boot 12, and nothing else.
            output: [
              /^\[\n {2}\{\n {4}"id": "[^"]+~4617930134256183721-13-lateBoot",[\s\S]*\n {4}"id": "[^"]+~4617930134256183721-12-lateBoot",(?:(?!\n {4}"id")[\s\S])*\n\]\n$/,
            ],
          },
          {
            command: tool('decisions .*--instance canary-1 '),
            output: [
              /\n\S+ \S+ +fleet-prod-1234 +us-central1-a +4617930134256183721 +13 +late-boot +relearn +known-good sha256-bc71b5ae5a6d… +done\n\S+ \S+ +fleet-prod-1234 +us-central1-a +4617930134256183721 +12 +late-boot +stop +not-known-good +done\n/,
              /note: VM canary-1 in fleet-prod-1234\/us-central1-a is instance id 4617930134256183721 \(Compute Engine\)/,
            ],
          },
          {
            command: tool('decisions .*--decision stop --outcome held'),
            output: [
              /^RECORDED .*\n\S+ \S+ +fleet-prod-1234 +us-central1-a +2002 +1 +late-boot +stop +policy-failed +held since \S+ \S+\n$/,
            ],
          },
          {
            command: tool('decisions .*--instance web-1 '),
            output: [/^RECORDED .*\n\S+ \S+ +fleet-prod-1234 +us-central1-a +3003 +3 +late-boot +stop +not-known-good +done\n/],
          },
        ],
      },
    ],
  },
  {
    label: 'a window of the action budget exhausted by kernel 6.9 failures',
    serves: (commands) => commands.some((c) => budgetTool('reset').test(c)),
    variants: [
      {
        name: 'three stops and one held, limit 3',
        showsDocOutput: true,
        seed: async (emulatorHost) => {
          const seconds = SETTINGS.actionWindowSeconds.default;
          // The block's commands read the window the stops were counted in.
          await clearOfWindowEnd(seconds, 30_000);
          const db = await firestore(emulatorHost, LEDGER_DATABASE);
          const record = ledgerOf(db);
          for (const id of ['6001', '6002', '6003', '6004']) {
            await record(
              Date.now(),
              { id, boot: '7' },
              { action: 'stop', reason: 'not-known-good' },
              { budget: { limit: 3, windowSeconds: seconds } },
            );
          }
          await db.terminate();
          return { close: async () => undefined };
        },
        checks: [
          {
            command: budgetTool('show'),
            output: [/\nused: +3 of 3 \(the limit when the last action was counted\): EXHAUSTED since /],
          },
          {
            command: budgetTool('reset'),
            output: [/: 3 counted → 0 \(by \S+: kernel 6\.9 vetted, baseline recorded; stop the rest\); held events are acted on/],
          },
        ],
      },
    ],
  },
  {
    label: 'an action counted two hours ago, none in the current window',
    serves: (commands) => onlyToolCommands(commands, budgetTool('show')),
    variants: [
      {
        name: 'a quiet window',
        showsDocOutput: true,
        seed: async (emulatorHost) => {
          const db = await firestore(emulatorHost, LEDGER_DATABASE);
          await ledgerOf(db)(
            Date.now() - 120 * MINUTE,
            { id: '7001', boot: '2' },
            { action: 'stop', reason: 'not-known-good' },
            { budget: { limit: SETTINGS.maxActionsPerWindow.default as number, windowSeconds: SETTINGS.actionWindowSeconds.default } },
          );
          await db.terminate();
          return { close: async () => undefined };
        },
        checks: [],
      },
    ],
  },
];
