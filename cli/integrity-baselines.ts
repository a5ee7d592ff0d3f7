import { readFileSync } from 'node:fs';
import { baselineDocument, DEFAULT_BASELINE_COLLECTION } from '../function/baseline';
import { IntegrityReport, parseMessage } from '../function/parse';
import { COLLECTION_ID, DATABASE_ID, DEFAULT_NAME_PREFIX, dedicatedDatabaseId } from '../function/contract';
import {
  CliError,
  Io,
  UsageError,
  credentialsHint,
  dispatch,
  describeError,
  parseOptions,
  runAsCommand,
  timeoutSeconds,
  withDeadline,
} from './common';

export { CliError, UsageError, describeError } from './common';
export type { Io } from './common';

/** What the tool is called on the command line. */
export const BIN = 'integrity-baselines';

/** Database the example stack creates: what `--database` defaults to. */
const DEFAULT_DATABASE = dedicatedDatabaseId(DEFAULT_NAME_PREFIX);

const TOP_USAGE = `usage: ${BIN} <command> [options]

Manages the known-good baselines an IntegrityResponder relearns against.

commands:
  capture <entries.json | ->   record the late-boot measurements of a log entry as known good

Run '${BIN} <command> --help' for a command's options.
`;

const CAPTURE_USAGE = `usage: ${BIN} capture <entries.json | -> [options]

Records the late-boot measurements of a reference VM as a known-good baseline.

  <entries.json>      a LogEntry, or the JSON array printed by
                        gcloud logging read 'logName:"shielded_vm_integrity"
                          AND jsonPayload.lateBootReportEvent:*' --limit=1 --format=json
                      ('-' reads standard input). The newest late-boot entry is used.

options:
  --dry-run           print the document instead of writing it
  --project P         project of the database (default: $GOOGLE_CLOUD_PROJECT, else the entry's project)
  --database D        Firestore database id (default: ${DEFAULT_DATABASE})
  --collection C      collection (default: ${DEFAULT_BASELINE_COLLECTION})
  --description TEXT  note stored with the baseline
  --timeout SECONDS   give up when Firestore has not answered by then (default: 60)
  -h, --help          show this help

Writes with Application Default Credentials (gcloud auth application-default login), or to
the emulator named by FIRESTORE_EMULATOR_HOST. Exit codes: 0 done, 1 failed, 2 usage error.
`;

function readInput(file: string, io: Io): string {
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

type Entry = Record<string, unknown> & {
  jsonPayload?: { lateBootReportEvent?: { actualMeasurements?: unknown }; bootCounter?: unknown };
  resource?: { labels?: Record<string, unknown> };
  labels?: Record<string, unknown>;
  timestamp?: unknown;
};

function lateBootEntry(text: string, file: string): Entry {
  const where = file === '-' ? 'standard input' : file;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new CliError(`${where} is not JSON (${describeError(e)}); save the output of 'gcloud logging read … --format=json'`);
  }
  const entries = (Array.isArray(parsed) ? parsed : [parsed]).filter((e): e is Entry => typeof e === 'object' && e !== null);
  const late = entries.filter((e) => e.jsonPayload?.lateBootReportEvent !== undefined);
  if (late.length === 0) {
    throw new CliError(
      `${where} holds no late-boot report (a log entry with jsonPayload.lateBootReportEvent); read one with ` +
        `gcloud logging read 'logName:"shielded_vm_integrity" AND jsonPayload.lateBootReportEvent:*' --limit=1 --format=json`,
    );
  }
  // gcloud prints newest first; a hand-made file may not, so pick by timestamp when present.
  return late.reduce((a, b) => (String(b.timestamp ?? '') > String(a.timestamp ?? '') ? b : a));
}

async function capture(args: string[], io: Io): Promise<void> {
  const { values, positionals } = parseOptions(
    args,
    {
      'dry-run': { type: 'boolean' },
      project: { type: 'string' },
      database: { type: 'string' },
      collection: { type: 'string' },
      description: { type: 'string' },
      timeout: { type: 'string' },
    },
    CAPTURE_USAGE,
  );
  if (values.help) return io.stdout(CAPTURE_USAGE);
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? 'capture needs the file holding the log entry (or - for standard input)'
        : `capture takes one file, got ${positionals.length}`,
      CAPTURE_USAGE,
    );
  }
  const file = positionals[0]!;
  const database = (values.database as string | undefined) ?? DEFAULT_DATABASE;
  const collection = (values.collection as string | undefined) ?? DEFAULT_BASELINE_COLLECTION;
  if (!DATABASE_ID.test(database))
    throw new UsageError(`--database must be '(default)' or a database id like '${DEFAULT_DATABASE}', got '${database}'`, CAPTURE_USAGE);
  if (!COLLECTION_ID.test(collection))
    throw new UsageError(`--collection must be a top-level collection id, got '${collection}'`, CAPTURE_USAGE);

  const seconds = timeoutSeconds(values.timeout, CAPTURE_USAGE);

  const where = file === '-' ? 'standard input' : file;
  const report = lateBootReport(lateBootEntry(readInput(file, io), file), where);
  const { instance } = report;
  const name = instance.name ?? instance.id;
  const doc = baselineDocument(report.actualMeasurements, {
    description: (values.description as string | undefined) ?? `late-boot measurements of ${name} at boot ${report.bootCounter ?? '?'}`,
    source: `projects/${instance.projectId}/zones/${instance.zone}/instances/${name}`,
  });
  if (values['dry-run']) return io.stdout(`${JSON.stringify({ id: doc.id, data: doc.data }, null, 2)}\n`);

  const project = (values.project as string | undefined) ?? io.env.GOOGLE_CLOUD_PROJECT ?? instance.projectId;
  const path = `${database}/${collection}/${doc.id}`;
  const target = `${path} in project ${project}${io.env.FIRESTORE_EMULATOR_HOST ? ` on the emulator at ${io.env.FIRESTORE_EMULATOR_HOST}` : ''}`;
  const { createFirestore } = await import('../function/clients.js');
  const db = await createFirestore({ firestoreDatabase: database, projectId: project });
  try {
    await withDeadline(db.collection(collection).doc(doc.id).create(doc.data), seconds, `writing ${target}`);
  } catch (e) {
    if (e instanceof CliError) throw e;
    if ((e as { code?: unknown }).code === 6) throw new CliError(`a baseline with these measurements already exists: ${path}`);
    throw new CliError(`could not write ${target}: ${describeError(e)}${credentialsHint(e)}`);
  } finally {
    // Closing may fail for the same reason the write did; the write's error is the one to report.
    await Promise.race([db.terminate().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
  }
  io.stdout(`created ${path}\n`);
}

/** The validated late-boot report of an entry, through the handler's own parser: what it accepts, the tool accepts. */
function lateBootReport(entry: Entry, where: string): IntegrityReport {
  const parsed = parseMessage({ message: { data: Buffer.from(JSON.stringify(entry)).toString('base64') } });
  if (parsed.status === 'rejected') throw new CliError(`the late-boot entry in ${where} is not usable: ${parsed.detail}`);
  if (parsed.status === 'ignored')
    throw new CliError(`the late-boot entry in ${where} is not a Shielded VM integrity report: ${parsed.reason}`);
  if (parsed.report.kind !== 'lateBoot') throw new CliError(`the entry in ${where} is not a late-boot report`);
  return parsed.report;
}

/** Runs the tool; resolves to the process exit code. */
export function run(argv: string[], io: Io): Promise<number> {
  return dispatch(BIN, TOP_USAGE, { capture: (rest) => capture(rest, io) }, argv, io);
}

if (require.main === module) runAsCommand(run);
