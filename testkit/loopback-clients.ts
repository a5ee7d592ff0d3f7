import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PassThroughClient } from 'google-auth-library';

/**
 * Options of a Google REST client (Compute's, for one) speaking plain HTTP to a loopback server
 * without credentials, as `function/runtime/clients.ts` builds them for an `http:` endpoint. Requests go
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

/** Credentials that work without Google: see {@link startLoopbackCredentials}. */
export interface LoopbackCredentials {
  /** An external-account credentials file, for GOOGLE_APPLICATION_CREDENTIALS. */
  readonly file: string;
  /** The service account the credentials act as: the principal the tools record. */
  readonly principal: string;
  /** `METHOD path` of every request the stand-in answered. */
  readonly requests: readonly string[];
  readonly close: () => Promise<void>;
}

/**
 * A loopback stand-in for the Google services an external-account credential (workload identity
 * federation) talks to: the token exchange (STS), IAM's generateAccessToken for the service
 * account it impersonates, and Resource Manager for its project. Writes, in `dir`, a credentials
 * file whose every URL points at it, so that Application Default Credentials give a token and
 * name `principal` with no network and no Google account.
 */
export async function startLoopbackCredentials(
  dir: string,
  principal = 'ops-bot@sec-ops-1234.iam.gserviceaccount.com',
): Promise<LoopbackCredentials> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => {
      const url = req.url ?? '';
      const body = url.startsWith('/sts')
        ? {
            access_token: 'sts-token',
            issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
            token_type: 'Bearer',
            expires_in: 3600,
          }
        : url.includes(':generateAccessToken')
          ? { accessToken: 'sa-token', expireTime: new Date(Date.now() + 3_600_000).toISOString() }
          : url.startsWith('/projects/')
            ? { projectNumber: '123', projectId: 'sec-ops-1234' }
            : undefined;
      res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(body ?? { error: 'not found' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const subject = join(dir, 'subject-token');
  writeFileSync(subject, 'loopback-subject-token');
  const file = join(dir, 'external-account.json');
  writeFileSync(
    file,
    JSON.stringify({
      type: 'external_account',
      audience: '//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/ci/providers/loopback',
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      token_url: `${base}/sts`,
      service_account_impersonation_url: `${base}/v1/projects/-/serviceAccounts/${principal}:generateAccessToken`,
      cloud_resource_manager_url: `${base}/projects/`,
      credential_source: { file: subject },
    }),
  );
  return {
    file,
    principal,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
