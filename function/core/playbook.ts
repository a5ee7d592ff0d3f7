import { createHash } from 'node:crypto';
import {
  DEFAULT_SNAPSHOT_RETENTION_DAYS,
  EVIDENCE_TIMEOUT_SECONDS,
  EvidenceStep,
  FINDING_CATEGORIES,
  MANAGED_BY_LABEL,
  PACKAGE_NAME,
  SNAPSHOT_LABELS,
} from '../contract';
import type { AttachedDisk, Decision, InstanceState } from './decide';
import type { HandlerDeps } from './handler-deps';
import { ContainmentSteps, ContainmentSummary, LedgerKey, SnapshotEvidence, ledgerDocumentId } from './ledger';
import { fingerprint } from './measurements';
import type { IntegrityReport } from './parse';
import type { FindingRequest, InstanceTarget, Recorded } from './ports';
import { requestIdFor } from './request-id';

/*
 * Containment as a playbook (ADR 0031): evidence first (snapshots of every persistent disk in a
 * forensics project), then a network quarantine (a secure tag a hierarchical firewall policy
 * denies), then the stop or suspend, then a finding in Security Command Center. Each step is
 * recorded in the ledger as it completes, under the decision's request id: a redelivery resumes
 * where the last one stopped and never repeats a step recorded done. In dry-run every step is
 * reported as what it would do, and nothing is called.
 */

/** What one step of a playbook did on this delivery. */
export interface StepFacts {
  readonly step: EvidenceStep | 'finding' | 'finding-inactive';
  /**
   * `done` now; `already-done` by an earlier delivery (not repeated); `would` in dry-run;
   * `skipped` when the step, recorded with the decision, can no longer run (`detail` says why).
   */
  readonly status: 'done' | 'already-done' | 'would' | 'skipped';
  /** Why a step was skipped, or what an earlier containment did. */
  readonly detail?: string;
  /** Device names of the disks the evidence step gave up on (EVIDENCE_TIMEOUT_SECONDS). */
  readonly missing?: readonly string[];
  /** Snapshots of the step (every one taken so far, for `snapshot`). */
  readonly snapshots?: readonly string[];
  /** Device names of attached disks no snapshot can take (local SSDs): kept by the stop. */
  readonly skipped?: readonly string[];
  /** The quarantine's tag binding, or the finding's name. */
  readonly name?: string;
}

/** What the playbook needs of the handler's parts and settings. */
export type PlaybookDeps = Pick<
  HandlerDeps,
  | 'ledger'
  | 'enforcement'
  | 'evidence'
  | 'quarantine'
  | 'findings'
  | 'forensicsProject'
  | 'snapshotRetentionDays'
  | 'quarantineTagValue'
  | 'findingsSource'
  | 'now'
>;

/** A decision that contains the VM, as recorded, with what the ledger holds of its steps. */
export interface Containing {
  readonly report: IntegrityReport;
  readonly key: LedgerKey;
  readonly recorded: Recorded;
  readonly reason: Extract<Decision, { action: 'stop' }>['reason'];
  readonly target: InstanceTarget;
  readonly current: InstanceState;
}

const nowIso = (deps: Pick<HandlerDeps, 'now'>) => new Date((deps.now ?? Date.now)()).toISOString();

/** A label value: lowercase letters, digits, `-` and `_`, at most 63 characters. */
function labelValue(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '_')
    .slice(0, 63);
}

/** 40 bits of a SHA-256, as 10 lowercase hex digits. */
function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 10);
}

/**
 * Name of the evidence snapshot of one disk for one containment: deterministic for the decision
 * (a redelivery finds the snapshot an earlier one took under the same request id), another for
 * another decision about the same boot (a containment after a release takes evidence of its own),
 * and at most 63 characters of `[a-z0-9-]` starting with a letter:
 * `ivm-<instance id>-<boot>-<hash of project, zone, disk and request id>`.
 */
export function snapshotName(key: LedgerKey, disk: AttachedDisk, requestId: string): string {
  const boot = key.bootCounter === 'unknown' ? 'u' : key.bootCounter;
  const hashed = [key.projectId, key.zone, key.instanceId, disk.deviceName, disk.source ?? '', requestId].join('\0');
  return `ivm-${key.instanceId}-${boot}-${shortHash(hashed)}`;
}

/**
 * Id of the finding about one boot of one VM (its early- and late-boot reports share it), or about
 * one launch of a Confidential VM: 32 hex digits (Security Command Center takes 1–32 alphanumerics).
 */
export function findingId(key: Pick<LedgerKey, 'projectId' | 'zone' | 'instanceId' | 'bootCounter' | 'launch'>): string {
  const about = key.launch === undefined ? key.bootCounter : `${key.bootCounter}\0launch\0${key.launch}`;
  return createHash('sha256').update(`${key.projectId}\0${key.zone}\0${key.instanceId}\0${about}`).digest('hex').slice(0, 32);
}

