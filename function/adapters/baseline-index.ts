import type { CollectionReference, QuerySnapshot } from '@google-cloud/firestore';
import { measurementsFromDocument } from '../core/baseline';
import { baselineDocumentId } from '../core/measurements';
import type { Logger } from '../core/ports';
import { LINE_FIELDS as F } from '../contract';

/** Wait before listening again after the listener failed, ms. */
const RELISTEN_MS = 5_000;

/**
 * The index answers only while the instance is busy: when the previous lookup is older than
 * this, the lookup queries Firestore instead. Between requests Cloud Run may take the instance's
 * CPU away (request-based billing: cloud.google.com/run/docs/tips, "Background activity"), so
 * the listener may not have applied, or even received, what changed meanwhile.
 */
export const INDEX_IDLE_MS = 10_000;

/**
 * Which documents of the baseline collection hold which PCR values, kept current by a Firestore
 * listener: a warm instance answers "no document holds these values" without a read.
 *
 * It only ever narrows what is read, never decides a match: a document it names is read afresh
 * before it may vouch (see `FirestoreBaselineStore`), so a revocation written to an existing
 * document, or to the document under the values' fingerprint (which `integrity-baselines revoke`
 * always writes), holds from the next event whatever the listener has seen. Its one stale
 * answer is a miss for a document added since its last snapshot: fail-closed (the VM is treated
 * as not known good), typically for less than a second. Until its first snapshot, while it
 * listens again after an error, and for the first lookup after an idle spell, it answers
 * nothing and the store queries Firestore.
 */
export class BaselineIndex {
  /** Fingerprint document id of a set of values → ids of the documents holding them, and back. */
  private readonly idsByValues = new Map<string, Set<string>>();
  private readonly valuesById = new Map<string, string>();
  private current = false;
  private stop: (() => void) | undefined;
  private closed = false;

  private lastAskedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly collection: CollectionReference,
    private readonly logger: Logger,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Starts listening (once); the index answers from its first snapshot on. */
  start(): void {
    if (this.stop !== undefined || this.closed) return;
    this.stop = this.collection.onSnapshot(
      (snapshot) => this.apply(snapshot),
      (error) => {
        this.current = false;
        this.stop = undefined;
        this.logger.log(
          'WARNING',
          `Baseline listener on ${this.collection.id} failed; querying Firestore until it listens again: ${error.message}`,
          { [F.detail]: 'baseline-listener-failed' },
        );
        if (!this.closed) setTimeout(() => this.start(), RELISTEN_MS).unref();
      },
    );
  }

  /** Stops listening; the index keeps what it knew but answers nothing more. */
  close(): void {
    this.freeze();
    this.current = false;
  }

  /** Stops listening and keeps answering from what it knew: for tests that prove the stale case. */
  freeze(): void {
    this.closed = true;
    this.stop?.();
    this.stop = undefined;
  }

  /**
   * Ids of the documents holding exactly the PCR values whose fingerprint document id
   * (`baselineDocumentId`) is given (any state, any hash algorithm), or
   * undefined when the index cannot answer: no snapshot yet, listening again after an error, or
   * the first lookup after {@link INDEX_IDLE_MS} without one.
   */
  documentsHolding(fingerprintId: string): readonly string[] | undefined {
    const now = this.now();
    const busy = now - this.lastAskedAt < INDEX_IDLE_MS;
    this.lastAskedAt = now;
    if (!this.current || !busy) return undefined;
    return [...(this.idsByValues.get(fingerprintId) ?? [])];
  }

  private apply(snapshot: QuerySnapshot): void {
    for (const change of snapshot.docChanges()) {
      const id = change.doc.id;
      const before = this.valuesById.get(id);
      if (before !== undefined) {
        this.idsByValues.get(before)?.delete(id);
        if (this.idsByValues.get(before)?.size === 0) this.idsByValues.delete(before);
        this.valuesById.delete(id);
      }
      if (change.type === 'removed') continue;
      const parsed = measurementsFromDocument(change.doc.data());
      // A malformed document never matches: it is not indexed (the store warns when it reads one).
      if (!parsed.ok) continue;
      const values = baselineDocumentId(parsed.measurements);
      this.valuesById.set(id, values);
      const ids = this.idsByValues.get(values) ?? new Set<string>();
      ids.add(id);
      this.idsByValues.set(values, ids);
    }
    this.current = true;
  }
}
