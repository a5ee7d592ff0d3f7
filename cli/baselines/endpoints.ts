import { ApiEndpoint, parseApiEndpoint } from '../../function/config';
import { CliError, probeTcp } from '../common';

export type { ApiEndpoint } from '../../function/config';

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
 * Whether a plain-HTTP override (only ever a local stand-in: a fake, a demo) has something
 * listening: a refused connection is said at once, instead of after the client's retries and
 * the deadline. Undefined when it listens, for HTTPS overrides and for the default endpoint.
 */
export async function standInProblem(
  env: NodeJS.ProcessEnv,
  variable: string,
  endpoint: ApiEndpoint | undefined,
): Promise<string | undefined> {
  if (endpoint?.protocol !== 'http') return undefined;
  const found = await probeTcp(endpoint.host, endpoint.port);
  if (found === 'refused')
    return `nothing listens at ${env[variable]}, where ${variable} points; start the stand-in there, or unset ${variable} to use the Google API`;
  if (found === 'unresolved') return `cannot resolve the host of ${variable} (${env[variable]}); fix it, or unset it to use the Google API`;
  return undefined;
}
