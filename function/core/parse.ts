import {
  INSTANCE_ID,
  INSTANCE_NAME,
  INSTANCE_NAME_LABEL,
  INTEGRITY_EVENT_TYPE,
  INTEGRITY_LOG_ID,
  PROJECT_ID,
  UINT64_MAX,
  ZONE,
} from '../contract';
import { MAX_PCR_INDEX, PcrMeasurement, parsePcr } from './measurements';

/** Largest decoded LogEntry accepted; real integrity entries are a few kilobytes. */
export const MAX_LOG_ENTRY_BYTES = 256 * 1024;

/**
 * The reports that carry an evaluation: the early- and late-boot reports of Shielded VM (a policy
 * evaluation of measurements), and the launch-attestation report of an AMD SEV Confidential VM
 * (an evaluation of the launch measurement, without measurements of its own).
 */
export type ReportKind = 'earlyBoot' | 'lateBoot' | 'launchAttestation';

/** Where the VM lives. `name` is present only when the log entry carries it. */
export interface InstanceRef {
  readonly projectId: string;
  readonly zone: string;
  /** Numeric instance id, as a decimal string (a uint64 does not fit a JS number). */
  readonly id: string;
  readonly name?: string;
}

/** A boot report with a policy evaluation, validated. */
export interface IntegrityReport {
  readonly kind: ReportKind;
  readonly passed: boolean;
  /** Present (non-empty, no duplicate PCRs) whenever `passed` is false. */
  readonly actualMeasurements: readonly PcrMeasurement[];
  /**
   * The boot counter in canonical form: decimal digits without leading zeros (`"12"`, never
   * `"012"`), so one boot has one spelling in the ledger, the budget and every comparison.
   */
  readonly bootCounter?: string;
  /** The boot counter as the entry wrote it, present only where that differs from {@link bootCounter}. */
  readonly bootCounterAsWritten?: string;
  readonly instance: InstanceRef;
  /** LogEntry `timestamp`, when present: chosen by whoever wrote the entry. */
  readonly timestamp?: string;
  /** LogEntry `receiveTimestamp`, when present: set by Cloud Logging when it received the entry. */
  readonly receiveTimestamp?: string;
  /** The SEV policy bits a launch-attestation report carries (`sevPolicy`), as written. */
  readonly sevPolicy?: Readonly<Record<string, boolean | number>>;
  /**
   * The launch a launch-attestation report is about: the VM's last start as Compute Engine
   * answers it when the report is handled (`unknown` without one). Set by the handler, never by
   * the entry: every launch of a Confidential VM reports at boot 0, so the boot counter alone
   * would make each launch after the first look like a repeat of the first.
   */
  readonly launch?: string;
}

/** Why an entry was rejected as malformed. Stable codes: alerting can key on them. */
export type RejectionCode =
  | 'missing-message'
  | 'missing-data'
  | 'invalid-base64'
  | 'too-large'
  | 'invalid-json'
  | 'invalid-log-entry'
  | 'invalid-resource'
  | 'invalid-report'
  | 'invalid-measurements'
  | 'foreign-project';

/** Outcome of parsing one Pub/Sub message. */
export type ParseResult =
  | { readonly status: 'report'; readonly report: IntegrityReport }
  | { readonly status: 'ignored'; readonly reason: string; readonly instance?: InstanceRef }
  | { readonly status: 'rejected'; readonly code: RejectionCode; readonly detail: string };

class Rejection {
  constructor(
    readonly code: RejectionCode,
    readonly detail: string,
  ) {}
}

function reject(code: RejectionCode, detail: string): never {
  throw new Rejection(code, detail);
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return typeof v;
}

const BASE64 = /^[A-Za-z0-9+/\-_]*={0,2}$/;
const BOOT_COUNTER = /^[0-9]{1,20}$/;
/** Largest boot counter accepted: the field is a 64-bit integer. */
const MAX_BOOT_COUNTER = UINT64_MAX;
const HASH_ALGO = /^[A-Za-z0-9_-]{1,32}$/;
const MAX_VALUE_LENGTH = 256;

