import type { LoggingServiceV2Client } from '@google-cloud/logging-api/build/src/v2/logging_service_v2_client';
import { Code, errorCode } from '../../function/core/api-errors';
import { INSTANCE_ID, INSTANCE_NAME, INTEGRITY_LOG_ID, PROJECT_ID, UINT64_MAX, ZONE } from '../../function/contract';
import { CliError, closedOnce, credentialsHint, deadlineIn, describeError, isInstanceId, unansweredWithin, withDeadline } from '../common';
import { networkFailure, networkSentence } from '../network';
import { ApiEndpoint, apiEndpoint, probeUrlOf, standInProblem } from './endpoints';

/*
 * Reads, straight from Cloud Logging, the Shielded VM late-boot integrity reports of one VM since
 * its last start: what `gcloud logging read … --format=json` would print, without gcloud.
 *
 * The Logging client is loaded on first use through a deep import of its generated v2 client:
 * the `@google-cloud/logging` index pulls in the whole library (writers, sinks, middleware).
 * Since @google-cloud/logging 12 that generated client lives in `@google-cloud/logging-api`,
 * which `@google-cloud/logging` depends on.
 */

/** A VM as an operator names it on the command line, before Compute Engine resolved it. */
export interface LateBootQuery {
  /** Project the VM runs in: its logs are read from there. */
  readonly vmProject: string;
  /** Zone of the VM, like `us-central1-a`. */
  readonly zone: string;
  /** Instance name (`web-1`) or numeric instance id (`4617930134256183721`). */
  readonly instance: string;
}

/**
 * Whose reports to read: a VM by its numeric id, as Compute Engine gave it. Never by the
 * instance-name label, which any writer of a log entry sets as it likes, and which a new VM
 * given an old VM's name shares with it.
 */
export interface VmReportsQuery {
  readonly vmProject: string;
  readonly zone: string;
  /** Numeric instance id, as a decimal string. */
  readonly instanceId: string;
}

/** A Logging API endpoint other than the default, from `LOGGING_API_ENDPOINT`. */
export type LoggingEndpoint = ApiEndpoint;

/** Environment variable naming a non-default Logging API endpoint (a local stand-in in tests). */
export const LOGGING_API_ENDPOINT = 'LOGGING_API_ENDPOINT';

/** Where Cloud Logging is asked, unless LOGGING_API_ENDPOINT names another endpoint. */
const LOGGING_URL = 'https://logging.googleapis.com';

/** Most late-boot reports of one VM read since its last start: a VM writes one per boot. */
export const MAX_REPORTS = 1000;

/** Entries per `entries.list` page. */
const PAGE_SIZE = 100;

/** What `entries.list` needs, for the error a refusal turns into. */
const LIST_PERMISSION = 'logging.logEntries.list';

// The contract's patterns, which the report parser checks too, so a VM this module can ask about is
// one whose report it would accept. None of them admits a quote or a backslash: values go into the
// filter as is.

const SEVERITY_DEFAULT = new Set<unknown>(['DEFAULT', 0]);

/** Why `zone` is not a Compute Engine zone, or undefined when it is one. */
export function zoneProblem(zone: unknown): string | undefined {
  return typeof zone === 'string' && ZONE.test(zone) ? undefined : `'${String(zone)}' is not a Compute Engine zone (like us-central1-a)`;
}

/** Why `instance` is neither an instance name nor a numeric instance id, or undefined when it is one of them. */
export function instanceProblem(instance: unknown): string | undefined {
  if (typeof instance !== 'string') return `the instance must be a name or a numeric id, got ${typeof instance}`;
  if (isInstanceId(instance)) {
    return instance !== '0' && INSTANCE_ID.test(instance) && BigInt(instance) <= UINT64_MAX
      ? undefined
      : `'${instance}' is not an instance id (a decimal number up to 2^64-1, without leading zeros)`;
  }
  return INSTANCE_NAME.test(instance)
    ? undefined
    : `'${instance}' is not an instance name (1-63 lowercase letters, digits and hyphens, starting with a letter) nor a numeric instance id`;
}

