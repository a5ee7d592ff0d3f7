import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { baselineDocument, DEFAULT_BASELINE_COLLECTION } from '../function/baseline';
import { IntegrityReport, parseMessage } from '../function/parse';
import { COLLECTION_ID, DATABASE_ID, DEFAULT_NAME_PREFIX, dedicatedDatabaseId } from '../function/contract';

/** What the tool is called on the command line. */
export const BIN = 'integrity-baselines';

/** How long a write may take before the tool gives up, seconds. */
const DEFAULT_TIMEOUT_SECONDS = 60;

/** Database the example stack creates: what `--database` defaults to. */
const DEFAULT_DATABASE = dedicatedDatabaseId(DEFAULT_NAME_PREFIX);

/** A mistake in how the tool was called: the usage is printed and the exit code is 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A failure of the work itself, worded as a sentence that says what to do: exit code 1. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/** Where the tool writes; injectable so tests can read what it printed. */
export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly readStdin: () => string;
  readonly env: NodeJS.ProcessEnv;
}

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

type Flags = Record<string, { type: 'string' | 'boolean'; short?: string }>;

function parse(
  args: string[],
  flags: Flags,
  usage: string,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...flags, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (e) {
    // parseArgs words its errors for programmers ("Unknown option '--x'. To specify a positional…").
    const message = describeError(e).split('. ')[0]!;
    throw new UsageError(message.replace(/^Unknown option/, 'unknown option').replace(/^Option/, 'option'), usage);
  }
}

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
  const { values, positionals } = parse(
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

  const timeoutSeconds = Number(values.timeout ?? DEFAULT_TIMEOUT_SECONDS);
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 600) {
    throw new UsageError(`--timeout must be a whole number of seconds from 1 to 600, got '${String(values.timeout)}'`, CAPTURE_USAGE);
  }

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
  let timer: NodeJS.Timeout | undefined;
  try {
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new CliError(
              `Firestore did not answer within ${timeoutSeconds} s writing ${target}; check the network, FIRESTORE_EMULATOR_HOST and your credentials`,
            ),
          ),
        timeoutSeconds * 1000,
      );
    });
    await Promise.race([db.collection(collection).doc(doc.id).create(doc.data), deadline]);
  } catch (e) {
    if (e instanceof CliError) throw e;
    if ((e as { code?: unknown }).code === 6) throw new CliError(`a baseline with these measurements already exists: ${path}`);
    throw new CliError(`could not write ${target}: ${describeError(e)}${credentialsHint(e)}`);
  } finally {
    clearTimeout(timer);
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

const CREDENTIALS =
  /credential|Could not load the default|invalid_grant|Unable to read the credential|UNAUTHENTICATED|unauthorized_client/i;

function credentialsHint(e: unknown): string {
  return CREDENTIALS.test(describeError(e))
    ? "; set up Application Default Credentials with 'gcloud auth application-default login' or GOOGLE_APPLICATION_CREDENTIALS"
    : '';
}

/** Turns anything thrown into readable text: never `[object Object]`. */
export function describeError(e: unknown): string {
  // Duck-typed: errors from another realm (a VM context, a worker) fail `instanceof Error`.
  if (typeof e === 'object' && e !== null) {
    const o = e as { message?: unknown; detail?: unknown; details?: unknown };
    for (const v of [o.message, o.detail, o.details]) if (typeof v === 'string' && v !== '') return v;
    try {
      return JSON.stringify(e);
    } catch {
      return Object.prototype.toString.call(e);
    }
  }
  return String(e);
}

/** Runs the tool; resolves to the process exit code. */
export async function run(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
        io.stderr(TOP_USAGE);
        return 2;
      case '-h':
      case '--help':
      case 'help':
        io.stdout(TOP_USAGE);
        return 0;
      case 'capture':
        await capture(rest, io);
        return 0;
      default:
        throw new UsageError(command.startsWith('-') ? `unknown option '${command}'` : `unknown command '${command}'`, TOP_USAGE);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`${BIN}: ${e.message}\n\n${e.usage}`);
      return 2;
    }
    io.stderr(`${BIN}: ${describeError(e)}\n`);
    return 1;
  }
}

if (require.main === module) {
  const io: Io = {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    readStdin: () => readFileSync(0, 'utf8'),
    env: process.env,
  };
  // Exit explicitly: a Google client that gave up on an unreachable server may still hold sockets.
  void run(process.argv.slice(2), io).then((code) => process.exit(code));
}
