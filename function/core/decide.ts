import type { FailureAction, ResponseMode, StaleEventPolicy } from '../contract';
import type { IntegrityReport } from './parse';

/** What the known-good lookup found for a failed report. */
export type BaselineLookup = { readonly matched: true; readonly baselineId: string } | { readonly matched: false };

/** The outcome for one report: what to do about the VM, and why. Each report's outcome is written as one decision line. */
export type Decision =
  | {
      readonly action: 'none';
      readonly reason:
        | 'policy-passed'
        | 'superseded-by-later-boot'
        | 'instance-replaced'
        | 'instance-not-running'
        | 'older-boot'
        | 'withdrawn-after-conflict'
        | 'relearn-window-passed'
        | 'containment-pending'
        | 'unvetted-boot';
    }
  | { readonly action: 'ignore'; readonly reason: 'early-boot-report-in-relearn-mode' }
  | { readonly action: 'relearn'; readonly reason: 'known-good'; readonly baselineId: string }
  | {
      readonly action: 'stop';
      readonly reason: 'not-known-good' | 'policy-failed' | 'stale-event-fail-closed' | 'conflicting-reports' | 'launch-attestation-failed';
    }
  | { readonly action: 'alert'; readonly reason: 'stale-event-fail-open' }
  /** The VM carries the exemption label: nothing is done to it, `wouldHave` says what would have been. */
  | { readonly action: 'none'; readonly reason: 'exempt'; readonly wouldHave: 'stop' | 'suspend' | 'relearn' }
  /** The instance the report names does not exist (any more): nothing was done, `wouldHave` says what would have been. */
  | { readonly action: 'none'; readonly reason: 'instance-not-found'; readonly wouldHave: 'stop' | 'suspend' | 'relearn' }
  /** The action budget is exhausted: the VM is left running and the event redelivered. */
  | { readonly action: 'none'; readonly reason: 'budget-exhausted'; readonly wouldHave: FailureAction };

/**
 * True when a report would be acted on (not ignored) in this mode. A launch attestation is acted
 * on in every mode: no baseline vouches for a launch that failed its attestation.
 */
function actsOn(report: IntegrityReport, mode: ResponseMode): boolean {
  return mode === 'shutdown' || report.kind !== 'earlyBoot';
}

/**
 * A failed report older than the maximum age cannot be vetted any more: what the VM runs now
 * may differ from what it reported. The policy decides, without a baseline lookup; the
 * default, fail-closed, stops the VM.
 */
export function decideStale(report: IntegrityReport, mode: ResponseMode, policy: StaleEventPolicy): Decision | undefined {
  // A failed launch attestation needs no vetting: whatever its age, nothing could vouch for it.
  if (report.passed || !actsOn(report, mode) || report.kind === 'launchAttestation') return undefined;
  return policy === 'fail-closed'
    ? { action: 'stop', reason: 'stale-event-fail-closed' }
    : { action: 'alert', reason: 'stale-event-fail-open' };
}

/** Whether deciding on this report needs a known-good lookup first. */
export function needsBaselineLookup(report: IntegrityReport, mode: ResponseMode): boolean {
  return mode === 'relearn-if-known-good' && report.kind === 'lateBoot' && !report.passed;
}

/**
 * Decides what to do about one report. Pure: the caller performs the lookup (when
 * {@link needsBaselineLookup} says so) and the resulting action.
 */
export function decide(report: IntegrityReport, mode: ResponseMode, lookup?: BaselineLookup): Decision {
  if (report.kind === 'launchAttestation') {
    // The hypervisor's check of the SEV launch measurement: there is nothing to relearn, in
    // either mode. A failure is contained like a late boot no baseline vouches for.
    return report.passed ? { action: 'none', reason: 'policy-passed' } : { action: 'stop', reason: 'launch-attestation-failed' };
  }
  switch (mode) {
    case 'shutdown':
      return report.passed ? { action: 'none', reason: 'policy-passed' } : { action: 'stop', reason: 'policy-failed' };
    case 'relearn-if-known-good':
      // Only the late-boot report may trigger a relearn. Relearning resets the whole policy,
      // early and late boot alike; acting on a failed early-boot report whose measurements
      // are known good would also accept late-boot measurements nobody vetted.
      if (!actsOn(report, mode)) return { action: 'ignore', reason: 'early-boot-report-in-relearn-mode' };
      if (report.passed) return { action: 'none', reason: 'policy-passed' };
      if (lookup === undefined) throw new Error('decide: a failed late-boot report needs a baseline lookup');
      return lookup.matched
        ? { action: 'relearn', reason: 'known-good', baselineId: lookup.baselineId }
        : { action: 'stop', reason: 'not-known-good' };
    default:
      return assertNever(mode);
  }
}

/** What the Compute API says about the VM now. */
export interface InstanceState {
  /** Numeric id, as a decimal string. */
  readonly id: string;
  readonly name?: string;
  /** `RUNNING`, `TERMINATED`, `SUSPENDED`… */
  readonly status?: string;
  /** RFC 3339 time of the VM's most recent start. */
  readonly lastStartTimestamp?: string;
  /** The VM's labels (`key: value`). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Its `created-by` metadata value: the group that created it, if a group did (a hint, not proof). */
  readonly createdBy?: string;
  /** The disks attached to it, as `instances.get` lists them (read for the `snapshot` step). */
  readonly disks?: readonly AttachedDisk[];
}

/** A disk attached to a VM. */
export interface AttachedDisk {
  /** The name the guest sees it under (`deviceName`), unique on the VM. */
  readonly deviceName: string;
  /** `PERSISTENT`, or `SCRATCH` for a local SSD (which no snapshot can take). */
  readonly type: string;
  /** URL of the persistent disk (`…/projects/P/zones/Z/disks/D` or `…/regions/R/disks/D`); absent for a local SSD. */
  readonly source?: string;
  readonly boot?: boolean;
}

/**
 * Re-checks a relearn against the VM as it is now. Relearning adopts the measurements of the
 * VM's *latest* boot, but the decision was made on the report's boot: if the VM has started
 * since (or the id now answers as another VM), relearning would accept measurements nobody
 * compared; a VM that is not running has no boot to adopt but the one it was stopped for.
 * Such a relearn becomes no action; the VM's next boot reports for itself.
 */
export function confirmRelearn(decision: Decision, report: IntegrityReport, current: InstanceState): Decision {
  if (decision.action !== 'relearn') return decision;
  if (current.id !== report.instance.id) return { action: 'none', reason: 'instance-replaced' };
  if (current.status !== 'RUNNING') return { action: 'none', reason: 'instance-not-running' };
  const started = current.lastStartTimestamp === undefined ? NaN : Date.parse(current.lastStartTimestamp);
  const reported = report.timestamp === undefined ? NaN : Date.parse(report.timestamp);
  if (!(started <= reported)) return { action: 'none', reason: 'superseded-by-later-boot' };
  return decision;
}

function assertNever(value: never): never {
  throw new Error(`unhandled response mode ${String(value)}`);
}
