import { hostname, userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import type { InstancesClient } from '@google-cloud/compute/build/src/v1/instances_client';
import type { Firestore } from '@google-cloud/firestore';
import { expiryMillis } from '../function/core/baseline';
import type { ComputeTarget } from './clients';
import { beforeDeadline } from '../function/core/deadline';
import { NetworkFailure, networkFailure, networkSentence, unansweredBecause } from './network';

/*
 * What the operator commands (`integrity-baselines`, `integrity-budget`, `integrity-module`) share: errors worded
 * for people, the exit codes they map to, option parsing, and a deadline on Firestore calls.
 * How a tool runs its commands is cli/tool.ts.
 */

/** How every command's help ends: where the tools find credentials, and their exit codes. */
export const FOOTER = `Uses Application Default Credentials (gcloud auth application-default login), or the
emulator named by FIRESTORE_EMULATOR_HOST. Exit codes: 0 done, 1 failed, 2 usage error.
`;

/**
 * A mistake in how the tool was called: exit code 2, the message and a pointer to the command's
 * `--help` (not the help itself, whose length would scroll the message away).
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A failure of the work itself, worded as a sentence that says what to do: exit code 1. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/** Where a tool writes; injectable so tests can read what it printed. */
export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly readStdin: () => string;
  readonly env: NodeJS.ProcessEnv;
  /**
   * Opens a Firestore client; by default the tools' own (REST, cli/clients.ts). Tests inject one over gRPC,
   * which, unlike REST, runs inside Jest's sandbox.
   */
  readonly openFirestore?: (config: { readonly firestoreDatabase: string; readonly projectId: string }) => Promise<Firestore>;
  /**
   * Opens a Compute Engine Instances client; by default the tools' own (cli/clients.ts). Tests inject one
   * whose plain-HTTP transport runs inside Jest's sandbox, where the default one never answers.
   */
  readonly openInstances?: (config: ComputeTarget) => Promise<InstancesClient>;
}

/** Parsed option values, by option name. */
export type OptionValues = Record<string, string | boolean | string[] | undefined>;

/** Options a command takes, as `node:util` `parseArgs` declares them (`--help` is always added). */
export type Flags = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

/** A command's arguments, parsed: its options by name, and the other words in their order. */
export interface ParsedOptions {
  readonly values: OptionValues;
  readonly positionals: string[];
}

/** Parses a command's arguments; an unknown or malformed option is a {@link UsageError}. */
export function parseOptions(args: string[], flags: Flags): ParsedOptions {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...flags, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as OptionValues, positionals };
  } catch (e) {
    // parseArgs words its errors for programmers ("Unknown option '--x'. To specify a positional…").
    const message = describeError(e).split('. ')[0]!;
    throw new UsageError(message.replace(/^Unknown option/, 'unknown option').replace(/^Option/, 'option'));
  }
}

/** The local `user@host`: who an operator is when nothing better says so. */
export function localUser(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no user entry (some containers)
  }
  return `${user}@${hostname()}`;
}

/** Turns anything thrown into readable text: never `[object Object]`. */
export function describeError(e: unknown): string {
  // Duck-typed: errors from another realm (a VM context, a worker) fail `instanceof Error`.
  if (typeof e === 'object' && e !== null) {
    const o = e as { message?: unknown; detail?: unknown; details?: unknown };
    for (const v of [o.message, o.detail, o.details]) if (typeof v === 'string' && v !== '') return v;
    try {
      return JSON.stringify(e);
    } catch {
      return Object.prototype.toString.call(e);
    }
  }
  return String(e);
}

const CREDENTIALS =
  /credential|Could not load the default|invalid_grant|Unable to read the credential|UNAUTHENTICATED|unauthorized_client/i;

/**
 * What to do about an error that looks like missing or bad credentials; empty otherwise, and
 * for a network failure, which no login fixes (see {@link explainFailure}).
 */
export function credentialsHint(e: unknown): string {
  return CREDENTIALS.test(describeError(e)) && networkFailure(e) === undefined
    ? "; set up Application Default Credentials with 'gcloud auth application-default login' or GOOGLE_APPLICATION_CREDENTIALS"
    : '';
}

/**
 * An error of a Google client as the end of a sentence `could not <do this>: …`: a network
 * failure in the words both tools use for it, anything else as its own text with what to do
 * about credentials when it is about them.
 */
export function explainFailure(e: unknown, env: NodeJS.ProcessEnv = process.env): string {
  const network = networkFailure(e, env);
  return network !== undefined ? networkSentence(network) : `${describeError(e).replace(/\.$/, '')}${credentialsHint(e)}`;
}

/**
 * The text of an error of the Google auth library without its pointer to a web page: the tools
 * say what to run instead.
 */
export function authDetail(e: unknown): string {
  return describeError(e)
    .replace(/\s*Browse to \S+ for more information\.?/, '')
    .replace(/\.$/, '');
}

