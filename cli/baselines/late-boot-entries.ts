import { readFileSync } from 'node:fs';
import { IntegrityReport, MAX_LOG_ENTRY_BYTES, parseMeasurements, parseMessage } from '../../function/core/parse';
import { CliError, Io, describeError } from '../common';
import { LAST_START_QUERY, LateBootCandidate, lateBootQuery } from './source-checks';

/*
 * The late-boot log entries `capture` records from: read from a saved file (or standard input)
 * or handed over by Cloud Logging, each validated by the function's own parser.
 */

/** Where to read a VM's late-boot reports from, as a hint in one line. */
const LATE_BOOT_HINT = `${lateBootQuery()}, with the VM's id and last start from ${LAST_START_QUERY}`;

/** The text of `file`, or of standard input for `-`; a file that cannot be read is a sentence saying why. */
export function readInput(file: string, io: Io): string {
  if (file === '-') return io.readStdin();
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : describeError(e);
    throw new CliError(`cannot read ${file}: ${why}`);
  }
}

/** A log entry as JSON: what `gcloud logging read --format=json` saves, or Cloud Logging returns. */
export type Entry = Record<string, unknown> & { jsonPayload?: Record<string, unknown>; timestamp?: unknown };

/** Every late-boot entry of the input; all of one VM. */
export function lateBootEntries(text: string, where: string): Entry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new CliError(`${where} is not JSON (${describeError(e)}); save the output of 'gcloud logging read … --format=json'`);
  }
  const entries = (Array.isArray(parsed) ? parsed : [parsed]).filter((e): e is Entry => typeof e === 'object' && e !== null);
  const late = entries.filter((e) => e.jsonPayload?.lateBootReportEvent !== undefined);
  if (late.length === 0) {
    const early = entries.some((e) => e.jsonPayload?.earlyBootReportEvent !== undefined);
    throw new CliError(
      `${where} holds no late-boot report (a log entry with jsonPayload.lateBootReportEvent)` +
        `${early ? ': only early-boot reports, whose measurements the responder never relearns' : ''}; read them with ${LATE_BOOT_HINT}`,
    );
  }
  // One VM only: a baseline records the measurements of the reference VM it names.
  const vms = [
    ...new Set(late.map((e) => String((e.resource as { labels?: { instance_id?: unknown } } | undefined)?.labels?.instance_id))),
  ];
  if (vms.length > 1) {
    throw new CliError(
      `${where} holds late-boot reports of ${vms.length} VMs (instance ids ${vms.slice(0, 3).join(', ')}${vms.length > 3 ? ', …' : ''}); ` +
        `save the entries of the reference VM only: ${LATE_BOOT_HINT}`,
    );
  }
  return late;
}

/** The validated late-boot report of an entry, through the handler's own parser: what it accepts, the tool accepts. */
function lateBootReport(entry: Entry, where: string): IntegrityReport {
  const bytes = Buffer.byteLength(JSON.stringify(entry));
  if (bytes > MAX_LOG_ENTRY_BYTES) {
    throw new CliError(
      `the late-boot entry in ${where} is ${bytes} bytes, more than a log entry may hold (${MAX_LOG_ENTRY_BYTES}); it is not one Cloud Logging wrote`,
    );
  }
  const parsed = parseMessage({ message: { data: Buffer.from(JSON.stringify(entry)).toString('base64') } });
  if (parsed.status === 'rejected') throw new CliError(`the late-boot entry in ${where} is not usable: ${parsed.detail}`);
  if (parsed.status === 'ignored')
    throw new CliError(`the late-boot entry in ${where} is not a Shielded VM integrity report: ${parsed.reason}`);
  if (parsed.report.kind !== 'lateBoot') throw new CliError(`the entry in ${where} is not a late-boot report`);
  return parsed.report;
}

/** An entry as a report a capture may record: validated, with its measurements (also when it passed). */
export function candidateOf(entry: Entry, where: string): LateBootCandidate {
  const report = lateBootReport(entry, where);
  if (!report.passed) return { entry, report, measurements: report.actualMeasurements };
  // The handler skips the measurements of a passed report; the tool reads them with the same parser.
  try {
    const late = entry.jsonPayload?.lateBootReportEvent as { actualMeasurements?: unknown } | undefined;
    return { entry, report, measurements: parseMeasurements(late?.actualMeasurements, 'lateBootReportEvent.actualMeasurements') };
  } catch (e) {
    throw new CliError(`the late-boot entry in ${where} is not usable: ${describeError(e)}`);
  }
}
