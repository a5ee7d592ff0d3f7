import type { Firestore } from '@google-cloud/firestore';
import { BIN, COMMAND_USAGE, run } from '../../cli/integrity-containment';
import type { Io } from '../../cli/common';
import { FirestoreDecisionLedger } from '../../function/adapters/firestore-ledger';
import { createFirestore } from '../../function/runtime/clients';
import { BASELINE_POLICY_COLLECTION, LEDGER_INSTANCES_COLLECTION, RELEASE_POLICY_DOCUMENT } from '../../function/contract';
import type { ContainmentSteps, ContainmentSummary } from '../../function/core/ledger';
import { instanceDocumentId, ledgerDocumentId } from '../../function/core/ledger';
import type { IntegrityReport } from '../../function/core/parse';
import { RunningEmulator, useFirestoreEmulator } from '../../testkit/emulators';
import { FakeResourceManager } from '../../testkit/fake-resource-manager';
import { FakeSecurityCenter } from '../../testkit/fake-security-center';
import { runToolAsync } from '../../testkit/tools';
import { describeWithEmulators } from '../support/emulator-suite';

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: Io = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), readStdin: () => '', env };
  const code = await run(args, io);
  return { code, stdout, stderr };
}

const VM = 'fleet-prod-1234/us-central1-a/4617930134256183721';

describe(BIN, () => {
  it('answers --help with its commands', async () => {
    const r = await cli(['--help']);
    expect(r).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
    expect(r.stdout).toMatch(/\n {2}list .*\n {2}show .*\n {2}release /);
  });

  it.each(['list', 'show', 'release'])('answers %s --help without doing its work', async (command) => {
    const r = await cli([command, '--help', '--project', 'sec-ops-1234']);
    expect(r).toEqual({ code: 0, stdout: COMMAND_USAGE[command as keyof typeof COMMAND_USAGE], stderr: '' });
    expect(r.stdout).toMatch(new RegExp(`^usage: integrity-containment ${command}`));
  });

  it('says in the help of release that it never starts the VM nor relearns, and who may perform it', () => {
    expect(COMMAND_USAGE.release).toContain('It never starts or resumes the VM, never changes a baseline and never relearns');
    expect(COMMAND_USAGE.release).toContain('another principal');
  });

  it('refuses a release without a reason, as a usage error in one line and where the options are', async () => {
    expect(await cli(['release', VM, '--project', 'sec-ops-1234'])).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'integrity-containment: release needs --reason TEXT: why the VM may leave containment, kept with the release\n' +
        "run 'integrity-containment release --help' for its options\n",
    });
  });

  it.each<[string[], RegExp]>([
    [['show', '--project', 'sec-ops-1234'], /show takes one VM as <project>\/<zone>\/<instance id> \(as 'list' prints it\), got none/],
    [['show', 'fleet-prod-1234/canary-1', '--project', 'sec-ops-1234'], /got 'fleet-prod-1234\/canary-1'/],
    [
      ['show', 'fleet-prod-1234/us-central1-a/canary-1', '--project', 'sec-ops-1234'],
      /'canary-1' in 'fleet-prod-1234\/us-central1-a\/canary-1' is not a numeric instance id; the ledger keys VMs by id: 'gcloud compute instances describe NAME --zone us-central1-a --project fleet-prod-1234 --format="value\(id\)"' prints it/,
    ],
    [
      ['show', 'Fleet/us-central1-a/1', '--project', 'sec-ops-1234'],
      /'Fleet' in 'Fleet\/us-central1-a\/1' is not a Google Cloud project id/,
    ],
    [['show', 'fleet-prod-1234/central/1', '--project', 'sec-ops-1234'], /'central' .* is not a Compute Engine zone/],
    [['release', VM, VM, '--reason', 'x', '--project', 'sec-ops-1234'], /release takes one VM .*, got 2 arguments/],
    [['list', '--state', 'held', '--project', 'sec-ops-1234'], /--state must be one of contained, released, all, got 'held'/],
    [['list', 'extra', '--project', 'sec-ops-1234'], /list takes no arguments, got 'extra'/],
    [['list'], /--project is required \(or set GOOGLE_CLOUD_PROJECT\)/],
    [['release', VM, '--project', 'sec-ops-1234', '--reason', ' '], /--reason must not be blank/],
    [['release', VM, '--project', 'sec-ops-1234', '--reason', 'ok\nby: someone else'], /--reason must be printable text on one line/],
  ])('refuses %j with a usage error', async (args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('takes --by on the emulator only: against Firestore the principal of the credentials is recorded', async () => {
    const r = await cli(['release', VM, '--project', 'sec-ops-1234', '--reason', 'vetted', '--by', 'alice']);
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'integrity-containment: --by is for the emulator only: against Firestore the principal of your credentials is recorded (gcloud auth application-default login)\n' +
        "run 'integrity-containment release --help' for its options\n",
    });
  });
});