/**
 * Checks a query before anything is sent, so a typo is refused with a sentence rather than
 * turned into a filter that matches nothing. Throws a {@link CliError} naming every problem.
 */
export function validateLateBootQuery(q: LateBootQuery): void {
  const problems: string[] = [];
  if (typeof q.vmProject !== 'string' || !PROJECT_ID.test(q.vmProject)) {
    problems.push(`'${String(q.vmProject)}' is not a Google Cloud project id (like my-project-123)`);
  }
  for (const problem of [zoneProblem(q.zone), instanceProblem(q.instance)]) if (problem !== undefined) problems.push(problem);
  if (problems.length > 0) throw new CliError(`cannot look up the late-boot report: ${problems.join('; ')}`);
}

/**
 * The Logging query that selects the late-boot integrity reports of one VM: its project's
 * Shielded VM integrity log, its zone, and its instance id. Validates the query first.
 */
export function lateBootFilter(q: VmReportsQuery): string {
  validateLateBootQuery({ vmProject: q.vmProject, zone: q.zone, instance: q.instanceId });
  if (!isInstanceId(q.instanceId)) throw new CliError(`cannot look up late-boot reports: '${q.instanceId}' is not a numeric instance id`);
  return [
    `logName="projects/${q.vmProject}/logs/${INTEGRITY_LOG_ID}"`,
    'resource.type="gce_instance"',
    `resource.labels.zone="${q.zone}"`,
    `resource.labels.instance_id="${q.instanceId}"`,
    'jsonPayload.lateBootReportEvent:*',
  ].join(' AND ');
}

/**
 * Reads `LOGGING_API_ENDPOINT`: unset or empty means the default endpoint; otherwise it must be
 * `http(s)://host[:port]` with no path. Throws a {@link CliError} for anything else.
 */
export function loggingEndpoint(env: NodeJS.ProcessEnv): LoggingEndpoint | undefined {
  return apiEndpoint(env, LOGGING_API_ENDPOINT);
}

async function createClient(endpoint: LoggingEndpoint | undefined): Promise<LoggingServiceV2Client> {
  const { LoggingServiceV2Client } = await import('@google-cloud/logging-api/build/src/v2/logging_service_v2_client.js');
  // REST (`fallback`) rather than gRPC: one HTTP request, and the same transport as the stand-in.
  if (endpoint === undefined) return new LoggingServiceV2Client({ fallback: true });
  if (endpoint.protocol === 'https') return new LoggingServiceV2Client({ apiEndpoint: endpoint.host, port: endpoint.port, fallback: true });
  // Plain HTTP only ever points at a local stand-in (tests, demos): send no credentials there and
  // do not probe the metadata server for any. Node's own fetch: gaxios's default (a dynamic
  // import of node-fetch) cannot load in every host, Jest's sandbox among them.
  const { PassThroughClient } = await import('google-auth-library');
  return new LoggingServiceV2Client({
    apiEndpoint: endpoint.host,
    port: endpoint.port,
    protocol: 'http',
    fallback: true,
    authClient: new PassThroughClient({ transporterOptions: { fetchImplementation: fetch } }),
  });
}

/**
 * Reads the late-boot integrity reports of one VM from Cloud Logging (`entries.list` on
 * `projects/<vmProject>`, by instance id, newest `timestamp` first), as the plain LogEntry JSON
 * that `gcloud logging read --format=json` prints, which `parseMessage` accepts as it accepts a
 * saved entry. Reads until the first entry dated before `since` (that entry included, so a
 * caller can say why nothing newer counts), or to the end of the log; empty when the VM has no
 * such report. More than {@link MAX_REPORTS} entries are refused: a VM writes one per boot.
 *
 * Talks to `LOGGING_API_ENDPOINT` when `env` sets it (`http:` without credentials), else to
 * the default endpoint with Application Default Credentials. Rejects with a {@link CliError}
 * worded for the operator: an invalid query (before any request), a refusal (naming the
 * permission), an answer about another VM, or no answer within `timeoutSeconds`. The client is
 * always closed.
 */
