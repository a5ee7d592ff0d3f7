import { PassThroughClient } from 'google-auth-library';

/**
 * Options of a Google REST client (Compute's, for one) speaking plain HTTP to a loopback server
 * without credentials, as `function/clients.ts` builds them for an `http:` endpoint. Requests go
 * through Node's fetch: gaxios's default transport never answers inside Jest's sandbox.
 */
export function loopbackClientOptions(port: number) {
  return {
    apiEndpoint: '127.0.0.1',
    port,
    protocol: 'http',
    fallback: true,
    authClient: new PassThroughClient({ transporterOptions: { fetchImplementation: fetch } }),
  };
}