/** The day, `YYYY-MM-DD`, after which evidence taken at `nowMs` may be deleted. */
export function retainUntil(nowMs: number, days: number): string {
  return new Date(nowMs + days * 86_400_000).toISOString().slice(0, 10);
}

/** The evidence steps the recorded decision runs (recorded when it was first decided). */
export function playbookOf(recorded: Recorded): readonly EvidenceStep[] {
  return recorded.record.decision.playbook ?? [];
}

/**
 * Runs the recorded playbook's evidence steps that are not recorded done, in order, before the VM
 * is changed. Returns what each did, and the steps as the ledger now holds them.
 */
export async function runEvidenceSteps(c: Containing, deps: PlaybookDeps): Promise<{ facts: StepFacts[]; steps: ContainmentSteps }> {
  const facts: StepFacts[] = [];
  let steps: ContainmentSteps = c.recorded.record.steps ?? {};
  for (const step of playbookOf(c.recorded)) {
    if (step === 'snapshot') {
      const done = await snapshotStep(c, steps, deps);
      facts.push(done.facts);
      steps = done.steps;
    } else {
      const done = await quarantineStep(c, steps, deps);
      facts.push(done.facts);
      steps = done.steps;
    }
  }
  return { facts, steps };
}

/**
 * Snapshots every persistent disk not snapshotted yet, recording each as it is taken. The disks
 * are those attached when the step first ran (recorded then, with the time), and any attached
 * since: a disk detached meanwhile is still snapshotted by its URL. A disk that cannot be
 * snapshotted within EVIDENCE_TIMEOUT_SECONDS of that first run (the rate limit kept exhausted, a
 * snapshot that does not finish, a key that is disabled) is given up on: the step is recorded done
 * with the disks it missed, and the containment goes on. Evidence first, but not forever.
 */
async function snapshotStep(
  c: Containing,
  steps: ContainmentSteps,
  deps: PlaybookDeps,
): Promise<{ facts: StepFacts; steps: ContainmentSteps }> {
  const earlier = steps.snapshot;
  const taken = (s: ContainmentSteps) => (s.snapshot?.snapshots ?? []).map((e) => e.snapshot);
  if (earlier?.done === true) {
    return {
      facts: {
        step: 'snapshot',
        status: 'already-done',
        snapshots: taken(steps),
        skipped: earlier.skipped,
        ...(earlier.missing !== undefined && { missing: earlier.missing }),
      },
      steps,
    };
  }
  const attached = c.current.disks ?? [];
  const persistentNow = attached.filter((d) => d.type !== 'SCRATCH' && d.source !== undefined);
  const skipped = attached.filter((d) => !persistentNow.includes(d)).map((d) => d.deviceName);
  const recordedDisks = earlier?.disks ?? [];
  const disks = [
    ...recordedDisks,
    ...persistentNow
      .filter((d) => !recordedDisks.some((r) => r.deviceName === d.deviceName && r.disk === d.source))
      .map((d) => ({ deviceName: d.deviceName, disk: d.source! })),
  ];
  const project = deps.forensicsProject;
  if (deps.enforcement === 'dry-run') {
    const would = disks.map(
      (d) =>
        `projects/${project ?? '?'}/global/snapshots/${snapshotName(c.key, { deviceName: d.deviceName, type: 'PERSISTENT', source: d.disk }, c.recorded.requestId)}`,
    );
    return { facts: { step: 'snapshot', status: 'would', snapshots: would, skipped }, steps };
  }
  if (deps.evidence === undefined || project === undefined) {
    // Recorded with the decision, no longer configured (a redeploy without the step): the
    // containment goes on without it rather than wait for a setting that is gone.
    return {
      facts: { step: 'snapshot', status: 'skipped', detail: 'the function has no forensics project now (FORENSICS_PROJECT)' },
      steps,
    };
  }
  const nowMs = (deps.now ?? Date.now)();
  let current = steps;
  if (earlier === undefined) {
    current = await deps.ledger.noteSteps(c.key, c.recorded.requestId, {
      snapshot: { snapshots: [], done: false, disks, startedAt: nowIso(deps) },
    });
  }
  const startedAt = Date.parse(current.snapshot?.startedAt ?? new Date(nowMs).toISOString());
  const giveUpAt = startedAt + EVIDENCE_TIMEOUT_SECONDS * 1000;
  const labels = {
    [SNAPSHOT_LABELS.instanceId]: c.key.instanceId,
    [SNAPSHOT_LABELS.projectId]: labelValue(c.key.projectId),
    [SNAPSHOT_LABELS.zone]: labelValue(c.key.zone),
    [SNAPSHOT_LABELS.bootCounter]: labelValue(c.key.bootCounter),
    [SNAPSHOT_LABELS.requestId]: c.recorded.requestId,
    [SNAPSHOT_LABELS.reason]: c.reason,
    [SNAPSHOT_LABELS.retainUntil]: retainUntil(nowMs, deps.snapshotRetentionDays ?? DEFAULT_SNAPSHOT_RETENTION_DAYS),
    [MANAGED_BY_LABEL]: PACKAGE_NAME,
  };
  const missing: string[] = [];
  for (const disk of disks) {
    if (current.snapshot?.snapshots.some((e) => e.deviceName === disk.deviceName && e.disk === disk.disk)) continue;
    let snap;
    try {
      snap = await deps.evidence.snapshot({
        project,
        name: snapshotName(c.key, { deviceName: disk.deviceName, type: 'PERSISTENT', source: disk.disk }, c.recorded.requestId),
        sourceDisk: disk.disk,
        labels,
        description: `Evidence: disk ${disk.deviceName} of instance ${c.key.instanceId} in ${c.key.projectId}/${c.key.zone}, boot ${c.key.bootCounter}, taken before containment (${c.reason})`,
        requestId: requestIdFor(c.recorded.requestId, `snapshot ${disk.deviceName} ${disk.disk}`),
      });
    } catch (e) {
      // Within the time evidence may take, the event is redelivered and the step resumes here.
      if ((deps.now ?? Date.now)() < giveUpAt) throw e;
      missing.push(disk.deviceName);
      continue;
    }
    const evidence: SnapshotEvidence = {
      deviceName: disk.deviceName,
      disk: disk.disk,
      snapshot: snap.snapshot,
      ...(snap.operation !== undefined && { operation: snap.operation }),
      at: nowIso(deps),
    };
    current = await deps.ledger.noteSteps(c.key, c.recorded.requestId, { snapshot: { snapshots: [evidence], done: false } });
  }
  current = await deps.ledger.noteSteps(c.key, c.recorded.requestId, {
    snapshot: { snapshots: [], done: true, skipped, at: nowIso(deps), ...(missing.length > 0 && { missing }) },
  });
  return {
    facts: { step: 'snapshot', status: 'done', snapshots: taken(current), skipped, ...(missing.length > 0 && { missing }) },
    steps: current,
  };
}

