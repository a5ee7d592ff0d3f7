import { readFileSync } from 'node:fs';
import type { DocumentSnapshot, Firestore, QueryDocumentSnapshot, Transaction } from '@google-cloud/firestore';
import { BaselineFields, baselineDocument, expiryMillis, measurementsFromDocument, samePrincipal } from '../function/core/baseline';
import { Code, errorCode } from '../function/core/api-errors';
import {
  COLLECTION_ID,
  DATABASE_ID,
  DEFAULT_NAME_PREFIX,
  PROJECT_ID,
  dedicatedDatabaseId,
  BASELINE_POLICY_COLLECTION,
  BaselineApproval,
  DEFAULT_BASELINE_COLLECTION,
} from '../function/contract';
import { MAX_PCR_INDEX, PcrMeasurement, baselineDocumentId, parsePcr } from '../function/core/measurements';
import { IntegrityReport, MAX_LOG_ENTRY_BYTES, parseMeasurements, parseMessage } from '../function/core/parse';
import { lateBootReportsSince, validateLateBootQuery } from './baselines/cloud-logging';
import { COMPUTE_API_ENDPOINT, ComputeUnanswered, ReferenceVm, describeVm } from './baselines/compute';
import { Actor, nameOnEmulatorOnly, recordedAsHelp, resolveActor } from './principal';
import { DECISIONS_FLAGS, DECISIONS_USAGE, decisions } from './baselines/decisions';
import {
  LAST_START_QUERY,
  LateBootCandidate,
  MAX_FIRST_REPORT_DELAY_SECONDS,
  chooseLateBootReport,
  lateBootCommandBlock,
  lateBootQuery,
  span,
} from './baselines/source-checks';
import {
  EFFECTIVE_STATES,
  SHORT_ID,
  effectiveViews,
  jsonView,
  lateBootPcrProblem,
  pcrList,
  shortId,
  showText,
  table,
  viewOf,
} from './baselines/records';
import {
  BaselineTarget,
  MIN_ID_PREFIX,
  approvalOf,
  findBaseline,
  pathOf,
  sameMeasurementDocuments,
  whereOf,
  withBaselines,
} from './baselines/repository';
import {
  CliError,
  FOOTER,
  Flags,
  Io,
  OptionValues,
  UNPRINTABLE,
  UsageError,
  describeError,
  localUser,
  ParsedOptions,
  printable,
  str,
  textOption,
  timeoutSeconds,
  zonedTimeMillis,
} from './common';
import { onEmulator } from './firestore';
import { BASELINES_BIN } from './baselines/names';
import { Command, runAsCommand, runTool } from './tool';

export { CliError, UsageError, describeError } from './common';
export type { Io } from './common';

/** What the tool is called on the command line. */
export const BIN = BASELINES_BIN;

/** Database the example stack creates: what `--database` defaults to. */
const DEFAULT_DATABASE = dedicatedDatabaseId(DEFAULT_NAME_PREFIX);

/** Where to read a VM's late-boot reports from, as a hint in one line. */
const LATE_BOOT_HINT = `${lateBootQuery()}, with the VM's id and last start from ${LAST_START_QUERY}`;

const TOP_USAGE = `usage: ${BIN} <command> [options]

Manages the known-good baselines an IntegrityResponder relearns against: a baseline is a set
of late-boot PCR measurements, with who recorded it, from which VM and boot, and its state.
Only an active, unexpired (and, under requireBaselineApproval, approved) baseline vouches.

commands:
  capture         record the late-boot measurements of a reference VM, from a saved log
                  entry or straight from Cloud Logging
  add             record explicit PCR values
  list            the baselines, as a table or JSON
  show <id>       one baseline: state, provenance, PCRs
  approve <id>    approve a proposed baseline (by another principal than its creator)
  revoke <id>     withdraw trust at once; kept for audit, never matched again
  import-legacy   copy tutorial-format documents into this tool's format
  decisions       what the responder decided, newest first, from its decision ledger

Run '${BIN} <command> --help' for a command's options.
`;

const TARGET_OPTIONS = `  --project P           project of the database (default: $GOOGLE_CLOUD_PROJECT)
  --database D          Firestore database id (default: ${DEFAULT_DATABASE}, the example
                        stack's; pass '<namePrefix>-baselines' or '(default)')
  --collection C        collection (default: ${DEFAULT_BASELINE_COLLECTION})
  --timeout SECONDS     give up when Firestore has not answered by then (default: 60)
  -h, --help            show this help`;

const ACTOR_OPTION = recordedAsHelp('--actor');

const NEW_BASELINE_OPTIONS = `  --note TEXT           why these measurements are trusted (stored as 'description')
  --expires-at TIME     RFC 3339 time (e.g. 2027-03-31T00:00:00Z) from which it matches nothing
  --propose             record it as proposed (matches nothing until approved), even where
                        the two-person rule does not require it
  --dry-run             print the document instead of writing it
${ACTOR_OPTION}`;

/** The gcloud command of `capture --help`, indented to sit under its option. */
const SAVE_COMMAND = lateBootCommandBlock().replace(/^/gm, ' '.repeat(26));

