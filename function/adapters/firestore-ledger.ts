import { isDeepStrictEqual } from 'node:util';
import type { DocumentReference, DocumentSnapshot, FieldValue, Firestore, Timestamp, WriteBatch } from '@google-cloud/firestore';
import { Code, errorCode } from '../core/api-errors';
import { beforeDeadline } from '../core/deadline';
import {
  ActionBudget,
  Applied,
  BUDGET_SHARDS,
  BudgetShard,
  BudgetView,
  applyBudget,
  budgetWindow,
  needsSlot,
  shardOrder,
} from '../core/budget';
import {
  BUDGET_INSTANCES_SUBCOLLECTION,
  BUDGET_SHARDS_SUBCOLLECTION,
  LEDGER_BUDGET_COLLECTION,
  LEDGER_DECISIONS_COLLECTION,
  LEDGER_INSTANCES_COLLECTION,
} from '../contract';
import {
  ContainmentSteps,
  ContainmentSummary,
  GroupAbandon,
  LedgerKey,
  LedgerRecord,
  ReconcileInput,
  compareBoots,
  instanceDocumentId,
  ledgerDocumentId,
  ledgerKey,
  lastStopOf,
  mergeSteps,
  stopToMark,
  reconcile,
} from '../core/ledger';
import type { DecisionLedger, LastStop, LedgerCompletion, LedgerStanding, Recorded } from '../core/ports';

/** The client library's values (it is loaded by then: the ledger's client is made of it). */
const firestoreValues = () => import('@google-cloud/firestore');

/** The newest boot recorded for an instance. */
interface InstanceHead {
  readonly projectId: string;
  readonly zone: string;
  readonly instanceId: string;
  readonly newestBoot: string;
  /** Document id of the newest record turned into a stop or suspend for the instance (see `stopToMark`). */
  readonly lastStop?: string;
  /** When that record was written. */
  readonly lastStopAt?: string;
  /** The instance's newest containment that completed, for the operator's list and release (ADR 0031). */
  readonly containment?: ContainmentSummary;
  readonly updatedAt: string;
}

/**
 * Longest wait for one Firestore call of the ledger, ms. Firestore answers in milliseconds; a
 * call it leaves unanswered (the database unreachable) would otherwise hold the event for the
 * client's own retries, up to the function's timeout (≈40 s for a read over gRPC, minutes for a
 * commit). The event fails instead and is redelivered; a commit that lands after its deadline is
 * harmless, every write being conditional on the state it was computed from.
 */
const LEDGER_CALL_TIMEOUT_MS = 10_000;

/** Attempts at recording one report before its event fails (and is redelivered). */
const RECORD_ATTEMPTS = 20;
/** Base of the random pause between attempts, ms: a lost race waits about this much times the attempt. */
const RETRY_PAUSE_MS = 15;
/**
 * Whether a write failed because another writer got there first: a create on a document that
 * exists, a write on a document changed since it was read, an aborted transaction.
 */
export function lostRace(e: unknown): boolean {
  const code = errorCode(e);
  return code === Code.ALREADY_EXISTS || code === Code.FAILED_PRECONDITION || code === Code.ABORTED;
}

/**
 * The decision ledger in its own Firestore database: one document per key in
 * `integrity_decisions`, one per instance in `integrity_instances`, and, per window of the
 * action budget in `integrity_budget`, up to `BUDGET_SHARDS` shard documents and one marker per
 * VM counted (ADR 0033).
 *
 * A report is recorded optimistically (ADR 0016): the key's record and the instance's newest
 * boot are read in one `batchGet` (with, for a stop or suspend, the VM's marker and home shard
 * in the window; every shard only when that one is full), the reconciliation is computed, and
 * every document it changes is written in one commit whose preconditions say "still as read":
 * `exists: false` for a document that was missing, its update time for one that was there. Two
 * function instances handling reports about the same boot, counting the same VM, or taking the
 * last slot of a shard, both write the same document, so one commit fails and that one reads
 * again and decides on what the other wrote. A document read but left unwritten (the newest
 * boot, unchanged; full shards) may change meanwhile only in ways that order this report before
 * that change. The update time of the record is returned as its `version`: completing the
 * action is then one conditional write.
 */
