import { PROJECT_ID_TEXT } from './patterns';
import { FAILURE_ACTIONS, FailureAction } from './vocabulary';

/*
 * Containment as a playbook (ADR 0031): the steps that come before the stop or suspend, the names
 * they leave on Google Cloud resources, and the settings that carry them from the construct to
 * the function. Declared once, here, for the construct, the function and the tools.
 */

/**
 * The steps a containment may take before it stops or suspends the VM, in the only order they
 * run: `snapshot` preserves every persistent disk in a forensics project before anything changes
 * the VM; `quarantine` binds a secure tag that a hierarchical firewall policy denies all traffic
 * to and from.
 */
export const EVIDENCE_STEPS = ['snapshot', 'quarantine'] as const;
export type EvidenceStep = (typeof EVIDENCE_STEPS)[number];

/** A step of the `containment` prop: an evidence step, then the stop or suspend that ends it. */
export type ContainmentStep = EvidenceStep | FailureAction;

/** Every step the `containment` prop accepts, in the order a playbook lists them. */
export const CONTAINMENT_STEPS: readonly ContainmentStep[] = [...EVIDENCE_STEPS, ...FAILURE_ACTIONS];

/** What `CONTAINMENT_STEPS` holds when the playbook is the stop or suspend alone, and what the other settings hold when unused. */
export const NONE = 'none';

/** `none`, or the evidence steps separated by commas, in their order. */
export const EVIDENCE_STEPS_SETTING = /^(?:none|snapshot|quarantine|snapshot,quarantine)$/;

/** The `CONTAINMENT_STEPS` value of a list of evidence steps. */
export function formatEvidenceSteps(steps: readonly EvidenceStep[]): string {
  return steps.length === 0 ? NONE : EVIDENCE_STEPS.filter((s) => steps.includes(s)).join(',');
}

/** The evidence steps of a `CONTAINMENT_STEPS` value. */
export function parseEvidenceSteps(value: string): readonly EvidenceStep[] {
  return value === NONE ? [] : (value.split(',') as EvidenceStep[]);
}

/**
 * Why a `containment` list is not a playbook, or undefined when it is one: each step at most once,
 * in the order of {@link CONTAINMENT_STEPS}, and exactly one stop or suspend, last. A playbook
 * without a stop is refused: a quarantine leaves the metadata server reachable and established
 * connections tracked, and only stopping the VM ends both (ADR 0031).
 */
export function playbookProblem(steps: readonly string[]): string | undefined {
  const unknown = steps.find((s) => !(CONTAINMENT_STEPS as readonly string[]).includes(s));
  if (unknown !== undefined) return `'${unknown}' is not a step; the steps are ${CONTAINMENT_STEPS.join(', ')}`;
  const last = steps[steps.length - 1];
  if (last === undefined || !(FAILURE_ACTIONS as readonly string[]).includes(last)) {
    const end = steps.find((s) => (FAILURE_ACTIONS as readonly string[]).includes(s)) ?? 'stop';
    const example = [...EVIDENCE_STEPS.filter((s) => steps.includes(s)), end].map((s) => `'${s}'`).join(', ');
    return `it must end with 'stop' or 'suspend': a quarantined VM still reaches its metadata server and keeps the connections it had; add 'stop' or 'suspend' last, e.g. [${example}]`;
  }
  const ends = steps.filter((s) => (FAILURE_ACTIONS as readonly string[]).includes(s));
  if (ends.length > 1) return `it holds both ${ends.map((s) => `'${s}'`).join(' and ')}; choose one`;
  for (let i = 1; i < steps.length; i++) {
    const [before, step] = [
      CONTAINMENT_STEPS.indexOf(steps[i - 1] as ContainmentStep),
      CONTAINMENT_STEPS.indexOf(steps[i] as ContainmentStep),
    ];
    if (step === before) return `'${steps[i]}' is listed twice`;
    if (step < before)
      return `'${steps[i]}' must come before '${steps[i - 1]}': evidence is taken before the VM is changed, and the stop comes last`;
  }
  return undefined;
}

/** A forensics project: `none`, or a project id. */
export const FORENSICS_PROJECT_SETTING = new RegExp(`^(?:none|${PROJECT_ID_TEXT})$`);

/** The quarantine's secure tag value: `none`, or `tagValues/<number>`. */
export const TAG_VALUE_SETTING = /^(?:none|tagValues\/[1-9][0-9]{0,19})$/;

/** A Security Command Center source: `none`, or `organizations/<number>/sources/<number>`. */
export const FINDINGS_SOURCE_SETTING = /^(?:none|organizations\/[1-9][0-9]{0,19}\/sources\/[1-9][0-9]{0,19})$/;

/**
 * What follows the responder's prefix in the short name of the quarantine's tag key (purpose
 * `GCE_FIREWALL`): `<namePrefix>-quarantine`, unique among the organization's tag keys, and the
 * short name of its one value.
 */
export const QUARANTINE_TAG_KEY = 'quarantine';
export const QUARANTINE_TAG_VALUE = 'quarantined';

/**
 * Labels every evidence snapshot carries, linking it to the VM, the boot and the decision
 * (label values: lowercase letters, digits, `-` and `_`, at most 63 characters).
 */
export const SNAPSHOT_LABELS = {
  /** Numeric id of the VM the disk is attached to. */
  instanceId: 'integrity-instance-id',
  /** The VM's project. */
  projectId: 'integrity-project',
  zone: 'integrity-zone',
  /** Boot counter of the report contained. */
  bootCounter: 'integrity-boot',
  /** Request id of the containment decision, as the ledger records it. */
  requestId: 'integrity-request-id',
  /** Why: one of the decision line's reasons. */
  reason: 'integrity-reason',
  /** `YYYY-MM-DD`: the evidence may be deleted after this day (a snapshot has no expiry of its own). */
  retainUntil: 'integrity-retain-until',
} as const;

/** Categories of the findings the responder raises in Security Command Center. */
export const FINDING_CATEGORIES = {
  /** A Shielded VM whose boot measurements are not known good, or disagree with another report about the same boot. */
  integrity: 'SHIELDED_VM_INTEGRITY_FAILURE',
  /** A Confidential VM whose launch attestation failed. */
  launchAttestation: 'CONFIDENTIAL_VM_LAUNCH_ATTESTATION_FAILURE',
} as const;

/** Days evidence snapshots are kept, by default, before the retain-until label allows their deletion. */
export const DEFAULT_SNAPSHOT_RETENTION_DAYS = 90;

/**
 * How long the `snapshot` step may keep a VM running before the containment goes on without the
 * evidence it could not take, seconds from the step's first run: longer than Compute's snapshot
 * interval of a disk (10 minutes), so a disk a schedule has just snapshotted is still taken; short
 * enough that whoever can exhaust a disk's snapshot rate cannot keep a VM out of containment.
 */
export const EVIDENCE_TIMEOUT_SECONDS = 900;
