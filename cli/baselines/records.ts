import { BaselineApproval } from '../../function/contract';
import { BaselineFields, BASELINE_STATES, baselineStanding, expiryMillis, measurementsFromDocument } from '../../function/core/baseline';
import { PcrMeasurement, baselineDocumentId, fingerprint, pcrName } from '../../function/core/measurements';
import { printable, textTable, utcTime } from '../common';

/*
 * How the baseline tool reads a stored baseline: its state as the handler sees it, its
 * provenance, and the table and text it prints. Pure: no Firestore here.
 */

/**
 * A baseline's standing as the handler sees it now: `active` (it vouches), `proposed`,
 * `revoked`, `expired`, `unapproved` (active, but the two-person rule wants an approval it
 * lacks), `vetoed` (it would vouch, but another document holding the same values is revoked)
 * or `invalid` (its PCR fields, state or expiry cannot be read: it never matches).
 */
export type EffectiveState = 'active' | 'proposed' | 'revoked' | 'expired' | 'unapproved' | 'vetoed' | 'invalid';

/** Every {@link EffectiveState}, for `list --state`. */
export const EFFECTIVE_STATES: readonly EffectiveState[] = ['active', 'proposed', 'revoked', 'expired', 'unapproved', 'vetoed', 'invalid'];

/** One stored baseline as the tool shows it. */
export interface BaselineView {
  readonly id: string;
  /** `own`: stored under its fingerprint id by this tool; `tutorial`: under any other id. */
  readonly format: 'own' | 'tutorial';
  readonly state: EffectiveState;
  /** Whether the handler would relearn against it now. */
  readonly vouches: boolean;
  /** Why it does not vouch; absent when it does. */
  readonly why?: string;
  /** The measurements, when its PCR fields are readable. */
  readonly measurements?: readonly PcrMeasurement[];
  /** Its fields other than the PCRs, timestamps as RFC 3339 text. */
  readonly fields: BaselineFields & Record<string, unknown>;
}

/** A Firestore timestamp (or anything with `toDate`) as RFC 3339 text; other values as they are. */
function plain(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && typeof (value as { toDate?: unknown }).toDate === 'function') {
    return (value as { toDate(): Date }).toDate().toISOString();
  }
  return value;
}

/** Reads a stored baseline document as the handler would judge it at `now`. */
export function viewOf(id: string, data: Record<string, unknown>, now: number, approval: BaselineApproval): BaselineView {
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) if (!k.startsWith('PCR_')) fields[k] = plain(v);
  const parsed = measurementsFromDocument(data);
  if (!parsed.ok) {
    return { id, format: 'tutorial', state: 'invalid', vouches: false, why: `its PCR fields are malformed: ${parsed.detail}`, fields };
  }
  const format = baselineDocumentId(parsed.measurements) === id ? 'own' : 'tutorial';
  const standing = baselineStanding(data, now, approval);
  const base = { id, format, measurements: parsed.measurements, fields } as const;
  if (standing.usable) return { ...base, state: 'active', vouches: true };
  return { ...base, state: stateOf(data, now), vouches: false, why: standing.why };
}

/**
 * The views as the responder judges them together: a revoked document vetoes every other
 * document holding the same PCR values (whatever hash algorithm they name).
 */
export function effectiveViews(views: readonly BaselineView[]): BaselineView[] {
  const revoked = new Map<string, string>();
  for (const v of views) if (v.state === 'revoked' && v.measurements) revoked.set(fingerprint(v.measurements), v.id);
  return views.map((v) => {
    const by = v.vouches && v.measurements ? revoked.get(fingerprint(v.measurements)) : undefined;
    return by === undefined ? v : { ...v, state: 'vetoed', vouches: false, why: `${by}, holding the same measurements, is revoked` };
  });
}

function stateOf(data: Record<string, unknown>, now: number): EffectiveState {
  const state = data.state ?? 'active';
  if (!(BASELINE_STATES as readonly unknown[]).includes(state)) return 'invalid';
  if (state !== 'active') return state as EffectiveState;
  if (data.expiresAt !== undefined && data.expiresAt !== null) {
    const expires = expiryMillis(data.expiresAt);
    if (expires === undefined) return 'invalid';
    if (expires <= now) return 'expired';
  }
  return 'unapproved';
}

/**
 * The PCRs every Shielded VM late-boot report holds: the firmware (PCR_0), the boot manager
 * (PCR_4) and the Secure Boot policy (PCR_7). The responder relearns only on late-boot
 * reports, and matches a baseline only when it holds exactly the report's PCRs, so a
 * measurement set without all three can never match.
 */
const LATE_BOOT_PCRS: readonly number[] = [0, 4, 7];