export async function lateBootReportsSince(
  q: VmReportsQuery,
  since: string,
  env: NodeJS.ProcessEnv,
  timeoutSeconds: number,
): Promise<Record<string, unknown>[]> {
  const filter = lateBootFilter(q);
  const sinceMs = Date.parse(since);
  if (Number.isNaN(sinceMs)) throw new CliError(`cannot look up late-boot reports since '${since}': not an RFC 3339 time`);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
    throw new CliError(`the Cloud Logging timeout must be a positive number of seconds, got ${String(timeoutSeconds)}`);
  }
  const endpoint = loggingEndpoint(env);
  const what = `for the late-boot reports of VM id ${q.instanceId} in ${q.vmProject}/${q.zone}`;
  // A stand-in that is not running is named at once, not after the deadline.
  const absent = await standInProblem(env, LOGGING_API_ENDPOINT, endpoint);
  if (absent !== undefined) throw new CliError(`cannot read Cloud Logging ${what}: ${absent}`);
  const deadline = deadlineIn(timeoutSeconds);
  const probe = probeUrlOf(endpoint, LOGGING_URL);
  // The client is closed once, when the lookup ends, however it ends: also when the deadline
  // passes while it is still being created.
  const { hold, close } = closedOnce<LoggingServiceV2Client>();
  const search = async (): Promise<Record<string, unknown>[]> => {
    const created = await createClient(endpoint);
    if (!hold(created)) return close().then(() => []);
    // Create the stub (and find credentials) here, where a failure is caught: listLogEntries
    // starts it with `initialize().catch((e) => { throw e })`, an unhandled rejection that ends
    // the process when no Application Default Credentials are found.
    await created.initialize();
    const request = { resourceNames: [`projects/${q.vmProject}`], filter, orderBy: 'timestamp desc', pageSize: PAGE_SIZE };
    const found: Record<string, unknown>[] = [];
    let pageToken: string | undefined;
    for (;;) {
      const [entries, , response] = await created.listLogEntries(
        { ...request, ...(pageToken !== undefined && { pageToken }) },
        { autoPaginate: false, timeout: Math.max(1, deadline.until - Date.now()) },
      );
      for (const raw of entries) {
        const entry = checkedEntry(plainLogEntry(raw), q);
        found.push(entry);
        // Newest first: everything after an entry dated before `since` is older still.
        if (typeof entry.timestamp === 'string' && Date.parse(entry.timestamp) < sinceMs) return found;
        if (found.length > MAX_REPORTS) {
          throw new CliError(
            `Cloud Logging holds more than ${MAX_REPORTS} late-boot reports of VM id ${q.instanceId} in ${q.vmProject}/${q.zone} ` +
              `dated since ${since}, the VM's last start; a VM writes one per boot, so most of them are not its own: ` +
              `investigate who writes to the log projects/${q.vmProject}/logs/${INTEGRITY_LOG_ID}`,
          );
        }
      }
      // An empty page with a token means the search has not finished yet, not that nothing matched.
      const next = response?.nextPageToken;
      if (!next) return found;
      pageToken = next;
    }
  };
  try {
    return await withDeadline(
      search(),
      {
        ...deadline,
        ...(probe !== undefined && { url: probe }),
        timedOut: (e) => {
          const code = e instanceof CliError || networkFailure(e, env) !== undefined ? undefined : errorCode(e);
          return code === Code.DEADLINE_EXCEEDED || code === Code.UNAVAILABLE;
        },
        late: (network) => {
          const late = unansweredWithin('Cloud Logging', timeoutSeconds, what);
          return new CliError(
            network !== undefined
              ? `${late}: ${networkSentence(network)}`
              : `${late}; check the network, ${LOGGING_API_ENDPOINT} ` +
                  `(${endpoint ? `now ${env[LOGGING_API_ENDPOINT]}` : 'unset: the default endpoint'}) and your credentials, or allow more time`,
          );
        },
      },
      env,
    );
  } catch (e) {
    const network = e instanceof CliError ? undefined : networkFailure(e, env);
    if (network !== undefined) throw new CliError(`could not read Cloud Logging ${what}: ${networkSentence(network)}`);
    throw explain(e, q.vmProject, what);
  } finally {
    await close();
  }
}

