import { LoggingMetric } from '@cdktf/provider-google/lib/logging-metric';
import { MonitoringAlertPolicy } from '@cdktf/provider-google/lib/monitoring-alert-policy';
import { MonitoringDashboard } from '@cdktf/provider-google/lib/monitoring-dashboard';
import { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import type { ContainmentStep } from '../../function/contract';
import { validateNotificationChannels } from './channels';
import { buildDashboard } from './dashboard';
import { buildMetrics, deadLetterSeries } from './metrics';
import { ResponderAlert, buildPolicies } from './policies';

export { CHANNEL_NAME, validateNotificationChannels } from './channels';
export type { ResponderAlert } from './policies';

/** Props of {@link ResponderAlerting}. */
export interface ResponderAlertingProps {
  /** Project holding the function's logs, the metrics, the policies and the dashboard. */
  readonly project: string;

  /** Prefix of every name (metrics, policy and dashboard display names), as the responder's `namePrefix`. */
  readonly namePrefix: string;

  /** Cloud Run service name of the function (`<namePrefix>-handler`): its logs are the metrics' source. */
  readonly functionName: string;

  /**
   * Name (not path) of the pull subscription on the dead-letter topic, in `project`: an alert fires
   * while it holds any message.
   */
  readonly deadLetterSubscription: string;

  /**
   * Notification channels of every policy, as full names
   * `projects/<project id or number>/notificationChannels/<channel id>`. Empty: the policies are
   * still created, and their incidents show in the console without notifying anyone.
   */
  readonly notificationChannels: readonly string[];

  /**
   * What the metrics, policies and dashboard wait for, e.g. the Logging and Monitoring API
   * enablement.
   * @default - nothing
   */
  readonly dependsOn?: ITerraformDependable[];

  /**
   * User labels added to the alert policies, next to `managed-by` and `responder`. A map token
   * is merged by Terraform.
   * @default {}
   */
  readonly labels?: Record<string, string>;

  /**
   * The responder's containment playbook, as its `containment` prop. With steps before the stop
   * or suspend, the alert on contained VMs says how `integrity-containment` lists, shows and
   * releases them; with `quarantine`, that a contained VM stays cut off from the network until
   * it is released, whoever starts it.
   * @default - the stop alone
   */
  readonly containment?: readonly ContainmentStep[];

  /**
   * Whether the responder raises a Security Command Center finding for each VM contained (its
   * `raiseFindings` prop): the alert on contained VMs then names the release tool, which sets
   * the finding INACTIVE.
   * @default false
   */
  readonly raiseFindings?: boolean;
}

/**
 * Log-based metrics of the responder's decision lines, its containments and its retried failures,
 * Cloud Monitoring alert policies on them and on the dead-letter subscription, and a dashboard of
 * the same.
 *
 * The function writes one JSON line per decision (`decision`, `reason`, `projectId`, `dryRun` in
 * dry-run, `containment` with a `stop`), and one ERROR line with `retry: true` before it fails an
 * event for redelivery; Cloud Logging stores them as `jsonPayload` of the function's Cloud Run
 * revision. Creates no notification channel: give existing ones.
 */
export class ResponderAlerting extends Construct {
  /** Counter of decision lines, labelled `decision`, `reason`, `project`, `dry_run`, `containment`. */
  public readonly decisionMetric: LoggingMetric;
  /**
   * Counter of the VMs stopped or suspended (`operation_status` `DONE`) and of those a dry run
   * would have stopped or suspended (`dry-run`), each counted once; labelled `project`, `reason`,
   * `containment`, `operation_status`.
   */
  public readonly containmentMetric: LoggingMetric;
  /** Counter of failures the function threw for redelivery, labelled `event_kind`. */
  public readonly retriedErrorMetric: LoggingMetric;
  /**
   * The alert policies, one per {@link ResponderAlert} key (what it watches), e.g.
   * `policies.contained` for the VMs stopped or suspended and `policies.deadLetters` for the
   * dead-letter backlog. Every key is always present.
   */
  public readonly policies: Readonly<Record<ResponderAlert, MonitoringAlertPolicy>>;
  /** Dashboard of the containments, the decisions, the retried errors and the dead-letter backlog. */
  public readonly dashboard: MonitoringDashboard;

  constructor(scope: Construct, id: string, props: ResponderAlertingProps) {
    super(scope, id);
    const problem = validateNotificationChannels(props.notificationChannels);
    if (problem !== undefined) throw new Error(`ResponderAlerting at '${this.node.path}': ${problem}`);
    const { project, namePrefix, functionName, deadLetterSubscription } = props;
    const dependsOn = props.dependsOn !== undefined && props.dependsOn.length > 0 ? props.dependsOn : undefined;

    const metrics = buildMetrics(this, { project, namePrefix, functionName, dependsOn });
    this.decisionMetric = metrics.decisionMetric;
    this.containmentMetric = metrics.containmentMetric;
    this.retriedErrorMetric = metrics.retriedErrorMetric;
    const deadLetters = deadLetterSeries(project, deadLetterSubscription);
    this.policies = buildPolicies(this, {
      project,
      namePrefix,
      functionName,
      deadLetterSubscription,
      notificationChannels: props.notificationChannels,
      labels: props.labels ?? {},
      dependsOn,
      metrics,
      deadLetters,
      containment: props.containment ?? ['stop'],
      raiseFindings: props.raiseFindings ?? false,
    });
    this.dashboard = buildDashboard(this, { project, namePrefix, dependsOn, metrics, deadLetters });
  }
}
