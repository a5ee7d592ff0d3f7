import { baselineStanding, measurementsFromDocument } from '../../function/core/baseline';
import { ActionBudget, BudgetShard, applyBudget, budgetWindow, shardOrder } from '../../function/core/budget';
import type { InstanceState } from '../../function/core/decide';
import { PcrMeasurement, sameMeasurements } from '../../function/core/measurements';
import { InstanceGroupRef, groupPath } from '../../function/core/instance-group';
import {
  ContainmentSteps,
  ContainmentSummary,
  GroupAbandon,
  LedgerKey,
  LedgerRecord,
  ReconcileInput,
  Reconciled,
  compareBoots,
  instanceDocumentId,
  ledgerDocumentId,
  ledgerKey,
  lastStopOf,
  mergeSteps,
  stopToMark,
  reconcile,
} from '../../function/core/ledger';
import {
  BaselineStore,
  BaselineStoreResult,
  CompletedOperation,
  DecisionLedger,
  EvidenceControl,
  FindingRequest,
  FindingSink,
  GroupMember,
  InstanceControl,
  InstanceNotFoundError,
  InstanceTarget,
  LedgerCompletion,
  LedgerStanding,
  Logger,
  QuarantineControl,
  Severity,
  SnapshotRequest,
  TagBound,
  TakenSnapshot,
} from '../../function/core/ports';

/** Baselines held in memory, matched with the same rules the Firestore store applies. */
export class MemoryBaselines implements BaselineStore {
  readonly docs = new Map<string, Record<string, unknown>>();
  lookups = 0;

  add(id: string, data: Record<string, unknown>): this {
    this.docs.set(id, data);
    return this;
  }

  async findExactMatch(measurements: readonly PcrMeasurement[]): Promise<BaselineStoreResult> {
    this.lookups++;
    for (const [id, data] of this.docs) {
      const parsed = measurementsFromDocument(data);
      // As in Firestore: a point read finds the project's own ids, a query the others.
      if (parsed.ok && sameMeasurements(measurements, parsed.measurements) && baselineStanding(data, Date.now()).usable)
        return { matched: true, baselineId: id, reads: id.startsWith('sha256-') ? 1 : 2 };
    }
    return { matched: false, reads: 2 };
  }
}

/** Records the Compute calls the handler makes; every call names the instance by id. */
export class RecordingInstances implements InstanceControl {
  readonly calls: string[] = [];
  /** What instances.get answers, by id; unlisted ids answer as a running VM started a minute ago. */
  readonly states = new Map<string, InstanceState>();
  /** Ids that no longer exist. */
  readonly gone = new Set<string>();
  /** Projects in which no instance exists. */
  readonly emptyProjects = new Set<string>();
  /** What stop, suspend and relearn throw. */
  failWith?: Error;
  /** What instances.get throws. */
  getFailsWith?: Error;
  /** Instance ids each group lists, by group path. */
  readonly members = new Map<string, Set<string>>();
  /** Groups that keep listing a VM they were asked to abandon. */
  readonly sticky = new Set<string>();
  /** What abandon throws. */
  abandonFailsWith?: Error;

  async findMember(g: InstanceGroupRef, instanceId: string): Promise<GroupMember | undefined> {
    const path = groupPath(g);
    this.calls.push(`list ${path}`);
    if (!this.members.get(path)?.has(instanceId)) return undefined;
    return {
      id: instanceId,
      instance: `https://www.googleapis.com/compute/v1/projects/p/zones/z/instances/${instanceId}`,
      currentAction: 'NONE',
    };
  }

  async abandon(g: InstanceGroupRef, instanceUrl: string, requestId: string): Promise<void> {
    const path = groupPath(g);
    this.calls.push(`abandon ${path} ${instanceUrl.split('/').pop()!} ${requestId.slice(0, 8)}`);
    if (this.abandonFailsWith) throw this.abandonFailsWith;
    if (this.sticky.has(path)) return;
    this.members.get(path)?.delete(instanceUrl.split('/').pop()!);
  }

  async describe(i: InstanceTarget): Promise<InstanceState> {
    this.calls.push(`get ${i.projectId}/${i.zone}/${i.id}`);
    if (this.getFailsWith) throw this.getFailsWith;
    if (this.gone.has(i.id) || this.emptyProjects.has(i.projectId)) throw new InstanceNotFoundError(i);
    return this.states.get(i.id) ?? { id: i.id, status: 'RUNNING', lastStartTimestamp: new Date(Date.now() - 60_000).toISOString() };
  }

  async stop(i: InstanceTarget, requestId: string): Promise<CompletedOperation> {
    return this.act('stop', i, requestId);
  }

  async suspend(i: InstanceTarget, requestId: string): Promise<CompletedOperation> {
    return this.act('suspend', i, requestId);
  }

  async relearn(i: InstanceTarget, requestId: string): Promise<CompletedOperation> {
    return this.act('relearn', i, requestId);
  }

