import type { InstancesClient } from '@google-cloud/compute/build/src/v1/instances_client';
import type { Firestore } from '@google-cloud/firestore';
import type { AuthClient } from 'google-auth-library';
import type { ApiEndpoint } from '../function/contract';

/*
 * The tools' Google clients. Unlike the function's (function/runtime/clients.ts), which find
 * Application Default Credentials themselves, these authenticate with the client whose
 * credentials the tool checked first, so a run fetches one token and fails with one sentence.
 */

/** Where a tool asks Compute Engine: the default endpoint, or the one COMPUTE_API_ENDPOINT names. */
export interface ComputeTarget {
  readonly computeEndpoint?: ApiEndpoint;
}

/**
 * A Compute Instances client, through a deep import (the package's index loads every Compute
 * service). A plain-HTTP endpoint is a local stand-in for the API: it gets no credentials.
 */
export async function openInstancesClient(target: ComputeTarget, authClient?: AuthClient): Promise<InstancesClient> {
  const { InstancesClient } = await import('@google-cloud/compute/build/src/v1/instances_client.js');
  const endpoint = target.computeEndpoint;
  const auth = authClient === undefined ? {} : { authClient };
  if (endpoint === undefined) return new InstancesClient(auth);
  if (endpoint.protocol === 'https') return new InstancesClient({ apiEndpoint: endpoint.host, port: endpoint.port, ...auth });
  return new InstancesClient({
    apiEndpoint: endpoint.host,
    port: endpoint.port,
    protocol: 'http',
    fallback: true,
    authClient: await noCredentials(),
  });
}

/**
 * A Firestore client over REST. With FIRESTORE_EMULATOR_HOST set the client targets the
 * emulator, which takes no credentials; otherwise it authenticates with `authClient`.
 */
export async function openFirestore(
  config: { readonly firestoreDatabase: string; readonly projectId: string },
  authClient?: AuthClient,
): Promise<Firestore> {
  const { Firestore } = await import('@google-cloud/firestore');
  const auth = process.env.FIRESTORE_EMULATOR_HOST ? { authClient: await noCredentials() } : authClient !== undefined ? { authClient } : {};
  return new Firestore({ databaseId: config.firestoreDatabase, projectId: config.projectId, preferRest: true, ...auth });
}

/**
 * No credentials, for a plain-HTTP stand-in or the emulator. Requests go through Node's own
 * `fetch`: gaxios's default loads node-fetch with a dynamic import that never completes inside
 * Jest's sandbox.
 */
async function noCredentials(): Promise<AuthClient> {
  const { PassThroughClient } = await import('google-auth-library');
  return new PassThroughClient({ transporterOptions: { fetchImplementation: fetch } });
}
