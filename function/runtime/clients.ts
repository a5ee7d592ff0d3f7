import type { InstanceGroupManagersClient } from '@google-cloud/compute/build/src/v1/instance_group_managers_client';
import type { InstancesClient } from '@google-cloud/compute/build/src/v1/instances_client';
import type { RegionInstanceGroupManagersClient } from '@google-cloud/compute/build/src/v1/region_instance_group_managers_client';
import type { ZoneOperationsClient } from '@google-cloud/compute/build/src/v1/zone_operations_client';
import type { Firestore } from '@google-cloud/firestore';
import type { Config } from './config';

/**
 * Memoises an async factory. A failed creation is forgotten so the next event tries again
 * instead of failing forever on a cached rejection.
 */
export function lazy<T>(create: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= create().catch((e: unknown) => {
      pending = undefined;
      throw e;
    });
    return pending;
  };
}

/**
 * Compute clients, loaded on first use through deep imports: the package's index pulls in
 * every Compute service (≈30 MB), these paths only the ones the handler calls.
 */
export async function createInstancesClient(config: Pick<Config, 'computeEndpoint'>): Promise<InstancesClient> {
  const { InstancesClient } = await import('@google-cloud/compute/build/src/v1/instances_client.js');
  return new InstancesClient(await computeClientOptions(config));
}

/** The zonal operations client, to wait for the operations the Instances calls start. */
export async function createZoneOperationsClient(config: Pick<Config, 'computeEndpoint'>): Promise<ZoneOperationsClient> {
  const { ZoneOperationsClient } = await import('@google-cloud/compute/build/src/v1/zone_operations_client.js');
  return new ZoneOperationsClient(await computeClientOptions(config));
}

/** The zonal managed-instance-group client, to list a group's members and abandon one. */
export async function createInstanceGroupManagersClient(config: Pick<Config, 'computeEndpoint'>): Promise<InstanceGroupManagersClient> {
  const { InstanceGroupManagersClient } = await import('@google-cloud/compute/build/src/v1/instance_group_managers_client.js');
  return new InstanceGroupManagersClient(await computeClientOptions(config));
}

/** The regional managed-instance-group client, like {@link createInstanceGroupManagersClient}. */
export async function createRegionInstanceGroupManagersClient(
  config: Pick<Config, 'computeEndpoint'>,
): Promise<RegionInstanceGroupManagersClient> {
  const { RegionInstanceGroupManagersClient } = await import('@google-cloud/compute/build/src/v1/region_instance_group_managers_client.js');
  return new RegionInstanceGroupManagersClient(await computeClientOptions(config));
}

/** The Snapshots client, for the evidence snapshots the `snapshot` step takes in the forensics project. */
export async function createSnapshotsClient(
  config: Pick<Config, 'computeEndpoint'>,
): Promise<import('@google-cloud/compute/build/src/v1/snapshots_client').SnapshotsClient> {
  const { SnapshotsClient } = await import('@google-cloud/compute/build/src/v1/snapshots_client.js');
  return new SnapshotsClient(await computeClientOptions(config));
}

/** The global operations client, to wait for the operations `snapshots.insert` starts. */
export async function createGlobalOperationsClient(
  config: Pick<Config, 'computeEndpoint'>,
): Promise<import('@google-cloud/compute/build/src/v1/global_operations_client').GlobalOperationsClient> {
  const { GlobalOperationsClient } = await import('@google-cloud/compute/build/src/v1/global_operations_client.js');
  return new GlobalOperationsClient(await computeClientOptions(config));
}

/** Options for a Compute client: Application Default Credentials at the default or an `https:` endpoint. */
async function computeClientOptions(config: Pick<Config, 'computeEndpoint'>) {
  const endpoint = config.computeEndpoint;
  if (endpoint === undefined) return undefined;
  if (endpoint.protocol === 'https') return { apiEndpoint: endpoint.host, port: endpoint.port };
  // Plain HTTP only ever points at a local stand-in for the API (tests, demos): send no
  // credentials there, and do not probe the metadata server for any.
  return {
    apiEndpoint: endpoint.host,
    port: endpoint.port,
    protocol: 'http',
    fallback: true,
    authClient: await passThroughAuth(),
  };
}

