import type { BaselineLookup, InstanceState } from './decide';
import type { PcrMeasurement } from './measurements';
import type { InstanceRef } from './parse';

/** Result of a known-good lookup, with the cost it incurred (for logs and benchmarks). */
export type BaselineStoreResult = BaselineLookup & {
  /** Documents and queries billed for this lookup. */
  readonly reads: number;
};

/** Where known-good baselines live. */
export interface BaselineStore {
  /** Finds a baseline holding exactly these measurements, in a constant number of reads. */
  findExactMatch(measurements: readonly PcrMeasurement[]): Promise<BaselineStoreResult>;
}

/** A VM addressed by name, as the Compute API wants it. */
export interface NamedInstance {
  readonly projectId: string;
  readonly zone: string;
  readonly name: string;
}

/** The Compute Engine operations the handler performs. */
export interface InstanceControl {
  /** Name of the instance with this numeric id, or undefined when it no longer exists. */
  findName(instance: InstanceRef): Promise<string | undefined>;
  /** The VM's id and last start time (`instances.get`); throws InstanceNotFoundError. */
  describe(instance: NamedInstance): Promise<InstanceState>;
  /** Starts stopping the VM; returns the operation name. `requestId` makes retries idempotent. */
  stop(instance: NamedInstance, requestId: string): Promise<string | undefined>;
  /** Asks the VM to relearn its integrity policy at next boot; returns the operation name. */
  relearn(instance: NamedInstance, requestId: string): Promise<string | undefined>;
}

/** Cloud Logging severities the handler writes. */
export type Severity = 'DEBUG' | 'INFO' | 'NOTICE' | 'WARNING' | 'ERROR' | 'CRITICAL';

/** Structured logger: one JSON object per line. */
export interface Logger {
  log(severity: Severity, message: string, fields?: Record<string, unknown>): void;
}

/** The instance named in the event no longer exists: nothing left to act on. */
export class InstanceNotFoundError extends Error {
  constructor(readonly instance: InstanceRef | NamedInstance) {
    super(`instance ${'name' in instance && instance.name ? instance.name : ''} not found in ${instance.projectId}/${instance.zone}`);
    this.name = 'InstanceNotFoundError';
  }
}