// Each tool run is a child process (tsx, then the clients): seconds apiece on a loaded machine,
// hence the generous timeouts of the tests that run it several times.
describeWithEmulators(`${BIN} on the Firestore emulator and the Resource Manager and Security Command Center fakes`, () => {
  const PROJECT = 'demo-containment';
  const DATABASE = 'integrity-responder-decisions';
  const FLEET = 'fleet-prod-1234';
  const FLEET_NUMBER = '731946285012';
  const ZONE = 'us-central1-a';
  const TAG = 'tagValues/281474976710657';
  const SOURCE = 'organizations/800000000001/sources/4242';
  let firestore: RunningEmulator;
  let db: Firestore;
  let ledger: FirestoreDecisionLedger;
  const rm = new FakeResourceManager();
  const scc = new FakeSecurityCenter();
  let next = 0;

  beforeAll(async () => {
    firestore = await useFirestoreEmulator();
    process.env.FIRESTORE_EMULATOR_HOST = firestore.host;
    process.env.METADATA_SERVER_DETECTION = 'none';
    db = await createFirestore({ projectId: PROJECT, firestoreDatabase: DATABASE }, 'grpc');
    ledger = new FirestoreDecisionLedger(async () => db);
    rm.addProject(FLEET, FLEET_NUMBER);
    scc.addSource(SOURCE);
    await Promise.all([rm.start(), scc.start()]);
  }, 60000);

  afterAll(async () => {
    await db?.terminate();
    await firestore?.stop();
    await Promise.all([rm.stop(), scc.stop()]);
    delete process.env.FIRESTORE_EMULATOR_HOST;
  });

  /** The tool in a child process (the Firestore client's REST transport does not run in Jest), on the emulator and the fakes. */
  const tool = (args: string[]) =>
    runToolAsync('integrity-containment', [...args, '--project', PROJECT], {
      env: {
        PATH: process.env.PATH,
        HOME: '/nonexistent',
        FIRESTORE_EMULATOR_HOST: firestore.host,
        METADATA_SERVER_DETECTION: 'none',
        RESOURCE_MANAGER_API_ENDPOINT: rm.endpoint,
        SECURITY_CENTER_API_ENDPOINT: scc.endpoint,
      },
    });

  const parentOf = (id: string) => `//compute.googleapis.com/projects/${FLEET_NUMBER}/zones/${ZONE}/instances/${id}`;

  /**
   * A VM contained as the function leaves it, through its own ledger adapter: the stop recorded
   * with its playbook, each step's record, then the completion with the instance's summary. The
   * quarantine's binding and the finding exist in the fakes.
   */
  async function contained(o: { quarantine?: boolean; finding?: boolean; snapshots?: number; containment?: 'suspend' } = {}) {
    const id = String(4_617_930_134_256_000_000n + BigInt(++next));
    const boot = '12';
    const report: IntegrityReport = {
      kind: 'lateBoot',
      passed: false,
      actualMeasurements: [{ pcr: 0, value: 'v' }],
      instance: { projectId: FLEET, zone: ZONE, id },
      bootCounter: boot,
      timestamp: new Date().toISOString(),
    };
    const playbook = [...((o.snapshots ?? 0) > 0 ? ['snapshot' as const] : []), ...(o.quarantine ? ['quarantine' as const] : [])];
    const recorded = await ledger.record({
      report,
      proposed: { action: 'stop', reason: 'not-known-good' },
      fingerprint: `fp-${id}`,
      requestIdFor: () => `req-${id}`,
      playbook,
      ...(o.containment && { containment: o.containment }),
    });
    const key = { projectId: FLEET, zone: ZONE, instanceId: id, bootCounter: boot, kind: 'lateBoot' as const };
    const at = new Date().toISOString();
    const steps: ContainmentSteps = {
      ...((o.snapshots ?? 0) > 0 && {
        snapshot: {
          snapshots: Array.from({ length: o.snapshots! }, (_, i) => ({
            deviceName: `disk-${i}`,
            disk: `projects/${FLEET}/zones/${ZONE}/disks/vm-${id}-${i}`,
            snapshot: `projects/forensics-1234/global/snapshots/ivm-${id}-${boot}-${i}`,
            operation: `operation-snap-${id}-${i}`,
            at,
          })),
          skipped: ['local-ssd-0'],
          done: true,
          at,
        },
      }),
      ...(o.quarantine && { quarantine: { tagValue: TAG, binding: rm.addBinding(parentOf(id), TAG).name, at } }),
      ...(o.finding && { finding: { name: `${SOURCE}/locations/global/findings/f${id}`, at } }),
    };
    if (o.finding) {
      const name = `${SOURCE}/locations/global/findings/f${id}`;
      scc.findings.set(name, { name, parent: `${SOURCE}/locations/global`, state: 'ACTIVE', createTime: at });
    }
    if (Object.keys(steps).length > 0) await ledger.noteSteps(key, recorded.requestId, steps);
    const summary: ContainmentSummary = {
      state: 'contained',
      record: ledgerDocumentId(key),
      bootCounter: boot,
      reason: 'not-known-good',
      containment: o.containment ?? 'stop',
      playbook,
      snapshots: (steps.snapshot?.snapshots ?? []).map((s) => s.snapshot),
      ...(steps.quarantine && { quarantine: { tagValue: steps.quarantine.tagValue, binding: steps.quarantine.binding } }),
      ...(steps.finding && { finding: steps.finding.name }),
      containedAt: at,
    };
    await ledger.complete(key, recorded.requestId, {
      operation: { name: `operation-stop-${id}`, status: 'DONE' },
      status: 'DONE',
      containment: summary,
    });
    return {
      id,
      vm: `${FLEET}/${ZONE}/${id}`,
      document: instanceDocumentId(key),
      finding: steps.finding?.name,
      binding: steps.quarantine?.binding,
    };
  }

  const summaryOf = async (document: string) =>
    (await db.collection(LEDGER_INSTANCES_COLLECTION).doc(document).get()).get('containment') as ContainmentSummary;
  const policy = () => db.collection(BASELINE_POLICY_COLLECTION).doc(RELEASE_POLICY_DOCUMENT);

  it('lists no VM on an empty ledger, and says where it looked', async () => {
    const r = await tool(['list']);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(r.stdout).toBe(`no VM is contained in ${DATABASE} in project ${PROJECT} on the emulator at ${firestore.host}\n`);
  });

  it('lists and shows contained VMs as the function recorded them, every snapshot, binding and finding', async () => {
    const full = await contained({ snapshots: 2, quarantine: true, finding: true });
    const plain = await contained({ containment: 'suspend' });
    const list = await tool(['list']);
    expect({ status: list.status, stderr: list.stderr }).toEqual({ status: 0, stderr: '' });
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^VM +BOOT +REASON +ACTION +CONTAINED +SNAPSHOTS +QUARANTINED +FINDING +STATE$/);
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^${full.vm} +12 +not-known-good +stop +\\S+ \\S+Z +2 +yes +f${full.id} +contained$`)),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^${plain.vm} +12 +not-known-good +suspend +\\S+ \\S+Z +0 +no +- +contained$`)),
    );

    const json = await tool(['list', '--json']);
    const docs = JSON.parse(json.stdout) as { document: string; containment: ContainmentSummary }[];
    expect(docs.find((d) => d.document === full.document)?.containment).toEqual(
      expect.objectContaining({ state: 'contained', quarantine: { tagValue: TAG, binding: full.binding } }),
    );

    const show = await tool(['show', full.vm]);
    expect({ status: show.status, stderr: show.stderr }).toEqual({ status: 0, stderr: '' });
    expect(show.stdout).toContain(`vm:          ${full.vm} (integrity_instances/${full.document} in ${DATABASE} in project ${PROJECT}`);
    expect(show.stdout).toContain('playbook:    snapshot, quarantine, stop\n');
    expect(show.stdout).toMatch(
      new RegExp(
        `\nsnapshot: +projects/forensics-1234/global/snapshots/ivm-${full.id}-12-1 of disk disk-1 \\(\\S+, operation operation-snap-${full.id}-1, at `,
      ),
    );
    expect(show.stdout).toContain('not taken:   local-ssd-0: a local SSD, which no snapshot can take (the stop kept it)\n');
    expect(show.stdout).toContain(`quarantine:  tag value ${TAG}, binding ${full.binding}, at `);
    expect(show.stdout).toMatch(new RegExp(`\nstop: +operation operation-stop-${full.id} \\(DONE, completed at `));
    expect(show.stdout).toContain(`next:        integrity-containment release ${full.vm} --reason`);
  }, 120000);

  it('releases a VM: removes the binding, sets the finding INACTIVE, records who and why, and says how to start it', async () => {
    const vm = await contained({ snapshots: 1, quarantine: true, finding: true });
    const r = await tool(['release', vm.vm, '--reason', 'INC-4711: rootkit ruled out', '--by', 'alice@example.com']);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(r.stdout).toBe(
      `released ${vm.vm} (by alice@example.com): quarantine tag ${TAG} removed from the VM; finding ${vm.finding} set INACTIVE\n` +
        'the VM is still stopped (the release started nothing, changed no baseline and relearned nothing). When you are ready, ' +
        'start it; the integrity report of its next boot decides, as for any VM (a boot that is not known good is contained again):\n' +
        `  gcloud compute instances start ${vm.id} --project ${FLEET} --zone ${ZONE}\n`,
    );
    expect(rm.valuesOn(parentOf(vm.id))).toEqual([]);
    expect(scc.findings.get(vm.finding!)?.state).toBe('INACTIVE');
    const summary = await summaryOf(vm.document);
    expect(summary).toEqual(
      expect.objectContaining({
        state: 'released',
        released: { by: 'alice@example.com', reason: 'INC-4711: rootkit ruled out', at: expect.any(String) },
      }),
    );
    expect(summary.quarantine).toBeUndefined();
    expect(summary.findingInactiveAt).toBe(summary.released!.at);

    // Again: nothing to do, and said so.
    const again = await tool(['release', vm.vm, '--reason', 'again', '--by', 'bob@example.com']);
    expect({ status: again.status, stderr: again.stderr }).toEqual({ status: 0, stderr: '' });
    expect(again.stdout).toMatch(
      new RegExp(`^${vm.vm} is already released: by alice@example\\.com at \\S+: INC-4711: rootkit ruled out; nothing to do\n$`),
    );
    expect((await summaryOf(vm.document)).released?.by).toBe('alice@example.com');

    const listed = await tool(['list', '--state', 'released']);
    expect(listed.stdout).toMatch(new RegExp(`\n${vm.vm} .* released \\S+ \\S+Z by alice@example\\.com\n`));
    expect((await tool(['list'])).stdout).not.toContain(vm.vm);
  }, 120000);

  it('tells a suspended VM apart: resuming is no boot, so it says to stop and start it', async () => {
    const vm = await contained({ containment: 'suspend' });
    const r = await tool(['release', vm.vm, '--reason', 'vetted', '--by', 'alice@example.com']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`released ${vm.vm} (by alice@example.com): no quarantine tag was bound; no finding was raised\n`);
    expect(r.stdout).toContain('a resume is no boot');
    expect(r.stdout).toContain(
      `  gcloud compute instances resume ${vm.id} --project ${FLEET} --zone ${ZONE}\n` +
        `  gcloud compute instances stop ${vm.id} --project ${FLEET} --zone ${ZONE}\n` +
        `  gcloud compute instances start ${vm.id} --project ${FLEET} --zone ${ZONE}\n`,
    );
  }, 120000);

  describe('under the two-person rule', () => {
    beforeAll(() => policy().set({ requireApproval: true }));
    afterAll(() => policy().delete());

    it("records the first principal's request, refuses the same principal, and releases when another one runs it", async () => {
      const vm = await contained({ quarantine: true, finding: true });
      const asked = await tool(['release', vm.vm, '--reason', "INC-4711: it's clean", '--by', 'alice@example.com']);
      expect({ status: asked.status, stderr: asked.stderr }).toEqual({ status: 0, stderr: '' });
      expect(asked.stdout).toContain(
        `release of ${vm.vm} requested by alice@example.com: the release policy (integrity_responder_policies/release in ${DATABASE}`,
      );
      expect(asked.stdout).toContain(
        `Another principal than alice@example.com performs it with:\n  integrity-containment release ${vm.vm} --project ${PROJECT} --database ${DATABASE} --reason 'INC-4711: it'\\''s clean'\n`,
      );
      // Nothing released yet.
      expect(rm.valuesOn(parentOf(vm.id))).toEqual([TAG]);
      expect(scc.findings.get(vm.finding!)?.state).toBe('ACTIVE');
      expect(await summaryOf(vm.document)).toEqual(
        expect.objectContaining({
          state: 'contained',
          releaseRequested: { by: 'alice@example.com', reason: "INC-4711: it's clean", at: expect.any(String) },
        }),
      );
      expect((await tool(['list'])).stdout).toMatch(
        new RegExp(`\n${vm.vm} .* contained; release requested by alice@example\\.com, waiting for another principal\n`),
      );

      const same = await tool(['release', vm.vm, '--reason', 'please', '--by', 'Alice@Example.com']);
      expect(same.status).toBe(1);
      expect(same.stderr).toMatch(
        new RegExp(
          `^integrity-containment: ${vm.vm}: Alice@Example\\.com requested this release at \\S+, and the release policy \\(integrity_responder_policies/release\\) requires another principal to perform it; ask one to run 'integrity-containment release `,
        ),
      );
      expect(rm.valuesOn(parentOf(vm.id))).toEqual([TAG]);

      const done = await tool(['release', vm.vm, '--reason', 'second look: agreed', '--by', 'bob@example.com']);
      expect({ status: done.status, stderr: done.stderr }).toEqual({ status: 0, stderr: '' });
      expect(done.stdout).toMatch(
        new RegExp(`^released ${vm.vm} \\(by bob@example\\.com, requested by alice@example\\.com\\): quarantine tag ${TAG} removed`),
      );
      expect(rm.valuesOn(parentOf(vm.id))).toEqual([]);
      expect(scc.findings.get(vm.finding!)?.state).toBe('INACTIVE');
      expect((await summaryOf(vm.document)).released).toEqual({
        by: 'bob@example.com',
        reason: 'second look: agreed',
        at: expect.any(String),
        requestedBy: 'alice@example.com',
      });
    }, 180000);
  });

  it('refuses to release a VM that is not contained, saying where it looked', async () => {
    const r = await tool(['release', `${FLEET}/${ZONE}/4242`, '--reason', 'x', '--by', 'alice@example.com']);
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 1, stdout: '' });
    expect(r.stderr).toBe(
      `integrity-containment: ${FLEET}/${ZONE}/4242 is not contained: ${DATABASE} in project ${PROJECT} on the emulator at ${firestore.host} ` +
        `has no containment for it (integrity_instances/${FLEET}~${ZONE}~4242 does not exist); check the VM's project, zone and numeric id ` +
        `against 'integrity-containment list', and --project and --database against the responder's ledger\n`,
    );
  }, 60000);

  it('records nothing when the binding cannot be removed, and releases when run again', async () => {
    const vm = await contained({ quarantine: true, finding: true });
    const before = await db.collection(LEDGER_INSTANCES_COLLECTION).doc(vm.document).get();
    rm.injectFaults({ method: 'deleteTagBinding', code: 403, message: 'Permission denied on tagBindings.delete' });
    const r = await tool(['release', vm.vm, '--reason', 'vetted', '--by', 'alice@example.com']);
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 1, stdout: '' });
    expect(r.stderr).toMatch(
      new RegExp(
        `^integrity-containment: could not remove the quarantine tag ${TAG} from ${vm.vm}: .*Permission denied on tagBindings\\.delete; ` +
          `the principal of your credentials needs roles/resourcemanager\\.tagUser on ${TAG} \\(releasePrincipals grants it\\) and compute\\.instances\\.listTagBindings and compute\\.instances\\.deleteTagBinding on project ${FLEET}; ` +
          'nothing was recorded: the VM stays contained in the ledger; run the command again once this is fixed \\(repeating it is safe\\)\n$',
      ),
    );
    const after = await db.collection(LEDGER_INSTANCES_COLLECTION).doc(vm.document).get();
    expect(after.updateTime?.isEqual(before.updateTime!)).toBe(true);
    expect(rm.valuesOn(parentOf(vm.id))).toEqual([TAG]);
    expect(scc.findings.get(vm.finding!)?.state).toBe('ACTIVE');

    const again = await tool(['release', vm.vm, '--reason', 'vetted', '--by', 'alice@example.com']);
    expect({ status: again.status, stderr: again.stderr }).toEqual({ status: 0, stderr: '' });
    expect((await summaryOf(vm.document)).state).toBe('released');
    expect(rm.valuesOn(parentOf(vm.id))).toEqual([]);
  }, 120000);

  it('records nothing when the finding cannot be set INACTIVE, and says the binding is off when run again', async () => {
    const vm = await contained({ quarantine: true, finding: true });
    scc.injectFaults({ method: 'setFindingState', code: 503, message: 'The service is currently unavailable' });
    const r = await tool(['release', vm.vm, '--reason', 'vetted', '--by', 'alice@example.com']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^integrity-containment: could not set the finding ${vm.finding} INACTIVE: .*; the quarantine tag is off the VM, but nothing was recorded`,
      ),
    );
    expect((await summaryOf(vm.document)).state).toBe('contained');

    const again = await tool(['release', vm.vm, '--reason', 'vetted', '--by', 'alice@example.com']);
    expect({ status: again.status, stderr: again.stderr }).toEqual({ status: 0, stderr: '' });
    expect(again.stdout).toContain(`: quarantine tag ${TAG} was no longer bound; finding ${vm.finding} set INACTIVE\n`);
  }, 120000);
});