const CAPTURE_USAGE = `usage: ${BIN} capture <entries.json | -> --project P [options]
       ${BIN} capture --instance NAME|ID --zone ZONE [--vm-project P] --project P [options]

Records the late-boot measurements of a reference VM (a canary you have checked) as a
known-good baseline, with where they came from: the VM, its id, the boot, the report's time.

It writes to the baseline database of --project (or $GOOGLE_CLOUD_PROJECT), and says which:
never to the VM's project unless you name it, since with a folder or organization scope the
baselines live in the responder's project, not in the projects of the VMs.

  <entries.json>        a LogEntry, or the JSON array of every late-boot report of one VM
                        since its last start ('-' reads standard input), saved with
${SAVE_COMMAND}
                        where <id> and <lastStartTimestamp> are what
                          ${LAST_START_QUERY}
                        prints. The timestamp bound replaces gcloud's own (--freshness, one day
                        by default): a fixed --freshness or a --limit can leave the first
                        boot's report out, and such a file is refused
  --instance NAME|ID    read the VM's late-boot reports from Cloud Logging instead
  --zone ZONE           the VM's zone (with --instance)
  --vm-project P        the VM's project (with --instance; default: --project)

Whoever may write logs in the VM's project can write a "late-boot report", with the date and
labels they like, so the report is checked before anything is recorded: the VM is looked up
in Compute Engine (instances.get) and only reports with its instance id count; a report
dated ahead of this machine's clock or of its receipt by Cloud Logging, or before the VM's
last start, is refused. The reports since the VM's last start must hold one set of
measurements: with two (a forged report, or a reboot into something else), nothing is
recorded and every report is named; stop and start the canary, then capture again. They
must also reach back to the start: the earliest, the first boot's, dated and received
within ${span(MAX_FIRST_REPORT_DELAY_SECONDS * 1000)} of it. From a file, when Compute Engine cannot be asked, the checks
that need it are skipped and said so on standard error, and every late-boot report in the
file must hold the same measurements.

A report that passed its policy evaluation is refused unless --force: its measurements are
the VM's current policy already, which is rarely what a rollout means to record.

options:
${NEW_BASELINE_OPTIONS}
  --force               record a report that passed its policy evaluation
  --description TEXT    the same as --note
${TARGET_OPTIONS}

--project (or $GOOGLE_CLOUD_PROJECT) is required, except with --dry-run, which writes nothing.
Needs compute.instances.get on the VM's project (roles/compute.viewer), and with --instance
logging.logEntries.list there (roles/logging.viewer). ${COMPUTE_API_ENDPOINT} and
LOGGING_API_ENDPOINT point it at other endpoints.

${FOOTER}`;

const ADD_USAGE = `usage: ${BIN} add --pcr PCR_n=VALUE [--pcr …] --note TEXT --project P [options]

Records explicit PCR values as a known-good baseline (e.g. values computed from a signed
image). VALUE is the digest exactly as Shielded VM logs it (base64). A baseline matches a
late-boot report only when it holds exactly the report's PCRs, and every late-boot report
holds PCR_0, PCR_4 and PCR_7: a set without all three could never match and is refused.

options:
  --pcr PCR_n=VALUE     one PCR (repeat: a Linux VM reports PCR_0, 4 and 7, Windows also 11, 13, 14)
  --hash-algo ALGO      hashAlgo of every PCR (e.g. SHA1, SHA256), as the reports name it
  --source TEXT         where the values come from (stored as 'source')
${NEW_BASELINE_OPTIONS}
${TARGET_OPTIONS}

${FOOTER}`;

const LIST_USAGE = `usage: ${BIN} list [options]

Lists the baselines of the collection: id (a unique prefix of it is enough for show, approve
and revoke), state as the responder sees it now, PCRs, source VM and boot, who recorded it
and when, expiry. The states:
  active       it vouches: the responder relearns VMs reporting exactly its measurements
  proposed     recorded, waiting for approval by a second principal
  revoked      withdrawn: kept for audit, never matched again
  expired      past its expiresAt
  unapproved   active, but the two-person rule (requireBaselineApproval) wants an approval
               by a principal other than its creator, which it lacks
  vetoed       it would vouch, but another document holding the same measurements is
               revoked, and a revocation wins
  invalid      its PCR fields, state or expiry cannot be read: it never matches

options:
  --state S             only baselines in this state (one of the above)
  --json                print a JSON array (full ids, every field)
${TARGET_OPTIONS}

${FOOTER}`;

const SHOW_USAGE = `usage: ${BIN} show <id> [options]

Prints one baseline: its state and why, its provenance and its PCR values.

options:
  --json                print one JSON object
${TARGET_OPTIONS}

${FOOTER}`;

const APPROVE_USAGE = `usage: ${BIN} approve <id> [options]

Approves a proposed baseline: it becomes active and matches from the next event on. The
approver is always another principal than the one who recorded it. Where the two-person rule
is on (requireBaselineApproval: a policy document in ${BASELINE_POLICY_COLLECTION} names the
collection), an active baseline without an approval is 'unapproved', and approve gives it
one; where it is off, an active baseline vouches without one, and approve changes nothing.

options:
${ACTOR_OPTION}
${TARGET_OPTIONS}

${FOOTER}`;

const REVOKE_USAGE = `usage: ${BIN} revoke <id> --reason TEXT [options]

Withdraws trust in a baseline's measurements at once: it, and every other document of the
collection holding exactly the same measurements (tutorial documents included), is marked
revoked, kept for audit and never matched again. The responder reads baselines afresh on
every event, so the next report with these measurements contains its VM.

options:
  --reason TEXT         why (required), kept with the baseline
${ACTOR_OPTION}
${TARGET_OPTIONS}

${FOOTER}`;

const IMPORT_USAGE = `usage: ${BIN} import-legacy [options]

Copies every tutorial-format document of the collection (PCR maps under an id of your own,
e.g. 'baseline1') into this tool's format: under its fingerprint id (one document per
measurement set), with provenance (importedFrom, who, when). Their state and expiry are kept; under
the two-person rule they arrive proposed. Idempotent: a document already imported is skipped.
Originals are left in place unless --delete-originals.

options:
  --delete-originals    delete each original once its copy exists (in the same transaction)
  --dry-run             print what would be done, change nothing
${ACTOR_OPTION}
${TARGET_OPTIONS}

${FOOTER}`;

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

type Entry = Record<string, unknown> & { jsonPayload?: Record<string, unknown>; timestamp?: unknown };