/** Turns a failed `entries.list` into a sentence that says what to do. */
function explain(e: unknown, vmProject: string, what: string): Error {
  if (e instanceof CliError) return e;
  const detail = describeError(e);
  switch (errorCode(e)) {
    case Code.PERMISSION_DENIED:
      return new CliError(
        `Cloud Logging refused to list log entries in project ${vmProject} (${detail}); the caller needs ` +
          `${LIST_PERMISSION} there, for example through roles/logging.viewer`,
      );
    case Code.UNAUTHENTICATED:
      return new CliError(
        `Cloud Logging did not accept the credentials (${detail}); set up Application Default Credentials with ` +
          `'gcloud auth application-default login' or GOOGLE_APPLICATION_CREDENTIALS`,
      );
    case Code.NOT_FOUND:
      return new CliError(`Cloud Logging does not know project ${vmProject} (${detail}); check the project id`);
    case Code.RESOURCE_EXHAUSTED:
      return new CliError(`Cloud Logging is rate-limiting reads in project ${vmProject} (${detail}); try again in a minute`);
    case Code.INVALID_ARGUMENT:
      return new CliError(`Cloud Logging rejected the query ${what} (${detail}); this is a bug in this tool, please report it`);
    default:
      return new CliError(`could not read Cloud Logging ${what}: ${detail.replace(/\.$/, '')}${credentialsHint(e)}`);
  }
}

/**
 * Refuses an entry that is not what was asked for: a baseline recorded from another VM's
 * report would vouch for the wrong measurements.
 */
function checkedEntry(entry: Record<string, unknown>, q: VmReportsQuery): Record<string, unknown> {
  const resource = isObject(entry.resource) ? entry.resource : {};
  const labels = isObject(resource.labels) ? resource.labels : {};
  const payload = isObject(entry.jsonPayload) ? entry.jsonPayload : {};
  if (
    labels.project_id !== q.vmProject ||
    labels.zone !== q.zone ||
    labels.instance_id !== q.instanceId ||
    payload.lateBootReportEvent === undefined
  ) {
    throw new CliError(
      `Cloud Logging answered with an entry that is not a late-boot report of VM id ${q.instanceId} in ${q.vmProject}/${q.zone} ` +
        `(insertId ${JSON.stringify(entry.insertId)}); refusing to use it, check ${LOGGING_API_ENDPOINT}`,
    );
  }
  return entry;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

/** A google.protobuf.Value, as the client decodes it, back to plain JSON. */
function plainValue(v: unknown): unknown {
  if (!isObject(v)) return null;
  const kind =
    typeof v.kind === 'string' ? v.kind : ['stringValue', 'numberValue', 'boolValue', 'structValue', 'listValue'].find((k) => k in v);
  switch (kind) {
    case 'stringValue':
    case 'numberValue':
    case 'boolValue':
      return v[kind];
    case 'structValue':
      return plainStruct(v.structValue);
    case 'listValue':
      return isObject(v.listValue) && Array.isArray(v.listValue.values) ? v.listValue.values.map(plainValue) : [];
    default:
      return null;
  }
}

/** A google.protobuf.Struct, as the client decodes it, back to a plain object. */
function plainStruct(s: unknown): Json {
  const fields = isObject(s) && isObject(s.fields) ? s.fields : {};
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, plainValue(v)]));
}

/** A google.protobuf.Timestamp to RFC 3339, with 0, 3, 6 or 9 fractional digits as proto3 JSON writes it. */
function rfc3339(t: unknown): string | undefined {
  if (!isObject(t)) return undefined;
  const seconds = Number(t.seconds ?? 0);
  const nanos = Number(t.nanos ?? 0);
  const date = new Date(seconds * 1000);
  if (!Number.isFinite(seconds) || !Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999 || Number.isNaN(date.getTime())) {
    throw new CliError(`Cloud Logging answered with an unreadable timestamp ${JSON.stringify(t)}`);
  }
  const digits = nanos === 0 ? 0 : nanos % 1_000_000 === 0 ? 3 : nanos % 1000 === 0 ? 6 : 9;
  const fraction = digits === 0 ? '' : `.${String(nanos).padStart(9, '0').slice(0, digits)}`;
  return `${date.toISOString().slice(0, 19)}${fraction}Z`;
}

