import type { DocumentReference, Firestore } from '@google-cloud/firestore';
import { ActionBudget, BUDGET_INSTANCES_SUBCOLLECTION, BudgetCounter, applyBudget, budgetWindow, needsSlot } from '../budget';
import { LEDGER_BUDGET_COLLECTION, LEDGER_DECISIONS_COLLECTION, LEDGER_INSTANCES_COLLECTION } from '../contract';
import {
  GroupAbandon,
  LedgerKey,
  LedgerRecord,
  ReconcileInput,
  Reconciled,
  instanceDocumentId,
  ledgerDocumentId,
  ledgerKey,
  reconcile,
} from '../ledger';
import type { DecisionLedger, LedgerCompletion } from '../ports';

/** The newest boot recorded for an instance. */
interface InstanceHead {
  readonly projectId: string;
  readonly zone: string;
  readonly instanceId: string;
  readonly newestBoot: string;
  readonly updatedAt: string;
}

/**
 * The decision ledger in its own Firestore database: one document per key in
 * `integrity_decisions`, one per instance in `integrity_instances`, and one per window of the
 * action budget in `integrity_budget`. Each record is written in a transaction that reads the
 * key and the instance (and, for a stop or suspend to count, the window), so two function
 * instances handling reports about the same boot, or taking the budget's last slot, see each
 * other's writes.
 */
export class FirestoreDecisionLedger implements DecisionLedger {
  constructor(
    private readonly db: () => Promise<Firestore>,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async record(input: Omit<ReconcileInput, 'existing' | 'newestBoot' | 'now'>, budget?: ActionBudget): Promise<Reconciled> {
    const db = await this.db();
    const key = ledgerKey(input.report);
    const recordRef = db.collection(LEDGER_DECISIONS_COLLECTION).doc(ledgerDocumentId(key));
    const headRef = db.collection(LEDGER_INSTANCES_COLLECTION).doc(instanceDocumentId(key));
    return db.runTransaction(async (tx) => {
      const [existing, head] = await tx.getAll(recordRef, headRef);
      const now = this.clock().toISOString();
      const reconciled = reconcile({
        ...input,
        ...(existing?.exists && { existing: existing.data() as LedgerRecord }),
        ...(head?.exists && { newestBoot: (head.data() as InstanceHead).newestBoot }),
        now,
      });
      // The window's document is read only by an action that needs a slot (never by a relearn,
      // nor by a redelivery that holds one), and written only when a slot is taken: in the same
      // transaction as the record, so two instances cannot both take the last slot.
      let counterRef: DocumentReference | undefined;
      let markerRef: DocumentReference | undefined;
      let counter: BudgetCounter | undefined;
      let vmCounted = false;
      if (budget !== undefined && budget.limit !== 'unlimited' && needsSlot(reconciled)) {
        counterRef = db.collection(LEDGER_BUDGET_COLLECTION).doc(budgetWindow(Date.parse(now), budget.windowSeconds).id);
        markerRef = counterRef.collection(BUDGET_INSTANCES_SUBCOLLECTION).doc(instanceDocumentId(key));
        const [doc, marker] = await tx.getAll(counterRef, markerRef);
        counter = doc?.exists ? (doc.data() as BudgetCounter) : undefined;
        vmCounted = marker?.exists === true;
      }
      const applied = applyBudget(reconciled, budget, counter, now, vmCounted);
      const result = applied.result;
      if (counterRef !== undefined && applied.counter !== undefined) {
        tx.set(counterRef, stripUndefined(applied.counter));
        tx.set(markerRef!, { projectId: key.projectId, zone: key.zone, instanceId: key.instanceId, countedAt: now });
      }
      tx.set(recordRef, stripUndefined(result.record));
      if (!head?.exists || (head.data() as InstanceHead).newestBoot !== result.newestBoot) {
        tx.set(headRef, {
          projectId: key.projectId,
          zone: key.zone,
          instanceId: key.instanceId,
          newestBoot: result.newestBoot,
          updatedAt: now,
        } satisfies InstanceHead);
      }
      return result;
    });
  }

  async inConflict(key: LedgerKey): Promise<boolean> {
    const db = await this.db();
    const doc = await db.collection(LEDGER_DECISIONS_COLLECTION).doc(ledgerDocumentId(key)).get();
    return doc.exists && (doc.data() as LedgerRecord).conflict === true;
  }

  async renewRequest(key: LedgerKey, failedRequestId: string, nextRequestId: string): Promise<void> {
    const db = await this.db();
    const ref = db.collection(LEDGER_DECISIONS_COLLECTION).doc(ledgerDocumentId(key));
    await db.runTransaction(async (tx) => {
      const doc = await tx.get(ref);
      const record = doc.data() as LedgerRecord | undefined;
      if (!record || record.requestId !== failedRequestId || record.outcome !== 'pending') return;
      tx.update(ref, { requestId: nextRequestId, failedAttempts: (record.failedAttempts ?? 0) + 1 });
    });
  }

  async noteAbandon(key: LedgerKey, requestId: string, abandon: GroupAbandon): Promise<GroupAbandon> {
    const db = await this.db();
    const ref = db.collection(LEDGER_DECISIONS_COLLECTION).doc(ledgerDocumentId(key));
    return db.runTransaction(async (tx) => {
      const record = (await tx.get(ref)).data() as LedgerRecord | undefined;
      if (record?.groupAbandon !== undefined) return record.groupAbandon;
      if (record?.requestId === requestId) tx.update(ref, { groupAbandon: { ...abandon } });
      return abandon;
    });
  }

  async complete(key: LedgerKey, requestId: string, result: LedgerCompletion): Promise<void> {
    const db = await this.db();
    const ref = db.collection(LEDGER_DECISIONS_COLLECTION).doc(ledgerDocumentId(key));
    await db.runTransaction(async (tx) => {
      const doc = await tx.get(ref);
      // A conflict recorded meanwhile replaced the action (and its request id) with a stop:
      // completing the earlier action must not mark that stop as done.
      if (!doc.exists || (doc.data() as LedgerRecord).requestId !== requestId) return;
      tx.update(
        ref,
        stripUndefined({
          outcome: 'done',
          operation: result.operation?.name,
          operationStatus: result.status,
          decision: result.decision === undefined ? undefined : stripUndefined(result.decision),
          completedAt: this.clock().toISOString(),
        }),
      );
    });
  }
}

/** Firestore refuses `undefined` field values; optional fields are simply left out. */
function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