/**
 * Turns the `data` of a Pub/Sub `messagePublished` CloudEvent into a validated report.
 * Never throws: anything unexpected comes back as `rejected` with a stable code.
 */
export function parseMessage(data: unknown): ParseResult {
  try {
    return parseOrThrow(data);
  } catch (e) {
    if (e instanceof Rejection) return { status: 'rejected', code: e.code, detail: e.detail };
    // Parsing only reads plain JSON values; reaching here means a bug, reported as a rejection
    // so one bad message can never crash-loop the function.
    return { status: 'rejected', code: 'invalid-log-entry', detail: `unexpected parser failure: ${String(e)}` };
  }
}

function parseOrThrow(data: unknown): ParseResult {
  if (!isObject(data) || !isObject(data.message)) {
    reject('missing-message', `expected a Pub/Sub envelope with a message object, got ${describe(isObject(data) ? data.message : data)}`);
  }
  const encoded = data.message.data;
  if (typeof encoded !== 'string' || encoded.length === 0) {
    reject('missing-data', `message.data must be a non-empty base64 string, got ${describe(encoded)}`);
  }
  // base64 grows by 4/3: anything longer cannot decode to an acceptable entry.
  if (encoded.length > Math.ceil((MAX_LOG_ENTRY_BYTES * 4) / 3) + 4) {
    reject('too-large', `message.data is ${encoded.length} characters, above the ${MAX_LOG_ENTRY_BYTES}-byte limit`);
  }
  if (!BASE64.test(encoded)) reject('invalid-base64', 'message.data is not base64');
  const text = Buffer.from(encoded, 'base64').toString('utf8');
  let entry: unknown;
  try {
    entry = JSON.parse(text);
  } catch (e) {
    reject('invalid-json', `message.data does not decode to JSON: ${(e as Error).message}`);
  }
  return parseLogEntryOrThrow(entry);
}

function parseLogEntryOrThrow(entry: unknown): ParseResult {
  if (!isObject(entry)) reject('invalid-log-entry', `the LogEntry must be a JSON object, got ${describe(entry)}`);
  const logName = entry.logName;
  if (typeof logName !== 'string' || !logName.endsWith(`/logs/${INTEGRITY_LOG_ID}`)) {
    return { status: 'ignored', reason: `logName ${describe(logName)} is not the Shielded VM integrity log` };
  }
  const payload = entry.jsonPayload;
  if (!isObject(payload)) {
    return { status: 'ignored', reason: 'the LogEntry has no jsonPayload' };
  }
  if (payload['@type'] !== INTEGRITY_EVENT_TYPE) {
    return { status: 'ignored', reason: `payload type ${describe(payload['@type'])} is not an IntegrityEvent` };
  }
  const early = payload.earlyBootReportEvent;
  const late = payload.lateBootReportEvent;
  const sev = payload.sevLaunchAttestationReportEvent;
  const present = REPORT_FIELDS.filter(([field]) => payload[field] !== undefined);
  if (present.length === 0) {
    const kinds = Object.keys(payload).filter((k) => k !== '@type' && k !== 'bootCounter');
    return { status: 'ignored', reason: `IntegrityEvent without a boot or launch-attestation report (${kinds.join(', ') || 'no event'})` };
  }
  if (present.length > 1) {
    reject('invalid-report', `an IntegrityEvent carries exactly one report; this one has ${present.map(([f]) => f).join(' and ')}`);
  }
  const [field, kind, verdict] = present[0]!;
  const report = late ?? early ?? sev;
  if (!isObject(report)) reject('invalid-report', `${field} must be an object, got ${describe(report)}`);
  const passed = report[verdict];
  if (typeof passed !== 'boolean') {
    reject('invalid-report', `${field}.${verdict} must be a boolean, got ${describe(passed)}`);
  }
  const sevPolicy = kind === 'launchAttestation' ? sevPolicyOf(report.sevPolicy) : undefined;
  const instance = parseInstance(entry);
  if (logName !== `projects/${instance.projectId}/logs/${INTEGRITY_LOG_ID}`) {
    reject('invalid-resource', `logName ${describe(logName)} does not belong to project ${instance.projectId}`);
  }
  const boot = parseBootCounter(payload.bootCounter);
  // A passed report needs no measurements to decide; a failed one is judged on them. A launch
  // attestation has none: its verdict is the whole report.
  const actualMeasurements =
    passed || kind === 'launchAttestation' ? [] : parseMeasurements(report.actualMeasurements, `${field}.actualMeasurements`);
  const timestamp = parseTime(entry.timestamp, 'timestamp');
  const receiveTimestamp = parseTime(entry.receiveTimestamp, 'receiveTimestamp');
  return {
    status: 'report',
    report: {
      kind,
      passed,
      actualMeasurements,
      instance,
      ...(boot !== undefined && { bootCounter: boot.canonical }),
      ...(boot !== undefined && boot.written !== boot.canonical && { bootCounterAsWritten: boot.written }),
      ...(timestamp !== undefined && { timestamp }),
      ...(receiveTimestamp !== undefined && { receiveTimestamp }),
      ...(sevPolicy !== undefined && { sevPolicy }),
    },
  };
}