/** Every late-boot entry of the input; all of one VM. */
function lateBootEntries(text: string, where: string): Entry[] {
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
function candidateOf(entry: Entry, where: string): LateBootCandidate {
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

/**
 * Who the change is recorded as. On the emulator `--actor` names anyone (default: the local
 * user); against Firestore it is the principal of the credentials, always: a name given on the
 * command line would let one person both propose and approve. `what` (`approve a baseline of`)
 * words a failure to tell, with the collection.
 */
async function actorOf(values: OptionValues, io: Io, t: BaselineTarget, what: string): Promise<Actor> {
  const flag = nameOnEmulatorOnly(values, 'actor', io.env);
  return resolveActor(flag, io.env, { doing: `${what} ${whereOf(t)}`, option: '--actor', seconds: t.seconds });
}

const TARGET_FLAGS = {
  project: { type: 'string' },
  database: { type: 'string' },
  collection: { type: 'string' },
  timeout: { type: 'string' },
} as const satisfies Flags;

/** Options of the commands that record a new baseline. */
const NEW_BASELINE_FLAGS = {
  note: { type: 'string' },
  'expires-at': { type: 'string' },
  propose: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  actor: { type: 'string' },
} as const satisfies Flags;

/** The options each command takes, besides `--help`: exactly what its usage lists. */
export const COMMAND_FLAGS = {
  capture: {
    ...TARGET_FLAGS,
    ...NEW_BASELINE_FLAGS,
    force: { type: 'boolean' },
    description: { type: 'string' },
    instance: { type: 'string' },
    zone: { type: 'string' },
    'vm-project': { type: 'string' },
  },
  add: {
    ...TARGET_FLAGS,
    ...NEW_BASELINE_FLAGS,
    pcr: { type: 'string', multiple: true },
    'hash-algo': { type: 'string' },
    source: { type: 'string' },
  },
  list: { ...TARGET_FLAGS, json: { type: 'boolean' }, state: { type: 'string' } },
  show: { ...TARGET_FLAGS, json: { type: 'boolean' } },
  approve: { ...TARGET_FLAGS, actor: { type: 'string' } },
  revoke: { ...TARGET_FLAGS, actor: { type: 'string' }, reason: { type: 'string' } },
  'import-legacy': { ...TARGET_FLAGS, actor: { type: 'string' }, 'delete-originals': { type: 'boolean' }, 'dry-run': { type: 'boolean' } },
  decisions: DECISIONS_FLAGS,
} as const satisfies Record<string, Flags>;

/** Each command's usage, by command. */
export const COMMAND_USAGE: Readonly<Record<keyof typeof COMMAND_FLAGS, string>> = {
  capture: CAPTURE_USAGE,
  add: ADD_USAGE,
  list: LIST_USAGE,
  show: SHOW_USAGE,
  approve: APPROVE_USAGE,
  revoke: REVOKE_USAGE,
  'import-legacy': IMPORT_USAGE,
  decisions: DECISIONS_USAGE,
};

/** Where a command works, before it is known whether it may go without a project (a dry run does). */
type Place = Omit<BaselineTarget, 'project'> & { readonly project?: string };

/** The collection named by the options (the example stack's by default), its project when one is given. */
function placeOf(values: OptionValues, io: Io): Place {
  const project = str(values.project) ?? (io.env.GOOGLE_CLOUD_PROJECT || undefined);
  if (project !== undefined && !PROJECT_ID.test(project)) {
    throw new UsageError(`--project must be a Google Cloud project id, got '${project}'`);
  }
  const database = str(values.database) ?? DEFAULT_DATABASE;
  const collection = str(values.collection) ?? DEFAULT_BASELINE_COLLECTION;
  if (!DATABASE_ID.test(database))
    throw new UsageError(`--database must be '(default)' or a database id like '${DEFAULT_DATABASE}', got '${database}'`);
  if (!COLLECTION_ID.test(collection)) throw new UsageError(`--collection must be a top-level collection id, got '${collection}'`);
  return {
    ...(project !== undefined && { project }),
    database,
    collection,
    seconds: timeoutSeconds(values.timeout),
    ...(io.env.FIRESTORE_EMULATOR_HOST && { emulator: io.env.FIRESTORE_EMULATOR_HOST }),
  };
}

/** The place with its project, which every command that reads or writes Firestore needs. */
function required(place: Place, why = 'the project of the baseline database'): BaselineTarget {
  const { project } = place;
  if (project === undefined) throw new UsageError(`--project is required (or set GOOGLE_CLOUD_PROJECT): ${why}`);
  return { ...place, project };
}

/** The collection a command works on, from its options. */
function targetOf(values: OptionValues, io: Io): BaselineTarget {
  return required(placeOf(values, io));
}

/** `--expires-at` as normalised RFC 3339 text; it must lie in the future. */
function expiresAtOf(values: OptionValues, now: number): string | undefined {
  const raw = str(values['expires-at']);
  if (raw === undefined) return undefined;
  const ms = zonedTimeMillis(raw);
  if (ms === undefined) {
    throw new UsageError(`--expires-at must be an RFC 3339 time with a zone, like 2027-03-31T00:00:00Z; got '${raw}'`);
  }
  if (ms <= now) throw new UsageError(`--expires-at ${raw} is in the past: the baseline would never match`);
  return new Date(ms).toISOString();
}

/** One word after an id: the argument of show, approve and revoke. */
function oneId(positionals: string[], command: string): string {
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? `${command} needs the id of a baseline ('${BIN} list' shows them)`
        : `${command} takes one id, got ${positionals.length}`,
    );
  }
  const id = positionals[0]!.replace(/…$/, '');
  if (id === '' || id === '.' || id === '..' || /^__.*__$/.test(id) || id.includes('/') || UNPRINTABLE.test(id) || id.length > 1500) {
    throw new UsageError(`'${id}' is not a document id ('${BIN} list' shows them)`);
  }
  if (/^sha256-[0-9a-f]*$/.test(id) && id.length < MIN_ID_PREFIX) {
    throw new UsageError(`give at least ${MIN_ID_PREFIX} characters of a sha256- id ('${BIN} list' shows ${SHORT_ID}), got '${id}'`);
  }
  return id;
}

interface NewBaseline {
  readonly measurements: readonly PcrMeasurement[];
  readonly fields: BaselineFields;
  /** What `--dry-run` and the confirmation call the measurements' origin. */
  readonly origin: string;
}

/**
 * What a command that records a baseline (capture, add) checks before it reads or asks
 * anything: its free text and expiry, the place, and, unless it is a dry run, the project (never
 * guessed: the VM's project is not where the baselines are) and who records it (the principal
 * of the credentials: without them nothing else is worth doing).
 */
