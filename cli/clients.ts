import type { InstancesClient } from '@google-cloud/compute/build/src/v1/instances_client';
import type { Firestore } from '@google-cloud/firestore';
import type { ProjectsClient } from '@google-cloud/resource-manager/build/src/v3/projects_client';
import type { TagBindingsClient } from '@google-cloud/resource-manager/build/src/v3/tag_bindings_client';
import type { SecurityCenterClient } from '@google-cloud/security-center/build/src/v2/security_center_client';
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
 * Options of a Resource Manager or Security Command Center client over REST: `endpoint` (a
 * plain-HTTP one is a local stand-in and gets no credentials), else `defaultHost`, else the
 * client's own default endpoint.
 */
async function restOptions(endpoint: ApiEndpoint | undefined, authClient: AuthClient | undefined, defaultHost?: string) {
  if (endpoint?.protocol === 'http') {
    return { apiEndpoint: endpoint.host, port: endpoint.port, protocol: 'http', fallback: true, authClient: await noCredentials() };
  }
  return {
    fallback: true,
    ...(endpoint !== undefined
      ? { apiEndpoint: endpoint.host, port: endpoint.port }
      : defaultHost !== undefined && { apiEndpoint: defaultHost }),
    ...(authClient !== undefined && { authClient }),
  };
}

/**
 * A Resource Manager tag bindings client for one zone, by deep import: a VM's tag bindings are
 * served by its zone's endpoint, `<zone>-cloudresourcemanager.googleapis.com`, unless `endpoint`
 * (RESOURCE_MANAGER_API_ENDPOINT) serves every zone.
 */
export async function openTagBindingsClient(zone: string, endpoint?: ApiEndpoint, authClient?: AuthClient): Promise<TagBindingsClient> {
  const { TagBindingsClient } = await import('@google-cloud/resource-manager/build/src/v3/tag_bindings_client.js');
  return new TagBindingsClient(await restOptions(endpoint, authClient, `${zone}-cloudresourcemanager.googleapis.com`));
}

/** A Resource Manager projects client (`projects.get`: a VM's project number, for its tag bindings). */
export async function openProjectsClient(endpoint?: ApiEndpoint, authClient?: AuthClient): Promise<ProjectsClient> {
  const { ProjectsClient } = await import('@google-cloud/resource-manager/build/src/v3/projects_client.js');
  return new ProjectsClient(await restOptions(endpoint, authClient));
}

/** A Security Command Center v2 client (a finding's state), by deep import. */
export async function openSecurityCenterClient(endpoint?: ApiEndpoint, authClient?: AuthClient): Promise<SecurityCenterClient> {
  const { SecurityCenterClient } = await import('@google-cloud/security-center/build/src/v2/security_center_client.js');
  return new SecurityCenterClient(await restOptions(endpoint, authClient));
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
