import { createHash } from 'node:crypto';

/** Highest PCR index a vTPM exposes (PCR_0 … PCR_23). */
export const MAX_PCR_INDEX = 23;

/** One PCR reading, as reported in `actualMeasurements` or stored in a baseline. */
export interface PcrMeasurement {
  /** Index of the register, 0–23. */
  readonly pcr: number;
  /** Digest as reported by the platform (compared byte for byte). */
  readonly value: string;
  /** Digest algorithm, e.g. `SHA1` or `SHA256`, when the source names one. */
  readonly hashAlgo?: string;
}

const PCR_NAME = /^PCR_(\d{1,2})$/;

/** `PCR_7` for 7: the name Shielded VM logs and tutorial documents use. */
export function pcrName(pcr: number): string {
  return `PCR_${pcr}`;
}

/** Parses `PCR_7` into 7; undefined when it is not the canonical name of a vTPM PCR. */
export function parsePcr(raw: unknown): number | undefined {
  if (typeof raw !== 'string') return undefined;
  const m = PCR_NAME.exec(raw);
  if (!m) return undefined;
  const n = Number(m[1]);
  // "PCR_07" would alias PCR_7 in a map keyed by name; only the canonical spelling is a PCR.
  if (n > MAX_PCR_INDEX || raw !== pcrName(n)) return undefined;
  return n;
}

/**
 * Identity of a measurement set: the same PCRs with the same values, in any order.
 * Hash algorithms are left out on purpose: tutorial documents may omit them, and they
 * are compared separately (only where both sides carry one).
 */
export function fingerprint(measurements: readonly PcrMeasurement[]): string {
  const canonical = [...measurements]
    .sort((a, b) => a.pcr - b.pcr)
    .map((m) => `${pcrName(m.pcr)}=${m.value}\n`)
    .join('');
  return createHash('sha256').update(canonical).digest('hex');
}

/** Document id under which the project stores a baseline: one document per measurement set. */
export function baselineDocumentId(measurements: readonly PcrMeasurement[]): string {
  return `sha256-${fingerprint(measurements)}`;
}

/**
 * True when both sets hold exactly the same PCRs with the same values, and the same hash
 * algorithm wherever both name one. A subset or a superset never matches.
 */
export function sameMeasurements(actual: readonly PcrMeasurement[], baseline: readonly PcrMeasurement[]): boolean {
  return sameValues(actual, baseline, true);
}

/**
 * True when both sets hold exactly the same PCRs with the same values, whatever hash
 * algorithms they name: what a revocation covers (a digest's value already fixes its length,
 * so the algorithm adds nothing to what is withdrawn). `checkAlgorithms` also compares the
 * algorithms where both name one, as a match for relearning does.
 */
export function sameValues(actual: readonly PcrMeasurement[], baseline: readonly PcrMeasurement[], checkAlgorithms = false): boolean {
  if (actual.length !== baseline.length) return false;
  const byPcr = new Map<number, PcrMeasurement>();
  for (const m of baseline) byPcr.set(m.pcr, m);
  if (byPcr.size !== baseline.length) return false;
  for (const m of actual) {
    const other = byPcr.get(m.pcr);
    if (!other || other.value !== m.value) return false;
    if (checkAlgorithms && m.hashAlgo !== undefined && other.hashAlgo !== undefined && m.hashAlgo !== other.hashAlgo) {
      return false;
    }
    byPcr.delete(m.pcr);
  }
  return byPcr.size === 0;
}