async function beforeRecording(
  values: OptionValues,
  io: Io,
  command: 'capture' | 'add',
): Promise<{ readonly place: Place; readonly target?: BaselineTarget; readonly actor?: Actor }> {
  for (const name of ['note', 'description', 'actor', 'source']) textOption(values, name);
  expiresAtOf(values, Date.now());
  const place = placeOf(values, io);
  if (values['dry-run'] === true) return { place };
  const target = required(
    place,
    `the project of the baseline database ${command} writes to; the VM's own project is never assumed, since with a folder or ` +
      `organization scope the baselines live in the responder's project (--dry-run writes nothing and needs none)`,
  );
  return { place, target, actor: await actorOf(values, io, target, 'write a baseline to') };
}

/**
 * Writes a new baseline (capture, add): proposed where the two-person rule or `--propose` asks,
 * active otherwise; never over an existing document with these measurements. With `--dry-run`
 * prints the document instead, and needs neither a project nor an actor.
 */
async function record(values: OptionValues, io: Io, checked: Awaited<ReturnType<typeof beforeRecording>>, nb: NewBaseline): Promise<void> {
  const now = Date.now();
  const expiresAt = expiresAtOf(values, now);
  const note = textOption(values, 'note') ?? textOption(values, 'description');
  const documentOf = (state: 'active' | 'proposed', createdBy: string) =>
    baselineDocument(nb.measurements, {
      state,
      ...nb.fields,
      ...(note !== undefined && { description: note }),
      createdBy,
      createdAt: new Date(now).toISOString(),
      ...(expiresAt !== undefined && { expiresAt }),
    });
  const { place, target: t, actor } = checked;
  if (t === undefined || actor === undefined) {
    // Offline: the state and the principal are decided when it is written.
    const doc = documentOf(values.propose === true ? 'proposed' : 'active', textOption(values, 'actor') ?? localUser());
    io.stderr(
      `${BIN}: note: dry run, nothing written; 'state' and 'createdBy' are decided when it is written (the collection's approval policy, your credentials)\n`,
    );
    const printed = { id: doc.id, path: pathOf(place, doc.id), project: place.project ?? null, data: doc.data };
    return io.stdout(`${JSON.stringify(printed, null, 2)}\n`);
  }
  await withBaselines(io, t, 'write a baseline to', async (db) => {
    const approval = await approvalOf(db, t.collection);
    const state = approval === 'two-person' || values.propose === true ? 'proposed' : 'active';
    const doc = documentOf(state, actor.name);
    // Every document holding these values, whatever its id: a revocation anywhere is final.
    const same = await sameMeasurementDocuments(db, t.collection, nb.measurements);
    const revoked = same.find((d) => d.get('state') === 'revoked');
    if (revoked !== undefined) {
      throw new CliError(
        `these measurements were revoked (${pathOf(t, revoked.id)}, by ${String(revoked.get('revokedBy') ?? 'unknown')}` +
          `${revoked.get('revokeReason') ? `: ${String(revoked.get('revokeReason'))}` : ''}); revoked measurements are never trusted again`,
      );
    }
    try {
      await db.collection(t.collection).doc(doc.id).create(doc.data);
    } catch (e) {
      if (errorCode(e) !== Code.ALREADY_EXISTS) throw e;
      const existing = await db.collection(t.collection).doc(doc.id).get();
      throw new CliError(
        `a baseline with these measurements already exists: ${pathOf(t, doc.id)} in project ${t.project} ` +
          `(${String(existing.get('state') ?? 'active')}); '${BIN} show ${shortId(doc.id)}' prints it`,
      );
    }
    io.stdout(
      `created ${pathOf(t, doc.id)} (${state}, ${pcrList(nb.measurements)}, from ${nb.origin}, by ${actor.name}) in project ${t.project}` +
        `${onEmulator(t)}\n`,
    );
    const vouching = same.filter((d) => viewOf(d.id, d.data(), now, approval).vouches);
    if (vouching.length > 0) {
      io.stderr(
        `${BIN}: note: ${vouching.map((d) => pathOf(t, d.id)).join(', ')} already vouch${vouching.length === 1 ? 'es' : ''} for these ` +
          `measurements: the responder relearns on them whatever the state of the new one\n`,
      );
    }
    if (state === 'proposed') {
      const collection = t.collection === DEFAULT_BASELINE_COLLECTION ? '' : ` --collection ${t.collection}`;
      io.stdout(
        `it matches nothing until another principal approves it:\n  ${BIN} approve ${shortId(doc.id)} --project ${t.project} --database ${t.database}${collection}\n`,
      );
    }
  });
}

