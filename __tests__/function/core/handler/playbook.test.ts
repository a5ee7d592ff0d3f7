import { FINDING_CATEGORIES, SNAPSHOT_LABELS } from '../../../../function/contract';
import type { HandlerDeps } from '../../../../function/core/handler';
import { ledgerDocumentId } from '../../../../function/core/ledger';
import { findingId, snapshotName } from '../../../../function/core/playbook';
import { OperationFailedError, SnapshotRateLimitedError } from '../../../../function/core/ports';
import { RecordingEvidence, RecordingFindings, RecordingQuarantine } from '../../../support/fakes';
import { GET, STOP, VM, running, setup } from '../../../support/handler-setup';
import { DEFAULT_INSTANCE_ID, linuxPcrs, tutorialDocument } from '../../../../testkit/fixtures';

// Containment as a playbook (ADR 0031): evidence, quarantine, stop, finding; each step once.

const SOURCE = 'organizations/4242/sources/77';
const TAG = 'tagValues/281474976710656';
const KEY = {
  projectId: 'fleet-prod-1234',
  zone: 'europe-west1-b',
  instanceId: DEFAULT_INSTANCE_ID,
  bootCounter: '7',
  kind: 'lateBoot' as const,
};
const DISKS = [
  { deviceName: 'boot', type: 'PERSISTENT', source: 'projects/fleet-prod-1234/zones/europe-west1-b/disks/web-1', boot: true },
  { deviceName: 'data', type: 'PERSISTENT', source: 'projects/fleet-prod-1234/zones/europe-west1-b/disks/web-1-data' },
  { deviceName: 'local-ssd-0', type: 'SCRATCH' },
];

/** The handler with the whole playbook, every call of every part in one list, in the order made. */
function playbook(extra: Partial<HandlerDeps> = {}) {
  const evidence = new RecordingEvidence();
  const quarantine = new RecordingQuarantine();
  const findings = new RecordingFindings();
  const t = setup('relearn-if-known-good', undefined, extra);
  const order: string[] = [];
  const deps = t.deps as { -readonly [K in keyof HandlerDeps]: HandlerDeps[K] };
  Object.assign(deps, {
    evidenceSteps: ['snapshot', 'quarantine'],
    forensicsProject: 'forensics-vault-01',
    snapshotRetentionDays: 30,
    quarantineTagValue: TAG,
    findingsSource: SOURCE,
    ...extra,
    evidence: {
      snapshot: (r: Parameters<RecordingEvidence['snapshot']>[0]) => (order.push(`snapshot ${r.name}`), evidence.snapshot(r)),
    },
    quarantine: {
      bind: (i: Parameters<RecordingQuarantine['bind']>[0], v: string) => (order.push(`bind ${v}`), quarantine.bind(i, v)),
      unbind: (i: Parameters<RecordingQuarantine['unbind']>[0], v: string) => quarantine.unbind(i, v),
    },
    findings: {
      raise: (f: Parameters<RecordingFindings['raise']>[0]) => (order.push(`raise ${f.findingId}`), findings.raise(f)),
      deactivate: (n: string) => (order.push(`deactivate ${n}`), findings.deactivate(n)),
    },
  });
  const instances = t.instances;
  const describe = instances.describe.bind(instances);
  const stop = instances.stop.bind(instances);
  const relearn = instances.relearn.bind(instances);
  instances.describe = async (i) => (order.push('get'), describe(i));
  instances.stop = async (i, id) => (order.push('stop'), stop(i, id));
  instances.relearn = async (i, id) => (order.push('relearn'), relearn(i, id));
  instances.states.set(DEFAULT_INSTANCE_ID, { ...running(new Date(Date.now() - 60_000).toISOString()), name: 'web-1', disks: DISKS });
  return { ...t, evidence, quarantine, findings, order };
}

const snapshotOf = (deviceName: string) =>
  snapshotName(
    KEY,
    DISKS.find((d) => d.deviceName === deviceName)!,
  );