export class FirestoreDecisionLedger implements DecisionLedger {
  private readonly clock: () => Date;
  private readonly callTimeoutMs: number;

  constructor(
    private readonly db: () => Promise<Firestore>,
    options: { readonly clock?: () => Date; readonly callTimeoutMs?: number } = {},
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.callTimeoutMs = options.callTimeoutMs ?? LEDGER_CALL_TIMEOUT_MS;
  }

  /** `call`, or a DEADLINE_EXCEEDED error once it has taken longer than the ledger waits. */
  private within<T>(what: string, call: Promise<T>): Promise<T> {
    return beforeDeadline(call, this.callTimeoutMs, () =>
      Object.assign(new Error(`Firestore did not answer the decision ledger's ${what} within ${this.callTimeoutMs} ms`), {
        code: Code.DEADLINE_EXCEEDED,
      }),
    );
  }

  async record(input: Omit<ReconcileInput, 'existing' | 'newestBoot' | 'now'>, budget?: ActionBudget): Promise<Recorded> {
    const db = await this.db();
    for (let attempt = 1; ; attempt++) {
      try {
        // A retry starts the VM's shards at a random one: a race lost for a shard is not run again.
        return await this.recordOnce(db, input, budget, attempt === 1 ? 0 : Math.floor(Math.random() * BUDGET_SHARDS));
      } catch (e) {
        if (!lostRace(e) || attempt >= RECORD_ATTEMPTS) throw e;
        await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS * attempt * (0.5 + Math.random())));
      }
    }
  }

  private async recordOnce(
    db: Firestore,
    input: Omit<ReconcileInput, 'existing' | 'newestBoot' | 'now'>,
    budget: ActionBudget | undefined,
    rotation: number,
  ): Promise<Recorded> {
    const key = ledgerKey(input.report);
    const recordRef = db.collection(LEDGER_DECISIONS_COLLECTION).doc(ledgerDocumentId(key));
    const headRef = db.collection(LEDGER_INSTANCES_COLLECTION).doc(instanceDocumentId(key));
    const now = this.clock().toISOString();
    // A stop or suspend may take a slot of the action budget: the window's documents it would
    // write (the VM's marker and its home shard) are read with the record, in the same batchGet.
    const window =
      budget === undefined || budget.limit === 'unlimited'
        ? undefined
        : new WindowReads(db, key, budget.limit, budgetWindow(Date.parse(now), budget.windowSeconds).id, rotation);
    const early = window !== undefined && input.proposed.action === 'stop' ? window.first() : [];
    const [existing, head, ...windowDocs] = (await this.within('read of the record', db.getAll(recordRef, headRef, ...early))) as [
      DocumentSnapshot,
      DocumentSnapshot,
      ...DocumentSnapshot[],
    ];
    window?.keep(windowDocs);
    const reconciled = reconcile({
      ...input,
      ...(existing.exists && { existing: existing.data() as LedgerRecord }),
      ...(head.exists && { newestBoot: (head.data() as InstanceHead).newestBoot }),
      now,
    });
    let applied: Applied;
    if (window !== undefined && needsSlot(reconciled)) {
      // A conflict turned a relearn into a stop: the window was not read with the record.
      if (early.length === 0) window.keep(await this.within('read of the budget window', db.getAll(...window.first())));
      applied = applyBudget(reconciled, budget, window.view(), now);
      // The home shard is full: every shard in one batchGet, and nothing written unless one has room.
      if (applied.readAll) {
        window.keep(await this.within('read of the budget shards', db.getAll(...window.all())));
        applied = applyBudget(reconciled, budget, window.view(), now);
      }
    } else {
      applied = applyBudget(reconciled, budget, undefined, now);
    }
    const result = applied.result;
    const before = head.exists ? (head.data() as InstanceHead) : undefined;
    const marked = stopToMark(existing.exists ? (existing.data() as LedgerRecord) : undefined, result.record);
    const headChanges = before === undefined || before.newestBoot !== result.newestBoot || marked !== undefined;
    // A held report delivered again, with nothing new: nothing to write. It acts on nothing, so it
    // needs no commit to know its read was current; a window that is full only costs reads.
    if (
      result.budget?.status === 'exhausted' &&
      existing.exists &&
      !headChanges &&
      isDeepStrictEqual(existing.data(), stripUndefined(result.record))
    ) {
      return { ...result, version: versionOf(existing.updateTime!) };
    }
    const batch = db.batch();
    const { FieldValue } = await firestoreValues();
    if (window !== undefined && applied.claim !== undefined) {
      // The shard and the marker as read: a commit that lost the slot or the VM to another fails here.
      writeAsRead(batch, FieldValue, window.shard(applied.claim.index), stripUndefined(applied.claim.shard));
      writeAsRead(batch, FieldValue, window.marker(), {
        projectId: key.projectId,
        zone: key.zone,
        instanceId: key.instanceId,
        shard: applied.claim.index,
        countedAt: now,
      });
    }
    writeAsRead(batch, FieldValue, existing, stripUndefined(result.record));
    const lastStop = marked ?? before?.lastStop;
    const lastStopAt = marked !== undefined ? now : before?.lastStopAt;
    if (headChanges) {
      writeAsRead(
        batch,
        FieldValue,
        head,
        stripUndefined({
          projectId: key.projectId,
          zone: key.zone,
          instanceId: key.instanceId,
          newestBoot: result.newestBoot,
          lastStop,
          lastStopAt,
          // Written by a containment's completion and by the containment tool: carried over.
          containment: before?.containment,
          updatedAt: now,
        } satisfies InstanceHead),
      );
    }
    const written = await this.within('commit of the record', batch.commit());
    // The record's write is the one after the shard's and the marker's, when those were written.
    const recordWrite = written[applied.claim !== undefined ? 2 : 0]!;
    return { ...result, version: versionOf(recordWrite.writeTime) };
  }

  async standing(key: LedgerKey): Promise<LedgerStanding> {
    const db = await this.db();
    const [record, head] = (await this.within(
      'read of the record and the newest boot',
      db.getAll(
        db.collection(LEDGER_DECISIONS_COLLECTION).doc(ledgerDocumentId(key)),
        db.collection(LEDGER_INSTANCES_COLLECTION).doc(instanceDocumentId(key)),
      ),
    )) as [DocumentSnapshot, DocumentSnapshot];
    const { newestBoot, lastStop, lastStopAt } = head.exists ? (head.data() as InstanceHead) : ({} as Partial<InstanceHead>);
    let stop: LastStop | undefined;
    if (lastStop !== undefined && lastStopAt !== undefined) {
      // Read only for instances that ever had a stop decided (this key's own record is at hand).
      const doc =
        lastStop === ledgerDocumentId(key)
          ? record
          : await this.within('read of the last stop', db.collection(LEDGER_DECISIONS_COLLECTION).doc(lastStop).get());
      if (doc.exists) stop = lastStopOf(doc.data() as LedgerRecord, lastStopAt);
    }
    return {
      conflict: record.exists && (record.data() as LedgerRecord).conflict === true,
      ...(newestBoot !== undefined && { newestBoot }),
      ...(stop !== undefined && { lastStop: stop }),
    };
  }

  async noteBoot(key: LedgerKey): Promise<void> {
    const db = await this.db();
    const ref = db.collection(LEDGER_INSTANCES_COLLECTION).doc(instanceDocumentId(key));
    await this.within(
      'note of a boot',
      db.runTransaction(async (tx) => {
        const head = (await tx.get(ref)).data() as InstanceHead | undefined;
        if (head !== undefined && compareBoots(key.bootCounter, head.newestBoot) <= 0) return;
        const now = this.clock().toISOString();
        tx.set(ref, {
          ...head,
          projectId: key.projectId,
          zone: key.zone,
          instanceId: key.instanceId,
          newestBoot: key.bootCounter,
          updatedAt: now,
        });
      }),
    );
  }

  async renewRequest(key: LedgerKey, failedRequestId: string, nextRequestId: string): Promise<void> {
    const db = await this.db();
    const ref = db.collection(LEDGER_DECISIONS_COLLECTION).doc(ledgerDocumentId(key));
    await this.within(
      'renewal of a request',
      db.runTransaction(async (tx) => {
        const doc = await tx.get(ref);
        const record = doc.data() as LedgerRecord | undefined;
        if (!record || record.requestId !== failedRequestId || record.outcome !== 'pending') return;
        tx.update(ref, { requestId: nextRequestId, failedAttempts: (record.failedAttempts ?? 0) + 1 });
      }),
    );
  }

  async noteAbandon(key: LedgerKey, requestId: string, abandon: GroupAbandon): Promise<GroupAbandon> {
    const db = await this.db();
    const ref = db.collection(LEDGER_DECISIONS_COLLECTION).doc(ledgerDocumentId(key));
    return this.within(
      'note of an abandon',
      db.runTransaction(async (tx) => {
        const record = (await tx.get(ref)).data() as LedgerRecord | undefined;
        if (record?.groupAbandon !== undefined) return record.groupAbandon;
        if (record?.requestId === requestId) tx.update(ref, { groupAbandon: { ...abandon } });
        return abandon;
      }),
    );
  }

  async complete(key: LedgerKey, requestId: string, result: LedgerCompletion, version?: string): Promise<void> {
    const db = await this.db();
    const ref = db.collection(LEDGER_DECISIONS_COLLECTION).doc(ledgerDocumentId(key));
    const headRef = db.collection(LEDGER_INSTANCES_COLLECTION).doc(instanceDocumentId(key));
    const fields = stripUndefined({
      outcome: 'done',
      operation: result.operation?.name,
      operationStatus: result.status,
      decision: result.decision === undefined ? undefined : stripUndefined(result.decision),
      completedAt: this.clock().toISOString(),
    });
    if (version !== undefined && result.containment === undefined) {
      // Unchanged since this event recorded it, the record still holds `requestId`: one write.
      try {
        await this.within('completion of the record', ref.update(fields, { lastUpdateTime: await timestampOf(version) }));
        return;
      } catch (e) {
        // Written since (a conflicting report, a redelivery, an abandon noted): looked at below.
        if (!lostRace(e)) throw e;
      }
    }
    await this.within(
      'completion of the record',
      db.runTransaction(async (tx) => {
        const doc = await tx.get(ref);
        // A conflict recorded meanwhile replaced the action (and its request id) with a stop:
        // completing the earlier action must not mark that stop as done.
        if (!doc.exists || (doc.data() as LedgerRecord).requestId !== requestId) return;
        tx.update(ref, fields);
        // The instance's document exists: the record's first write put the stop's mark on it.
        // The summary replaces an earlier containment's whole (its release, its request), never merges into it.
        if (result.containment !== undefined) {
          tx.set(headRef, { containment: stripUndefined(result.containment) }, { mergeFields: ['containment'] });
        }
      }),
    );
  }

  async noteSteps(key: LedgerKey, requestId: string, steps: ContainmentSteps): Promise<ContainmentSteps> {
    const db = await this.db();
    const ref = db.collection(LEDGER_DECISIONS_COLLECTION).doc(ledgerDocumentId(key));
    return this.within(
      'note of a containment step',
      db.runTransaction(async (tx) => {
        const headRef = db.collection(LEDGER_INSTANCES_COLLECTION).doc(instanceDocumentId(key));
        const [recordDoc, headDoc] = (await tx.getAll(ref, headRef)) as [DocumentSnapshot, DocumentSnapshot];
        const record = recordDoc.data() as LedgerRecord | undefined;
        const recordedSteps = record?.steps ?? {};
        if (record === undefined || record.requestId !== requestId || record.decision.action !== 'stop') return recordedSteps;
        const merged = mergeSteps(recordedSteps, steps);
        tx.update(ref, { steps: merged });
        // A finding raised after the containment completed joins its summary.
        const summary = (headDoc.data() as InstanceHead | undefined)?.containment;
        if (merged.finding !== undefined && summary?.record === ledgerDocumentId(key) && summary.finding === undefined) {
          tx.update(headRef, { 'containment.finding': merged.finding.name });
        }
        return merged;
      }),
    );
  }

  async containmentOf(key: LedgerKey): Promise<ContainmentSummary | undefined> {
    const db = await this.db();
    const head = await this.within(
      'read of the containment',
      db.collection(LEDGER_INSTANCES_COLLECTION).doc(instanceDocumentId(key)).get(),
    );
    return head.exists ? (head.data() as InstanceHead).containment : undefined;
  }

  async noteFindingInactive(key: LedgerKey, finding: string, at: string): Promise<void> {
    const db = await this.db();
    const ref = db.collection(LEDGER_INSTANCES_COLLECTION).doc(instanceDocumentId(key));
    await this.within(
      'note of an inactive finding',
      db.runTransaction(async (tx) => {
        const head = (await tx.get(ref)).data() as InstanceHead | undefined;
        if (head?.containment?.finding !== finding || head.containment.findingInactiveAt !== undefined) return;
        tx.update(ref, { 'containment.findingInactiveAt': at });
      }),
    );
  }
}