/** A google.protobuf.Duration to its JSON form, like `0.250s`. */
function durationText(d: unknown): string | undefined {
  if (!isObject(d)) return undefined;
  const seconds = Number(d.seconds ?? 0);
  const nanos = Number(d.nanos ?? 0);
  if (seconds === 0 && nanos === 0) return undefined;
  return `${seconds + nanos / 1e9}s`;
}

/** `{[key]: map}` for a non-empty string map, else nothing: proto3 JSON leaves an empty map out. */
function labelMap(key: string, map: unknown): Json {
  return isObject(map) && Object.keys(map).length > 0 ? { [key]: { ...map } } : {};
}

/** Drops what proto3 JSON leaves out: nulls, empty strings, false, zeros, empty lists and maps. */
function pruned(v: unknown): unknown {
  if (v === null || v === undefined || v === '' || v === false || v === 0 || v === '0') return undefined;
  if (Array.isArray(v)) return v.length === 0 ? undefined : v.map(pruned);
  if (ArrayBuffer.isView(v)) return v.byteLength === 0 ? undefined : Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  if (isObject(v)) {
    const kept = Object.entries(v)
      .map(([k, x]) => [k, pruned(x)] as const)
      .filter(([, x]) => x !== undefined);
    return kept.length === 0 ? undefined : Object.fromEntries(kept);
  }
  return v;
}

/**
 * Converts a LogEntry as the Logging client returns it (protobuf-shaped: `jsonPayload` as a
 * `google.protobuf.Struct`, timestamps as `{seconds, nanos}`, every unset field filled with its
 * default) into the plain JSON of the REST API and `gcloud logging read --format=json`:
 * `jsonPayload` a plain object, timestamps RFC 3339 strings, severity its name, unset fields absent.
 */
export function plainLogEntry(entry: unknown): Record<string, unknown> {
  if (!isObject(entry)) throw new CliError(`Cloud Logging answered with something that is not a log entry: ${describeError(entry)}`);
  const out: Json = {};
  const put = (key: string, value: unknown) => {
    if (value !== undefined) out[key] = value;
  };
  put('insertId', pruned(entry.insertId));
  put('logName', pruned(entry.logName));
  if (isObject(entry.resource)) {
    put('resource', { ...(entry.resource.type ? { type: entry.resource.type } : {}), ...labelMap('labels', entry.resource.labels) });
  }
  Object.assign(out, labelMap('labels', entry.labels));
  if (isObject(entry.jsonPayload)) out.jsonPayload = plainStruct(entry.jsonPayload);
  put('textPayload', typeof entry.textPayload === 'string' && entry.textPayload !== '' ? entry.textPayload : undefined);
  // protoPayload is an Any whose bytes this tool cannot decode: keep its type only.
  if (isObject(entry.protoPayload) && typeof entry.protoPayload.type_url === 'string' && entry.protoPayload.type_url !== '') {
    out.protoPayload = { '@type': entry.protoPayload.type_url };
  }
  put('timestamp', rfc3339(entry.timestamp));
  put('receiveTimestamp', rfc3339(entry.receiveTimestamp));
  if (entry.severity !== undefined && entry.severity !== null && !SEVERITY_DEFAULT.has(entry.severity)) out.severity = entry.severity;
  if (isObject(entry.httpRequest)) {
    put('httpRequest', pruned({ ...entry.httpRequest, latency: durationText(entry.httpRequest.latency) }));
  }
  for (const key of ['operation', 'trace', 'spanId', 'traceSampled', 'sourceLocation', 'split']) put(key, pruned(entry[key]));
  return out;
}
