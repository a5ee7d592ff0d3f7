import { FirestoreDecisionLedger } from '../adapters/firestore-ledger';
import { FirestoreBaselineStore } from '../adapters/firestore-store';
import { ComputeInstanceControl } from '../adapters/compute-control';
import { ComputeEvidenceControl } from '../adapters/evidence-control';
import { SecurityCenterFindings } from '../adapters/scc-findings';
import { ResourceManagerQuarantine } from '../adapters/tag-quarantine';
import {
  createFirestore,
  createGlobalOperationsClient,
  createInstanceGroupManagersClient,
  createInstancesClient,
  createProjectsClient,
  createRegionInstanceGroupManagersClient,
  createSecurityCenterClient,
  createSnapshotsClient,
  createTagBindingsClient,
  createZoneOperationsClient,
  lazy,
} from './clients';
import type { Config } from './config';
import { NONE, parseEvidenceSteps, parseExcludedProjects, parseScope } from '../contract';
import type { HandlerDeps } from '../core/handler';
import type { Logger } from '../core/ports';

/**
 * The handler's real dependencies for a configuration: the one place that builds them, for
 * the function's entry file and for the benchmark, which runs the handler in process
 * (scripts/bench.ts). Every client is created on first use.
 */
export function createHandlerDeps(config: Config, logger: Logger): HandlerDeps {
  const timeoutMs = config.computeTimeoutSeconds * 1000;
  const evidenceSteps = parseEvidenceSteps(config.containmentSteps);
  const given = (value: string) => (value === NONE ? undefined : value);
  return {
    ...playbookDeps(config, evidenceSteps, timeoutMs),
    evidenceSteps,
    forensicsProject: given(config.forensicsProject),
    snapshotRetentionDays: config.snapshotRetentionDays,
    quarantineTagValue: given(config.quarantineTagValue),
    findingsSource: given(config.findingsSource),
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

/**
 * The parts of the playbook's steps this configuration uses (ADR 0031), each client created on
 * first use; a step not configured gets no part, so its client library is never loaded.
 */
function playbookDeps(
  config: Config,
  steps: ReturnType<typeof parseEvidenceSteps>,
  timeoutMs: number,
): Pick<HandlerDeps, 'evidence' | 'quarantine' | 'findings'> {
  const resourceManager = { endpoint: config.resourceManagerEndpoint };
  const securityCenter = { endpoint: config.securityCenterEndpoint };
  return {
    ...(steps.includes('snapshot') && {
      evidence: new ComputeEvidenceControl(
        lazy(() => createSnapshotsClient(config)),
        lazy(() => createGlobalOperationsClient(config)),
        timeoutMs,
      ),
    }),
    ...(steps.includes('quarantine') && {
      quarantine: new ResourceManagerQuarantine(
        (zone) => createTagBindingsClient(zone, resourceManager),
        lazy(() => createProjectsClient(resourceManager)),
        timeoutMs,
      ),
    }),
    ...(config.findingsSource !== NONE && {
      findings: new SecurityCenterFindings(
        lazy(() => createSecurityCenterClient(securityCenter)),
        timeoutMs,
      ),
    }),
  };
}
