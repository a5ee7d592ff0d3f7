import { OPERATION_STATUSES } from '../contract';
import type { Decision } from './decide';
import type { DecisionRecord } from './outcome';
import type { Severity } from './ports';

/** How a decision reason is said: its severity and its message. */
export interface ReasonLine {
  readonly severity: Severity;
  /**
   * The message, given the VM (`project/zone/name (boot n)`), the report's age as said after
   * `is` (` 120 s old`), what is being done to the VM (`stopping the instance`, or in dry run that
   * nothing is), and the record for the facts some reasons name.
   */
  readonly text: (who: string, age: string, acting: string, r: DecisionRecord) => string;
}

/** How the newest stop decided for a VM settled, for the `unvetted-boot` line. */
function settledText(settledAs: string | undefined): string {
  switch (settledAs) {
    case OPERATION_STATUSES.done:
      return 'it was contained; resumed, a VM runs that boot still';
    case OPERATION_STATUSES.exempt:
      return 'not performed: the VM was exempt';
    case OPERATION_STATUSES.dryRun:
      return 'not performed: dry run';
    default:
      return `since settled as ${settledAs ?? 'unknown'}`;
  }
}

/**
 * Message and severity of each decision reason, when the instance was found and acted on as
 * decided. An exempt VM and an action held for want of budget are worded by the line, which
 * knows the label, the budget and what would have been done.
 */
const REASON_LINES: Record<Decision['reason'], ReasonLine> = {
  'policy-passed': { severity: 'INFO', text: (who) => `Integrity policy passed on ${who}; no action` },
  'early-boot-report-in-relearn-mode': { severity: 'DEBUG', text: (who) => `Early-boot report for ${who} left to the late-boot report` },
  'known-good': {
    severity: 'NOTICE',
    text: (who, _age, acting) => `Measurements of ${who} match a known-good baseline; ${acting}`,
  },
  'not-known-good': { severity: 'WARNING', text: (who, _age, acting) => `Integrity of ${who} not vetted (not-known-good); ${acting}` },
  'policy-failed': { severity: 'WARNING', text: (who, _age, acting) => `Integrity of ${who} not vetted (policy-failed); ${acting}` },
  'stale-event-fail-closed': {
    severity: 'CRITICAL',
    text: (who, age, acting) => `Failed integrity report of ${who} is${age} and cannot be vetted; ${acting} (fail-closed)`,
  },
  'stale-event-fail-open': {
    severity: 'CRITICAL',
    text: (who, age) => `Failed integrity report of ${who} is${age} and cannot be vetted; NOT acting on it (fail-open): check the instance`,
  },
  'conflicting-reports': {
    severity: 'CRITICAL',
    text: (who, _age, acting) =>
      `Conflicting integrity reports for ${who}: possible forged entry; ${acting}, and nothing will relearn this boot`,
  },
  'launch-attestation-failed': {
    severity: 'CRITICAL',
    text: (who, _age, acting) =>
      `Launch attestation of Confidential VM ${who} failed (the SEV launch measurement was not what the hypervisor expected); ${acting}`,
  },
  'superseded-by-later-boot': {
    severity: 'WARNING',
    text: (who, _age, _acting, r) => {
      const later = r.relearn?.laterBoot;
      const since =
        later === undefined
          ? 'the instance has started again since this report'
          : `a later boot of the instance (boot ${later}) is recorded`;
      return `Measurements of ${who} are known good, but ${since}: no relearn; the later boot's report decides`;
    },
  },
  'relearn-window-passed': {
    severity: 'NOTICE',
    text: (who, age, _acting, r) =>
      `Measurements of ${who} are known good, but the report is${age}, past the relearn bound of ${
        r.relearn?.relearnMaxAgeSeconds ?? '?'
      } s (relearnMaxAgeSeconds): no relearn, the VM keeps running; the next boot's report decides`,
  },
  'containment-pending': {
    severity: 'CRITICAL',
    text: (who, _age, _acting, r) => {
      const stop = r.relearn?.lastStop;
      const state = stop?.state === 'held' ? 'held by the action budget' : 'not done yet';
      return `Measurements of ${who} are known good, but a stop of the instance for boot ${stop?.bootCounter ?? '?'} is ${state}: no relearn while a containment is open (a relearn would adopt what the VM runs now); check the instance`;
    },
  },
  'unvetted-boot': {
    severity: 'WARNING',
    text: (who, _age, _acting, r) => {
      const stop = r.relearn?.lastStop;
      return `Measurements of ${who} are known good, but a stop was decided for boot ${stop?.bootCounter ?? '?'} of the instance at ${
        stop?.recordedAt ?? '?'
      } (${settledText(stop?.settledAs)}) and the instance has not been started since: a relearn would adopt what it runs now; no relearn until it is stopped and started`;
    },
  },
  'instance-not-found': {
    severity: 'WARNING',
    text: (who) => `Instance ${who} no longer exists; nothing done`,
  },
  'instance-replaced': {
    severity: 'WARNING',
    text: (who) => `Measurements of ${who} are known good, but that id now answers as another instance; no action`,
  },
  'instance-not-running': {
    severity: 'WARNING',
    text: (who) =>
      `Measurements of ${who} are known good, but the instance is not running: relearning would adopt the boot it was stopped for; no action`,
  },
  'older-boot': {
    severity: 'WARNING',
    text: (who) =>
      `Measurements of ${who} are known good, but a later boot of the instance has already reported; no relearn for an older boot`,
  },
  exempt: { severity: 'CRITICAL', text: (who) => `Instance ${who} is exempt` },
  'budget-exhausted': { severity: 'CRITICAL', text: (who) => `Action budget exhausted for ${who}` },
  'withdrawn-after-conflict': {
    severity: 'WARNING',
    text: (who) => `Relearn of ${who} withdrawn: a conflicting report for the same boot was recorded`,
  },
};

/** How a decision reason is said. */
export function reasonLine(reason: Decision['reason']): ReasonLine {
  return REASON_LINES[reason];
}
