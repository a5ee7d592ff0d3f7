import { readFileSync } from 'node:fs';
import type { DocumentSnapshot, Firestore, Transaction } from '@google-cloud/firestore';
import {
  BaselineApproval,
  BaselineFields,
  DEFAULT_BASELINE_COLLECTION,
  baselineDocument,
  expiryMillis,
  measurementsFromDocument,
  samePrincipal,
} from '../function/baseline';
import { COLLECTION_ID, DATABASE_ID, DEFAULT_NAME_PREFIX, PROJECT_ID, dedicatedDatabaseId } from '../function/contract';
import { PcrMeasurement, baselineDocumentId } from '../function/measurements';
import { IntegrityReport, parseMeasurements, parseMessage } from '../function/parse';
import { newestLateBootEntry } from './baselines/cloud-logging';
import { Actor, localUser, resolveActor } from './baselines/principal';
import { SHORT_ID, jsonView, pcrList, showText, table, viewOf } from './baselines/records';
import { BaselineTarget, approvalOf, findBaseline, pathOf, sameMeasurementDocuments, whereOf, withBaselines } from './baselines/repository';
import { CliError, Io, OptionValues, UsageError, describeError, dispatch, parseOptions, runAsCommand, timeoutSeconds } from './common';

export { CliError, UsageError, describeError } from './common';
export type { Io } from './common';

/** What the tool is called on the command line. */
export const BIN = 'integrity-baselines';

/** Database the example stack creates: what `--database` defaults to. */
const DEFAULT_DATABASE = dedicatedDatabaseId(DEFAULT_NAME_PREFIX);

const LATE_BOOT_QUERY = `gcloud logging read 'logName:"shielded_vm_integrity" AND jsonPayload.lateBootReportEvent:*' --limit=1 --format=json`;

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
  approve <id>    approve a proposed baseline (two-person rule: not its own creator)
  revoke <id>     withdraw trust at once; kept for audit, never matched again
  import-legacy   copy tutorial-format documents into this tool's format

Run '${BIN} <command> --help' for a command's options.
`;

const TARGET_OPTIONS = `  --project P           project of the database (default: $GOOGLE_CLOUD_PROJECT)
  --database D          Firestore database id (default: ${DEFAULT_DATABASE}, the example
                        stack's; pass '<namePrefix>-baselines' or '(default)')
  --collection C        collection (default: ${DEFAULT_BASELINE_COLLECTION})
  --timeout SECONDS     give up when Firestore has not answered by then (default: 60)
  -h, --help            show this help`;

const ACTOR_OPTION = `  --actor NAME          who to record (default: the principal of your credentials; on the
                        emulator, your user and host name)`;

const FOOTER = `Uses Application Default Credentials (gcloud auth application-default login), or the
emulator named by FIRESTORE_EMULATOR_HOST. Exit codes: 0 done, 1 failed, 2 usage error.
`;

const NEW_BASELINE_OPTIONS = `  --note TEXT           why these measurements are trusted (stored as 'description')
  --expires-at TIME     RFC 3339 time (e.g. 2027-03-31T00:00:00Z) from which it matches nothing
  --propose             record it as proposed (matches nothing until approved), even where
                        the two-person rule does not require it
  --dry-run             print the document instead of writing it
${ACTOR_OPTION}`;

const CAPTURE_USAGE = `usage: ${BIN} capture <entries.json | -> [options]
       ${BIN} capture --instance NAME|ID --zone ZONE [--vm-project P] [options]

Records the late-boot measurements of a reference VM (a canary you have checked) as a
known-good baseline, with where they came from: the VM, its id, the boot, the report's time.

  <entries.json>        a LogEntry, or the JSON array printed by
                          ${LATE_BOOT_QUERY}
                        ('-' reads standard input). The newest late-boot entry is used.
  --instance NAME|ID    read the VM's newest late-boot report from Cloud Logging instead
  --zone ZONE           the VM's zone (with --instance)
  --vm-project P        the VM's project (with --instance; default: --project)

A report that passed its policy evaluation is refused unless --force: its measurements are
the VM's current policy already, which is rarely what a rollout means to record.

options:
${NEW_BASELINE_OPTIONS}
  --force               record a report that passed its policy evaluation
  --description TEXT    the same as --note
${TARGET_OPTIONS}

With --instance, needs logging.logEntries.list on the VM's project (roles/logging.viewer);
LOGGING_API_ENDPOINT points it at another Logging API endpoint.
${FOOTER}`;

const ADD_USAGE = `usage: ${BIN} add --pcr PCR_n=VALUE [--pcr …] --note TEXT [options]

Records explicit PCR values as a known-good baseline (e.g. values computed from a signed
image). VALUE is the digest exactly as Shielded VM logs it (base64).

options:
  --pcr PCR_n=VALUE     one PCR (repeat: a Linux VM reports PCR_0, 4 and 7, Windows also 11, 13, 14)
  --hash-algo ALGO      hashAlgo of every PCR (e.g. SHA1, SHA256), as the reports name it
  --source TEXT         where the values come from (stored as 'source')
${NEW_BASELINE_OPTIONS}
${TARGET_OPTIONS}

${FOOTER}`;

const LIST_USAGE = `usage: ${BIN} list [options]

Lists the baselines of the collection: id (a unique prefix of it is enough for show, approve
and revoke), state as the responder sees it now (active, proposed, revoked, expired,
unapproved, invalid), PCRs, source VM and boot, who recorded it and when, expiry.

options:
  --state S             only baselines in this state
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
approver must be another principal than the one who recorded it (the two-person rule).

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

function lateBootEntry(text: string, where: string): Entry {
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
        `${early ? ': only early-boot reports, whose measurements the responder never relearns' : ''}; read one with ${LATE_BOOT_QUERY}`,
    );
  }
  // gcloud prints newest first; a hand-made file may not, so pick by timestamp when present.
  return late.reduce((a, b) => (String(b.timestamp ?? '') > String(a.timestamp ?? '') ? b : a));
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

