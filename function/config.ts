import { DEFAULT_BASELINE_COLLECTION } from './baseline';
import { RESPONSE_MODES, ResponseMode, STALE_EVENT_POLICIES, StaleEventPolicy } from './decide';
import { LOG_LEVELS, LogLevel } from './logger';

/** Runtime configuration, read from environment variables once per instance. */
export interface Config {
  readonly mode: ResponseMode;
  /** Firestore database id; `(default)` for a project's default database. */
  readonly firestoreDatabase: string;
  readonly baselineCollection: string;
  /** Project for Firestore; undefined lets the client discover it. */
  readonly projectId?: string;
  /** Non-default Compute endpoint. `http:` endpoints are used without credentials. */
  readonly computeEndpoint?: { readonly protocol: 'http' | 'https'; readonly host: string; readonly port: number };
  readonly logLevel: LogLevel;
  /** Failed reports older than this are resolved by `staleEventPolicy`. */
  readonly maxEventAgeSeconds: number;
  readonly staleEventPolicy: StaleEventPolicy;
  /** Deadline of each Compute API call; a timed-out call fails the event, which is redelivered. */
  readonly computeTimeoutSeconds: number;
}

/** A configuration problem: the function refuses to start rather than act on a guess. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined || value === '') return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(`${name} must be one of ${allowed.join(', ')}; got '${value}'`);
}

function integer(name: string, value: string | undefined, min: number, max: number, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n < min || n > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}; got '${value}'`);
  return n;
}

/** Firestore database ids: `(default)` or 4–63 lowercase letters, digits and hyphens. */
export const DATABASE_ID = /^(?:\(default\)|[a-z][a-z0-9-]{2,61}[a-z0-9])$/;
/** Top-level collection ids: no slash, not `.` or `..`, not `__…__`. */
export const COLLECTION_ID = /^(?!__.*__$)(?!\.\.?$)[^/]{1,1500}$/;

/** Reads and validates the function's environment variables. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const firestoreDatabase = env.FIRESTORE_DATABASE || '(default)';
  if (!DATABASE_ID.test(firestoreDatabase)) {
    throw new ConfigError(`FIRESTORE_DATABASE must be '(default)' or a database id like 'integrity-baselines'; got '${firestoreDatabase}'`);
  }
  const baselineCollection = env.BASELINE_COLLECTION || DEFAULT_BASELINE_COLLECTION;
  if (!COLLECTION_ID.test(baselineCollection)) {
    throw new ConfigError(`BASELINE_COLLECTION must be a top-level collection id; got '${baselineCollection}'`);
  }
  const projectId = env.GOOGLE_CLOUD_PROJECT || undefined;
  return {
    mode: oneOf('RESPONSE_MODE', env.RESPONSE_MODE, RESPONSE_MODES, 'relearn-if-known-good'),
    firestoreDatabase,
    baselineCollection,
    ...(projectId !== undefined && { projectId }),
    ...parseEndpoint(env.COMPUTE_API_ENDPOINT),
    logLevel: oneOf('LOG_LEVEL', env.LOG_LEVEL, LOG_LEVELS, 'debug'),
    maxEventAgeSeconds: integer('MAX_EVENT_AGE_SECONDS', env.MAX_EVENT_AGE_SECONDS, 60, 604800, 3600),
    staleEventPolicy: oneOf('STALE_EVENT_POLICY', env.STALE_EVENT_POLICY, STALE_EVENT_POLICIES, 'fail-closed'),
    computeTimeoutSeconds: integer('COMPUTE_TIMEOUT_SECONDS', env.COMPUTE_TIMEOUT_SECONDS, 1, 300, 20),
  };
}

function parseEndpoint(raw: string | undefined): Pick<Config, 'computeEndpoint'> {
  if (raw === undefined || raw === '') return {};
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`COMPUTE_API_ENDPOINT must be a URL like http://127.0.0.1:8089; got '${raw}'`);
  }
  const protocol = url.protocol.slice(0, -1);
  if ((protocol !== 'http' && protocol !== 'https') || (url.pathname !== '/' && url.pathname !== '') || url.search || url.username) {
    throw new ConfigError(`COMPUTE_API_ENDPOINT must be http(s)://host[:port] with no path; got '${raw}'`);
  }
  const port = url.port ? Number(url.port) : protocol === 'https' ? 443 : 80;
  return { computeEndpoint: { protocol, host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port } };
}
