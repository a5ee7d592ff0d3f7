import { PcrMeasurement, baselineDocumentId, parsePcr, pcrName } from './measurements';
import { tryParseMeasurements } from './parse';
import type { BaselineApproval } from '../contract';

/** Field paths that hold a PCR: `PCR_0` … `PCR_23`, each a map `{hashAlgo, pcrNum, value}`. */
const PCR_FIELD = /^PCR_/;

/** The stored shape of one PCR in a baseline document (the tutorial's map field). */
export interface StoredPcr {
  readonly pcrNum: string;
  readonly value: string;
  readonly hashAlgo?: string;
}

/** A baseline document in the shared format: one map field per PCR plus optional metadata. */
export type BaselineDocument = Record<string, StoredPcr | string>;

/**
 * Reads the measurements out of a baseline document. Fields whose names start with `PCR_`
 * are measurements and must all be valid; other fields (description, provenance) are
 * metadata and ignored. Returns a reason instead of guessing when the document is broken.
 */
export function measurementsFromDocument(
  data: Record<string, unknown>,
): { readonly ok: true; readonly measurements: PcrMeasurement[] } | { readonly ok: false; readonly detail: string } {
  const entries: unknown[] = [];
  for (const [field, value] of Object.entries(data)) {
    if (!PCR_FIELD.test(field)) continue;
    const pcr = parsePcr(field);
    if (pcr === undefined) return { ok: false, detail: `field ${field} is not a PCR name like PCR_0` };
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return { ok: false, detail: `field ${field} must be a map {hashAlgo, pcrNum, value}` };
    }
    const stored = value as Record<string, unknown>;
    if (stored.pcrNum !== undefined && stored.pcrNum !== field) {
      return { ok: false, detail: `field ${field} holds pcrNum ${JSON.stringify(stored.pcrNum)}` };
    }
    entries.push({ ...stored, pcrNum: field });
  }
  if (entries.length === 0) return { ok: false, detail: 'the document has no PCR_<n> fields' };
  return tryParseMeasurements(entries, 'document');
}

/** Lifecycle states of a baseline; a document without `state` (the tutorial's) is `active`. */
export const BASELINE_STATES = ['active', 'proposed', 'revoked'] as const;
export type BaselineState = (typeof BASELINE_STATES)[number];

/**
 * The fields of a baseline document besides its `PCR_n` maps, as the handler and the baseline
 * tool read and write them. All optional: a tutorial document has none of them.
 */
export interface BaselineFields {
  /** Lifecycle state; absent means `active`. */
  readonly state?: BaselineState;
  /** RFC 3339 text (or a Firestore timestamp): at and after it the baseline matches nothing. */
  readonly expiresAt?: string;
  /** A note: why these measurements are trusted. */
  readonly description?: string;
  /** Where the measurements came from, e.g. `projects/p/zones/z/instances/vm-1`. */
  readonly source?: string;
  /** Numeric id of the reference VM. */
  readonly sourceInstanceId?: string;
  /** Boot counter of the reference VM's report. */
  readonly sourceBootCounter?: string;
  /** Timestamp of the log entry the measurements were read from. */
  readonly sourceReportTime?: string;
  /** How the baseline was made: `capture`, `add` or `import-legacy`. */
  readonly createdVia?: string;
  /** The principal who recorded it. */
  readonly createdBy?: string;
  readonly createdAt?: string;
  /** Id of the tutorial-format document it was imported from. */
  readonly importedFrom?: string;
  readonly approvedBy?: string;
  readonly approvedAt?: string;
  readonly revokedBy?: string;
  readonly revokedAt?: string;
  readonly revokeReason?: string;
}

/** Whether a baseline document may vouch for measurements now, and if not, why. */
export type BaselineStanding = { readonly usable: true } | { readonly usable: false; readonly why: string };