/**
 * The documents of the action budget's current window that one report reads (ADR 0033): the
 * VM's marker (`instances/<vm>`), the VM's home shard, and, when that is full, every shard. Each
 * document is kept as last read, for the budget to decide on and for the commit's preconditions.
 */
class WindowReads {
  private readonly windowRef: DocumentReference;
  private readonly markerRef: DocumentReference;
  private readonly order: readonly number[];
  private readonly read = new Map<string, DocumentSnapshot>();

  constructor(
    db: Firestore,
    key: LedgerKey,
    limit: number,
    windowId: string,
    private readonly rotation: number,
  ) {
    this.windowRef = db.collection(LEDGER_BUDGET_COLLECTION).doc(windowId);
    this.markerRef = this.windowRef.collection(BUDGET_INSTANCES_SUBCOLLECTION).doc(instanceDocumentId(key));
    this.order = shardOrder(instanceDocumentId(key), limit, rotation);
  }

  private shardRef(index: number): DocumentReference {
    return this.windowRef.collection(BUDGET_SHARDS_SUBCOLLECTION).doc(String(index));
  }

  /** The marker and the home shard. */
  first(): DocumentReference[] {
    return [this.markerRef, this.shardRef(this.order[0]!)];
  }

  /** Every shard of the window, in the VM's order. */
  all(): DocumentReference[] {
    return this.order.map((i) => this.shardRef(i));
  }

