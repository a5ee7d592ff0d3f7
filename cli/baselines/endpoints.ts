import { ApiEndpoint, parseApiEndpoint } from '../../function/contract';
import { CliError } from '../common';
import { probeConnection } from '../network';

/**
 * Reads an endpoint override such as `LOGGING_API_ENDPOINT` or `COMPUTE_API_ENDPOINT` by the
 * function's own rule: unset or empty means the default endpoint. Throws a {@link CliError} for
 * anything else than `http(s)://host[:port]`.
 */
export function apiEndpoint(env: NodeJS.ProcessEnv, variable: string): ApiEndpoint | undefined {
  const { endpoint, problem } = parseApiEndpoint(variable, env[variable]);
  if (problem !== undefined) throw new CliError(problem);
  return endpoint;
}

/**
 * Where a connection looks for why an API did not answer in time: the HTTPS override, or the
 * API's default `url`. Undefined for a plain-HTTP override: a local stand-in, which
 * {@link standInProblem} checks before any call.
 */
export function probeUrlOf(endpoint: ApiEndpoint | undefined, url: string): string | undefined {
  if (endpoint === undefined) return url;
  return endpoint.protocol === 'http' ? undefined : `https://${endpoint.host}:${endpoint.port}`;
}

/**
 * Why nothing can answer at `host:port`, which `variable` (now `value`) names as a local
 * stand-in (an emulator, a plain-HTTP fake): a refused connection or a host that does not
 * resolve, said at once instead of after the client's retries and the deadline. Undefined when
 * something listens (or nothing answers in time: a silent network says nothing about why).
 * `standIn` is what to start there, `instead` what unsetting `variable` uses, `doing` (when
 * given) what the tool cannot do.
 */
export async function listenerProblem(o: {
  readonly variable: string;
  readonly value: string;
  readonly host: string;
  readonly port: number;
  readonly standIn: string;
  readonly instead: string;
  readonly doing?: string;
}): Promise<string | undefined> {
  const found = await probeConnection(o.host.replace(/^\[|\]$/g, ''), o.port);
  if (found?.kind === 'refused') {
    return (
      `nothing listens at ${o.value}, where ${o.variable} points${o.doing === undefined ? '' : `, so the tool cannot ${o.doing}`}; ` +
      `start ${o.standIn} there, or unset ${o.variable} to use ${o.instead}`
    );
  }
  if (found?.kind === 'unresolved') return `cannot resolve the host of ${o.variable} (${o.value}); fix it, or unset it to use ${o.instead}`;
  return undefined;
}

/**
 * Whether a plain-HTTP override (only ever a local stand-in: a fake, a demo) has something
 * listening: see {@link listenerProblem}. Undefined when it listens, for HTTPS overrides and for
 * the default endpoint.
 */
export async function standInProblem(
  env: NodeJS.ProcessEnv,
  variable: string,
  endpoint: ApiEndpoint | undefined,
): Promise<string | undefined> {
  if (endpoint?.protocol !== 'http') return undefined;
  return listenerProblem({
    variable,
    value: env[variable] ?? '',
    host: endpoint.host,
    port: endpoint.port,
    standIn: 'the stand-in',
    instead: 'the Google API',
  });
}
export type { ApiEndpoint } from '../../function/contract';