async function capture({ values, positionals }: ParsedOptions, io: Io): Promise<void> {
  const instance = str(values.instance);
  let source: { readonly instance: string; readonly zone: string; readonly vmProject: string } | { readonly file: string };
  // Usage errors before any call: the options, then the VM's name, zone and project.
  if (instance !== undefined) {
    if (positionals.length > 0) throw new UsageError('capture reads either a file or --instance, not both');
    const zone = str(values.zone);
    if (zone === undefined) throw new UsageError('--instance needs --zone: the zone of the VM');
    const vmProject = str(values['vm-project']) ?? str(values.project) ?? (io.env.GOOGLE_CLOUD_PROJECT || undefined);
    if (vmProject === undefined) throw new UsageError('--instance needs --vm-project or --project (or GOOGLE_CLOUD_PROJECT)');
    try {
      validateLateBootQuery({ vmProject, zone, instance });
    } catch (e) {
      throw new UsageError(describeError(e));
    }
    source = { instance, zone, vmProject };
  } else {
    if (values.zone !== undefined || values['vm-project'] !== undefined) {
      throw new UsageError('--zone and --vm-project go with --instance');
    }
    if (positionals.length !== 1) {
      throw new UsageError(
        positionals.length === 0
          ? 'capture needs the file holding the log entry (or - for standard input), or --instance and --zone'
          : `capture takes one file, got ${positionals.length}`,
      );
    }
    source = { file: positionals[0]! };
  }
  const checked = await beforeRecording(values, io, 'capture');
  const seconds = checked.place.seconds;
  let candidates: LateBootCandidate[];
  let where: string;
  let described: ReferenceVm | undefined;
  if ('instance' in source) {
    const { vmProject, zone } = source;
    // The VM as Compute Engine knows it: its id selects the reports, its last start dates them.
    const vm = await describeVm({ project: vmProject, zone, instance: source.instance }, io.env, seconds, io.openInstances);
    described = vm;
    where = `Cloud Logging (projects/${vmProject}, zone ${zone})`;
    if (vm.lastStartTimestamp === undefined) {
      throw new CliError(
        `refusing to record a baseline: Compute Engine gives VM ${vm.name} (id ${vm.id}) no last start time, so no report can be ` +
          `tied to the boot it runs now; start it, wait for its late-boot report, then capture again`,
      );
    }
    const found = await lateBootReportsSince({ vmProject, zone, instanceId: vm.id }, vm.lastStartTimestamp, io.env, seconds);
    if (found.length === 0) {
      throw new CliError(
        `${where} holds no late-boot report of VM ${vm.name} (id ${vm.id}); boot it (a late-boot report is written at every boot) ` +
          `and check the name or id, the zone and the project`,
      );
    }
    candidates = found.map((e) => candidateOf(e as Entry, where));
  } else {
    const { file } = source;
    where = file === '-' ? 'standard input' : file;
    candidates = lateBootEntries(readInput(file, io), where).map((e) => candidateOf(e, where));
    const claimed = candidates[0]!.report.instance;
    try {
      described = await describeVm(
        { project: claimed.projectId, zone: claimed.zone, instance: claimed.id },
        io.env,
        seconds,
        io.openInstances,
      );
    } catch (e) {
      if (!(e instanceof ComputeUnanswered)) throw new CliError(`refusing to record a baseline from ${where}: ${describeError(e)}`);
      const unreceived = candidates.some((c) => c.report.receiveTimestamp === undefined);
      io.stderr(
        `${BIN}: warning: could not ask Compute Engine about VM ${claimed.name ?? claimed.id} (id ${claimed.id}) in ` +
          `${claimed.projectId}/${claimed.zone} (${e.reason}), so NOT checked: that this VM exists, that the report is dated ` +
          `after its last start, and that ${where} reaches back to that start${unreceived ? `; nor when Cloud Logging received it (the entry has no receiveTimestamp)` : ''}. ` +
          `Checked: the report's date against this machine's clock${unreceived ? '' : ' and its receipt time'}, and one set of ` +
          `measurements among the ${candidates.length} late-boot report${candidates.length === 1 ? '' : 's'} in ${where}` +
          `${candidates.length === 1 ? ' (a single one: save every report of the VM since it last started, not --limit=1)' : ''}\n`,
      );
    }
  }
  const chosen = chooseLateBootReport(candidates, described, Date.now(), where, instance === undefined ? 'file' : 'cloud-logging');
  const { entry, report, measurements } = chosen;
  const { instance: claimedVm } = report;
  // Compute Engine's word for the VM when it was asked; the entry's own labels otherwise.
  const vm = described === undefined ? claimedVm : { ...claimedVm, name: described.name };
  const name = vm.name ?? vm.id;
  if (report.passed && values.force !== true) {
    throw new CliError(
      `the late-boot report of ${name} (boot ${report.bootCounter ?? '?'}) in ${where} passed its policy evaluation: its measurements ` +
        `are the VM's current baseline already, which is usually not what a rollout means to record (capture the report that ` +
        `failed after the update). Pass --force to record it anyway`,
    );
  }
  if (report.passed) io.stderr(`${BIN}: warning: recording a report that passed its policy evaluation (--force)\n`);
  await record(values, io, checked, {
    measurements,
    origin: `${name} boot ${report.bootCounter ?? '?'}`,
    fields: {
      description: str(values.note) ?? str(values.description) ?? `late-boot measurements of ${name} at boot ${report.bootCounter ?? '?'}`,
      source: `projects/${vm.projectId}/zones/${vm.zone}/instances/${name}`,
      sourceInstanceId: vm.id,
      ...(report.bootCounter !== undefined && { sourceBootCounter: report.bootCounter }),
      ...(typeof entry.timestamp === 'string' && { sourceReportTime: entry.timestamp }),
      createdVia: 'capture',
    },
  });
}

async function add({ values, positionals }: ParsedOptions, io: Io): Promise<void> {
  if (positionals.length > 0) throw new UsageError(`add takes no arguments besides options, got '${positionals[0]}'`);
  const pcrs = (values.pcr as string[] | undefined) ?? [];
  if (pcrs.length === 0) throw new UsageError('add needs at least one --pcr PCR_n=VALUE');
  if (str(values.note) === undefined) {
    throw new UsageError(
      "add needs --note: why these measurements are trusted (stored as 'description'); --source says where they come from",
    );
  }
  textOption(values, 'note');
  const algo = str(values['hash-algo']);
  if (algo !== undefined && !/^[A-Z0-9_]{2,20}$/.test(algo)) {
    throw new UsageError(`--hash-algo must name an algorithm as the reports do (SHA1, SHA256), got '${algo}'`);
  }
  // Each --pcr judged as written, and named as written: the parser's own paths (--pcr[1].pcrNum) mean nothing to its user.
  const seen = new Set<number>();
  const raw = pcrs.map((p) => {
    const eq = p.indexOf('=');
    if (eq < 1) throw new UsageError(`--pcr must be PCR_n=VALUE, got '${p}'`);
    const name = p.slice(0, eq);
    const value = p.slice(eq + 1);
    const given = `--pcr ${name}=${value === '' ? '' : '…'}`;
    const pcr = parsePcr(name);
    if (pcr === undefined) {
      throw new UsageError(`${given}: ${name} is not a PCR name like PCR_0 (PCR_0 to PCR_${MAX_PCR_INDEX}, no leading zeros)`);
    }
    if (seen.has(pcr)) throw new UsageError(`--pcr ${name} is given twice`);
    seen.add(pcr);
    // Shielded VM logs digests in base64: 28 characters for SHA1, 44 for SHA256.
    if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(value) || value === '') {
      throw new UsageError(`${given}: ${name} must be a base64 digest, as Shielded VM logs it; got '${value}'`);
    }
    const length = algo === undefined ? undefined : ({ SHA1: 28, SHA256: 44, SHA384: 64, SHA512: 88 } as Record<string, number>)[algo];
    if (length !== undefined && value.length !== length) {
      throw new UsageError(`${given}: ${name} has ${value.length} base64 characters; a ${algo} digest has ${length}`);
    }
    return { pcrNum: name, value, ...(algo !== undefined && { hashAlgo: algo }) };
  });
  let measurements: PcrMeasurement[];
  try {
    measurements = parseMeasurements(raw, '--pcr');
  } catch (e) {
    // What the checks above leave to the parser (a value too long), in the same words.
    const detail = describeError(e).replace(/--pcr\[(\d+)\](?:\.\w+)?/g, (_, i: string) => `--pcr ${raw[Number(i)]?.pcrNum ?? ''}=…`);
    throw new UsageError(`the PCR values are not usable: ${detail}`);
  }
  const never = lateBootPcrProblem(measurements);
  if (never !== undefined) throw new UsageError(never);
  const checked = await beforeRecording(values, io, 'add');
  const source = textOption(values, 'source');
  await record(values, io, checked, {
    measurements,
    origin: source ?? 'explicit values',
    fields: { ...(source !== undefined && { source }), createdVia: 'add' },
  });
}