/**
 * The reports an IntegrityEvent may carry: the payload field, the kind, and the field of the report
 * that holds its verdict. Every other IntegrityEvent (`startupEvent`, `shutdownEvent`,
 * `clearTPMEvent`, `updateShieldedInstanceConfig`, `setShieldedInstanceIntegrityPolicy`) is
 * ignored; docs/integrity-events.md says what each one is.
 */
const REPORT_FIELDS: ReadonlyArray<readonly [string, ReportKind, string]> = [
  ['earlyBootReportEvent', 'earlyBoot', 'policyEvaluationPassed'],
  ['lateBootReportEvent', 'lateBoot', 'policyEvaluationPassed'],
  ['sevLaunchAttestationReportEvent', 'launchAttestation', 'integrityEvaluationPassed'],
];

/** Most SEV policy fields kept from a launch-attestation report; Google documents a handful. */
const MAX_SEV_POLICY_FIELDS = 32;
const SEV_POLICY_FIELD = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/**
 * The `sevPolicy` of a launch-attestation report, for the line: its flat boolean and integer
 * fields, as written. Never a reason to reject the report: a failed attestation is contained
 * whatever else its entry carries, so anything else in it is left out, not refused.
 */
function sevPolicyOf(raw: unknown): Record<string, boolean | number> | undefined {
  if (!isObject(raw)) return undefined;
  const kept = Object.entries(raw)
    .filter(([k, v]) => SEV_POLICY_FIELD.test(k) && (typeof v === 'boolean' || (typeof v === 'number' && Number.isSafeInteger(v))))
    .slice(0, MAX_SEV_POLICY_FIELDS);
  return kept.length === 0 ? undefined : (Object.fromEntries(kept) as Record<string, boolean | number>);
}

function parseTime(raw: unknown, field: string): string | undefined {
  if (raw !== undefined && (typeof raw !== 'string' || Number.isNaN(Date.parse(raw)))) {
    reject('invalid-log-entry', `${field} must be an RFC 3339 time, got ${describe(raw)}`);
  }
  return raw;
}

function parseBootCounter(raw: unknown): { readonly canonical: string; readonly written: string } | undefined {
  if (raw === undefined) return undefined;
  const text = typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0 ? String(raw) : raw;
  const canonical = canonicalBootCounter(text);
  if (typeof text !== 'string' || canonical === undefined) {
    reject('invalid-report', `jsonPayload.bootCounter must be a non-negative 64-bit integer, got ${describe(raw)}`);
  }
  return { canonical, written: text };
}

/**
 * The canonical spelling of a boot counter written as decimal digits (`"012"` → `"12"`), or
 * undefined when it is not one (not digits, more than 20 of them, above 2^64 - 1). Every
 * spelling of one boot maps to one string: the ledger keys records by it, so a report cannot
 * escape another report of its boot by spelling the counter differently.
 */
function canonicalBootCounter(text: unknown): string | undefined {
  if (typeof text !== 'string' || !BOOT_COUNTER.test(text)) return undefined;
  const n = BigInt(text);
  return n > MAX_BOOT_COUNTER ? undefined : n.toString();
}

