import { BASELINE_POLICY_COLLECTION, BaselineApproval } from '../../function/contract';
import type { DocumentSnapshot, Firestore, Query, QueryDocumentSnapshot, Transaction } from '@google-cloud/firestore';
import { measurementsFromDocument } from '../../function/core/baseline';
import { PcrMeasurement, pcrName, sameValues } from '../../function/core/measurements';
import { CliError, Io } from '../common';
import { FirestoreTarget, onEmulator, withFirestore } from '../firestore';

/** Where the baselines are: the project, database and collection, and the deadline of each call. */
export interface BaselineTarget extends FirestoreTarget {
  readonly collection: string;
}

/** `db/collection/id`: how messages name a baseline. */
export function pathOf(t: Pick<BaselineTarget, 'database' | 'collection'>, id: string): string {
  return `${t.database}/${t.collection}/${id}`;
}

/** `db/collection in project P (on the emulator at H)`: how messages name the collection. */
export function whereOf(t: BaselineTarget): string {
  return `${t.database}/${t.collection} in project ${t.project}${onEmulator(t)}`;
}

/** Shortest id prefix `show`, `approve` and `revoke` accept for a `sha256-` id. */
export const MIN_ID_PREFIX = 'sha256-'.length + 8;

/**
 * Most documents holding the same measurements the tool handles at once (revoke writes them in
 * one transaction, within Firestore's 500 writes).
 */
const MAX_SAME_MEASUREMENTS = 400;

/**
 * Runs `work` against the baseline collection, within the deadline, and closes the client.
 * Firestore errors become sentences naming the collection and what to do (see `withFirestore`).
 */
export function withBaselines<T>(
  io: Io,
  t: BaselineTarget,
  what: string,
  work: (db: Firestore) => Promise<T>,
  access: 'read' | 'write' = 'write',
): Promise<T> {
  return withFirestore(io, t, `${what} ${whereOf(t)}`, access, work);
}

/**
 * The approval rule of a collection, as the construct's policy documents state it: `two-person`
 * when any responder using this collection has `requireBaselineApproval`.
 */
export async function approvalOf(db: Firestore, collection: string): Promise<BaselineApproval> {
  const policies = await db.collection(BASELINE_POLICY_COLLECTION).where('baselineCollection', '==', collection).get();
  return policies.docs.some((d) => d.get('requireApproval') === true) ? 'two-person' : 'none';
}

/**
 * The document an id names: the id itself, or for `sha256-…` ids a unique prefix of at least
 * {@link MIN_ID_PREFIX} characters (as `list` prints them), found with a range on the document id.
 */
export async function findBaseline(db: Firestore, t: BaselineTarget, idOrPrefix: string): Promise<DocumentSnapshot> {
  const collection = db.collection(t.collection);
  const exact = await collection.doc(idOrPrefix).get();
  if (exact.exists) return exact;
  const prefix = idOrPrefix.replace(/…$/, '');
  if (/^sha256-[0-9a-f]+$/.test(prefix) && prefix.length >= MIN_ID_PREFIX) {
    const { FieldPath } = await import('@google-cloud/firestore');
    const found = await collection
      .where(FieldPath.documentId(), '>=', prefix)
      .where(FieldPath.documentId(), '<', `${prefix}g`)
      .limit(2)
      .get();
    if (found.size === 1) return found.docs[0]!;
    if (found.size > 1) throw new CliError(`${idOrPrefix} names more than one baseline in ${whereOf(t)}; give more of the id`);
  }
  throw new CliError(`no baseline ${pathOf(t, idOrPrefix)} in project ${t.project}; 'integrity-baselines list' shows the ids`);
}

/**
 * Every document of the collection holding exactly these PCR values, whatever its id and
 * whatever hash algorithm it names: the handler's equality query, then an exact comparison.
 * Read in `tx` when given. Refuses to go on when there are more than it can handle.
 */
export async function sameMeasurementDocuments(
  db: Firestore,
  collection: string,
  measurements: readonly PcrMeasurement[],
  tx?: Transaction,
): Promise<QueryDocumentSnapshot[]> {
  let query: Query = db.collection(collection);
  for (const m of measurements) query = query.where(`${pcrName(m.pcr)}.value`, '==', m.value);
  query = query.limit(MAX_SAME_MEASUREMENTS);
  const snapshot = tx ? await tx.get(query) : await query.get();
  if (snapshot.size === MAX_SAME_MEASUREMENTS) {
    throw new CliError(`${MAX_SAME_MEASUREMENTS} or more documents of ${collection} hold these PCR values: delete the duplicates first`);
  }
  return snapshot.docs.filter((d) => {
    const parsed = measurementsFromDocument(d.data());
    return parsed.ok && sameValues(measurements, parsed.measurements);
  });
}
