/*
 * The one rule for an API endpoint override (`COMPUTE_API_ENDPOINT`, the tools' endpoint
 * variables), shared by the function and the tools.
 */

/** The variable naming a Compute Engine endpoint other than the default, read by the function and the tools. */
export const COMPUTE_API_ENDPOINT = 'COMPUTE_API_ENDPOINT';

/**
 * The variable naming a Resource Manager endpoint other than the default (the quarantine's tag
 * bindings). By default a VM's tag bindings go to its zone's own endpoint,
 * `<zone>-cloudresourcemanager.googleapis.com`; an override serves every zone.
 */
export const RESOURCE_MANAGER_API_ENDPOINT = 'RESOURCE_MANAGER_API_ENDPOINT';

/** The variable naming a Security Command Center endpoint other than the default (the findings). */
export const SECURITY_CENTER_API_ENDPOINT = 'SECURITY_CENTER_API_ENDPOINT';

/** A Google API endpoint other than the default. */
export interface ApiEndpoint {
  readonly protocol: 'http' | 'https';
  readonly host: string;
  readonly port: number;
}

/**
 * Reads an endpoint override such as `COMPUTE_API_ENDPOINT`: unset or empty is the default
 * endpoint; otherwise `http(s)://host[:port]` with no path. The function and the tools apply this
 * one rule; a value that breaks it comes back as a sentence naming the variable.
 */
export function parseApiEndpoint(
  variable: string,
  raw: string | undefined,
): { readonly endpoint?: ApiEndpoint; readonly problem?: string } {
  if (raw === undefined || raw === '') return {};
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { problem: `${variable} must be a URL like http://127.0.0.1:8089; got '${raw}'` };
  }
  const protocol = url.protocol.slice(0, -1);
  if (
    (protocol !== 'http' && protocol !== 'https') ||
    (url.pathname !== '/' && url.pathname !== '') ||
    url.search ||
    url.hash ||
    url.username
  ) {
    return { problem: `${variable} must be http(s)://host[:port] with no path; got '${raw}'` };
  }
  const port = url.port ? Number(url.port) : protocol === 'https' ? 443 : 80;
  return { endpoint: { protocol, host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port } };
}