  keep(docs: readonly DocumentSnapshot[]): void {
    for (const doc of docs) this.read.set(doc.ref.path, doc);
  }

  /** What the budget decides on: the shards read so far, and whether the VM was counted already. */
  view(): BudgetView {
    const shards = new Map<number, BudgetShard | undefined>();
    for (const index of this.order) {
      const doc = this.read.get(this.shardRef(index).path);
      if (doc !== undefined) shards.set(index, doc.exists ? (doc.data() as BudgetShard) : undefined);
    }
    return { shards, vmCounted: this.marker().exists, rotation: this.rotation };
  }

  marker(): DocumentSnapshot {
    return this.read.get(this.markerRef.path)!;
  }

  shard(index: number): DocumentSnapshot {
    return this.read.get(this.shardRef(index).path)!;
  }
}

/**
 * Queues a write of `data` as the whole of the document `read` was taken of, on condition that
 * it is still as read: created where it was missing, replaced (the fields it no longer has
 * deleted) where its update time is still the one read.
 */
function writeAsRead(batch: WriteBatch, fieldValue: typeof FieldValue, read: DocumentSnapshot, data: object): void {
  if (!read.exists) {
    batch.create(read.ref, data);
    return;
  }
  const gone = Object.keys(read.data() ?? {}).filter((field) => !(field in data));
  batch.update(
    read.ref,
    { ...data, ...Object.fromEntries(gone.map((field) => [field, fieldValue.delete()])) },
    { lastUpdateTime: read.updateTime! },
  );
}

/** A document's update time as an opaque version: `<seconds>.<nanoseconds>`. */
function versionOf(t: Timestamp): string {
  return `${t.seconds}.${String(t.nanoseconds).padStart(9, '0')}`;
}

/** The update time a version names. */
async function timestampOf(version: string): Promise<Timestamp> {
  const [seconds, nanos] = version.split('.');
  return new (await firestoreValues()).Timestamp(Number(seconds), Number(nanos));
}

/** Firestore refuses `undefined` field values; optional fields are simply left out. */
function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
