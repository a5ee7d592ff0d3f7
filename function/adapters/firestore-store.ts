import { BaselineApproval } from '../contract';
import type { Firestore, Query } from '@google-cloud/firestore';
import { baselineStanding, measurementsFromDocument } from '../core/baseline';
import { PcrMeasurement, baselineDocumentId, pcrName, sameMeasurements, sameValues } from '../core/measurements';
import type { BaselineStore, BaselineStoreResult, Logger } from '../core/ports';
import { BaselineIndex } from './baseline-index';
import { LINE_FIELDS as F } from '../contract';

/**
 * Most tutorial-format documents read per lookup. Only documents whose PCR values equal the
 * event's are returned by the query, so more than one means duplicates or supersets.
 */
const MAX_QUERY_CANDIDATES = 10;

/**
 * Known-good baselines in Firestore. Only active, unexpired (and, under the two-person rule,
 * approved) documents vouch for measurements ({@link baselineStanding}); a revoked document
 * vetoes its measurements, whatever other document holds them. A lookup is one equality query
 * on the reported PCR values, which finds documents in either format (the tool's, under their
 * fingerprint id, and the tutorial's, under any id): one read billed when nothing matches, never
 * a collection scan. A full page of {@link MAX_QUERY_CANDIDATES} fails closed (a revoked document
 * could be behind it). With `listen`, a warm instance's {@link BaselineIndex} answers instead:
 * nothing to read for values no document holds; any document that may vouch is read afresh.
 */
export class FirestoreBaselineStore implements BaselineStore {
  private readonly approval: BaselineApproval;
  private readonly now: () => number;
  private readonly listen: boolean;
  /** The listener-kept index, once the second lookup started it (with `listen`). */
  index: BaselineIndex | undefined;
  private lookups = 0;

  constructor(
    private readonly db: () => Promise<Firestore>,
    private readonly collection: string,
    private readonly logger: Logger,
    options: {
      readonly approval?: BaselineApproval;
      readonly now?: () => number;
      /** Keep a {@link BaselineIndex}: a warm instance then reads nothing on a miss. */
      readonly listen?: boolean;
    } = {},
  ) {
    this.approval = options.approval ?? 'none';
    this.now = options.now ?? Date.now;
    this.listen = options.listen ?? false;
  }

  async findExactMatch(measurements: readonly PcrMeasurement[]): Promise<BaselineStoreResult> {
    const db = await this.db();
    const collection = db.collection(this.collection);
    const id = baselineDocumentId(measurements);
    if (this.listen && this.lookups++ > 0) {
      // From the second lookup on: loading the listener's gRPC stack (≈200 ms of CPU) would
      // otherwise delay a cold instance's first decision, which queries anyway.
      this.index ??= new BaselineIndex(collection, this.logger);
      this.index.start();
      const holding = this.index.documentsHolding(id);
      if (holding !== undefined) return this.fromIndex(db, id, holding, measurements);
    }
    // Equality filters on map subfields are served by the automatic single-field indexes
    // (Firestore merges them), so this needs no composite index.
    let query: Query = collection;
    for (const m of measurements) query = query.where(`${pcrName(m.pcr)}.value`, '==', m.value);
    const snapshot = await query.limit(MAX_QUERY_CANDIDATES).get();
    const reads = Math.max(1, snapshot.size);
    if (snapshot.size === MAX_QUERY_CANDIDATES) return this.tooMany(id, reads);
    return this.verdict(id, snapshot.docs, measurements, reads);
  }

  /**
   * The answer of the documents holding the values: the tool's own document first, then the
   * others by id (the same answer whatever order they were read in); a revoked one vetoes them
   * all, else the first that vouches matches.
   */
  private verdict(
    id: string,
    docs: readonly { readonly id: string; data(): Record<string, unknown> | undefined }[],
    measurements: readonly PcrMeasurement[],
    reads: number,
  ): BaselineStoreResult {
    const ordered = [...docs].sort((a, b) => (a.id === id ? -1 : b.id === id ? 1 : a.id.localeCompare(b.id)));
    let vouching: string | undefined;
    for (const doc of ordered) {
      const verdict = this.judge(doc.id, doc.data() ?? {}, measurements);
      // A revocation withdraws the measurements themselves: no other document may vouch for them.
      if (verdict === 'revoked') return { matched: false, reads };
      if (verdict === 'vouches') vouching ??= doc.id;
    }
    return vouching === undefined ? { matched: false, reads } : { matched: true, baselineId: vouching, reads };
  }

  /**
   * A lookup the index answers: nothing to read when no document holds the values; otherwise
   * those documents and the one under the values' fingerprint, read afresh in one call, so that a
   * revocation (which `integrity-baselines revoke` always writes to the fingerprint document)
   * holds whatever the listener has seen.
   */
  private async fromIndex(
    db: Firestore,
    id: string,
    holding: readonly string[],
    measurements: readonly PcrMeasurement[],
  ): Promise<BaselineStoreResult> {
    if (holding.length === 0) return { matched: false, reads: 0 };
    if (holding.length >= MAX_QUERY_CANDIDATES) return this.tooMany(id, holding.length);
    const ids = [id, ...holding.filter((h) => h !== id)];
    const found = (await db.getAll(...ids.map((d) => db.collection(this.collection).doc(d)))).filter((d) => d.exists);
    return this.verdict(id, found, measurements, Math.max(1, found.length));
  }

  private tooMany(id: string, reads: number): BaselineStoreResult {
    // A full page may hide a revoked document behind it: fail closed rather than vouch.
    this.logger.log(
      'WARNING',
      `${MAX_QUERY_CANDIDATES} or more documents of ${this.collection} hold these PCR values; none is trusted until they are consolidated (integrity-baselines import-legacy --delete-originals, or delete duplicates)`,
      { [F.baselineId]: id, [F.detail]: 'too-many-candidates' },
    );
    return { matched: false, reads };
  }

  /**
   * What a document says of these measurements: it `vouches` for them, it holds them `revoked`
   * (which vetoes every other document holding them), or neither (`other`: different
   * measurements, malformed, proposed, expired or unapproved).
   */
  private judge(id: string, data: Record<string, unknown>, measurements: readonly PcrMeasurement[]): 'vouches' | 'revoked' | 'other' {
    const parsed = measurementsFromDocument(data);
    if (!parsed.ok) {
      this.logger.log('WARNING', `Baseline document ${this.collection}/${id} is malformed and never matches: ${parsed.detail}`, {
        [F.baselineId]: id,
        [F.detail]: parsed.detail,
      });
      return 'other';
    }
    if (!sameValues(measurements, parsed.measurements)) return 'other';
    // Read on every lookup, never cached: a revocation holds from the next event on.
    const standing = baselineStanding(data, this.now(), this.approval);
    if (!standing.usable) {
      this.logger.log('NOTICE', `Baseline ${this.collection}/${id} holds these measurements but does not vouch for them: ${standing.why}`, {
        [F.baselineId]: id,
        [F.baselineRefused]: standing.why,
      });
      return data.state === 'revoked' ? 'revoked' : 'other';
    }
    // A match for relearning also needs the same hash algorithm wherever both name one.
    return sameMeasurements(measurements, parsed.measurements) ? 'vouches' : 'other';
  }
}