describe('the containment playbook', () => {
  it('snapshots every persistent disk, then quarantines, then stops, then raises the finding, in that order', async () => {
    const t = playbook();
    await t.run({});
    const finding = findingId(KEY);
    expect(t.order).toEqual([
      'get',
      `snapshot ${snapshotOf('boot')}`,
      `snapshot ${snapshotOf('data')}`,
      `bind ${TAG}`,
      'stop',
      `raise ${finding}`,
    ]);
    const record = t.ledger.records.get(ledgerDocumentId(KEY))!;
    expect(record.decision.playbook).toEqual(['snapshot', 'quarantine']);
    expect(record.steps?.snapshot).toEqual(
      expect.objectContaining({
        done: true,
        skipped: ['local-ssd-0'],
        snapshots: [expect.objectContaining({ deviceName: 'boot' }), expect.objectContaining({ deviceName: 'data' })],
      }),
    );
    expect(record.steps?.quarantine).toEqual(
      expect.objectContaining({ tagValue: TAG, binding: `tagBindings/${DEFAULT_INSTANCE_ID}/${TAG}` }),
    );
    expect(record.steps?.finding?.name).toBe(`${SOURCE}/locations/global/findings/${finding}`);
    expect(t.ledger.containments.get(`fleet-prod-1234~europe-west1-b~${DEFAULT_INSTANCE_ID}`)).toEqual(
      expect.objectContaining({ state: 'contained', reason: 'not-known-good', containment: 'stop', finding: record.steps?.finding?.name }),
    );
    const [line] = t.logger.lines;
    expect(line).toEqual(
      expect.objectContaining({
        decision: 'stop',
        snapshots: [
          `projects/forensics-vault-01/global/snapshots/${snapshotOf('boot')}`,
          `projects/forensics-vault-01/global/snapshots/${snapshotOf('data')}`,
        ],
        finding: `${SOURCE}/locations/global/findings/${finding}`,
        steps: [
          expect.objectContaining({ step: 'snapshot', status: 'done', skipped: ['local-ssd-0'] }),
          expect.objectContaining({ step: 'quarantine', status: 'done' }),
          expect.objectContaining({ step: 'finding', status: 'done' }),
        ],
      }),
    );
    expect(line!.message).toContain(
      'snapshotted 2 disks (1 local SSD kept, not snapshotted), quarantined it, then stopping the instance; finding raised',
    );
  });

  it('labels each snapshot with the VM, the boot, the decision and the day it may be deleted', async () => {
    const t = playbook();
    await t.run({});
    const [first] = t.evidence.calls;
    const record = t.ledger.records.get(ledgerDocumentId(KEY))!;
    expect(first).toEqual(
      expect.objectContaining({
        project: 'forensics-vault-01',
        sourceDisk: DISKS[0]!.source,
        labels: expect.objectContaining({
          [SNAPSHOT_LABELS.instanceId]: DEFAULT_INSTANCE_ID,
          [SNAPSHOT_LABELS.projectId]: 'fleet-prod-1234',
          [SNAPSHOT_LABELS.bootCounter]: '7',
          [SNAPSHOT_LABELS.requestId]: record.requestId,
          [SNAPSHOT_LABELS.reason]: 'not-known-good',
          [SNAPSHOT_LABELS.retainUntil]: new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10),
        }),
      }),
    );
    // Each disk has its own request id, derived from the decision's: a redelivery repeats it.
    expect(new Set(t.evidence.calls.map((c) => c.requestId)).size).toBe(2);
    expect(snapshotOf('boot')).toMatch(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/);
  });

  it('resumes a containment interrupted mid-way without repeating a step, and counts it once in the budget', async () => {
    const t = playbook({ actionBudget: { limit: 5, windowSeconds: 3600 } });
    t.quarantine.failWith = new Error('Resource Manager unavailable');
    await expect(t.run({}, 'msg-1')).rejects.toThrow('Resource Manager unavailable');
    expect(t.order.filter((c) => c.startsWith('snapshot'))).toHaveLength(2);
    expect(t.order).not.toContain('stop');
    expect(t.logger.lines[0]).toEqual(expect.objectContaining({ retry: true, error: 'Resource Manager unavailable' }));
    t.quarantine.failWith = undefined;
    t.order.length = 0;
    await t.run({}, 'msg-1');
    expect(t.order).toEqual(['get', `bind ${TAG}`, 'stop', `raise ${findingId(KEY)}`]);
    expect(t.logger.lines[1]).toEqual(
      expect.objectContaining({
        steps: [
          expect.objectContaining({ step: 'snapshot', status: 'already-done' }),
          expect.objectContaining({ step: 'quarantine', status: 'done' }),
          expect.objectContaining({ step: 'finding', status: 'done' }),
        ],
      }),
    );
    expect([...t.ledger.budgetWindows.values()].map((w) => w.count)).toEqual([1]);
    // Done: a third delivery does nothing at all.
    t.order.length = 0;
    await t.run({}, 'msg-1');
    expect(t.order).toEqual(['get']);
  });

  it('keeps a snapshot taken before a failure on another disk, and takes only the missing one again', async () => {
    const t = playbook();
    const snapshot = t.evidence.snapshot.bind(t.evidence);
    let calls = 0;
    t.evidence.snapshot = async (r) => {
      if (++calls === 2) throw new OperationFailedError('operation-snap', 'not done after 20 s', false);
      return snapshot(r);
    };
    await expect(t.run({})).rejects.toThrow(/not done/);
    t.order.length = 0;
    await t.run({});
    expect(t.order.filter((c) => c.startsWith('snapshot'))).toEqual([`snapshot ${snapshotOf('data')}`]);
  });

  it("is held by Compute's snapshot rate limit before anything changes the VM, and redelivered", async () => {
    const t = playbook();
    t.evidence.failWith = new SnapshotRateLimitedError(DISKS[0]!.source!, 'RESOURCE_OPERATION_RATE_EXCEEDED');
    await expect(t.run({})).rejects.toBeInstanceOf(SnapshotRateLimitedError);
    expect(t.order).toEqual(['get', `snapshot ${snapshotOf('boot')}`]);
    expect(t.logger.lines[0]).toEqual(
      expect.objectContaining({ severity: 'ERROR', retry: true, error: expect.stringContaining('RESOURCE_OPERATION_RATE_EXCEEDED') }),
    );
  });

  it('asks again under a new request id after the rate limit: Compute answers a repeated one with the refused operation', async () => {
    const t = playbook();
    t.evidence.failWith = new SnapshotRateLimitedError(DISKS[0]!.source!, 'RESOURCE_OPERATION_RATE_EXCEEDED');
    await expect(t.run({})).rejects.toBeInstanceOf(SnapshotRateLimitedError);
    t.evidence.failWith = undefined;
    await t.run({});
    const [refused, retried] = t.evidence.calls.filter((c) => c.sourceDisk === DISKS[0]!.source);
    expect(retried!.requestId).not.toBe(refused!.requestId);
    expect(t.ledger.records.get(ledgerDocumentId(KEY))?.failedAttempts).toBe(1);
  });

  it('reports every step as what it would do in dry-run, and calls none of them', async () => {
    const t = playbook({ enforcement: 'dry-run' });
    await t.run({});
    expect(t.order).toEqual(['get']);
    const [line] = t.logger.lines;
    expect(line).toEqual(
      expect.objectContaining({
        dryRun: true,
        steps: [
          expect.objectContaining({ step: 'snapshot', status: 'would' }),
          expect.objectContaining({ step: 'quarantine', status: 'would', name: TAG }),
          expect.objectContaining({ step: 'finding', status: 'would' }),
        ],
      }),
    );
    expect(line!.message).toMatch(
      /^Dry run: would snapshot 2 disks \(1 local SSD kept, not snapshotted\), quarantine it, then stop the instance, and raise a finding:/,
    );
    expect(t.ledger.records.get(ledgerDocumentId(KEY))?.steps).toBeUndefined();
  });

  it('runs the playbook recorded with the decision, not one configured since', async () => {
    const t = playbook();
    t.quarantine.failWith = new Error('down');
    await expect(t.run({})).rejects.toThrow('down');
    t.quarantine.failWith = undefined;
    (t.deps as { evidenceSteps?: readonly string[] }).evidenceSteps = [];
    t.order.length = 0;
    await t.run({});
    expect(t.order).toContain(`bind ${TAG}`);
  });

  it('raises a CRITICAL finding for conflicting reports, and a HIGH one for measurements not known good', async () => {
    const t = playbook();
    await t.run({ actual: linuxPcrs('one') }, 'a');
    await t.run({ actual: linuxPcrs('two') }, 'b');
    const [f] = [...t.findings.findings.values()];
    expect(t.findings.findings.size).toBe(1);
    expect(f).toEqual(expect.objectContaining({ category: FINDING_CATEGORIES.integrity, severity: 'HIGH', state: 'ACTIVE' }));
    const other = playbook();
    other.ledger.records.clear();
    await other.run({ actual: linuxPcrs('one'), bootCounter: '8' }, 'c');
    await other.run({ actual: linuxPcrs('two'), bootCounter: '8' }, 'd');
    expect([...other.findings.findings.values()][0]!.severity).toBe('HIGH');
  });

  it('sets the finding inactive when the VM, vetted, relearns; the quarantine stays until released', async () => {
    const t = playbook();
    // Contained ten minutes ago.
    t.ledger.clock = () => new Date(Date.now() - 600_000);
    await t.run({ actual: linuxPcrs('bad') }, 'a');
    t.ledger.clock = () => new Date();
    const name = `${SOURCE}/locations/global/findings/${findingId(KEY)}`;
    expect(t.findings.findings.get(name)?.state).toBe('ACTIVE');
    // Investigated, vetted, started again: its next boot reports known-good measurements.
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    t.instances.states.set(DEFAULT_INSTANCE_ID, { ...running(new Date(Date.now() - 5_000).toISOString()), name: 'web-1', disks: DISKS });
    t.order.length = 0;
    await t.run({ actual: linuxPcrs('good'), bootCounter: '8', timestamp: new Date(Date.now() - 1_000).toISOString() }, 'b');
    expect(t.order).toEqual(['get', 'relearn', `deactivate ${name}`]);
    expect(t.findings.findings.get(name)?.state).toBe('INACTIVE');
    expect(t.quarantine.bound.size).toBe(1);
    expect(t.logger.lines[1]!.message).toContain('its finding set inactive');
    expect(t.ledger.containments.get(`fleet-prod-1234~europe-west1-b~${DEFAULT_INSTANCE_ID}`)?.findingInactiveAt).toBeDefined();
  });

  it('takes no step for an exempt VM', async () => {
    const t = playbook();
    t.instances.states.set(DEFAULT_INSTANCE_ID, {
      ...running(new Date(Date.now() - 60_000).toISOString()),
      labels: { 'integrity-response': 'exempt' },
      disks: DISKS,
    });
    await t.run({});
    expect(t.order).toEqual(['get']);
  });
});

