import { MAX_CLOCK_SKEW_SECONDS } from '../../function/core/event-time';
import { PcrMeasurement, baselineDocumentId, sameMeasurements } from '../../function/core/measurements';
import { IntegrityReport } from '../../function/core/parse';
import { CliError } from '../common';
import { SHORT_ID } from './records';

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

/**
 * Longest a capture accepts between the VM's last start and the first late-boot report of the
 * run it reads (dated and received). The first boot after a start reports within a minute or
 * two: the report marks the hand-over from the bootloader to the kernel, before the guest's own
 * services start, and Logging receives it seconds later. A later first report means the
 * reports read do not reach back to the start (ADR 0021).
 */
export const MAX_FIRST_REPORT_DELAY_SECONDS = 900;

/** Where a capture read its reports: a saved file, or Cloud Logging itself (`--instance`). */
export type ReportSource = 'file' | 'cloud-logging';

/** The VM a gcloud query names; placeholders for what is not known. */
export interface QueriedVm {
  readonly project?: string;
  readonly instanceId?: string;
  readonly lastStartTimestamp?: string;
}

/**
 * The clauses of the Logging filter that selects every late-boot report of one VM since its
 * last start, placeholders for what is not known. The `timestamp>=` bound replaces gcloud's own:
 * gcloud adds its `--freshness` bound (one day by default) only to a filter that names no timestamp.
 */
function lateBootFilterClauses(vm: QueriedVm): string[] {
  return [
    'logName:"shielded_vm_integrity"',
    `resource.labels.instance_id="${vm.instanceId ?? '<id>'}"`,
    'jsonPayload.lateBootReportEvent:*',
    `timestamp>="${vm.lastStartTimestamp ?? '<lastStartTimestamp>'}"`,
  ];
}

/** The Logging filter of {@link lateBootQuery}, on one line (the help's block, {@link lateBootCommandBlock}, has it a clause a line). */
function lateBootLogFilter(vm: QueriedVm = {}): string {
  return lateBootFilterClauses(vm).join(' AND ');
}

/**
 * The `gcloud logging read` command that saves what a capture from a file needs: every late-boot
 * report of the VM since its last start, on one line (for messages).
 */
export function lateBootQuery(vm: QueriedVm = {}): string {
  return `gcloud logging read '${lateBootLogFilter(vm)}' --project=${vm.project ?? '<project>'} --format=json`;
}

/**
 * The same command as `capture --help` prints it, one clause a line, saving to `file`: a newline
 * inside the quoted filter is whitespace to Cloud Logging, so the block runs as shown.
 */
export function lateBootCommandBlock(file = 'entries.json', vm: QueriedVm = {}): string {
  const [first, ...rest] = lateBootFilterClauses(vm);
  return [
    `gcloud logging read '${first}`,
    ...rest.map((clause, i) => `  AND ${clause}${i === rest.length - 1 ? "' \\" : ''}`),
    `  --project=${vm.project ?? '<project>'} --format=json > ${file}`,
  ].join('\n');
}

/** The gcloud command that prints what {@link lateBootQuery} needs: the VM's id and last start. */
export const LAST_START_QUERY = `gcloud compute instances describe NAME --zone ZONE --project PROJECT --format='value(id,lastStartTimestamp)'`;

/** `insertId "…" (timestamp T, received R)`: what an operator needs to look the entry up. */
function entryLabel(c: LateBootCandidate): string {
  const { insertId } = c.entry;
  const { timestamp, receiveTimestamp } = c.report;
  const id = typeof insertId === 'string' && insertId !== '' ? `insertId ${JSON.stringify(insertId)}` : 'no insertId';
  const dated = typeof timestamp === 'string' ? `timestamp ${timestamp}` : 'no timestamp';
  const received = typeof receiveTimestamp === 'string' ? `, received ${receiveTimestamp}` : '';
  return `${id} (${dated}${received})`;
}

