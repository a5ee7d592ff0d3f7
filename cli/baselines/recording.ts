import { BaselineFields, baselineDocument } from '../../function/core/baseline';
import { Code, errorCode } from '../../function/core/api-errors';
import { DEFAULT_BASELINE_COLLECTION } from '../../function/contract';
import type { PcrMeasurement } from '../../function/core/measurements';
import { CliError, Flags, Io, OptionValues, UsageError, localUser, str, textOption, zonedTimeMillis } from '../common';
import { onEmulator } from '../firestore';
import type { Actor } from '../principal';
import { BASELINES_BIN as BIN } from './names';
import { ACTOR_OPTION, Place, actorOf, placeOf, required } from './options';
import { pcrList, shortId, viewOf } from './records';
import { BaselineTarget, approvalOf, pathOf, sameMeasurementDocuments, withBaselines } from './repository';

/*
 * What the two commands that record a new baseline (capture, add) share: their options, the
 * checks made before anything is read, and the write itself.
 */

/** The help lines of the options of a new baseline. */
export const NEW_BASELINE_OPTIONS = `  --note TEXT           why these measurements are trusted (stored as 'description')
  --expires-at TIME     RFC 3339 time (e.g. 2027-03-31T00:00:00Z) from which it matches nothing
  --propose             record it as proposed (matches nothing until approved), even where
                        the two-person rule does not require it
  --dry-run             print the document instead of writing it
${ACTOR_OPTION}`;

/** Options of the commands that record a new baseline. */
export const NEW_BASELINE_FLAGS = {
  note: { type: 'string' },
  'expires-at': { type: 'string' },
  propose: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  actor: { type: 'string' },
} as const satisfies Flags;

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

/** A baseline to record: its measurements, the fields that say where they come from, and how to name that. */
export interface NewBaseline {
  readonly measurements: readonly PcrMeasurement[];
  readonly fields: BaselineFields;
  /** What `--dry-run` and the confirmation call the measurements' origin. */
  readonly origin: string;
}

/** What {@link beforeRecording} found: where to write, and, unless it is a dry run, the project and who records it. */
export interface Checked {
  readonly place: Place;
  readonly target?: BaselineTarget;
  readonly actor?: Actor;
}

/**
 * What a command that records a baseline (capture, add) checks before it reads or asks
 * anything: its free text and expiry, the place, and, unless it is a dry run, the project (never
 * guessed: the VM's project is not where the baselines are) and who records it (the principal
 * of the credentials: without them nothing else is worth doing).
 */
export async function beforeRecording(values: OptionValues, io: Io, command: 'capture' | 'add'): Promise<Checked> {
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
export async function record(values: OptionValues, io: Io, checked: Checked, nb: NewBaseline): Promise<void> {
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
