import { PcrMeasurement, baselineDocumentId, parsePcr, pcrName } from './measurements';
import { tryParseMeasurements } from './parse';

/** Collection the tutorial and this project use for known-good baselines. */
export const DEFAULT_BASELINE_COLLECTION = 'known_good_measurements';

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

/** Whether a baseline document may vouch for measurements now, and if not, why. */
export type BaselineStanding = { readonly usable: true } | { readonly usable: false; readonly why: string };

/**
 * The standing of a baseline document at `now` (ms since the epoch). Only an active baseline that
 * has not expired vouches for measurements: a `revoked` one is kept for audit and never matches
 * again, a `proposed` one matches nothing until it is approved, and one past its `expiresAt`
 * (RFC 3339 text, or a Firestore timestamp) matches nothing. An unknown state or an unreadable
 * expiry also matches nothing: a document nobody can interpret does not vouch for a VM.
 */
export function baselineStanding(data: Record<string, unknown>, now: number): BaselineStanding {
  const state = data.state ?? 'active';
  if (state !== 'active') {
    return {
      usable: false,
      why: (BASELINE_STATES as readonly unknown[]).includes(state)
        ? `it is ${String(state)}`
        : `its state ${JSON.stringify(state)} is unknown`,
    };
  }
  if (data.expiresAt === undefined || data.expiresAt === null) return { usable: true };
  const expires = expiryMillis(data.expiresAt);
  if (expires === undefined) return { usable: false, why: `its expiresAt ${JSON.stringify(data.expiresAt)} is not a timestamp` };
  return expires > now ? { usable: true } : { usable: false, why: `it expired at ${new Date(expires).toISOString()}` };
}

function expiryMillis(value: unknown): number | undefined {
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    return /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(ms) ? ms : undefined;
  }
  // A Firestore Timestamp (what the console and the client libraries write).
  if (typeof value === 'object' && value !== null && typeof (value as { toMillis?: unknown }).toMillis === 'function') {
    const ms = (value as { toMillis(): number }).toMillis();
    return Number.isFinite(ms) ? ms : undefined;
  }
  return undefined;
}

/** Metadata recorded next to the measurements when the project writes a baseline. */
export interface BaselineMetadata {
  readonly description?: string;
  /** Where the measurements came from, e.g. `projects/p/zones/z/instances/vm-1`. */
  readonly source?: string;
}

/**
 * The document (id and fields) under which a measurement set is stored: the tutorial's map
 * format, so existing readers keep working, under an id derived from the measurements, so
 * the handler finds it with one point read.
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
  if (metadata.description !== undefined) data.description = metadata.description;
  if (metadata.source !== undefined) data.source = metadata.source;
  return { id: baselineDocumentId(measurements), data };
}