async function list({ values, positionals }: ParsedOptions, io: Io): Promise<void> {
  if (positionals.length > 0) throw new UsageError(`list takes no arguments besides options, got '${positionals[0]}'`);
  const only = str(values.state);
  if (only !== undefined && !(EFFECTIVE_STATES as readonly string[]).includes(only))
    throw new UsageError(`--state must be one of ${EFFECTIVE_STATES.join(', ')}, got '${only}'`);
  const t = targetOf(values, io);
  await withBaselines(
    io,
    t,
    'list the baselines of',
    async (db) => {
      const approval = await approvalOf(db, t.collection);
      const snapshot = await db.collection(t.collection).get();
      const now = Date.now();
      const views = effectiveViews(snapshot.docs.map((d) => viewOf(d.id, d.data(), now, approval)))
        .filter((v) => only === undefined || v.state === only)
        // Newest first; documents without a creation time (tutorial ones) last, by id.
        .sort((a, b) => String(b.fields.createdAt ?? '').localeCompare(String(a.fields.createdAt ?? '')) || a.id.localeCompare(b.id));
      if (values.json) return io.stdout(`${JSON.stringify(views.map(jsonView), null, 2)}\n`);
      if (views.length === 0) {
        return io.stdout(
          `no ${only === undefined ? '' : `${only} `}baselines in ${whereOf(t)}${only === undefined ? `; record one with '${BIN} capture'` : ''}\n`,
        );
      }
      io.stdout(table(views));
      if (approval === 'two-person') io.stdout(`(two-person rule: a baseline vouches once approved by a second principal)\n`);
    },
    'read',
  );
}

async function show({ values, positionals }: ParsedOptions, io: Io): Promise<void> {
  const id = oneId(positionals, 'show');
  const t = targetOf(values, io);
  await withBaselines(
    io,
    t,
    'read a baseline of',
    async (db) => {
      const doc = await findBaseline(db, t, id);
      const approval = await approvalOf(db, t.collection);
      const now = Date.now();
      // Judged with every document holding the same values, as the responder judges it.
      const parsed = measurementsFromDocument(doc.data() ?? {});
      const same = parsed.ok ? await sameMeasurementDocuments(db, t.collection, parsed.measurements) : [];
      const others = same.filter((d) => d.id !== doc.id).map((d) => viewOf(d.id, d.data(), now, approval));
      const view = effectiveViews([viewOf(doc.id, doc.data() ?? {}, now, approval), ...others])[0]!;
      io.stdout(values.json ? `${JSON.stringify(jsonView(view), null, 2)}\n` : showText(view, pathOf(t, doc.id)));
    },
    'read',
  );
}

/** Runs `change` on a document in a transaction: it reads the document as it is at commit time. */
async function transition(
  db: Firestore,
  ref: DocumentSnapshot,
  change: (current: Record<string, unknown>, tx: Transaction) => Record<string, unknown> | undefined,
): Promise<Record<string, unknown> | undefined> {
  return db.runTransaction(async (tx) => {
    const current = await tx.get(ref.ref);
    if (!current.exists) throw new CliError(`${ref.ref.path} was deleted meanwhile`);
    const update = change(current.data() ?? {}, tx);
    if (update !== undefined) tx.update(ref.ref, update);
    return update;
  });
}

async function approve({ values, positionals }: ParsedOptions, io: Io): Promise<void> {
  const id = oneId(positionals, 'approve');
  const t = targetOf(values, io);
  const actor = await actorOf(values, io, t, 'approve a baseline of');
  await withBaselines(io, t, 'approve a baseline of', async (db) => {
    const doc = await findBaseline(db, t, id);
    const path = pathOf(t, doc.id);
    const approvedAt = new Date().toISOString();
    const approval = await approvalOf(db, t.collection);
    const update = await transition(db, doc, (current) => {
      const state = current.state ?? 'active';
      if (state === 'revoked') throw new CliError(`${path} is revoked: revoked measurements are never trusted again`);
      if (state !== 'proposed' && state !== 'active') throw new CliError(`${path} has the unknown state ${JSON.stringify(state)}`);
      if (typeof current.approvedBy === 'string' && current.approvedBy !== '') {
        throw new CliError(`${path} is already approved, by ${current.approvedBy} at ${String(current.approvedAt)}`);
      }
      // Active, and no responder of this collection asks for approvals: there is nothing to give.
      if (state === 'active' && approval === 'none') return undefined;
      const creator = current.createdBy;
      if (typeof creator !== 'string' || creator === '') {
        throw new CliError(`${path} names no creator (a tutorial document): import it with '${BIN} import-legacy' and approve the copy`);
      }
      if (samePrincipal(creator, actor.name)) {
        throw new CliError(
          approval === 'two-person'
            ? `${path} was recorded by ${creator}: the two-person rule needs another principal to approve it`
            : `${path} was recorded by ${creator} and proposed: approve takes another principal than its creator, ` +
                `whether or not the two-person rule is on (here it is off)`,
        );
      }
      return { state: 'active', approvedBy: actor.name, approvedAt };
    });
    // What the responder makes of it now: an expiry or a revocation elsewhere still keeps it from vouching.
    const parsed = measurementsFromDocument(doc.data() ?? {});
    const same = parsed.ok ? await sameMeasurementDocuments(db, t.collection, parsed.measurements) : [doc];
    const now = Date.now();
    const view = effectiveViews(
      same.map((d) => viewOf(d.id, d.id === doc.id ? { ...d.data(), ...update } : (d.data() ?? {}), now, approval)),
    ).find((v) => v.id === doc.id);
    const standing = view?.vouches ? `it vouches` : `it does not vouch: ${view?.why ?? 'unreadable'}`;
    if (update === undefined) {
      return io.stdout(
        `nothing to approve: ${path} is already active, and the two-person rule is off for ${t.collection} (no document in ` +
          `${BASELINE_POLICY_COLLECTION} requires approval), so an active baseline needs none; ${standing}\n`,
      );
    }
    io.stdout(`approved ${path} (by ${actor.name}; recorded by ${String(doc.get('createdBy'))})\n`);
    io.stdout(view?.vouches ? `it vouches from the next event on\n` : `but it does not vouch: ${view?.why ?? 'unreadable'}\n`);
    if (typeof doc.get('importedFrom') === 'string') {
      io.stderr(
        `${BIN}: note: imported from tutorial document ${String(doc.get('importedFrom'))}, typed by an unknown author: check its values against a reference VM\n`,
      );
    }
  });
}