/** Binds the quarantine's secure tag to the VM, once. */
async function quarantineStep(
  c: Containing,
  steps: ContainmentSteps,
  deps: PlaybookDeps,
): Promise<{ facts: StepFacts; steps: ContainmentSteps }> {
  if (steps.quarantine !== undefined) {
    return { facts: { step: 'quarantine', status: 'already-done', name: steps.quarantine.binding }, steps };
  }
  const tagValue = deps.quarantineTagValue;
  if (deps.enforcement === 'dry-run') return { facts: { step: 'quarantine', status: 'would', name: tagValue }, steps };
  if (deps.quarantine === undefined || tagValue === undefined) {
    return {
      facts: { step: 'quarantine', status: 'skipped', detail: 'the function has no quarantine tag value now (QUARANTINE_TAG_VALUE)' },
      steps,
    };
  }
  const bound = await deps.quarantine.bind(c.target, tagValue);
  const current = await deps.ledger.noteSteps(c.key, c.recorded.requestId, {
    quarantine: { tagValue, binding: bound.binding, at: nowIso(deps) },
  });
  return { facts: { step: 'quarantine', status: 'done', name: bound.binding }, steps: current };
}

/** Severity of the finding about a containment, from its reason. */
export function findingSeverity(reason: Containing['reason']): 'CRITICAL' | 'HIGH' | 'MEDIUM' {
  switch (reason) {
    case 'conflicting-reports':
    case 'launch-attestation-failed':
      return 'CRITICAL';
    case 'stale-event-fail-closed':
      return 'MEDIUM';
    default:
      return 'HIGH';
  }
}

/**
 * Raises the finding about a containment in Security Command Center, once per VM and boot, after
 * the VM is contained; nothing without a findings source. Returns undefined when there is none.
 */