/** Why a measurement set can never match a late-boot report, or undefined when it may. */
export function lateBootPcrProblem(measurements: readonly PcrMeasurement[]): string | undefined {
  const held = new Set(measurements.map((m) => m.pcr));
  const missing = LATE_BOOT_PCRS.filter((pcr) => !held.has(pcr));
  if (missing.length === 0) return undefined;
  return (
    `these values (${pcrList(measurements)}) could never match: a baseline matches a late-boot report only when it holds ` +
    `exactly the report's PCRs, and every late-boot report holds ${LATE_BOOT_PCRS.map(pcrName).join(', ')}; add ` +
    `${missing.map(pcrName).join(', ')} (a Linux VM reports PCR_0, 4 and 7, a Windows VM also 11, 13 and 14)`
  );
}

/** `PCR_0,4,7`: the PCRs a baseline holds, short. */
export function pcrList(measurements: readonly PcrMeasurement[] | undefined): string {
  if (measurements === undefined) return '?';
  const sorted = [...measurements].sort((a, b) => a.pcr - b.pcr).map((m) => m.pcr);
  return sorted.length === 0 ? '-' : `PCR_${sorted.join(',')}`;
}

/** Where a baseline came from, short: the reference VM and boot, or how it was made. */
function sourceOf(view: BaselineView): string {
  const f = view.fields;
  if (typeof f.source === 'string') {
    const vm = f.source.split('/').pop() ?? f.source;
    return typeof f.sourceBootCounter === 'string' ? `${vm} boot ${f.sourceBootCounter}` : vm;
  }
  if (typeof f.importedFrom === 'string') return `import of ${f.importedFrom}`;
  if (view.format === 'tutorial') return '(tutorial document)';
  return typeof f.createdVia === 'string' ? `(${f.createdVia})` : '-';
}

/** The width a shortened id takes in the table: `sha256-` and 12 hex digits. */
export const SHORT_ID = 19;

/**
 * A `sha256-` fingerprint id cut to {@link SHORT_ID} characters: as `show`, `approve` and `revoke`
 * take it, long enough to be unique in practice. Any other id as it is.
 */
export function shortId(id: string): string {
  return /^sha256-[0-9a-f]{64}$/.test(id) ? id.slice(0, SHORT_ID) : id;
}

/** {@link shortId} as tables print it: `…` where the id was cut. */
export function shownId(id: string): string {
  const short = shortId(id);
  return short === id ? id : `${short}…`;
}

/** The table `list` prints: one row per baseline, columns padded. */
export function table(views: readonly BaselineView[]): string {
  const header = ['ID', 'STATE', 'PCRS', 'SOURCE', 'BY', 'CREATED', 'EXPIRES'];
  const rows = views.map((v) => [
    printable(shownId(v.id)),
    v.state,
    pcrList(v.measurements),
    printable(sourceOf(v)),
    typeof v.fields.createdBy === 'string' ? printable(v.fields.createdBy) : '-',
    utcTime(v.fields.createdAt, 'minute'),
    utcTime(v.fields.expiresAt, 'minute'),
  ]);
  return textTable(header, rows);
}

/** The object `list --json` and `show --json` print for a baseline. */
export function jsonView(view: BaselineView): Record<string, unknown> {
  const { state: recordedState, ...rest } = view.fields;
  return {
    id: view.id,
    format: view.format,
    state: view.state,
    recordedState: recordedState ?? 'active',
    vouches: view.vouches,
    ...(view.why !== undefined && { why: view.why }),
    measurements:
      view.measurements?.map((m) => ({
        pcrNum: pcrName(m.pcr),
        value: m.value,
        ...(m.hashAlgo !== undefined && { hashAlgo: m.hashAlgo }),
      })) ?? null,
    ...rest,
  };
}

const SHOWN: readonly (keyof BaselineFields)[] = [
  'description',
  'source',
  'sourceInstanceId',
  'sourceBootCounter',
  'sourceReportTime',
  'createdVia',
  'importedFrom',
  'createdBy',
  'createdAt',
  'expiresAt',
  'approvedBy',
  'approvedAt',
  'revokedBy',
  'revokedAt',
  'revokeReason',
];

/** The text `show` prints: the state and why, every provenance field, every PCR. */
export function showText(view: BaselineView, path: string): string {
  const lines = [
    `baseline ${path}`,
    `state:              ${view.state}${
      view.vouches ? ' (vouches for these measurements)' : view.why === `it is ${view.state}` ? ' (does not vouch)' : ` — ${view.why}`
    }`,
  ];
  lines.push(`format:             ${view.format === 'own' ? "fingerprint id (this tool's)" : 'tutorial document (any id)'}`);
  for (const key of SHOWN) {
    const value = view.fields[key];
    if (value !== undefined) lines.push(`${`${key}:`.padEnd(20)}${printable(value)}`);
  }
  for (const m of view.measurements ?? [])
    lines.push(`${`${pcrName(m.pcr)}:`.padEnd(20)}${m.value}${m.hashAlgo ? ` (${m.hashAlgo})` : ''}`);
  return `${lines.join('\n')}\n`;
}