/** A duration as an operator reads it: `8 d 3 h`, `23 h 59 min`, `12 min 5 s`, `40 s`. */
export function span(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const min = Math.floor((s % 3600) / 60);
  if (s < 2 * 86400) return `${Math.floor(s / 3600)} h${min ? ` ${min} min` : ''}`;
  const h = Math.floor((s % 86400) / 3600);
  return `${Math.floor(s / 86400)} d${h ? ` ${h} h` : ''}`;
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

/** Newest `timestamp` first; reports without one last. */
const newestFirst = (a: LateBootCandidate, b: LateBootCandidate) =>
  (timeOf(b.report.timestamp) || -Infinity) - (timeOf(a.report.timestamp) || -Infinity);

/** The boot as an operator compares it with the VM's own count: canonical, and as written when that differs. */
function bootText(c: LateBootCandidate): string {
  const { bootCounter, bootCounterAsWritten } = c.report;
  if (bootCounter === undefined) return 'no boot counter';
  return `boot ${bootCounter}${bootCounterAsWritten === undefined ? '' : ` (written ${JSON.stringify(bootCounterAsWritten)})`}`;
}

/**
 * One line per report: what `gcloud logging read` needs to find it, what it claims, and its
 * measurements by the start of the id a baseline of them gets (as `integrity-baselines list` shows it).
 */
function reportLine(c: LateBootCandidate, set: number, fingerprint: string): string {
  const { insertId } = c.entry;
  const { timestamp, receiveTimestamp } = c.report;
  const id = typeof insertId === 'string' && insertId !== '' ? `insertId ${JSON.stringify(insertId)}` : 'no insertId';
  return (
    `  ${id}: ${bootText(c)}, timestamp ${timestamp ?? '(none)'}, ` +
    `received ${receiveTimestamp ?? '(unknown: no receiveTimestamp)'}, measurement set ${set} (${fingerprint.slice(0, SHORT_ID)}…)`
  );
}

/**
 * Refuses reports of one run that hold more than one measurement set. A VM measures the same
 * boot chain at every boot of a run unless it rebooted into something else, so two sets mean
 * either that, or that someone other than the VM wrote one of them; capture cannot tell which
 * set is the VM's, and the newest boot counter is the writer's word like everything else.
 */
function requireOneSet(reports: readonly LateBootCandidate[], vm: VmFacts | undefined, where: string): void {
  const sorted = [...reports].sort(newestFirst);
  const sets: LateBootCandidate[][] = [];
  for (const c of sorted) {
    const set = sets.find((s) => sameMeasurements(s[0]!.measurements, c.measurements));
    if (set === undefined) sets.push([c]);
    else set.push(c);
  }
  if (sets.length < 2) return;
  const first = sets[0]![0]!;
  const project = first.report.instance.projectId;
  const setOf = new Map(sets.flatMap((s, i) => s.map((c) => [c, i + 1] as const)));
  const fingerprints = sets.map((s) => baselineDocumentId(s[0]!.measurements));
  const lines = sorted.map((c) => reportLine(c, setOf.get(c)!, fingerprints[setOf.get(c)! - 1]!));
  // Two sets under one boot counter: no reboot explains that.
  const boots = new Map<string, Set<number>>();
  for (const c of reports) {
    if (c.report.bootCounter === undefined) continue;
    boots.set(c.report.bootCounter, (boots.get(c.report.bootCounter) ?? new Set()).add(setOf.get(c)!));
  }
  const clash = [...boots].filter(([, s]) => s.size > 1).map(([b]) => b);
  const scope =
    vm?.lastStartTimestamp !== undefined
      ? `since its last start (${vm.lastStartTimestamp}, as Compute Engine gives it)`
      : `(all of them: Compute Engine could not be asked when the VM last started)`;
  const ids = reports.map((c) => c.entry.insertId).filter((i): i is string => typeof i === 'string' && i !== '');
  const lookUp =
    ids.length > 0
      ? `:\n  gcloud logging read '${[...new Set(ids)].map((i) => `insertId=${JSON.stringify(i)}`).join(' OR ')}' --project=${project} --freshness=30d\n`
      : ' (the entries have no insertId: search the log by the timestamps above).\n';
  const cause =
    clash.length > 0
      ? `Reports of one boot (${clash.map((b) => `boot ${b}`).join(', ')}) with different measurements cannot all be the VM's: ` +
        `at least one was written by someone else`
      : `Either the VM rebooted into something else since it started (an update installed, then a reboot from inside ` +
        `the guest), or some of these reports were written by someone else`;
  throw new CliError(
    `refusing to record a baseline: the ${reports.length} late-boot reports about ${vmLabel(first, vm)} in ${where} ${scope} ` +
      `hold ${sets.length} different sets of measurements, and capture cannot tell which one is the VM's:\n${lines.join('\n')}\n` +
      `${cause}; anyone with logging.logEntries.create in project ${project} (roles/logging.logWriter) can write a report, ` +
      `with the boot counter and timestamp they choose. Investigate who wrote them${lookUp}` +
      `Then stop and start the canary, so that only its next boot counts, and capture again once its late-boot report is in` +
      `${vm?.lastStartTimestamp !== undefined ? '' : ' (from a file: only reports dated after that start)'}; ` +
      `or record values you verified with 'integrity-baselines add'`,
  );
}

/**
 * Refuses reports of a run whose earliest one came more than MAX_FIRST_REPORT_DELAY_SECONDS
 * after the VM's start: the first boot's report, which would show a second set of measurements
 * beside a forged one, is not among them. From a file, the query that saved it did not reach
 * back to the start (a fixed `--freshness`, `--limit`); from Cloud Logging, the log no longer
 * holds it (retention, an exclusion) or never received it.
 */
function requireFirstReport(
  reports: readonly LateBootCandidate[],
  vm: VmFacts,
  lastStart: string,
  where: string,
  source: ReportSource,
): void {
  const started = Date.parse(lastStart);
  const earliest = [...reports].sort(newestFirst).at(-1)!;
  const dated = timeOf(earliest.report.timestamp);
  const received = timeOf(earliest.report.receiveTimestamp);
  const late = Math.max(dated, Number.isNaN(received) ? dated : received) - started;
  if (late <= MAX_FIRST_REPORT_DELAY_SECONDS * 1000) return;
  const project = earliest.report.instance.projectId;
  const query = lateBootQuery({ project, instanceId: vm.id, lastStartTimestamp: lastStart });
  const what =
    source === 'file'
      ? `So the reports in ${where} do not reach back to the start: the first boot's is missing, and others that matter may ` +
        `be (a fixed --freshness or a --limit cuts them off): what is left may be a report someone else wrote since. ` +
        `Save every late-boot report since the VM's last start and capture from that file:\n  ${query}\n` +
        `(or capture with --instance, which reads them itself)`
      : `So Cloud Logging no longer holds the first boot's report (the log bucket's retention, 30 days by default, or an ` +
        `exclusion filter dropped it) or never received it, and what is left may be a report someone else wrote since. ` +
        `Stop and start the canary, then capture again once its late-boot report is in. The reports read:\n  ${query}`;
  throw new CliError(
    `refusing to record a baseline: the earliest late-boot report about ${vmLabel(earliest, vm)} in ${where} since its last ` +
      `start (${lastStart}, as Compute Engine gives it), ${entryLabel(earliest)}, came ${span(late)} after that start, and ` +
      `the first boot after a start reports within minutes (${span(MAX_FIRST_REPORT_DELAY_SECONDS * 1000)} allowed). ${what}`,
  );
}

/**
 * The report a capture records: among reports of one VM, the newest boot's, once every check
 * passed. Refuses with a {@link CliError} that names the entries concerned when
 * - a report is dated more than MAX_CLOCK_SKEW_SECONDS ahead of `now`, or of the time Cloud
 *   Logging received it (`receiveTimestamp`, which Logging sets, unlike `timestamp`);
 * - with `vm` known: no report is dated, and was received, at or after the VM's last start;
 * - the reports that remain (with `vm` known, those of the VM's current run; otherwise all of
 *   them) hold more than one set of measurements: the message names every one of them;
 * - with `vm` known: the earliest of them came (dated or received) more than
 *   {@link MAX_FIRST_REPORT_DELAY_SECONDS} after the VM's last start, so the first boot's report
 *   is missing; the message says what to do for the `source` (save them with {@link lateBootQuery}).
 *
 * Reports with the same measurements are one set however many boots, redeliveries or spellings
 * of a boot counter they come in. Boots are compared by their canonical boot counter, so `"012"`
 * and `"12"` are one boot; a report without a boot counter ranks below every numbered one.
 * `where` names the source (a file, Cloud Logging) in messages.
 */
export function chooseLateBootReport(
  candidates: readonly LateBootCandidate[],
  vm: VmFacts | undefined,
  now: number,
  where: string,
  source: ReportSource,
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
    const newest = [...candidates].sort(newestFirst)[0]!;
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
  requireOneSet(current, vm, where);
  // After the one-set rule: two sets name every report, which says more than a missing first one.
  if (vm?.lastStartTimestamp !== undefined) requireFirstReport(current, vm, vm.lastStartTimestamp, where, source);
  // One set: the newest boot's report, the newest of them, names the boot the baseline comes from.
  const boot = (c: LateBootCandidate) => (c.report.bootCounter === undefined ? -1n : BigInt(c.report.bootCounter));
  return [...current].sort((a, b) => (boot(a) === boot(b) ? newestFirst(a, b) : boot(b) > boot(a) ? 1 : -1))[0]!;
}