export async function raiseFinding(
  c: Containing,
  steps: ContainmentSteps,
  containment: string,
  deps: PlaybookDeps,
  eventId: string | undefined,
): Promise<{ facts: StepFacts; steps: ContainmentSteps } | undefined> {
  const source = deps.findingsSource;
  if (source === undefined) return undefined;
  if (steps.finding !== undefined) return { facts: { step: 'finding', status: 'already-done', name: steps.finding.name }, steps };
  const id = findingId(c.key);
  if (deps.enforcement === 'dry-run') {
    return { facts: { step: 'finding', status: 'would', name: `${source}/locations/global/findings/${id}` }, steps };
  }
  if (deps.findings === undefined)
    throw new Error('the function has a findings source (FINDINGS_SOURCE) but no Security Command Center client');
  const vmName = c.current.name ?? c.key.instanceId;
  const snapshots = (steps.snapshot?.snapshots ?? []).map((s) => s.snapshot);
  const request: FindingRequest = {
    source,
    findingId: id,
    category: c.key.kind === 'launchAttestation' ? FINDING_CATEGORIES.launchAttestation : FINDING_CATEGORIES.integrity,
    severity: findingSeverity(c.reason),
    resourceName: `//compute.googleapis.com/projects/${c.key.projectId}/zones/${c.key.zone}/instances/${vmName}`,
    eventTime: eventTimeOf(c.report, deps),
    description: `${PACKAGE_NAME} contained ${c.key.projectId}/${c.key.zone}/${vmName} (id ${c.key.instanceId}), boot ${c.key.bootCounter}: ${c.reason}; ${containment}`,
    properties: {
      instanceId: c.key.instanceId,
      projectId: c.key.projectId,
      zone: c.key.zone,
      bootCounter: c.key.bootCounter,
      eventKind: c.key.kind,
      reason: c.reason,
      containment,
      requestId: c.recorded.requestId,
      ledgerRecord: ledgerDocumentId(c.key),
      snapshots,
      ...(steps.quarantine !== undefined && { quarantineTagValue: steps.quarantine.tagValue }),
      ...(eventId !== undefined && { eventId }),
    },
  };
  const raised = await deps.findings.raise(request);
  const current = await deps.ledger.noteSteps(c.key, c.recorded.requestId, { finding: { name: raised.name, at: nowIso(deps) } });
  return { facts: { step: 'finding', status: raised.existed ? 'already-done' : 'done', name: raised.name }, steps: current };
}

/** The instance document's summary of a containment that completed. */
export function summaryOf(c: Containing, steps: ContainmentSteps, containment: 'stop' | 'suspend', at: string): ContainmentSummary {
  return {
    state: 'contained',
    record: ledgerDocumentId(c.key),
    bootCounter: c.key.bootCounter,
    reason: c.reason,
    ...(c.report.actualMeasurements.length > 0 && { fingerprint: fingerprint(c.report.actualMeasurements) }),
    containment,
    playbook: playbookOf(c.recorded),
    snapshots: (steps.snapshot?.snapshots ?? []).map((s) => s.snapshot),
    ...(steps.quarantine !== undefined && { quarantine: { tagValue: steps.quarantine.tagValue, binding: steps.quarantine.binding } }),
    ...(steps.finding !== undefined && { finding: steps.finding.name }),
    containedAt: at,
  };
}

/** Containments whose cause a baseline can vet: measurements nobody vouched for (yet). */
const VETTABLE_REASONS: ReadonlySet<string> = new Set(['not-known-good', 'policy-failed', 'stale-event-fail-closed']);

/**
 * After a relearn, sets the finding of the VM's containment INACTIVE, once, when the relearn vetted
 * what the VM was contained for: the same measurements, contained for not being known good.
 * Conflicting reports, a failed launch attestation, or a relearn of other measurements leave the
 * finding to the release. Nothing without a findings source or an open finding. The VM stays
 * quarantined until released.
 */
export async function deactivateFinding(key: LedgerKey, report: IntegrityReport, deps: PlaybookDeps): Promise<StepFacts | undefined> {
  if (deps.findingsSource === undefined || deps.findings === undefined) return undefined;
  const summary = await deps.ledger.containmentOf(key);
  if (summary?.finding === undefined || summary.findingInactiveAt !== undefined || summary.state !== 'contained') return undefined;
  if (!VETTABLE_REASONS.has(summary.reason) || summary.fingerprint !== fingerprint(report.actualMeasurements)) return undefined;
  if (deps.enforcement === 'dry-run') return { step: 'finding-inactive', status: 'would', name: summary.finding };
  await deps.findings.deactivate(summary.finding);
  await deps.ledger.noteFindingInactive(key, summary.finding, nowIso(deps));
  return { step: 'finding-inactive', status: 'done', name: summary.finding };
}

/**
 * When the failure happened, as RFC 3339 in UTC: when Cloud Logging received the entry, else when
 * its writer says it happened, else now. Written anew, so that any time the entry's parse accepted
 * reaches Security Command Center in the one form it takes.
 */
function eventTimeOf(report: IntegrityReport, deps: Pick<HandlerDeps, 'now'>): string {
  for (const t of [report.receiveTimestamp, report.timestamp]) {
    const ms = t === undefined ? NaN : Date.parse(t);
    if (!Number.isNaN(ms)) return new Date(ms).toISOString();
  }
  return nowIso(deps);
}