async function revoke({ values, positionals }: ParsedOptions, io: Io): Promise<void> {
  const id = oneId(positionals, 'revoke');
  const reason = textOption(values, 'reason');
  if (reason === undefined) throw new UsageError('revoke needs --reason: why these measurements are no longer trusted');
  const t = targetOf(values, io);
  const actor = await actorOf(values, io, t, 'revoke a baseline of');
  await withBaselines(io, t, 'revoke a baseline of', async (db) => {
    const doc = await findBaseline(db, t, id);
    const parsed = measurementsFromDocument(doc.data() ?? {});
    const revokedAt = new Date().toISOString();
    const revocation = { state: 'revoked' as const, revokedBy: actor.name, revokedAt, revokeReason: reason };
    // Every document holding these values, and the one under their fingerprint (created if
    // missing, as a marker): in one transaction, so the revocation is whole or nothing.
    const outcome = await db.runTransaction(async (tx) => {
      // Every read before any write, as transactions require.
      const same = parsed.ok ? await sameMeasurementDocuments(db, t.collection, parsed.measurements, tx) : [];
      const targets = same.some((d) => d.id === doc.id) ? same : [doc, ...same];
      const markerRef = parsed.ok ? db.collection(t.collection).doc(baselineDocumentId(parsed.measurements)) : undefined;
      const current = await tx.getAll(...targets.map((d) => d.ref), ...(markerRef ? [markerRef] : []));
      const marker = markerRef ? current.pop() : undefined;
      const revoked: string[] = [];
      const already: { path: string; by: string; at: string; reason: string }[] = [];
      current.forEach((snapshot, i) => {
        const path = pathOf(t, targets[i]!.id);
        if (!snapshot.exists) return;
        if (snapshot.get('state') === 'revoked') {
          already.push({
            path,
            by: String(snapshot.get('revokedBy') ?? 'an unknown principal'),
            at: String(snapshot.get('revokedAt') ?? 'an unknown time'),
            reason: typeof snapshot.get('revokeReason') === 'string' ? `"${String(snapshot.get('revokeReason'))}"` : 'no reason recorded',
          });
        } else {
          tx.update(snapshot.ref, revocation);
          revoked.push(`revoked ${path}`);
        }
      });
      if (parsed.ok && markerRef && marker && !marker.exists) {
        const created = baselineDocument(parsed.measurements, {
          ...revocation,
          description: `revocation of the measurements of ${doc.id}`,
          createdVia: 'revoke',
          createdBy: actor.name,
          createdAt: revokedAt,
        });
        tx.create(markerRef, created.data);
        revoked.push(
          `revoked ${pathOf(t, markerRef.id)} (created: the fingerprint of these measurements, so they can never be recorded again)`,
        );
      }
      return { revoked, already };
    });
    // One line per earlier revocation (the documents it covered, by whom, when, why), printed as recorded.
    const earlier = new Map<string, string[]>();
    for (const a of outcome.already) {
      const key = `by ${printable(a.by)} at ${printable(a.at)} (reason: ${printable(a.reason)})`;
      earlier.set(key, [...(earlier.get(key) ?? []), a.path]);
    }
    const alreadyLines = [...earlier].map(
      ([how, paths]) => `${paths.join(', ')} ${paths.length === 1 ? 'was' : 'were'} already revoked ${how}`,
    );
    if (outcome.revoked.length === 0) {
      // Exit 0: what was asked for is the case. Nothing is written, so the new reason is not kept anywhere.
      return io.stdout(
        `${alreadyLines.join('; ')}: nothing was written, and the new reason "${reason}" was not recorded; these measurements match nothing already\n`,
      );
    }
    for (const line of [...outcome.revoked, ...alreadyLines]) io.stdout(`${line}\n`);
    io.stdout(`by ${actor.name}: these measurements match nothing from the next event on\n`);
  });
}

