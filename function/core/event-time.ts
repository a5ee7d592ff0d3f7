import type { IntegrityReport } from './parse';

/*
 * How old a report is, by the clocks it carries: the time its writer gave it and the time Cloud
 * Logging received it. A report is only tied to what the VM runs now while it is recent.
 */

/** How far in the future a report's timestamp may lie before it is not trusted, seconds. */
export const MAX_CLOCK_SKEW_SECONDS = 300;

/** Age of the report, seconds, by its own timestamp; undefined when the entry carries none. */
function ageSeconds(report: IntegrityReport, now: number): number | undefined {
  if (report.timestamp === undefined) return undefined;
  return (now - Date.parse(report.timestamp)) / 1000;
}

/** Whether the entry is dated later than Cloud Logging received it, by more than the clock skew allowed. */
function datedAfterReceipt(report: IntegrityReport): boolean {
  if (report.timestamp === undefined || report.receiveTimestamp === undefined) return false;
  return Date.parse(report.timestamp) - Date.parse(report.receiveTimestamp) > MAX_CLOCK_SKEW_SECONDS * 1000;
}

/** How old a report is, and whether that lets it be vetted. */
export interface Vetting {
  /** Age of the report by its own timestamp, seconds; undefined when the entry carries none. */
  readonly age: number | undefined;
  /**
   * Whether the report can be tied to what the VM runs now: its age is known, within the maximum
   * and not in the future (past clock skew, now or when Cloud Logging received it), and it names
   * its boot. A report that cannot is left to the stale-event policy.
   */
  readonly vettable: boolean;
}

/** How old a report is at `now` (ms since the epoch), and whether it can be vetted with `maxAgeSeconds`. */
export function vetting(report: IntegrityReport, now: number, maxAgeSeconds: number): Vetting {
  const age = ageSeconds(report, now);
  const vettable =
    age !== undefined &&
    age <= maxAgeSeconds &&
    age >= -MAX_CLOCK_SKEW_SECONDS &&
    !datedAfterReceipt(report) &&
    report.bootCounter !== undefined;
  return { age, vettable };
}