const str = (v: OptionValues[string]): string | undefined => (typeof v === 'string' ? v : undefined);

const TARGET_FLAGS = {
  project: { type: 'string' },
  database: { type: 'string' },
  collection: { type: 'string' },
  timeout: { type: 'string' },
} as const;

/** The collection a command works on, from its options (the example stack's by default). */
function targetOf(values: OptionValues, io: Io, usage: string, fallbackProject?: string): BaselineTarget {
  const project = str(values.project) ?? (io.env.GOOGLE_CLOUD_PROJECT || undefined) ?? fallbackProject;
  if (project === undefined)
    throw new UsageError('--project is required (or set GOOGLE_CLOUD_PROJECT): the project of the baseline database', usage);
  if (!PROJECT_ID.test(project)) throw new UsageError(`--project must be a Google Cloud project id, got '${project}'`, usage);
  const database = str(values.database) ?? DEFAULT_DATABASE;
  const collection = str(values.collection) ?? DEFAULT_BASELINE_COLLECTION;
  if (!DATABASE_ID.test(database))
    throw new UsageError(`--database must be '(default)' or a database id like '${DEFAULT_DATABASE}', got '${database}'`, usage);
  if (!COLLECTION_ID.test(collection)) throw new UsageError(`--collection must be a top-level collection id, got '${collection}'`, usage);
  return {
    project,
    database,
    collection,
    seconds: timeoutSeconds(values.timeout, usage),
    ...(io.env.FIRESTORE_EMULATOR_HOST && { emulator: io.env.FIRESTORE_EMULATOR_HOST }),
  };
}

/** `--expires-at` as normalised RFC 3339 text; it must lie in the future. */
function expiresAtOf(values: OptionValues, usage: string, now: number): string | undefined {
  const raw = str(values['expires-at']);
  if (raw === undefined) return undefined;
  const ms = expiryMillis(raw);
  if (ms === undefined || !/(Z|[+-]\d{2}:\d{2})$/.test(raw)) {
    throw new UsageError(`--expires-at must be an RFC 3339 time with a zone, like 2027-03-31T00:00:00Z; got '${raw}'`, usage);
  }
  if (ms <= now) throw new UsageError(`--expires-at ${raw} is in the past: the baseline would never match`, usage);
  return new Date(ms).toISOString();
}