describe('a Confidential VM launch attestation', () => {
  it('contains a VM whose launch attestation failed, in either mode, without a baseline lookup', async () => {
    for (const mode of ['relearn-if-known-good', 'shutdown'] as const) {
      const t = setup(mode);
      const looked = jest.spyOn(t.baselines, 'findExactMatch');
      await t.run({ kind: 'sevLaunchAttestationReportEvent', passed: false, bootCounter: '0' });
      expect(t.instances.calls).toEqual([GET, STOP]);
      expect(looked).not.toHaveBeenCalled();
      expect(t.logger.lines).toEqual([
        expect.objectContaining({
          severity: 'CRITICAL',
          eventKind: 'launchAttestation',
          policyEvaluationPassed: false,
          decision: 'stop',
          reason: 'launch-attestation-failed',
          sevPolicy: { debugEnabled: false, keySharingAllowed: false, esRequired: true },
          message: expect.stringContaining(`Launch attestation of Confidential VM ${VM.replace(DEFAULT_INSTANCE_ID, 'web-1')}`),
        }),
      ]);
    }
  });

  it('does nothing about a launch attestation that passed', async () => {
    const t = setup();
    await t.run({ kind: 'sevLaunchAttestationReportEvent', passed: true, bootCounter: '0' });
    expect(t.instances.calls).toEqual([]);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({ decision: 'none', reason: 'policy-passed', eventKind: 'launchAttestation' }),
    ]);
  });

  it('raises its finding under the launch-attestation category, CRITICAL', async () => {
    const t = playbook();
    await t.run({ kind: 'sevLaunchAttestationReportEvent', passed: false, bootCounter: '0' });
    const [f] = [...t.findings.findings.values()];
    expect(f).toEqual(expect.objectContaining({ category: FINDING_CATEGORIES.launchAttestation, severity: 'CRITICAL' }));
  });
});
