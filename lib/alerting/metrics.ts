import { LoggingMetric } from '@cdktf/provider-google/lib/logging-metric';
import type { ITerraformDependable } from 'cdktf';
import type { Construct } from 'constructs';
import { LINE_FIELDS as F } from '../../function/contract';
import { CONTAINMENT_LINES, DECISION_LINES, RETRIED_LINES, extract, functionLogs } from './lines';

/** The log-based metrics' kind: one point per matching entry, summed per alignment period. */
const COUNTER = { metricKind: 'DELTA', valueType: 'INT64', unit: '1' } as const;

/** The labels of the log-based metrics, as the policies' conditions and the dashboard's charts name them. */
export const LABELS = {
  decision: 'decision',
  reason: 'reason',
  project: 'project',
  dryRun: 'dry_run',
  containment: 'containment',
  operationStatus: 'operation_status',
  eventKind: 'event_kind',
} as const;

/** A metric label, as an aggregation groups by it: `metric.label.reason`. */
export function byLabel(name: string): string {
  return `metric.label.${name}`;
}

/** The series whose label has this value: `metric.labels.reason="exempt"`. */
export function labelIs(name: string, value: string): string {
  return `metric.labels.${name}="${value}"`;
}

/** What the metrics are built from. */
export interface MetricInputs {
  readonly project: string;
  readonly namePrefix: string;
  readonly functionName: string;
  readonly dependsOn?: ITerraformDependable[];
}

/** The responder's log-based metrics, and the time series filter of each, for policies and charts. */
export interface ResponderMetrics {
  readonly decisionMetric: LoggingMetric;
  readonly containmentMetric: LoggingMetric;
  readonly retriedErrorMetric: LoggingMetric;
  /** Time series of {@link decisionMetric}. */
  readonly decisions: string;
  /** Time series of {@link containmentMetric}. */
  readonly containments: string;
  /** Time series of {@link retriedErrorMetric}. */
  readonly errors: string;
}

/** Time series of a log-based metric of the function's Cloud Run revision. */
function seriesOf(metric: LoggingMetric): string {
  return `metric.type="logging.googleapis.com/user/${metric.name}" AND resource.type="cloud_run_revision"`;
}

/**
 * Counters of the function's decision lines, of its containments and of the failures it left to
 * be redelivered, each labelled by fields of the line.
 */
export function buildMetrics(c: Construct, inputs: MetricInputs): ResponderMetrics {
  const { project, namePrefix: prefix, functionName, dependsOn } = inputs;
  const fromFunction = functionLogs(functionName);

  const decisionMetric = new LoggingMetric(c, 'DecisionMetric', {
    project,
    name: `${prefix}-decisions`,
    description:
      `Decision lines of the integrity responder '${prefix}' (function ${functionName}). ` +
      'Lines of a redelivery whose action was already done ("Already handled") are not counted.',
    filter: `${fromFunction} AND ${DECISION_LINES}`,
    labelExtractors: {
      [LABELS.decision]: extract(F.decision),
      [LABELS.reason]: extract(F.reason),
      [LABELS.project]: extract(F.projectId),
      // Written only in dry-run: absent, the extraction fails and a BOOL label is false.
      [LABELS.dryRun]: extract(F.dryRun),
      [LABELS.containment]: extract(F.containment),
    },
    metricDescriptor: {
      ...COUNTER,
      displayName: `${prefix}: integrity decisions`,
      labels: [
        { key: LABELS.decision, valueType: 'STRING', description: 'stop, relearn, none, ignore or alert' },
        { key: LABELS.reason, valueType: 'STRING', description: 'Why, e.g. not-known-good, known-good, conflicting-reports, exempt' },
        { key: LABELS.project, valueType: 'STRING', description: 'Project of the VM the report is about' },
        { key: LABELS.dryRun, valueType: 'BOOL', description: 'true in dry-run (nothing was done); false when enforcing' },
        { key: LABELS.containment, valueType: 'STRING', description: "stop or suspend, with decision 'stop'; empty otherwise" },
      ],
    },
    dependsOn,
  });

  // A containment is a stop decision whose operation finished (`DONE`), or, in dry-run, was
  // recorded instead (`dry-run`), the first time it is decided: a redelivery repeats the line
  // with `alreadyDone: true`, and a VM that no longer exists is never `DONE` (`instance-not-found`,
  // or, as the function now writes it, `decision: "none"`). Every term matches a field the
  // counted lines carry, so nothing rests on how a negation treats a missing field.
  const containmentMetric = new LoggingMetric(c, 'ContainmentMetric', {
    project,
    name: `${prefix}-containments`,
    description:
      `VMs the integrity responder '${prefix}' (function ${functionName}) stopped or suspended (operation_status DONE), ` +
      'or would have in dry-run (operation_status dry-run); each counted once, not on redelivery.',
    filter: `${fromFunction} AND ${CONTAINMENT_LINES}`,
    labelExtractors: {
      [LABELS.project]: extract(F.projectId),
      [LABELS.reason]: extract(F.reason),
      [LABELS.containment]: extract(F.containment),
      [LABELS.operationStatus]: extract(F.operationStatus),
    },
    metricDescriptor: {
      ...COUNTER,
      displayName: `${prefix}: VMs contained`,
      labels: [
        { key: LABELS.project, valueType: 'STRING', description: 'Project of the VM' },
        { key: LABELS.reason, valueType: 'STRING', description: 'Why, e.g. not-known-good, conflicting-reports' },
        { key: LABELS.containment, valueType: 'STRING', description: 'stop or suspend' },
        { key: LABELS.operationStatus, valueType: 'STRING', description: 'DONE: the VM was contained; dry-run: it would have been' },
      ],
    },
    dependsOn,
  });

  const retriedErrorMetric = new LoggingMetric(c, 'RetriedErrorMetric', {
    project,
    name: `${prefix}-retried-errors`,
    description: `Events the integrity responder '${prefix}' failed (Firestore or Compute errors) and left to be redelivered`,
    filter: `${fromFunction} AND ${RETRIED_LINES}`,
    labelExtractors: { [LABELS.eventKind]: extract(F.eventKind) },
    metricDescriptor: {
      ...COUNTER,
      displayName: `${prefix}: retried errors`,
      labels: [{ key: LABELS.eventKind, valueType: 'STRING', description: 'earlyBoot or lateBoot' }],
    },
    dependsOn,
  });

  return {
    decisionMetric,
    containmentMetric,
    retriedErrorMetric,
    decisions: seriesOf(decisionMetric),
    containments: seriesOf(containmentMetric),
    errors: seriesOf(retriedErrorMetric),
  };
}

/** Time series of the backlog of the dead-letter subscription: messages it holds, undelivered. */
export function deadLetterSeries(project: string, subscription: string): string {
  return (
    'metric.type="pubsub.googleapis.com/subscription/num_undelivered_messages" AND resource.type="pubsub_subscription" AND ' +
    `resource.labels.project_id="${project}" AND resource.labels.subscription_id="${subscription}"`
  );
}
