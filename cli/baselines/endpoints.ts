import { ApiEndpoint, parseApiEndpoint } from '../../function/config';
import { CliError } from '../common';

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
