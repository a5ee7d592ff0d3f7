import { CloudEvent, cloudEvent } from '@google-cloud/functions-framework';
import { FirestoreBaselineStore } from './adapters/firestore-store';
import { ComputeInstanceControl } from './adapters/compute-control';
import { createFirestore, createInstancesClient, lazy } from './clients';
import { loadConfig } from './config';
import { ENTRY_POINT } from './entry-point';
import { HandlerDeps, handleMessage } from './handler';
import { jsonLogger } from './logger';

// Configuration errors surface at start-up, so a bad deployment fails instead of acking events.
const config = loadConfig();
const logger = jsonLogger(config.logLevel);
const deps: HandlerDeps = {
  mode: config.mode,
  logger,
  projectId: config.projectId,
  maxEventAgeSeconds: config.maxEventAgeSeconds,
  staleEventPolicy: config.staleEventPolicy,
  baselines: new FirestoreBaselineStore(
    lazy(() => createFirestore(config)),
    config.baselineCollection,
    logger,
  ),
  instances: new ComputeInstanceControl(
    lazy(() => createInstancesClient(config)),
    config.computeTimeoutSeconds * 1000,
  ),
};

cloudEvent<unknown>(ENTRY_POINT, async (event: CloudEvent<unknown>) => {
  await handleMessage(event.data, deps, { id: event.id });
});
