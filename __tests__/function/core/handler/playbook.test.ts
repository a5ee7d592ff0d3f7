import { EVIDENCE_TIMEOUT_SECONDS, FINDING_CATEGORIES, SNAPSHOT_LABELS } from '../../../../function/contract';
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

/** The second snapshot the evidence control is asked for fails once, its operation not done in time. */
function failSecondSnapshot(t: ReturnType<typeof playbook>): void {
  const snapshot = t.evidence.snapshot.bind(t.evidence);
  let calls = 0;
  t.evidence.snapshot = async (r) => {
    if (++calls === 2) throw new OperationFailedError('operation-snap', 'not done after 20 s', false);
    return snapshot(r);
  };
}

/** The name of a disk's snapshot in the containment the ledger holds for the fixture's report. */
const snapshotOf = (t: { ledger: { records: Map<string, { requestId: string }> } }, deviceName: string) =>
  snapshotName(
    KEY,
    DISKS.find((d) => d.deviceName === deviceName)!,
    t.ledger.records.get(ledgerDocumentId(KEY))!.requestId,
  );

describe('the containment playbook', () => {
  it('snapshots every persistent disk, then quarantines, then stops, then raises the finding, in that order', async () => {
    const t = playbook();
    await t.run({});
    const finding = findingId(KEY);
    expect(t.order).toEqual([
      'get',
      `snapshot ${snapshotOf(t, 'boot')}`,
      `snapshot ${snapshotOf(t, 'data')}`,
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
          `projects/forensics-vault-01/global/snapshots/${snapshotOf(t, 'boot')}`,
          `projects/forensics-vault-01/global/snapshots/${snapshotOf(t, 'data')}`,
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
    expect(snapshotOf(t, 'boot')).toMatch(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/);
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
    failSecondSnapshot(t);
    await expect(t.run({})).rejects.toThrow(/not done/);
    t.order.length = 0;
    await t.run({});
    expect(t.order.filter((c) => c.startsWith('snapshot'))).toEqual([`snapshot ${snapshotOf(t, 'data')}`]);
  });

  it("is held by Compute's snapshot rate limit before anything changes the VM, and redelivered", async () => {
    const t = playbook();
    t.evidence.failWith = new SnapshotRateLimitedError(DISKS[0]!.source!, 'RESOURCE_OPERATION_RATE_EXCEEDED');
    await expect(t.run({})).rejects.toBeInstanceOf(SnapshotRateLimitedError);
    expect(t.order).toEqual(['get', expect.stringMatching(/^snapshot ivm-\d+-7-[0-9a-f]{10}$/)]);
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

  it('sets the finding inactive when the measurements it was contained for are vetted and relearned; the quarantine stays', async () => {
    const t = playbook();
    // Contained ten minutes ago for a kernel nobody had vetted yet.
    t.ledger.clock = () => new Date(Date.now() - 600_000);
    await t.run({ actual: linuxPcrs('new-kernel') }, 'a');
    t.ledger.clock = () => new Date();
    const name = `${SOURCE}/locations/global/findings/${findingId(KEY)}`;
    expect(t.findings.findings.get(name)?.state).toBe('ACTIVE');
    // Investigated, vetted (a baseline of exactly those measurements), started again.
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('new-kernel')));
    t.instances.states.set(DEFAULT_INSTANCE_ID, { ...running(new Date(Date.now() - 5_000).toISOString()), name: 'web-1', disks: DISKS });
    t.order.length = 0;
    await t.run({ actual: linuxPcrs('new-kernel'), bootCounter: '8', timestamp: new Date(Date.now() - 1_000).toISOString() }, 'b');
    expect(t.order).toEqual(['get', 'relearn', `deactivate ${name}`]);
    expect(t.findings.findings.get(name)?.state).toBe('INACTIVE');
    expect(t.quarantine.bound.size).toBe(1);
    expect(t.logger.lines[1]!.message).toContain('its finding set inactive');
    expect(t.ledger.containments.get(`fleet-prod-1234~europe-west1-b~${DEFAULT_INSTANCE_ID}`)?.findingInactiveAt).toBeDefined();
  });

  it('leaves the finding open when the relearn vetted other measurements, or the containment was not about measurements', async () => {
    for (const [first, reason] of [
      [{ actual: linuxPcrs('rootkit') }, 'other measurements'],
      [{ kind: 'sevLaunchAttestationReportEvent', passed: false, bootCounter: '7' }, 'a failed launch attestation'],
    ] as const) {
      const t = playbook();
      t.ledger.clock = () => new Date(Date.now() - 600_000);
      await t.run(first, 'a');
      t.ledger.clock = () => new Date();
      t.baselines.add('baseline1', tutorialDocument(linuxPcrs('clean-image')));
      t.instances.states.set(DEFAULT_INSTANCE_ID, { ...running(new Date(Date.now() - 5_000).toISOString()), name: 'web-1', disks: DISKS });
      t.order.length = 0;
      await t.run({ actual: linuxPcrs('clean-image'), bootCounter: '8', timestamp: new Date(Date.now() - 1_000).toISOString() }, 'b');
      expect({ reason, order: t.order }).toEqual({ reason, order: ['get', 'relearn'] });
      expect([...t.findings.findings.values()].map((f) => f.state)).toEqual(['ACTIVE']);
    }
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

describe('the playbook under attack and failure (security review)', () => {
  const HEAD = `fleet-prod-1234~europe-west1-b~${DEFAULT_INSTANCE_ID}`;

  it('takes new evidence, quarantines again and reopens the finding for a conflict after a completed containment was released', async () => {
    const t = playbook();
    t.ledger.clock = () => new Date(Date.now() - 600_000);
    await t.run({ actual: linuxPcrs('forged') }, 'a');
    t.ledger.clock = () => new Date();
    const firstSnapshots = [...t.evidence.taken.keys()];
    // Released: tag removed, finding closed; started again.
    t.quarantine.bound.clear();
    const [name] = [...t.findings.findings.keys()];
    await t.findings.deactivate(name!);
    t.instances.states.set(DEFAULT_INSTANCE_ID, { ...running(new Date(Date.now() + 1_000).toISOString()), disks: DISKS });
    t.order.length = 0;
    // The genuine report about the same boot, with other measurements: a conflict.
    await t.run({ actual: linuxPcrs('genuine') }, 'b');
    const line = t.logger.lines[1]!;
    expect(line).toEqual(expect.objectContaining({ reason: 'conflicting-reports', ledger: 'conflict' }));
    expect(t.order.filter((c) => c.startsWith('snapshot'))).toHaveLength(2);
    expect([...t.evidence.taken.keys()].filter((k) => !firstSnapshots.includes(k))).toHaveLength(2);
    expect(t.quarantine.bound.size).toBe(1);
    expect(t.order).toContain(`raise ${findingId(KEY)}`);
    expect(t.findings.findings.get(name!)?.state).toBe('INACTIVE'); // the in-memory sink: the adapter sets it ACTIVE again
  });

  it('gives up on evidence it cannot take within the evidence timeout, and contains the VM without it', async () => {
    let now = Date.now();
    const t = playbook({ now: () => now });
    t.evidence.failWith = new SnapshotRateLimitedError(DISKS[0]!.source!, 'RESOURCE_OPERATION_RATE_EXCEEDED');
    await expect(t.run({})).rejects.toBeInstanceOf(SnapshotRateLimitedError);
    now += (EVIDENCE_TIMEOUT_SECONDS - 1) * 1000;
    await expect(t.run({})).rejects.toBeInstanceOf(SnapshotRateLimitedError);
    expect(t.order).not.toContain('stop');
    now += 2000;
    t.order.length = 0;
    await t.run({});
    expect(t.order).toEqual([
      'get',
      expect.stringMatching(/^snapshot /),
      expect.stringMatching(/^snapshot /),
      `bind ${TAG}`,
      'stop',
      `raise ${findingId(KEY)}`,
    ]);
    const line = t.logger.lines.at(-1)!;
    expect(line).toEqual(
      expect.objectContaining({
        decision: 'stop',
        operationStatus: 'DONE',
        steps: expect.arrayContaining([expect.objectContaining({ step: 'snapshot', status: 'done', missing: ['boot', 'data'] })]),
      }),
    );
    expect(String(line.message)).toContain(`EVIDENCE MISSING: gave up on boot, data after ${EVIDENCE_TIMEOUT_SECONDS} s`);
  });

  it('snapshots the disks attached when the step began, even one detached since', async () => {
    const t = playbook();
    failSecondSnapshot(t);
    await expect(t.run({})).rejects.toThrow(/not done/);
    // The data disk is detached before the next delivery.
    t.instances.states.set(DEFAULT_INSTANCE_ID, {
      ...running(new Date(Date.now() - 60_000).toISOString()),
      name: 'web-1',
      disks: [DISKS[0]!],
    });
    await t.run({});
    // The first delivery took the boot disk (the data disk's attempt failed); the second, the detached data disk.
    expect(t.evidence.calls.map((c) => c.sourceDisk)).toEqual([DISKS[0]!.source, DISKS[1]!.source]);
    expect(t.ledger.records.get(ledgerDocumentId(KEY))!.steps?.snapshot?.done).toBe(true);
  });

  it('goes on without a step recorded with the decision that the function can no longer run', async () => {
    const t = playbook();
    t.quarantine.failWith = new Error('down');
    await expect(t.run({})).rejects.toThrow('down');
    // Redeployed without the quarantine: the recorded playbook still lists it.
    Object.assign(t.deps, { quarantineTagValue: undefined, quarantine: undefined });
    t.order.length = 0;
    await t.run({});
    expect(t.order).toEqual(['get', 'stop', `raise ${findingId(KEY)}`]);
    expect(t.logger.lines.at(-1)).toEqual(
      expect.objectContaining({ steps: expect.arrayContaining([expect.objectContaining({ step: 'quarantine', status: 'skipped' })]) }),
    );
    expect(String(t.logger.lines.at(-1)!.message)).toContain('did not quarantine it (the function has no quarantine tag value now');
  });

  it('runs no second playbook for a VM contained and not started since: forged later boots take no snapshots or findings', async () => {
    const t = playbook();
    await t.run({ bootCounter: '7' }, 'a');
    t.instances.states.set(DEFAULT_INSTANCE_ID, {
      ...running(new Date(Date.now() - 60_000).toISOString()),
      status: 'TERMINATED',
      name: 'web-1',
      disks: DISKS,
    });
    t.order.length = 0;
    for (const boot of ['8', '9', '10']) await t.run({ bootCounter: boot }, `b${boot}`);
    expect(t.order.filter((c) => !c.startsWith('get') && c !== 'stop')).toEqual([]);
    expect(t.findings.findings.size).toBe(1);
    expect(t.logger.lines.at(-1)).toEqual(
      expect.objectContaining({
        steps: [
          expect.objectContaining({ step: 'snapshot', status: 'already-done' }),
          expect.objectContaining({ step: 'quarantine', status: 'already-done' }),
          expect.objectContaining({ step: 'finding', status: 'already-done' }),
        ],
      }),
    );
    // Started again since (without a release): a new failure is a new containment.
    t.instances.states.set(DEFAULT_INSTANCE_ID, { ...running(new Date(Date.now() + 1_000).toISOString()), name: 'web-1', disks: DISKS });
    t.order.length = 0;
    await t.run({ bootCounter: '11', timestamp: new Date(Date.now() + 2_000).toISOString() }, 'c');
    expect(t.order.filter((c) => c.startsWith('snapshot'))).toHaveLength(2);
  });

  it('runs no second playbook for a conflict about the boot a completed containment holds, the VM not started since', async () => {
    const t = playbook();
    t.ledger.clock = () => new Date(Date.now() - 600_000);
    await t.run({ actual: linuxPcrs('forged') }, 'a');
    t.ledger.clock = () => new Date();
    t.instances.states.set(DEFAULT_INSTANCE_ID, {
      ...running(new Date(Date.now() - 3_600_000).toISOString()),
      status: 'TERMINATED',
      disks: DISKS,
    });
    t.order.length = 0;
    const evidence = t.evidence.taken.size;
    // Forged reports about the same boot, each with other measurements: every one a conflict.
    for (const kernel of ['other-1', 'other-2', 'other-3']) await t.run({ actual: linuxPcrs(kernel) }, `c-${kernel}`);
    expect(t.logger.lines.at(-1)).toEqual(expect.objectContaining({ reason: 'conflicting-reports', ledger: 'conflict' }));
    expect(t.order.filter((c) => c.startsWith('snapshot') || c.startsWith('bind') || c.startsWith('raise'))).toEqual([]);
    expect(t.evidence.taken.size).toBe(evidence);
    expect(t.findings.findings.size).toBe(1);
  });

  it('records the containment before the finding: one Security Command Center cannot take is raised on redelivery', async () => {
    const t = playbook();
    t.findings.failWith = new Error('Security Command Center unavailable');
    await expect(t.run({}, 'a')).rejects.toThrow('unavailable');
    expect(t.ledger.containments.get(HEAD)).toEqual(expect.objectContaining({ state: 'contained' }));
    expect(t.ledger.containments.get(HEAD)!.finding).toBeUndefined();
    t.findings.failWith = undefined;
    t.order.length = 0;
    await t.run({}, 'a');
    expect(t.order).toEqual(['get', `raise ${findingId(KEY)}`]);
    expect(t.ledger.containments.get(HEAD)!.finding).toBe(`${SOURCE}/locations/global/findings/${findingId(KEY)}`);
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

  it('contains each launch: a failure after the VM was started again is not a repeat of the first', async () => {
    const t = setup();
    t.instances.states.set(DEFAULT_INSTANCE_ID, running(new Date(Date.now() - 60_000).toISOString()));
    await t.run({ kind: 'sevLaunchAttestationReportEvent', passed: false, bootCounter: '0' }, 'a');
    // The same message again: a repeat, nothing done again.
    await t.run({ kind: 'sevLaunchAttestationReportEvent', passed: false, bootCounter: '0' }, 'a');
    expect(t.logger.lines[1]).toEqual(expect.objectContaining({ ledger: 'repeat', alreadyDone: true }));
    // Released and started again: every launch reports at boot 0, and this one failed too.
    t.instances.states.set(DEFAULT_INSTANCE_ID, running(new Date(Date.now() - 1_000).toISOString()));
    await t.run({ kind: 'sevLaunchAttestationReportEvent', passed: false, bootCounter: '0' }, 'b');
    expect(t.logger.lines[2]).toEqual(expect.objectContaining({ decision: 'stop', reason: 'launch-attestation-failed', ledger: 'new' }));
    expect(t.instances.calls.filter((c) => c.startsWith('stop'))).toHaveLength(2);
  });

  it('contains a failed launch attestation at CRITICAL however old the report: nothing could vet it', async () => {
    const t = setup('relearn-if-known-good', undefined, { staleEventPolicy: 'fail-open' });
    await t.run({
      kind: 'sevLaunchAttestationReportEvent',
      passed: false,
      bootCounter: '0',
      timestamp: new Date(Date.now() - 86_400_000).toISOString(),
    });
    expect(t.logger.lines).toEqual([
      expect.objectContaining({ severity: 'CRITICAL', decision: 'stop', reason: 'launch-attestation-failed' }),
    ]);
  });

  it('raises its finding under the launch-attestation category, CRITICAL', async () => {
    const t = playbook();
    await t.run({ kind: 'sevLaunchAttestationReportEvent', passed: false, bootCounter: '0' });
    const [f] = [...t.findings.findings.values()];
    expect(f).toEqual(expect.objectContaining({ category: FINDING_CATEGORIES.launchAttestation, severity: 'CRITICAL' }));
  });
});
