import { CloudEvent, cloudEvent } from '@google-cloud/functions-framework';
import { createHandlerDeps } from './runtime/composition';
import { loadConfig } from './runtime/config';
import { ENTRY_POINT } from './contract';
import { handleMessage } from './core/handler';
import { jsonLogger } from './runtime/logger';
import { leaveRequestDomain } from './runtime/request-domain';

// Configuration errors surface at start-up, so a bad deployment fails instead of acking events.
const config = loadConfig();
const deps = createHandlerDeps(config, jsonLogger(config.logLevel));

cloudEvent<unknown>(ENTRY_POINT, async (event: CloudEvent<unknown>) => {
  leaveRequestDomain();
  await handleMessage(event.data, deps, { id: event.id });
});