/** One word after an id: the argument of show, approve and revoke. */
function oneId(positionals: string[], command: string, usage: string): string {
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? `${command} needs the id of a baseline ('${BIN} list' shows them)`
        : `${command} takes one id, got ${positionals.length}`,
      usage,
    );
  }
  const id = positionals[0]!;
  if (id.includes('/')) throw new UsageError(`a baseline id has no '/', got '${id}'`, usage);
  return id;
}

interface NewBaseline {
  readonly measurements: readonly PcrMeasurement[];
  readonly fields: BaselineFields;
  /** What `--dry-run` and the confirmation call the measurements' origin. */
  readonly origin: string;
}

/**
 * Writes a new baseline (capture, add): proposed where the two-person rule or `--propose` asks,
 * active otherwise; never over an existing document with these measurements.
 */
async function record(values: OptionValues, io: Io, t: BaselineTarget, usage: string, nb: NewBaseline): Promise<void> {
  const now = Date.now();
  const expiresAt = expiresAtOf(values, usage, now);
  const note = str(values.note) ?? str(values.description);
  const documentOf = (state: 'active' | 'proposed', createdBy: string) =>
    baselineDocument(nb.measurements, {
      state,
      ...nb.fields,
      ...(note !== undefined && { description: note }),
      createdBy,
      createdAt: new Date(now).toISOString(),
      ...(expiresAt !== undefined && { expiresAt }),
    });
  if (values['dry-run'] === true) {
    // Offline: the state is decided when it is written, by the collection's approval policy.
    const doc = documentOf(values.propose === true ? 'proposed' : 'active', str(values.actor) ?? localUser());
    return io.stdout(`${JSON.stringify({ id: doc.id, path: pathOf(t, doc.id), data: doc.data }, null, 2)}\n`);
  }
  const actor = await resolveActor(str(values.actor), io.env);
  await withBaselines(io, t, 'write a baseline to', async (db) => {
    const approval = await approvalOf(db, t.collection);
    const state = approval === 'two-person' || values.propose === true ? 'proposed' : 'active';
    const doc = documentOf(state, actor.name);
    try {
      await db.collection(t.collection).doc(doc.id).create(doc.data);
    } catch (e) {
      if ((e as { code?: unknown }).code !== 6) throw e;
      const existing = await db.collection(t.collection).doc(doc.id).get();
      const was = existing.get('state') ?? 'active';
      throw new CliError(
        `a baseline with these measurements already exists: ${pathOf(t, doc.id)} (${String(was)})` +
          (was === 'revoked' ? '; revoked measurements are never trusted again' : `; '${BIN} show ${shortId(doc.id)}' prints it`),
      );
    }
    io.stdout(`created ${pathOf(t, doc.id)} (${state}, ${pcrList(nb.measurements)}, from ${nb.origin}, by ${actor.name})\n`);
    if (state === 'proposed') {
      io.stdout(
        `it matches nothing until another principal approves it:\n  ${BIN} approve ${shortId(doc.id)} --project ${t.project} --database ${t.database}\n`,
      );
    }
  });
}

/** The id as `list` prints it and `show`, `approve`, `revoke` take it: long enough to be unique in practice. */
function shortId(id: string): string {
  return id.startsWith('sha256-') ? id.slice(0, SHORT_ID) : id;
}

