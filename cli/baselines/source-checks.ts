import { MAX_CLOCK_SKEW_SECONDS } from '../../function/handler';
import { PcrMeasurement, sameMeasurements } from '../../function/measurements';
import { IntegrityReport } from '../../function/parse';
import { CliError } from '../common';

/*
 * Which late-boot report a capture may record, judged against what Compute Engine says about
 * the VM rather than what the log entries say about themselves (ADR 0021). Pure: the entries,
 * the VM as described, and the clock come in; one report or a refusal comes out.
 */

/** One late-boot report a capture could record, parsed by the handler's own parser. */
export interface LateBootCandidate {
  /** The LogEntry as Cloud Logging (or gcloud) gave it. */
  readonly entry: Record<string, unknown>;
  readonly report: IntegrityReport;
  /** Its actual measurements, validated (also for a report that passed). */
  readonly measurements: readonly PcrMeasurement[];
}

/** What Compute Engine says about the VM the reports claim to describe. */
export interface VmFacts {
  readonly id: string;
  readonly name: string;
  /** RFC 3339; absent when the VM never started. */
  readonly lastStartTimestamp?: string;
}

const SKEW_MS = MAX_CLOCK_SKEW_SECONDS * 1000;

/** `insertId "…" (timestamp T, received R)`: what an operator needs to look the entry up. */
export function entryLabel(c: LateBootCandidate): string {
  const { insertId } = c.entry;
  const { timestamp, receiveTimestamp } = c.report;
  const id = typeof insertId === 'string' && insertId !== '' ? `insertId ${JSON.stringify(insertId)}` : 'no insertId';
  const dated = typeof timestamp === 'string' ? `timestamp ${timestamp}` : 'no timestamp';
  const received = typeof receiveTimestamp === 'string' ? `, received ${receiveTimestamp}` : '';
  return `${id} (${dated}${received})`;
}

/** A duration as an operator reads it: `23 h 59 min`, `12 min 5 s`, `40 s`. */
export function span(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const min = Math.floor((s % 3600) / 60);
  return `${Math.floor(s / 3600)} h${min ? ` ${min} min` : ''}`;
}

const timeOf = (v: string | undefined): number => (v === undefined ? Number.NaN : Date.parse(v));

/** How the VM is named in a refusal: Compute's name and id when known, else the entry's. */
function vmLabel(c: LateBootCandidate, vm: VmFacts | undefined): string {
  const { name, id } = vm ?? c.report.instance;
  return `VM ${name ?? id} (id ${id})`;
}

const FORGED_HINT = (project: string) =>
  `anyone with logging.logEntries.create in project ${project} (roles/logging.logWriter) can write such an entry, ` +
  `with the timestamp they choose, so this is possibly a forged report: investigate who wrote it`;

/**
 * The report a capture records: among reports of one VM, the newest boot's, once every check
 * passed. Refuses with a {@link CliError} that names the entries concerned when
 * - a report is dated more than MAX_CLOCK_SKEW_SECONDS ahead of `now`, or of the time Cloud
 *   Logging received it (`receiveTimestamp`, which Logging sets, unlike `timestamp`);
 * - with `vm` known: no report is dated, and was received, at or after the VM's last start;
 * - the newest boot has two reports with different measurements.
 *
 * Boots are compared by their canonical boot counter, so `"012"` and `"12"` are one boot. A
 * report without a boot counter ranks below every numbered one. `where` names the source
 * (a file, Cloud Logging) in messages.
 */