/** Principals compare without regard to case: `Alice@Example.com` is `alice@example.com`. */
export function samePrincipal(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/**
 * The standing of a baseline document at `now` (ms since the epoch). Only an active baseline that
 * has not expired vouches for measurements: a `revoked` one is kept for audit and never matches
 * again, a `proposed` one matches nothing until it is approved, and one past its `expiresAt`
 * (RFC 3339 text, or a Firestore timestamp) matches nothing. An unknown state or an unreadable
 * expiry also matches nothing: a document nobody can interpret does not vouch for a VM. Under
 * the `two-person` rule an active baseline must also name, in `approvedBy`, a principal other
 * than its `createdBy`; a tutorial document names neither, and is imported and approved first.
 */
export function baselineStanding(data: Record<string, unknown>, now: number, approval: BaselineApproval = 'none'): BaselineStanding {
  const state = data.state ?? 'active';
  if (state !== 'active') {
    return {
      usable: false,
      why: (BASELINE_STATES as readonly unknown[]).includes(state)
        ? `it is ${String(state)}`
        : `its state ${JSON.stringify(state)} is unknown`,
    };
  }
  if (data.expiresAt !== undefined && data.expiresAt !== null) {
    const expires = expiryMillis(data.expiresAt);
    if (expires === undefined) return { usable: false, why: `its expiresAt ${JSON.stringify(data.expiresAt)} is not a timestamp` };
    if (expires <= now) return { usable: false, why: `it expired at ${new Date(expires).toISOString()}` };
  }
  if (approval === 'two-person') {
    const { createdBy, approvedBy } = data;
    if (typeof approvedBy !== 'string' || approvedBy.trim() === '') {
      return { usable: false, why: 'it has no approval, and requireBaselineApproval needs one by a second principal' };
    }
    if (typeof createdBy !== 'string' || createdBy.trim() === '') {
      return { usable: false, why: 'it names no creator, so its approval cannot be shown to come from a second principal' };
    }
    if (samePrincipal(createdBy, approvedBy)) {
      return { usable: false, why: `it was approved by its own creator ${createdBy}; requireBaselineApproval needs a second principal` };
    }
  }
  return { usable: true };
}

/** `expiresAt` as ms since the epoch; undefined when absent or unreadable. */
export function expiryMillis(value: unknown): number | undefined {
  if (typeof value === 'string') {
    // The calendar date must exist: Date.parse rolls 2027-02-31 over into March.
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(value);
    const ms = Date.parse(value);
    if (m === null || Number.isNaN(ms)) return undefined;
    const [year, month, day, hour, minute, second] = m.slice(1).map((x) => Number(x ?? 0)) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
    const valid = month >= 1 && month <= 12 && day >= 1 && day <= lastDay && hour <= 23 && minute <= 59 && second <= 59;
    return valid ? ms : undefined;
  }
  // A Firestore Timestamp (what the console and the client libraries write).
  if (typeof value === 'object' && value !== null && typeof (value as { toMillis?: unknown }).toMillis === 'function') {
    const ms = (value as { toMillis(): number }).toMillis();
    return Number.isFinite(ms) ? ms : undefined;
  }
  return undefined;
}

/** Metadata recorded next to the measurements when the project writes a baseline. */
export type BaselineMetadata = BaselineFields;

/**
 * The document (id and fields) under which a measurement set is stored: the tutorial's map
 * format, so existing readers (and the handler's equality query) keep working, under an id
 * derived from the measurements: one document per measurement set.
 */
export function baselineDocument(
  measurements: readonly PcrMeasurement[],
  metadata: BaselineMetadata = {},
): { readonly id: string; readonly data: BaselineDocument } {
  const data: BaselineDocument = {};
  for (const m of [...measurements].sort((a, b) => a.pcr - b.pcr)) {
    const name = pcrName(m.pcr);
    data[name] = { pcrNum: name, value: m.value, ...(m.hashAlgo !== undefined && { hashAlgo: m.hashAlgo }) };
  }
  for (const [field, value] of Object.entries(metadata)) if (value !== undefined) data[field] = value as string;
  return { id: baselineDocumentId(measurements), data };
}