  private act(what: string, i: InstanceTarget, requestId: string): CompletedOperation {
    this.calls.push(`${what} ${i.projectId}/${i.zone}/${i.id}`);
    if (this.failWith) throw this.failWith;
    if (this.gone.has(i.id)) throw new InstanceNotFoundError(i);
    return { name: `operation-${what}-${requestId.slice(0, 8)}`, status: 'DONE' };
  }
}

/** The decision ledger in memory, with the same reconciliation the Firestore ledger runs in its transaction. */
export class MemoryLedger implements DecisionLedger {
  readonly records = new Map<string, LedgerRecord>();
  readonly newestBoots = new Map<string, string>();
  /** The newest record turned into a stop for each instance, and when, by instance document id. */
  readonly lastStops = new Map<string, { readonly id: string; readonly at: string }>();
  /** The action budget's shards, by `<window id>/<index>`. */
  readonly budgetShards = new Map<string, BudgetShard>();
  /** The VMs counted in each window: `<window id>/<project>~<zone>~<instance id>`. */
  readonly budgetMarkers = new Set<string>();
  /** Clock of the records and of the budget's windows. */
  clock: () => Date = () => new Date();

  /** Each window's count and total, summed over its shards, by window id. */
  get budgetWindows(): Map<string, { readonly count: number; readonly total: number }> {
    const windows = new Map<string, { count: number; total: number }>();
    for (const [id, shard] of this.budgetShards) {
      const windowId = id.slice(0, id.lastIndexOf('/'));
      const w = windows.get(windowId) ?? { count: 0, total: 0 };
      windows.set(windowId, { count: w.count + shard.count, total: w.total + shard.total });
    }
    return windows;
  }

  async record(input: Omit<ReconcileInput, 'existing' | 'newestBoot' | 'now'>, budget?: ActionBudget): Promise<Reconciled> {
    const key = ledgerKey(input.report);
    const id = ledgerDocumentId(key);
    const existing = this.records.get(id);
    const newestBoot = this.newestBoots.get(instanceDocumentId(key));
    const now = this.clock().toISOString();
    const reconciled = reconcile({
      ...input,
      ...(existing && { existing }),
      ...(newestBoot !== undefined && { newestBoot }),
      now,
    });
    const windowId = budget === undefined ? undefined : budgetWindow(Date.parse(now), budget.windowSeconds).id;
    const marker = `${windowId}/${instanceDocumentId(key)}`;
    // Read as the Firestore ledger reads: the VM's home shard, then every shard if that one is full.
    const order = typeof budget?.limit === 'number' ? shardOrder(instanceDocumentId(key), budget.limit) : [];
    const view = (indexes: readonly number[]) => ({
      shards: new Map(indexes.map((i) => [i, this.budgetShards.get(`${windowId}/${i}`)] as const)),
      vmCounted: this.budgetMarkers.has(marker),
    });
    let applied = applyBudget(reconciled, budget, view(order.slice(0, 1)), now);
    if (applied.readAll) applied = applyBudget(reconciled, budget, view(order), now);
    const { result, claim } = applied;
    if (windowId !== undefined && claim !== undefined) {
      this.budgetShards.set(`${windowId}/${claim.index}`, claim.shard);
      this.budgetMarkers.add(marker);
    }
    const marked = stopToMark(existing, result.record);
    this.records.set(id, result.record);
    this.newestBoots.set(instanceDocumentId(key), result.newestBoot);
    if (marked !== undefined) this.lastStops.set(instanceDocumentId(key), { id: marked, at: now });
    return result;
  }

  async standing(key: LedgerKey): Promise<LedgerStanding> {
    const newestBoot = this.newestBoots.get(instanceDocumentId(key));
    const last = this.lastStops.get(instanceDocumentId(key));
    const stop = last === undefined ? undefined : this.records.get(last.id);
    return {
      conflict: this.records.get(ledgerDocumentId(key))?.conflict === true,
      ...(newestBoot !== undefined && { newestBoot }),
      ...(stop !== undefined && { lastStop: lastStopOf(stop, last!.at) }),
    };
  }

  async noteBoot(key: LedgerKey): Promise<void> {
    const newest = this.newestBoots.get(instanceDocumentId(key));
    if (newest === undefined || compareBoots(key.bootCounter, newest) > 0) this.newestBoots.set(instanceDocumentId(key), key.bootCounter);
  }

  async renewRequest(key: LedgerKey, failedRequestId: string, nextRequestId: string): Promise<void> {
    const id = ledgerDocumentId(key);
    const record = this.records.get(id);
    if (!record || record.requestId !== failedRequestId || record.outcome !== 'pending') return;
    this.records.set(id, { ...record, requestId: nextRequestId, failedAttempts: (record.failedAttempts ?? 0) + 1 });
  }

  async noteAbandon(key: LedgerKey, requestId: string, abandon: GroupAbandon): Promise<GroupAbandon> {
    const id = ledgerDocumentId(key);
    const record = this.records.get(id);
    if (record?.groupAbandon) return record.groupAbandon;
    if (record?.requestId === requestId) this.records.set(id, { ...record, groupAbandon: abandon });
    return abandon;
  }

