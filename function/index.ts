import { CloudEvent, cloudEvent } from '@google-cloud/functions-framework';
import { createHandlerDeps } from './composition';
import { loadConfig } from './config';
import { ENTRY_POINT } from './entry-point';
import { handleMessage } from './handler';
import { jsonLogger } from './logger';
import { leaveRequestDomain } from './request-domain';

// Configuration errors surface at start-up, so a bad deployment fails instead of acking events.
const config = loadConfig();
const deps = createHandlerDeps(config, jsonLogger(config.logLevel));

cloudEvent<unknown>(ENTRY_POINT, async (event: CloudEvent<unknown>) => {
  leaveRequestDomain();
  await handleMessage(event.data, deps, { id: event.id });
});