function parseInstance(entry: Json): InstanceRef {
  const resource = entry.resource;
  if (!isObject(resource) || resource.type !== 'gce_instance' || !isObject(resource.labels)) {
    reject('invalid-resource', 'resource must be a gce_instance with labels');
  }
  const { project_id: projectId, zone, instance_id: id } = resource.labels;
  if (typeof projectId !== 'string' || !PROJECT_ID.test(projectId)) {
    reject('invalid-resource', `resource.labels.project_id is not a project id: ${describe(projectId)}`);
  }
  if (typeof zone !== 'string' || !ZONE.test(zone)) {
    reject('invalid-resource', `resource.labels.zone is not a zone: ${describe(zone)}`);
  }
  // The id ends up in an API filter: only plain digits within uint64 range get that far.
  if (typeof id !== 'string' || !INSTANCE_ID.test(id) || BigInt(id) > UINT64_MAX) {
    reject('invalid-resource', `resource.labels.instance_id must be a decimal uint64 without leading zeros, got ${describe(id)}`);
  }
  if (entry.labels !== undefined && !isObject(entry.labels))
    reject('invalid-log-entry', `labels must be a map, got ${describe(entry.labels)}`);
  const labels = entry.labels ?? {};
  const name = labels[INSTANCE_NAME_LABEL];
  if (name === undefined) return { projectId, zone, id };
  if (typeof name !== 'string' || !INSTANCE_NAME.test(name)) {
    reject('invalid-resource', `labels["${INSTANCE_NAME_LABEL}"] is not an instance name: ${describe(name)}`);
  }
  return { projectId, zone, id, name };
}

/**
 * Validates a list of `{pcrNum, value, hashAlgo}` objects: every PCR at most once,
 * non-empty string values. Rejects rather than guesses: a VM is never relearned on a
 * measurement set the handler had to repair.
 */
export function parseMeasurements(raw: unknown, where: string): PcrMeasurement[] {
  if (!Array.isArray(raw)) reject('invalid-measurements', `${where} must be an array, got ${describe(raw)}`);
  if (raw.length === 0) reject('invalid-measurements', `${where} is empty`);
  if (raw.length > MAX_PCR_INDEX + 1) {
    reject('invalid-measurements', `${where} has ${raw.length} entries; a vTPM has ${MAX_PCR_INDEX + 1} PCRs`);
  }
  const seen = new Set<number>();
  return raw.map((m, i) => {
    const at = `${where}[${i}]`;
    if (!isObject(m)) reject('invalid-measurements', `${at} must be an object, got ${describe(m)}`);
    const pcr = parsePcr(m.pcrNum);
    if (pcr === undefined) reject('invalid-measurements', `${at}.pcrNum is not a PCR name like PCR_0: ${describe(m.pcrNum)}`);
    if (seen.has(pcr)) reject('invalid-measurements', `${at} repeats PCR_${pcr}`);
    seen.add(pcr);
    const { value, hashAlgo } = m;
    if (typeof value !== 'string' || value.length === 0 || value.length > MAX_VALUE_LENGTH) {
      reject(
        'invalid-measurements',
        `${at}.value must be a non-empty string of at most ${MAX_VALUE_LENGTH} characters, got ${describe(value)}`,
      );
    }
    if (hashAlgo === undefined) return { pcr, value };
    if (typeof hashAlgo !== 'string' || !HASH_ALGO.test(hashAlgo)) {
      reject('invalid-measurements', `${at}.hashAlgo must be an algorithm name like SHA1, got ${describe(hashAlgo)}`);
    }
    return { pcr, value, hashAlgo };
  });
}

/** Non-throwing form of {@link parseMeasurements}, for callers that report problems themselves. */
export function tryParseMeasurements(
  raw: unknown,
  where: string,
): { readonly ok: true; readonly measurements: PcrMeasurement[] } | { readonly ok: false; readonly detail: string } {
  try {
    return { ok: true, measurements: parseMeasurements(raw, where) };
  } catch (e) {
    if (e instanceof Rejection) return { ok: false, detail: e.detail };
    throw e;
  }
}