async function capture(args: string[], io: Io): Promise<void> {
  const { values, positionals } = parseOptions(
    args,
    {
      ...TARGET_FLAGS,
      'dry-run': { type: 'boolean' },
      force: { type: 'boolean' },
      propose: { type: 'boolean' },
      note: { type: 'string' },
      description: { type: 'string' },
      'expires-at': { type: 'string' },
      actor: { type: 'string' },
      instance: { type: 'string' },
      zone: { type: 'string' },
      'vm-project': { type: 'string' },
    },
    CAPTURE_USAGE,
  );
  if (values.help) return io.stdout(CAPTURE_USAGE);
  const instance = str(values.instance);
  let entry: Entry;
  let where: string;
  if (instance !== undefined) {
    if (positionals.length > 0) throw new UsageError('capture reads either a file or --instance, not both', CAPTURE_USAGE);
    const zone = str(values.zone);
    if (zone === undefined) throw new UsageError('--instance needs --zone: the zone of the VM', CAPTURE_USAGE);
    const vmProject = str(values['vm-project']) ?? str(values.project) ?? (io.env.GOOGLE_CLOUD_PROJECT || undefined);
    if (vmProject === undefined)
      throw new UsageError('--instance needs --vm-project or --project (or GOOGLE_CLOUD_PROJECT)', CAPTURE_USAGE);
    targetOf(values, io, CAPTURE_USAGE, vmProject); // usage errors before any call
    where = `Cloud Logging (projects/${vmProject}, zone ${zone}, instance ${instance})`;
    let found: Record<string, unknown> | undefined;
    try {
      found = await newestLateBootEntry({ vmProject, zone, instance }, io.env, timeoutSeconds(values.timeout, CAPTURE_USAGE));
    } catch (e) {
      throw e instanceof UsageError || e instanceof CliError ? e : new CliError(describeError(e));
    }
    if (found === undefined) {
      throw new CliError(
        `${where} holds no late-boot report of that VM; boot it (a late-boot report is written at every boot) ` +
          `and check the name or id, the zone and the project`,
      );
    }
    entry = found as Entry;
  } else {
    if (values.zone !== undefined || values['vm-project'] !== undefined) {
      throw new UsageError('--zone and --vm-project go with --instance', CAPTURE_USAGE);
    }
    if (positionals.length !== 1) {
      throw new UsageError(
        positionals.length === 0
          ? 'capture needs the file holding the log entry (or - for standard input), or --instance and --zone'
          : `capture takes one file, got ${positionals.length}`,
        CAPTURE_USAGE,
      );
    }
    const file = positionals[0]!;
    where = file === '-' ? 'standard input' : file;
    // Usage errors first: nothing is read when the options are wrong.
    targetOf(values, io, CAPTURE_USAGE, 'placeholder-project');
    expiresAtOf(values, CAPTURE_USAGE, Date.now());
    entry = lateBootEntry(readInput(file, io), where);
  }
  const report = lateBootReport(entry, where);
  const { instance: vm } = report;
  const name = vm.name ?? vm.id;
  if (report.passed && values.force !== true) {
    throw new CliError(
      `the late-boot report of ${name} (boot ${report.bootCounter ?? '?'}) in ${where} passed its policy evaluation: its measurements ` +
        `are the VM's current baseline already, which is usually not what a rollout means to record (capture the report that ` +
        `failed after the update). Pass --force to record it anyway`,
    );
  }
  let measurements = report.actualMeasurements;
  if (report.passed) {
    // The handler skips the measurements of a passed report; the tool reads them with the same parser.
    try {
      const late = entry.jsonPayload?.lateBootReportEvent as { actualMeasurements?: unknown } | undefined;
      measurements = parseMeasurements(late?.actualMeasurements, 'lateBootReportEvent.actualMeasurements');
    } catch (e) {
      throw new CliError(`the late-boot entry in ${where} is not usable: ${describeError(e)}`);
    }
    io.stderr(`${BIN}: warning: recording a report that passed its policy evaluation (--force)\n`);
  }
  const t = targetOf(values, io, CAPTURE_USAGE, vm.projectId);
  await record(values, io, t, CAPTURE_USAGE, {
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

async function add(args: string[], io: Io): Promise<void> {
  const { values, positionals } = parseOptions(
    args,
    {
      ...TARGET_FLAGS,
      pcr: { type: 'string', multiple: true },
      'hash-algo': { type: 'string' },
      source: { type: 'string' },
      'dry-run': { type: 'boolean' },
      propose: { type: 'boolean' },
      note: { type: 'string' },
      'expires-at': { type: 'string' },
      actor: { type: 'string' },
    },
    ADD_USAGE,
  );
  if (values.help) return io.stdout(ADD_USAGE);
  if (positionals.length > 0) throw new UsageError(`add takes no arguments besides options, got '${positionals[0]}'`, ADD_USAGE);
  const pcrs = (values.pcr as string[] | undefined) ?? [];
  if (pcrs.length === 0) throw new UsageError('add needs at least one --pcr PCR_n=VALUE', ADD_USAGE);
  const note = str(values.note);
  if (note === undefined || note.trim() === '') throw new UsageError('add needs --note: say where these values come from', ADD_USAGE);
  const algo = str(values['hash-algo']);
  const raw = pcrs.map((p) => {
    const eq = p.indexOf('=');
    if (eq < 1) throw new UsageError(`--pcr must be PCR_n=VALUE, got '${p}'`, ADD_USAGE);
    return { pcrNum: p.slice(0, eq), value: p.slice(eq + 1), ...(algo !== undefined && { hashAlgo: algo }) };
  });
  let measurements: PcrMeasurement[];
  try {
    measurements = parseMeasurements(raw, '--pcr');
  } catch (e) {
    throw new UsageError(`the PCR values are not usable: ${describeError(e)}`, ADD_USAGE);
  }
  const t = targetOf(values, io, ADD_USAGE);
  const source = str(values.source);
  await record(values, io, t, ADD_USAGE, {
    measurements,
    origin: source ?? 'explicit values',
    fields: { ...(source !== undefined && { source }), createdVia: 'add' },
  });
}

async function list(args: string[], io: Io): Promise<void> {
  const { values, positionals } = parseOptions(args, { ...TARGET_FLAGS, json: { type: 'boolean' }, state: { type: 'string' } }, LIST_USAGE);
  if (values.help) return io.stdout(LIST_USAGE);
  if (positionals.length > 0) throw new UsageError(`list takes no arguments besides options, got '${positionals[0]}'`, LIST_USAGE);
  const states = ['active', 'proposed', 'revoked', 'expired', 'unapproved', 'invalid'];
  const only = str(values.state);
  if (only !== undefined && !states.includes(only))
    throw new UsageError(`--state must be one of ${states.join(', ')}, got '${only}'`, LIST_USAGE);
  const t = targetOf(values, io, LIST_USAGE);
  await withBaselines(io, t, 'list the baselines of', async (db) => {
    const approval = await approvalOf(db, t.collection);
    const snapshot = await db.collection(t.collection).get();
    const now = Date.now();
    const views = snapshot.docs
      .map((d) => viewOf(d.id, d.data(), now, approval))
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
  });
}

async function show(args: string[], io: Io): Promise<void> {
  const { values, positionals } = parseOptions(args, { ...TARGET_FLAGS, json: { type: 'boolean' } }, SHOW_USAGE);
  if (values.help) return io.stdout(SHOW_USAGE);
  const id = oneId(positionals, 'show', SHOW_USAGE);
  const t = targetOf(values, io, SHOW_USAGE);
  await withBaselines(io, t, 'read a baseline of', async (db) => {
    const doc = await findBaseline(db, t, id);
    const view = viewOf(doc.id, doc.data() ?? {}, Date.now(), await approvalOf(db, t.collection));
    io.stdout(values.json ? `${JSON.stringify(jsonView(view), null, 2)}\n` : showText(view, pathOf(t, doc.id)));
  });
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

async function approve(args: string[], io: Io): Promise<void> {
  const { values, positionals } = parseOptions(args, { ...TARGET_FLAGS, actor: { type: 'string' } }, APPROVE_USAGE);
  if (values.help) return io.stdout(APPROVE_USAGE);
  const id = oneId(positionals, 'approve', APPROVE_USAGE);
  const t = targetOf(values, io, APPROVE_USAGE);
  const actor = await resolveActor(str(values.actor), io.env);
  await withBaselines(io, t, 'approve a baseline of', async (db) => {
    const doc = await findBaseline(db, t, id);
    const path = pathOf(t, doc.id);
    const approvedAt = new Date().toISOString();
    await transition(db, doc, (current) => {
      const state = current.state ?? 'active';
      if (state === 'revoked') throw new CliError(`${path} is revoked: revoked measurements are never trusted again`);
      if (state !== 'proposed' && state !== 'active') throw new CliError(`${path} has the unknown state ${JSON.stringify(state)}`);
      if (typeof current.approvedBy === 'string' && current.approvedBy !== '') {
        throw new CliError(`${path} is already approved, by ${current.approvedBy} at ${String(current.approvedAt)}`);
      }
      const creator = current.createdBy;
      if (typeof creator !== 'string' || creator === '') {
        throw new CliError(`${path} names no creator (a tutorial document): import it with '${BIN} import-legacy' and approve the copy`);
      }
      if (samePrincipal(creator, actor.name)) {
        throw new CliError(`${path} was recorded by ${creator}: the two-person rule needs another principal to approve it`);
      }
      return { state: 'active', approvedBy: actor.name, approvedAt };
    });
    io.stdout(
      `approved ${path} (active, by ${actor.name}; recorded by ${String(doc.get('createdBy'))}): it vouches from the next event on\n`,
    );
  });
}

async function revoke(args: string[], io: Io): Promise<void> {
  const { values, positionals } = parseOptions(
    args,
    { ...TARGET_FLAGS, actor: { type: 'string' }, reason: { type: 'string' } },
    REVOKE_USAGE,
  );
  if (values.help) return io.stdout(REVOKE_USAGE);
  const id = oneId(positionals, 'revoke', REVOKE_USAGE);
  const reason = str(values.reason);
  if (reason === undefined || reason.trim() === '')
    throw new UsageError('revoke needs --reason: why these measurements are no longer trusted', REVOKE_USAGE);
  const t = targetOf(values, io, REVOKE_USAGE);
  const actor = await resolveActor(str(values.actor), io.env);
  await withBaselines(io, t, 'revoke a baseline of', async (db) => {
    const doc = await findBaseline(db, t, id);
    const parsed = measurementsFromDocument(doc.data() ?? {});
    // Every document holding these measurements is revoked, so none of them still vouches.
    const targets = parsed.ok ? await sameMeasurementDocuments(db, t.collection, parsed.measurements) : [];
    const all: DocumentSnapshot[] = targets.some((d) => d.id === doc.id) ? targets : [doc, ...targets];
    const revokedAt = new Date().toISOString();
    for (const target of all) {
      const path = pathOf(t, target.id);
      const done = await transition(db, target, (current) =>
        current.state === 'revoked' ? undefined : { state: 'revoked', revokedBy: actor.name, revokedAt, revokeReason: reason },
      );
      io.stdout(
        done
          ? `revoked ${path} (by ${actor.name}): it matches nothing from the next event on\n`
          : `${path} was already revoked, by ${String(target.get('revokedBy') ?? 'unknown')} at ${String(target.get('revokedAt') ?? '?')}\n`,
      );
    }
  });
}

async function importLegacy(args: string[], io: Io): Promise<void> {
  const { values, positionals } = parseOptions(
    args,
    { ...TARGET_FLAGS, actor: { type: 'string' }, 'delete-originals': { type: 'boolean' }, 'dry-run': { type: 'boolean' } },
    IMPORT_USAGE,
  );
  if (values.help) return io.stdout(IMPORT_USAGE);
  if (positionals.length > 0)
    throw new UsageError(`import-legacy takes no arguments besides options, got '${positionals[0]}'`, IMPORT_USAGE);
  const t = targetOf(values, io, IMPORT_USAGE);
  const actor: Actor = await resolveActor(str(values.actor), io.env);
  const dryRun = values['dry-run'] === true;
  const deleteOriginals = values['delete-originals'] === true;
  let unusable = 0;
  await withBaselines(io, t, 'import the tutorial documents of', async (db) => {
    const approval: BaselineApproval = await approvalOf(db, t.collection);
    const snapshot = await db.collection(t.collection).get();
    const counts = { imported: 0, present: 0, deleted: 0 };
    for (const legacy of snapshot.docs) {
      const data = legacy.data();
      const parsed = measurementsFromDocument(data);
      if (!parsed.ok) {
        unusable++;
        io.stderr(`${BIN}: skipped ${pathOf(t, legacy.id)}: its PCR fields are malformed (${parsed.detail}); fix or delete it by hand\n`);
        continue;
      }
      const id = baselineDocumentId(parsed.measurements);
      if (id === legacy.id) continue; // already in this tool's format
      const wasRevoked = data.state === 'revoked';
      const doc = baselineDocument(parsed.measurements, {
        state: wasRevoked ? 'revoked' : approval === 'two-person' ? 'proposed' : data.state === 'proposed' ? 'proposed' : 'active',
        description: typeof data.description === 'string' ? data.description : `imported from tutorial document ${legacy.id}`,
        ...(typeof data.source === 'string' && { source: data.source }),
        ...(typeof data.expiresAt === 'string' && { expiresAt: data.expiresAt }),
        createdVia: 'import-legacy',
        importedFrom: legacy.id,
        createdBy: actor.name,
        createdAt: new Date().toISOString(),
        ...(wasRevoked && {
          revokedBy: String(data.revokedBy ?? actor.name),
          revokedAt: String(data.revokedAt ?? new Date().toISOString()),
          revokeReason: String(data.revokeReason ?? `revoked in tutorial document ${legacy.id}`),
        }),
      });
      const fields = doc.data as Record<string, unknown>;
      if (data.expiresAt !== undefined && typeof data.expiresAt !== 'string') fields.expiresAt = data.expiresAt; // a Firestore timestamp, as it is
      const copy = db.collection(t.collection).doc(id);
      if (dryRun) {
        const exists = (await copy.get()).exists;
        io.stdout(
          `${exists ? 'present' : 'would import'} ${pathOf(t, legacy.id)} → ${pathOf(t, id)} (${String(fields.state)})${deleteOriginals ? '; would delete the original' : ''}\n`,
        );
        continue;
      }
      const outcome = await db.runTransaction(async (tx) => {
        const existing = await tx.get(copy);
        if (!existing.exists) tx.create(copy, fields);
        if (deleteOriginals) tx.delete(legacy.ref);
        return existing.exists ? 'present' : 'imported';
      });
      counts[outcome]++;
      if (deleteOriginals) counts.deleted++;
      io.stdout(
        `${outcome === 'imported' ? 'imported' : 'already imported'} ${pathOf(t, legacy.id)} → ${pathOf(t, id)}` +
          `${outcome === 'imported' ? ` (${String(fields.state)})` : ''}${deleteOriginals ? '; original deleted' : ''}\n`,
      );
    }
    if (!dryRun) {
      io.stdout(
        `${counts.imported} imported, ${counts.present} already present${deleteOriginals ? `, ${counts.deleted} originals deleted` : ''}` +
          `${unusable ? `, ${unusable} unusable` : ''} in ${whereOf(t)}\n`,
      );
      if (counts.imported > 0 && approval === 'two-person')
        io.stdout(`the imported baselines are proposed: a second principal approves each with '${BIN} approve <id>'\n`);
    }
  });
  if (unusable > 0) throw new CliError(`${unusable} document(s) could not be imported (named above)`);
}

/** Runs the tool; resolves to the process exit code. */
export function run(argv: string[], io: Io): Promise<number> {
  return dispatch(
    BIN,
    TOP_USAGE,
    {
      capture: (rest) => capture(rest, io),
      add: (rest) => add(rest, io),
      list: (rest) => list(rest, io),
      show: (rest) => show(rest, io),
      approve: (rest) => approve(rest, io),
      revoke: (rest) => revoke(rest, io),
      'import-legacy': (rest) => importLegacy(rest, io),
    },
    argv,
    io,
  );
}

if (require.main === module) runAsCommand(run);
