import { FirestoreDecisionLedger } from '../adapters/firestore-ledger';
import { FirestoreBaselineStore } from '../adapters/firestore-store';
import { ComputeInstanceControl } from '../adapters/compute-control';
import {
  createFirestore,
  createInstanceGroupManagersClient,
  createInstancesClient,
  createRegionInstanceGroupManagersClient,
  createZoneOperationsClient,
  lazy,
} from './clients';
import type { Config } from './config';
import { parseExcludedProjects, parseScope } from '../contract';
import type { HandlerDeps } from '../core/handler';
import type { Logger } from '../core/ports';

/**
 * The handler's real dependencies for a configuration: the one place that builds them, for
 * the function's entry file and for the benchmark, which runs the handler in process
 * (scripts/bench.ts). Every client is created on first use.
 */
export function createHandlerDeps(config: Config, logger: Logger): HandlerDeps {
  return {
    mode: config.mode,
    logger,
    scope: parseScope(config.scope),
    excludedProjects: parseExcludedProjects(config.excludedProjects),
    maxEventAgeSeconds: config.maxEventAgeSeconds,
    relearnMaxAgeSeconds: config.relearnMaxAgeSeconds,
    staleEventPolicy: config.staleEventPolicy,
    failureAction: config.failureAction,
    enforcement: config.enforcement,
    exemptLabel: config.exemptLabel,
    instanceGroupAction: config.instanceGroupAction,
    actionBudget: { limit: config.maxActionsPerWindow, windowSeconds: config.actionWindowSeconds },
    baselines: new FirestoreBaselineStore(
      lazy(() => createFirestore(config)),
      config.baselineCollection,
      logger,
      { approval: config.baselineApproval, listen: true },
    ),
    // Over gRPC: three calls per acted-on event, each cheaper in CPU than over REST (ADR 0017).
    ledger: new FirestoreDecisionLedger(
      lazy(() => createFirestore({ firestoreDatabase: config.ledgerDatabase, projectId: config.projectId }, 'grpc')),
    ),
    instances: new ComputeInstanceControl(
      lazy(() => createInstancesClient(config)),
      lazy(() => createZoneOperationsClient(config)),
      config.computeTimeoutSeconds * 1000,
      {
        zonal: lazy(() => createInstanceGroupManagersClient(config)),
        regional: lazy(() => createRegionInstanceGroupManagersClient(config)),
      },
    ),
  };
}
