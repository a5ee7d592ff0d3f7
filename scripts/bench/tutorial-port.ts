// `relearn_if_known_good`, the Python function of Google's original Shielded VM integrity
// tutorial, ported to a TypeScript CloudEvent function for the storm benchmark (scripts/bench-storm.ts).
// Never shipped: it is what the construct's function is measured against, so it keeps the
// tutorial's algorithm step for step, including its costs: a Firestore client per event, the
// whole known-good collection read per event, a Compute client per event and an
// `instances.list` by id before the action. Only the transport is the construct's (Firestore
// over REST, Compute over REST to a loopback stand-in), so that the two differ in algorithm.

import { CloudEvent, cloudEvent } from '@google-cloud/functions-framework';
import { Firestore } from '@google-cloud/firestore';
import { InstancesClient } from '@google-cloud/compute/build/src/v1/instances_client';
import { PassThroughClient } from 'google-auth-library';
import { TUTORIAL_COLLECTION, TUTORIAL_TARGETS } from './tutorial-targets';

const INTEGRITY_EVENT = 'type.googleapis.com/cloud_integrity.IntegrityEvent';
// The tutorial's PROJECT_ID constant; its firestore.Client() opens the default database, the
// bench one database per collection size.
const PROJECT_ID = process.env.TUTORIAL_PROJECT_ID ?? 'PROJECT_ID';
const DATABASE_ID = process.env.TUTORIAL_DATABASE ?? '(default)';

type Json = Record<string, unknown>;

/** Python's `d[key]`: a missing key raises KeyError, which fails the event. */
function item(d: unknown, key: string): unknown {
  if (d === null || typeof d !== 'object' || !(key in d)) throw new Error(`KeyError: '${key}'`);
  return (d as Json)[key];
}

/** Python's `==` on the JSON-like values a log entry and a Firestore document hold. */
function pyEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => pyEqual(x, b[i]));
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => k in b && pyEqual((a as Json)[k], (b as Json)[k]));
}

/** `pcr_values_to_dict`: the measurements keyed by their `pcrNum` (`PCR_0`, …). */
function pcrValuesToDict(pcrValues: unknown): Json {
  const result: Json = {};
  for (const value of pcrValues as unknown[]) result[String(item(value, 'pcrNum'))] = value;
  return result;
}

function newFirestore(): Firestore {
  // As the construct's function does: REST, and on the emulator no credentials looked for.
  return new Firestore({
    projectId: PROJECT_ID,
    databaseId: DATABASE_ID,
    preferRest: true,
    ...(process.env.FIRESTORE_EMULATOR_HOST && { authClient: new PassThroughClient() }),
  });
}

function newInstancesClient(): InstancesClient {
  const raw = process.env.COMPUTE_API_ENDPOINT;
  if (raw === undefined || raw === '') return new InstancesClient();
  const url = new URL(raw);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  // The construct's options for a plain-HTTP endpoint (a loopback stand-in): REST, no credentials.
  return new InstancesClient(
    url.protocol === 'http:'
      ? { apiEndpoint: url.hostname, port, protocol: 'http', fallback: true, authClient: new PassThroughClient() }
      : { apiEndpoint: url.hostname, port },
  );
}

/** `instance_id_to_instance_name`: one `instances.list` filtered by id. */
async function instanceIdToInstanceName(compute: InstancesClient, zone: string, projectId: string, instanceId: string): Promise<string> {
  const [items] = await compute.list({ project: projectId, zone, filter: `id eq ${instanceId}` });
  if (items.length !== 1) throw new Error(`KeyError: 'unexpected number of items: ${items.length}'`);
  return String(items[0]!.name);
}

/** The clients of the `reused` variant, created on the first event that needs them. */
const shared: { db?: Firestore; compute?: InstancesClient } = {};

async function relearnIfKnownGood(event: CloudEvent<unknown>, clients: 'per-event' | 'reused'): Promise<void> {
  const message = (event.data as { message?: { data?: unknown } } | undefined)?.message;
  const logEntry = JSON.parse(Buffer.from(String(message?.data ?? ''), 'base64').toString('utf8')) as Json;
  const payload = (logEntry.jsonPayload ?? {}) as Json;
  const entryType = payload['@type'];
  if (entryType !== INTEGRITY_EVENT) throw new TypeError(`Unexpected log entry type: ${String(entryType)}`);
  // Only late-boot reports are acted on (the tutorial explains why early-boot ones are not).
  const reportEvent = payload.lateBootReportEvent;
  if (reportEvent === undefined || reportEvent === null) return;
  if (item(reportEvent, 'policyEvaluationPassed')) return;

  const measurements = pcrValuesToDict(item(reportEvent, 'actualMeasurements'));
  // `db = firestore.Client()` in the function body: a new client per event.
  const db = clients === 'per-event' ? newFirestore() : (shared.db ??= newFirestore());
  let compute: InstancesClient | undefined;
  try {
    // Every known-good document is read and compared, with no early exit, as in the tutorial.
    let relearn = false;
    for (const kg of (await db.collection(TUTORIAL_COLLECTION).get()).docs) {
      const kgMap = kg.data();
      const same = (pcr: string) => pcr in kgMap && pyEqual(kgMap[pcr], item(measurements, pcr));
      if (same('PCR_0') && same('PCR_4') && same('PCR_7')) {
        const fields = Object.keys(kgMap).length;
        // Linux VM: three measurements; Windows VM: three more to compare.
        if (fields === 3) relearn = true;
        else if (fields === 6 && same('PCR_11') && same('PCR_13') && same('PCR_14')) relearn = true;
      }
    }

    // `googleapiclient.discovery.build(...)` in the function body: a new client per event.
    compute = clients === 'per-event' ? newInstancesClient() : (shared.compute ??= newInstancesClient());
    const labels = item(item(logEntry, 'resource'), 'labels');
    const instanceId = String(item(labels, 'instance_id'));
    const projectId = String(item(labels, 'project_id'));
    const zone = String(item(labels, 'zone'));
    const instanceName = await instanceIdToInstanceName(compute, zone, projectId, instanceId);
    // Neither call waits for its operation, as in the tutorial.
    if (!relearn) {
      console.log('New measurement is not known good. Shutting down a VM.');
      await compute.stop({ project: projectId, zone, instance: instanceName });
      console.log(`Instance ${instanceName} in project ${projectId} has been scheduled for shut down.`);
    } else {
      console.log('New measurement is known good. Relearning...');
      await compute.setShieldedInstanceIntegrityPolicy({
        project: projectId,
        zone,
        instance: instanceName,
        shieldedInstanceIntegrityPolicyResource: { updateAutoLearnPolicy: true },
      });
      console.log(`Instance ${instanceName} in project ${projectId} has been scheduled for relearning.`);
    }
  } finally {
    // A Python call's clients are dropped with it; in Node they hold sockets and timers until
    // closed, so the per-event variant closes them (what dropping them amounts to).
    if (clients === 'per-event') await Promise.all([db.terminate(), compute?.close()]);
  }
}

cloudEvent<unknown>(TUTORIAL_TARGETS.perEvent, (event: CloudEvent<unknown>) => relearnIfKnownGood(event, 'per-event'));
cloudEvent<unknown>(TUTORIAL_TARGETS.reusedClients, (event: CloudEvent<unknown>) => relearnIfKnownGood(event, 'reused'));