async function importLegacy({ values, positionals }: ParsedOptions, io: Io): Promise<void> {
  if (positionals.length > 0) throw new UsageError(`import-legacy takes no arguments besides options, got '${positionals[0]}'`);
  const t = targetOf(values, io);
  const dryRun = values['dry-run'] === true;
  const actor: Actor = dryRun
    ? { name: textOption(values, 'actor') ?? localUser(), from: 'local' }
    : await actorOf(values, io, t, 'import the tutorial documents of');
  const deleteOriginals = values['delete-originals'] === true;
  let unusable = 0;
  await withBaselines(
    io,
    t,
    'import the tutorial documents of',
    async (db) => {
      const approval: BaselineApproval = await approvalOf(db, t.collection);
      const snapshot = await db.collection(t.collection).get();
      // Documents grouped by the values they hold: one copy per measurement set, whose state
      // honours every original (a revocation anywhere carries over).
      const groups = new Map<string, { measurements: readonly PcrMeasurement[]; docs: QueryDocumentSnapshot[] }>();
      for (const doc of snapshot.docs) {
        const data = doc.data();
        const parsed = measurementsFromDocument(data);
        const state = data.state ?? 'active';
        if (!parsed.ok || !['active', 'proposed', 'revoked'].includes(state)) {
          if (state === 'revoked') continue; // withdrawn already: nothing to import
          unusable++;
          const why = !parsed.ok ? `its PCR fields are malformed (${parsed.detail})` : `its state ${JSON.stringify(state)} is unknown`;
          io.stderr(`${BIN}: skipped ${pathOf(t, doc.id)}: ${why}; fix, revoke or delete it by hand\n`);
          continue;
        }
        const id = baselineDocumentId(parsed.measurements);
        const group = groups.get(id) ?? { measurements: parsed.measurements, docs: [] };
        group.docs.push(doc);
        groups.set(id, group);
      }
      const counts = { imported: 0, present: 0, deleted: 0 };
      let legacy = 0;
      for (const [id, group] of groups) {
        const originals = group.docs.filter((d) => d.id !== id);
        if (originals.length === 0) continue; // only the tool's own document
        legacy += originals.length;
        const revoked = group.docs.find((d) => d.get('state') === 'revoked');
        const first = originals[0]!;
        const note = originals.map((d) => d.get('description')).find((d): d is string => typeof d === 'string');
        const expiries = originals.map((d) => d.get('expiresAt')).filter((e) => e !== undefined && e !== null);
        const state = revoked
          ? 'revoked'
          : approval === 'two-person' || originals.some((d) => d.get('state') === 'proposed')
            ? 'proposed'
            : 'active';
        const doc = baselineDocument(group.measurements, {
          state,
          description: note ?? `imported from tutorial document ${first.id}`,
          ...(typeof first.get('source') === 'string' && { source: String(first.get('source')) }),
          createdVia: 'import-legacy',
          importedFrom: originals.map((d) => d.id).join(','),
          createdBy: actor.name,
          createdAt: new Date().toISOString(),
          ...(revoked && {
            revokedBy: String(revoked.get('revokedBy') ?? actor.name),
            revokedAt: String(revoked.get('revokedAt') ?? new Date().toISOString()),
            revokeReason: String(revoked.get('revokeReason') ?? `revoked in ${revoked.id}`),
          }),
        });
        const fields = doc.data as Record<string, unknown>;
        // The earliest expiry of the originals, as it is (text or a Firestore timestamp).
        if (expiries.length > 0) fields.expiresAt = expiries.sort((a, b) => (expiryMillis(a) ?? 0) - (expiryMillis(b) ?? 0))[0];
        const names = originals.map((d) => pathOf(t, d.id)).join(', ');
        const copy = db.collection(t.collection).doc(id);
        if (dryRun) {
          const existing = group.docs.find((d) => d.id === id);
          io.stdout(
            `${existing ? `present as ${pathOf(t, id)} (${String(existing.get('state') ?? 'active')})` : `would import ${names} → ${pathOf(t, id)} (${state})`}` +
              `${deleteOriginals ? '; would delete the original' + (originals.length > 1 ? 's' : '') : ''}\n`,
          );
          continue;
        }
        const outcome = await db.runTransaction(async (tx) => {
          const existing = await tx.get(copy);
          if (!existing.exists) tx.create(copy, fields);
          // A revoked original is deleted only when the copy holds the revocation too.
          const copyRevoked = existing.exists ? existing.get('state') === 'revoked' : state === 'revoked';
          if (deleteOriginals) for (const d of originals) if (d.get('state') !== 'revoked' || copyRevoked) tx.delete(d.ref);
          return existing.exists ? ('present' as const) : ('imported' as const);
        });
        counts[outcome]++;
        if (deleteOriginals) counts.deleted += originals.length;
        io.stdout(
          `${outcome === 'imported' ? 'imported' : 'already imported'} ${names} → ${pathOf(t, id)}` +
            `${outcome === 'imported' ? ` (${state})` : ''}${deleteOriginals ? `; original${originals.length > 1 ? 's' : ''} deleted` : ''}\n`,
        );
      }
      if (legacy === 0 && unusable === 0) return io.stdout(`no tutorial-format documents in ${whereOf(t)}: nothing to import\n`);
      if (!dryRun) {
        io.stdout(
          `${counts.imported} imported, ${counts.present} already present${deleteOriginals ? `, ${counts.deleted} originals deleted` : ''}` +
            `${unusable ? `, ${unusable} unusable` : ''} in ${whereOf(t)}\n`,
        );
        if (counts.imported > 0 && approval === 'two-person')
          io.stdout(`the imported baselines are proposed: a second principal approves each with '${BIN} approve <id>'\n`);
      }
    },
    dryRun ? 'read' : 'write',
  );
  if (unusable > 0) throw new CliError(`${unusable} document(s) could not be imported (named above)`);
}

/** The tool's commands, by name. */
const COMMANDS = {
  capture: { flags: COMMAND_FLAGS.capture, usage: CAPTURE_USAGE, run: capture },
  add: { flags: COMMAND_FLAGS.add, usage: ADD_USAGE, run: add },
  list: { flags: COMMAND_FLAGS.list, usage: LIST_USAGE, run: list },
  show: { flags: COMMAND_FLAGS.show, usage: SHOW_USAGE, run: show },
  approve: { flags: COMMAND_FLAGS.approve, usage: APPROVE_USAGE, run: approve },
  revoke: { flags: COMMAND_FLAGS.revoke, usage: REVOKE_USAGE, run: revoke },
  'import-legacy': { flags: COMMAND_FLAGS['import-legacy'], usage: IMPORT_USAGE, run: importLegacy },
  decisions: { flags: DECISIONS_FLAGS, usage: DECISIONS_USAGE, run: decisions },
} satisfies Record<string, Command>;

/** Runs the tool; resolves to the process exit code. `now` is the clock, for tests. */
export function run(argv: string[], io: Io, now: () => number = Date.now): Promise<number> {
  return runTool({ bin: BIN, usage: TOP_USAGE, commands: COMMANDS }, argv, io, now);
}

if (require.main === module) runAsCommand(BIN, run);
