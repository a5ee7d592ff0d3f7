import { MonitoringDashboard } from '@cdktf/provider-google/lib/monitoring-dashboard';
import type { ITerraformDependable } from 'cdktf';
import type { Construct } from 'constructs';
import { LABELS, ResponderMetrics, byLabel } from './metrics';

/** One chart of the dashboard: a metric filter, how its series are summed, and how they are drawn. */
interface ChartSpec {
  readonly title: string;
  readonly filter: string;
  readonly aligner: 'ALIGN_DELTA' | 'ALIGN_MAX';
  readonly groupBy: readonly string[];
  readonly plotType: 'STACKED_BAR' | 'LINE';
}

/** What the dashboard is built from. */
export interface DashboardInputs {
  readonly project: string;
  readonly namePrefix: string;
  readonly dependsOn?: ITerraformDependable[];
  readonly metrics: ResponderMetrics;
  /** Time series of the dead-letter subscription's backlog. */
  readonly deadLetters: string;
}

/** A dashboard of the containments, the decisions, the retried errors and the dead-letter backlog. */
export function buildDashboard(c: Construct, inputs: DashboardInputs): MonitoringDashboard {
  const { decisions, containments, errors } = inputs.metrics;
  const charts: ChartSpec[] = [
    {
      title: 'VMs contained (DONE) or that a dry run would contain (dry-run)',
      filter: containments,
      aligner: 'ALIGN_DELTA',
      groupBy: [byLabel(LABELS.operationStatus), byLabel(LABELS.containment)],
      plotType: 'STACKED_BAR',
    },
    {
      title: 'Decisions by decision and reason',
      filter: decisions,
      aligner: 'ALIGN_DELTA',
      groupBy: [byLabel(LABELS.decision), byLabel(LABELS.reason)],
      plotType: 'STACKED_BAR',
    },
    {
      title: 'Decisions by project',
      filter: decisions,
      aligner: 'ALIGN_DELTA',
      groupBy: [byLabel(LABELS.project)],
      plotType: 'STACKED_BAR',
    },
    {
      title: 'Dry-run (true) and enforced (false) decisions',
      filter: decisions,
      aligner: 'ALIGN_DELTA',
      groupBy: [byLabel(LABELS.dryRun), byLabel(LABELS.decision)],
      plotType: 'STACKED_BAR',
    },
    { title: 'Retried errors', filter: errors, aligner: 'ALIGN_DELTA', groupBy: [byLabel(LABELS.eventKind)], plotType: 'STACKED_BAR' },
    {
      title: 'Dead-letter backlog (undelivered messages)',
      filter: inputs.deadLetters,
      aligner: 'ALIGN_MAX',
      groupBy: [],
      plotType: 'LINE',
    },
  ];
  return new MonitoringDashboard(c, 'Dashboard', {
    project: inputs.project,
    dashboardJson: dashboardJson(`${inputs.namePrefix}: integrity responder`, charts),
    dependsOn: inputs.dependsOn,
  });
}

/**
 * The dashboard as the Monitoring API's JSON, keys in a fixed order so that the plan is stable.
 * `columns` is an int64, which the API's JSON writes as a string: written so, the provider sees
 * no difference after a refresh.
 */
function dashboardJson(displayName: string, charts: readonly ChartSpec[]): string {
  return JSON.stringify({
    displayName,
    gridLayout: {
      columns: '2',
      widgets: charts.map((c) => ({
        title: c.title,
        xyChart: {
          dataSets: [
            {
              timeSeriesQuery: {
                timeSeriesFilter: {
                  filter: c.filter,
                  aggregation: {
                    alignmentPeriod: '60s',
                    perSeriesAligner: c.aligner,
                    crossSeriesReducer: 'REDUCE_SUM',
                    ...(c.groupBy.length > 0 && { groupByFields: [...c.groupBy] }),
                  },
                },
              },
              plotType: c.plotType,
              minAlignmentPeriod: '60s',
            },
          ],
          timeshiftDuration: '0s',
          yAxis: { label: 'y1Axis', scale: 'LINEAR' },
        },
      })),
    },
  });
}