/**
 * Control characters, line and paragraph separators and bidirectional overrides: refused in
 * what the tool records, escaped in what it prints, since they could disguise what `show` says.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const UNPRINTABLE_ALL = new RegExp(UNPRINTABLE.source, 'g');

/** Text safe to print: unprintable characters written as `\uXXXX` escapes. */
export function printable(value: unknown): string {
  return String(value).replace(UNPRINTABLE_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A free-text option (a note, a reason, a name): printable, one line, not blank; undefined when not given. */
export function textOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  if (typeof value !== 'string') return undefined;
  if (value.trim() === '') throw new UsageError(`--${name} must not be blank`);
  if (UNPRINTABLE.test(value)) throw new UsageError(`--${name} must be printable text on one line (no control characters)`);
  return value;
}

/** Whether `instance` is a numeric instance id rather than an instance name. */
export function isInstanceId(instance: string): boolean {
  return /^[0-9]+$/.test(instance);
}

/** An option's value when it is text (not a flag, not repeated); undefined otherwise. */
export const str = (v: OptionValues[string]): string | undefined => (typeof v === 'string' ? v : undefined);

/** An RFC 3339 time with its zone (`Z` or an offset). */
const RFC3339_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i;

/** `raw` as ms since the epoch when it is an RFC 3339 time with its zone on a date that exists; undefined otherwise. */
export function zonedTimeMillis(raw: string): number | undefined {
  return RFC3339_WITH_ZONE.test(raw) ? expiryMillis(raw) : undefined;
}

/** `2026-12-06 09:00Z` (`minute`) or `2026-12-06 09:00:01Z` (`second`): a recorded time as the tables print it. */
export function utcTime(value: unknown, precision: 'minute' | 'second'): string {
  if (typeof value !== 'string') return '-';
  const ms = Date.parse(value);
  return Number.isNaN(ms)
    ? printable(value)
    : `${new Date(ms)
        .toISOString()
        .slice(0, precision === 'minute' ? 16 : 19)
        .replace('T', ' ')}Z`;
}

/** Rows of printable cells under a header, columns padded to their widest cell (the last one not padded). */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

/** Reads `--timeout` (whole seconds, 1–600, default 60). */
export function timeoutSeconds(raw: OptionValues[string]): number {
  const seconds = Number(raw ?? 60);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 600) {
    throw new UsageError(`--timeout must be a whole number of seconds from 1 to 600, got '${String(raw)}'`);
  }
  return seconds;
}

/** How long a command's calls may take: `seconds` as messages say it, ending at `until` (ms since the epoch). */
export interface Deadline {
  readonly seconds: number;
  readonly until: number;
}

/** A deadline of `seconds` from now. */
export function deadlineIn(seconds: number): Deadline {
  return { seconds, until: Date.now() + seconds * 1000 };
}

/** `<service> did not answer within <seconds> s <what>`: the start of every sentence a passed deadline turns into. */
export function unansweredWithin(service: string, seconds: number, what: string): string {
  return `${service} did not answer within ${seconds} s ${what}`;
}

/** What {@link withDeadline} says once the deadline passed: the sentence of a service, or an error of the caller's. */
export type DeadlineOptions = {
  /** The deadline: whole seconds from now, or a {@link Deadline} already running. */
  readonly seconds: number;
  readonly until?: number;
  /** Where a connection looks for why nothing answered (the host, or the proxy to it); none for a local stand-in. */
  readonly url?: string | readonly string[];
  /** Errors of the work that also mean no answer in time (a client's own deadline, say). */
  readonly timedOut?: (e: unknown) => boolean;
} & (
  | { readonly service: string; readonly what: string; readonly advice: string }
  | {
      /** The error to reject with, given what a connection found wrong (undefined: nothing). */
      readonly late: (network: NetworkFailure | undefined) => Error;
    }
);

/**
 * Settles with `work`, or rejects once the deadline passed (or `work` failed in a way
 * `timedOut` says means the same). Then a quick connection to `url`, when given, looks for a
 * cause (a name that does not resolve, a refusal, no route, at the host or at the proxy), and
 * the rejection is `late(cause)`, or a {@link CliError} saying that `service` did not answer
 * within `seconds` `what`: with the cause in the words of {@link networkSentence} when one was
 * found, with `advice` otherwise.
 */
export async function withDeadline<T>(work: Promise<T>, o: DeadlineOptions, env: NodeJS.ProcessEnv = process.env): Promise<T> {
  const expired = new Error('deadline');
  try {
    return await beforeDeadline(work, Math.max(0, (o.until ?? Date.now() + o.seconds * 1000) - Date.now()), () => expired);
  } catch (e) {
    if (e !== expired && !(o.timedOut?.(e) ?? false)) throw e;
    const network = o.url === undefined ? undefined : await unansweredBecause(o.url, env);
    if ('late' in o) throw o.late(network);
    const late = unansweredWithin(o.service, o.seconds, o.what);
    throw new CliError(network === undefined ? `${late}; ${o.advice}` : `${late}: ${networkSentence(network)}`);
  }
}

/**
 * Holds a Google client a lookup creates, and closes it once, however the lookup ends: also when
 * its deadline passed while the client was still being created (`hold` then says so, and the
 * caller closes and gives up).
 */
export function closedOnce<C extends { close(): Promise<unknown> }>(): {
  readonly hold: (client: C) => boolean;
  readonly close: () => Promise<void>;
} {
  let client: C | undefined;
  let done = false;
  const close = async () => {
    done = true;
    const c = client;
    client = undefined;
    await c?.close().catch(() => undefined);
  };
  return {
    hold: (c) => {
      client = c;
      return !done;
    },
    close,
  };
}