  async complete(key: LedgerKey, requestId: string, result: LedgerCompletion): Promise<void> {
    const id = ledgerDocumentId(key);
    const record = this.records.get(id);
    if (!record || record.requestId !== requestId) return;
    this.records.set(id, {
      ...record,
      outcome: 'done',
      ...(result.operation && { operation: result.operation.name }),
      operationStatus: result.status,
      ...(result.decision && { decision: result.decision }),
    });
    if (result.containment !== undefined) this.containments.set(instanceDocumentId(key), result.containment);
  }

  /** Each instance's containment summary, by instance document id. */
  readonly containments = new Map<string, ContainmentSummary>();

  async noteSteps(key: LedgerKey, requestId: string, steps: ContainmentSteps): Promise<ContainmentSteps> {
    const id = ledgerDocumentId(key);
    const record = this.records.get(id);
    if (!record || record.requestId !== requestId || record.decision.action !== 'stop') return record?.steps ?? {};
    const merged = mergeSteps(record.steps ?? {}, steps);
    this.records.set(id, { ...record, steps: merged });
    const summary = this.containments.get(instanceDocumentId(key));
    if (merged.finding !== undefined && summary?.record === id && summary.finding === undefined) {
      this.containments.set(instanceDocumentId(key), { ...summary, finding: merged.finding.name });
    }
    return merged;
  }

  async containmentOf(key: LedgerKey): Promise<ContainmentSummary | undefined> {
    return this.containments.get(instanceDocumentId(key));
  }

  async noteFindingInactive(key: LedgerKey, finding: string, at: string): Promise<void> {
    const summary = this.containments.get(instanceDocumentId(key));
    if (summary?.finding === finding && summary.findingInactiveAt === undefined) {
      this.containments.set(instanceDocumentId(key), { ...summary, findingInactiveAt: at });
    }
  }
}

/** Evidence snapshots in memory: each request by name, and a failure to throw on the next ones. */
export class RecordingEvidence implements EvidenceControl {
  readonly calls: SnapshotRequest[] = [];
  readonly taken = new Map<string, SnapshotRequest>();
  /** Thrown by the next snapshot calls until cleared. */
  failWith?: Error;

  async snapshot(request: SnapshotRequest): Promise<TakenSnapshot> {
    this.calls.push(request);
    if (this.failWith) throw this.failWith;
    const snapshot = `projects/${request.project}/global/snapshots/${request.name}`;
    const existed = this.taken.has(snapshot);
    this.taken.set(snapshot, request);
    return existed ? { snapshot, existed } : { snapshot, operation: `operation-snapshot-${request.requestId.slice(0, 8)}`, existed };
  }
}

/** Tag bindings in memory, by `<instance id> <tag value>`. */
export class RecordingQuarantine implements QuarantineControl {
  readonly calls: string[] = [];
  readonly bound = new Set<string>();
  failWith?: Error;

  async bind(instance: InstanceTarget, tagValue: string): Promise<TagBound> {
    this.calls.push(`bind ${instance.id} ${tagValue}`);
    if (this.failWith) throw this.failWith;
    const key = `${instance.id} ${tagValue}`;
    const existed = this.bound.has(key);
    this.bound.add(key);
    return { binding: `tagBindings/${instance.id}/${tagValue}`, existed };
  }

  async unbind(instance: InstanceTarget, tagValue: string): Promise<boolean> {
    this.calls.push(`unbind ${instance.id} ${tagValue}`);
    return this.bound.delete(`${instance.id} ${tagValue}`);
  }
}

/** Findings in memory, by name, with their state. */
export class RecordingFindings implements FindingSink {
  readonly calls: string[] = [];
  readonly findings = new Map<string, FindingRequest & { state: 'ACTIVE' | 'INACTIVE' }>();
  failWith?: Error;

  async raise(finding: FindingRequest): Promise<{ readonly name: string; readonly existed: boolean }> {
    const name = `${finding.source}/locations/global/findings/${finding.findingId}`;
    this.calls.push(`raise ${name}`);
    if (this.failWith) throw this.failWith;
    const existed = this.findings.has(name);
    if (!existed) this.findings.set(name, { ...finding, state: 'ACTIVE' });
    return { name, existed };
  }

  async deactivate(name: string): Promise<void> {
    this.calls.push(`deactivate ${name}`);
    const f = this.findings.get(name);
    if (f) this.findings.set(name, { ...f, state: 'INACTIVE' });
  }
}

/** Keeps every log line as the parsed JSON object. */
export class CapturingLogger implements Logger {
  readonly lines: Array<Record<string, unknown> & { severity: Severity; message: string }> = [];

  log(severity: Severity, message: string, fields: Record<string, unknown> = {}): void {
    // Round-trip through JSON, as Cloud Logging sees it.
    this.lines.push(JSON.parse(JSON.stringify({ severity, message, ...fields })));
  }
}
