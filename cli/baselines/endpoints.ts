import { CliError } from '../common';

/** A Google API endpoint other than the default: the shape `function/config.ts` gives `computeEndpoint`. */
export interface ApiEndpoint {
  readonly protocol: 'http' | 'https';
  readonly host: string;
  readonly port: number;
}

/**
 * Reads an endpoint override such as `LOGGING_API_ENDPOINT` or `COMPUTE_API_ENDPOINT`: unset or
 * empty means the default endpoint; otherwise it must be `http(s)://host[:port]` with no path,
 * the rule the function applies to `COMPUTE_API_ENDPOINT`. Throws a {@link CliError} for
 * anything else.
 */
export function apiEndpoint(env: NodeJS.ProcessEnv, variable: string): ApiEndpoint | undefined {
  const raw = env[variable];
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`${variable} must be a URL like http://127.0.0.1:8089; got '${raw}'`);
  }
  const protocol = url.protocol.slice(0, -1);
  if (
    (protocol !== 'http' && protocol !== 'https') ||
    (url.pathname !== '/' && url.pathname !== '') ||
    url.search ||
    url.hash ||
    url.username
  ) {
    throw new CliError(`${variable} must be http(s)://host[:port] with no path; got '${raw}'`);
  }
  const port = url.port ? Number(url.port) : protocol === 'https' ? 443 : 80;
  return { protocol, host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port };
}
