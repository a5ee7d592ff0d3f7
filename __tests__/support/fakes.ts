import { measurementsFromDocument } from '../../function/baseline';
import type { InstanceState } from '../../function/decide';
import { PcrMeasurement, sameMeasurements } from '../../function/measurements';
import type { InstanceRef } from '../../function/parse';
import { DEFAULT_INSTANCE_ID } from '../../testkit/fixtures';
import {
  BaselineStore,
  BaselineStoreResult,
  InstanceControl,
  InstanceNotFoundError,
  Logger,
  NamedInstance,
  Severity,
} from '../../function/ports';

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
      if (parsed.ok && sameMeasurements(measurements, parsed.measurements))
        return { matched: true, baselineId: id, reads: id.startsWith('sha256-') ? 1 : 2 };
    }
    return { matched: false, reads: 2 };
  }
}

/** Records the Compute calls the handler makes. */
export class RecordingInstances implements InstanceControl {
  readonly calls: string[] = [];
  /** Instances that exist, by numeric id. */
  readonly names = new Map<string, string>();
  /** What instances.get answers, by name; unlisted names are the fixture VM, started before its report. */
  readonly states = new Map<string, InstanceState>();
  failWith?: Error;

  async findName(ref: InstanceRef): Promise<string | undefined> {
    this.calls.push(`list id=${ref.id}`);
    if (this.failWith) throw this.failWith;
    return this.names.get(ref.id);
  }

  async describe(i: NamedInstance): Promise<InstanceState> {
    this.calls.push(`get ${i.projectId}/${i.zone}/${i.name}`);
    if (this.failWith) throw this.failWith;
    if (i.name === 'gone') throw new InstanceNotFoundError(i);
    return this.states.get(i.name) ?? { id: DEFAULT_INSTANCE_ID, lastStartTimestamp: new Date(Date.now() - 60_000).toISOString() };
  }

  async stop(i: NamedInstance, requestId: string): Promise<string> {
    return this.act('stop', i, requestId);
  }

  async relearn(i: NamedInstance, requestId: string): Promise<string> {
    return this.act('relearn', i, requestId);
  }

  private act(what: string, i: NamedInstance, requestId: string): string {
    this.calls.push(`${what} ${i.projectId}/${i.zone}/${i.name}`);
    if (this.failWith) throw this.failWith;
    if (i.name === 'gone') throw new InstanceNotFoundError(i);
    return `operation-${what}-${requestId.slice(0, 8)}`;
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
