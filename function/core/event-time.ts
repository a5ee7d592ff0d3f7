import type { IntegrityReport } from './parse';

/*
 * How old a report is, by the clocks it carries: the time its writer gave it and the time Cloud
 * Logging received it. A report is only tied to what the VM runs now while it is recent.
 */

/** How far in the future a report's timestamp may lie before it is not trusted, seconds. */
export const MAX_CLOCK_SKEW_SECONDS = 300;

/** Age of the report, seconds, by its own timestamp; undefined when the entry carries none. */
export function ageSeconds(report: IntegrityReport, now: number): number | undefined {
  if (report.timestamp === undefined) return undefined;
  return (now - Date.parse(report.timestamp)) / 1000;
}

/** Whether the entry is dated later than Cloud Logging received it, by more than the clock skew allowed. */
function datedAfterReceipt(report: IntegrityReport): boolean {
  if (report.timestamp === undefined || report.receiveTimestamp === undefined) return false;
  return Date.parse(report.timestamp) - Date.parse(report.receiveTimestamp) > MAX_CLOCK_SKEW_SECONDS * 1000;
}

/**
 * Whether a report can be tied to what the VM runs now: its age (see {@link ageSeconds}) is
 * known, within `maxAgeSeconds` and not in the future (past clock skew, now or when Cloud Logging
 * received it), and it names its boot. Reports that cannot are left to the stale-event policy.
 */
export function vettable(report: IntegrityReport, age: number | undefined, maxAgeSeconds: number): boolean {
  return (
    age !== undefined &&
    age <= maxAgeSeconds &&
    age >= -MAX_CLOCK_SKEW_SECONDS &&
    !datedAfterReceipt(report) &&
    report.bootCounter !== undefined
  );
}

/**
 * Age of a report for the relearn bound, seconds: by the entry's own time and by the time Cloud
 * Logging received it, whichever is older (the first is the writer's word, the second is not).
 */
export function relearnAgeSeconds(report: IntegrityReport, now: number): number | undefined {
  const times = [report.timestamp, report.receiveTimestamp].filter((t): t is string => t !== undefined).map(Date.parse);
  return times.length === 0 ? undefined : (now - Math.min(...times)) / 1000;
}