/**
 * A Firestore client over REST (the default) or gRPC. The baseline store reads over REST: its
 * first query, on a cold instance's first event, does not wait for the gRPC stack, which its
 * listener loads from the second event on. The decision ledger writes over gRPC (ADR 0017):
 * its calls cost the function less CPU than over REST. Jest's sandboxed globals
 * cannot carry the REST transport (its calls never complete): tests there use gRPC. The client
 * finds Application Default Credentials itself; the emulator over REST takes none.
 */
export async function createFirestore(
  config: { readonly firestoreDatabase: string; readonly projectId?: string },
  transport: 'rest' | 'grpc' = 'rest',
): Promise<Firestore> {
  const { Firestore } = await import('@google-cloud/firestore');
  // The client targets the emulator itself when FIRESTORE_EMULATOR_HOST is set, but its REST
  // transport would still look for Google credentials: give it none to find there.
  const auth = process.env.FIRESTORE_EMULATOR_HOST && transport === 'rest' ? { authClient: await passThroughAuth() } : {};
  return new Firestore({
    databaseId: config.firestoreDatabase,
    preferRest: transport === 'rest',
    ...(config.projectId !== undefined && { projectId: config.projectId }),
    ...auth,
  });
}

/**
 * No credentials, for plain-HTTP endpoints and emulators. Requests go through Node's own `fetch`:
 * gaxios's default loads node-fetch with a dynamic import, which never completes inside Jest's
 * sandbox, so a tool run in a test would otherwise hang.
 */
async function passThroughAuth() {
  const { PassThroughClient } = await import('google-auth-library');
  return new PassThroughClient({ transporterOptions: { fetchImplementation: fetch } });
}

/**
 * Where and as whom a Resource Manager or Security Command Center client calls: an endpoint
 * override (`RESOURCE_MANAGER_API_ENDPOINT`, `SECURITY_CENTER_API_ENDPOINT`), and credentials
 * other than Application Default Credentials (a tool's own). A plain-HTTP endpoint gets no
 * credentials, whatever `authClient` says: it only ever points at a local stand-in.
 */
export interface GoogleApiSettings {
  readonly endpoint?: import('../contract/endpoint').ApiEndpoint;
  readonly authClient?: import('google-auth-library').AuthClient;
}

/**
 * A Resource Manager tag bindings client for one zone. A VM's tag bindings live at its zone's own
 * endpoint, `<zone>-cloudresourcemanager.googleapis.com`; the global endpoint refuses them (ADR
 * 0032). An endpoint override serves every zone.
 */
export async function createTagBindingsClient(
  zone: string,
  settings: GoogleApiSettings = {},
): Promise<import('@google-cloud/resource-manager/build/src/v3/tag_bindings_client').TagBindingsClient> {
  const { TagBindingsClient } = await import('@google-cloud/resource-manager/build/src/v3/tag_bindings_client.js');
  return new TagBindingsClient(await restClientOptions(settings, `${zone}-cloudresourcemanager.googleapis.com`));
}

/** A Resource Manager projects client, to read a project's number (`projects.get`). */
export async function createProjectsClient(
  settings: GoogleApiSettings = {},
): Promise<import('@google-cloud/resource-manager/build/src/v3/projects_client').ProjectsClient> {
  const { ProjectsClient } = await import('@google-cloud/resource-manager/build/src/v3/projects_client.js');
  return new ProjectsClient(await restClientOptions(settings));
}

/** A Security Command Center v2 client, for the findings. */
export async function createSecurityCenterClient(
  settings: GoogleApiSettings = {},
): Promise<import('@google-cloud/security-center/build/src/v2/security_center_client').SecurityCenterClient> {
  const { SecurityCenterClient } = await import('@google-cloud/security-center/build/src/v2/security_center_client.js');
  return new SecurityCenterClient(await restClientOptions(settings));
}

/**
 * Options of a client over REST, the transport the tests run against the loopback fakes: the
 * override, else `defaultHost`, else the client's own default endpoint.
 */
async function restClientOptions(settings: GoogleApiSettings, defaultHost?: string) {
  const { endpoint, authClient } = settings;
  if (endpoint?.protocol === 'http') {
    return { apiEndpoint: endpoint.host, port: endpoint.port, protocol: 'http', fallback: true, authClient: await passThroughAuth() };
  }
  return {
    fallback: true,
    ...(endpoint !== undefined
      ? { apiEndpoint: endpoint.host, port: endpoint.port }
      : defaultHost !== undefined && { apiEndpoint: defaultHost }),
    ...(authClient !== undefined && { authClient }),
  };
}