export function chooseLateBootReport(
  candidates: readonly LateBootCandidate[],
  vm: VmFacts | undefined,
  now: number,
  where: string,
): LateBootCandidate {
  if (candidates.length === 0) throw new CliError(`${where} holds no late-boot report`);
  const project = candidates[0]!.report.instance.projectId;
  for (const c of candidates) {
    const at = timeOf(c.report.timestamp);
    if (at > now + SKEW_MS) {
      throw new CliError(
        `refusing to record a baseline: the late-boot report about ${vmLabel(c, vm)}, ${entryLabel(c)}, is dated ` +
          `${span(at - now)} ahead of this machine's clock (more than the ${MAX_CLOCK_SKEW_SECONDS} s of clock skew allowed); ` +
          `${FORGED_HINT(project)}, and check this machine's clock`,
      );
    }
    const received = timeOf(c.report.receiveTimestamp);
    if (at > received + SKEW_MS) {
      throw new CliError(
        `refusing to record a baseline: the late-boot report about ${vmLabel(c, vm)}, ${entryLabel(c)}, is dated ` +
          `${span(at - received)} after Cloud Logging received it; ${FORGED_HINT(project)}`,
      );
    }
  }
  let current = candidates;
  if (vm !== undefined) {
    const newest = [...candidates].sort(
      (a, b) => (timeOf(b.report.timestamp) || -Infinity) - (timeOf(a.report.timestamp) || -Infinity),
    )[0]!;
    if (vm.lastStartTimestamp === undefined) {
      throw new CliError(
        `refusing to record a baseline: Compute Engine gives ${vmLabel(newest, vm)} no last start time, so no report can be ` +
          `tied to the boot it runs now; start it, wait for its late-boot report, then capture again`,
      );
    }
    const started = Date.parse(vm.lastStartTimestamp);
    // A report of the run the VM is in was written, and received, after that run began.
    current = candidates.filter((c) => timeOf(c.report.timestamp) >= started && !(timeOf(c.report.receiveTimestamp) < started));
    if (current.length === 0) {
      const at = timeOf(newest.report.timestamp);
      const why = Number.isNaN(at)
        ? 'has no timestamp, so it cannot be placed after'
        : at < started
          ? 'is dated before'
          : 'was received by Cloud Logging before';
      throw new CliError(
        `refusing to record a baseline: the newest late-boot report about ${vmLabel(newest, vm)} in ${where}, ` +
          `${entryLabel(newest)}, ${why} the VM's last start (${vm.lastStartTimestamp}, as Compute Engine gives it): it describes an ` +
          `earlier run, not the boot the VM runs now. Wait for the late-boot report of the current boot (one is written as ` +
          `each boot completes), then capture again`,
      );
    }
  }
  const boot = (c: LateBootCandidate) => (c.report.bootCounter === undefined ? -1n : BigInt(c.report.bootCounter));
  const newestBoot = current.reduce((m, c) => (boot(c) > m ? boot(c) : m), -1n);
  const ofBoot = current
    .filter((c) => boot(c) === newestBoot)
    .sort((a, b) => (timeOf(b.report.timestamp) || -Infinity) - (timeOf(a.report.timestamp) || -Infinity));
  const distinct = ofBoot.filter((c, i) => ofBoot.findIndex((d) => sameMeasurements(d.measurements, c.measurements)) === i);
  if (distinct.length > 1) {
    const [a, b] = distinct as [LateBootCandidate, LateBootCandidate];
    const more = distinct.length > 2 ? ` (and ${distinct.length - 2} more)` : '';
    const bootText = newestBoot < 0n ? 'without a boot counter' : `for its boot ${newestBoot}`;
    const ids = distinct.map((c) => c.entry.insertId).filter((i): i is string => typeof i === 'string' && i !== '');
    const lookUp =
      ids.length > 1 ? ` (gcloud logging read '${ids.map((i) => `insertId=${JSON.stringify(i)}`).join(' OR ')}' --freshness=30d)` : '';
    throw new CliError(
      `refusing to record a baseline: ${where} holds ${distinct.length} late-boot reports about ${vmLabel(a, vm)} ${bootText} ` +
        `with different measurements: ${entryLabel(a)}, and ${entryLabel(b)}${more}. A VM writes one late-boot report per boot, ` +
        `so all but one are not its own; ${FORGED_HINT(project)}${lookUp}. Then record the values you verified with ` +
        `'integrity-baselines add', or capture again after a fresh boot`,
    );
  }
  return ofBoot[0]!;
}
