import { LoggingMetric } from '@cdktf/provider-google/lib/logging-metric';
import { MonitoringAlertPolicy, MonitoringAlertPolicyConditions } from '@cdktf/provider-google/lib/monitoring-alert-policy';
import { MonitoringDashboard } from '@cdktf/provider-google/lib/monitoring-dashboard';
import { ITerraformDependable, Token } from 'cdktf';
import { Construct } from 'constructs';
import { PROJECT_ID_TEXT } from '../function/contract';
import { responderLabels } from './labels';

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
}

/**
 * The alert policies, by what they watch; the keys of {@link ResponderAlerting.policies}:
 * - `contained`: VMs stopped or suspended (CRITICAL);
 * - `wouldContain`: VMs a dry run would have stopped or suspended (WARNING);
 * - `relearned`: integrity policies relearned, or that a dry run would relearn (WARNING);
 * - `conflict`: conflicting reports about one boot, a possible forged entry (CRITICAL);
 * - `budgetExhausted`: the action budget is used up and failed VMs are left running (CRITICAL);
 * - `notActed`: a failed VM left alone, exempt by its label or too old under `fail-open` (CRITICAL);
 * - `retriedErrors`: events the function failed and left to be redelivered (ERROR);
 * - `deadLetters`: events moved to the dead-letter subscription after the last retry (CRITICAL).
 */
export type ResponderAlert =
  'contained' | 'wouldContain' | 'relearned' | 'conflict' | 'budgetExhausted' | 'notActed' | 'retriedErrors' | 'deadLetters';

/**
 * A notification channel's full name. Its project is an id (optionally domain-scoped,
 * `example.com:proj`) or a number; the channel id is what Cloud Monitoring assigns (decimal digits).
 */
export const CHANNEL_NAME = new RegExp(`^projects/(?:${PROJECT_ID_TEXT}|[0-9]{1,20})/notificationChannels/[0-9]{1,40}$`);
const CHANNEL_FORM =
  "'projects/<project id or number>/notificationChannels/<channel id>', e.g. 'projects/fleet-prod-1234/notificationChannels/1355104823470596720' " +
  "(the name `gcloud beta monitoring channels list --format='value(name)'` prints, or a google_monitoring_notification_channel's id)";

function show(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

/**
 * Checks notification channel names. Returns what is wrong (naming the offending entry, the value
 * received and the form expected), or undefined when every entry is a full channel name or an
 * unresolved token. An empty list is valid.
 */
export function validateNotificationChannels(channels: unknown): string | undefined {
  if (Token.isUnresolved(channels)) return undefined;
  if (!Array.isArray(channels)) {
    return `notificationChannels must be a list of notification channel names ${CHANNEL_FORM}, got ${show(channels)}`;
  }
  const seen = new Set<string>();
  for (const [i, channel] of channels.entries()) {
    if (Token.isUnresolved(channel)) continue;
    if (typeof channel !== 'string') {
      return `notificationChannels[${i}] must be a string ${CHANNEL_FORM}, got ${show(channel)}`;
    }
    if (!CHANNEL_NAME.test(channel)) {
      const hint = /^[0-9]+$/.test(channel)
        ? ': this is a channel id alone; give its full name'
        : channel.includes('@')
          ? ': this is an address; create a notification channel for it and give the channel'
          : '';
      return `notificationChannels[${i}] must be a full notification channel name ${CHANNEL_FORM}, got ${show(channel)}${hint}`;
    }
    if (seen.has(channel)) return `notificationChannels lists ${show(channel)} twice`;
    seen.add(channel);
  }
  return undefined;
}

/**
 * The decision lines of a containment, each counted once: a stop decision, decided now (not the
 * repeat of a completed one, `alreadyDone: true`), whose operation finished or, in dry-run, was
 * recorded instead. A VM that no longer exists has neither status.
 */
const CONTAINMENT_LINES =
  'jsonPayload.decision="stop" AND jsonPayload.alreadyDone=false AND jsonPayload.operationStatus=("DONE" OR "dry-run")';
/** The lines of a VM actually stopped or suspended, for the on-call's query. */
const CONTAINMENT_DONE = 'jsonPayload.decision="stop" AND jsonPayload.alreadyDone=false AND jsonPayload.operationStatus="DONE"';
/** The lines of a VM a dry run would have stopped or suspended. */
const CONTAINMENT_DRY_RUN = 'jsonPayload.decision="stop" AND jsonPayload.alreadyDone=false AND jsonPayload.operationStatus="dry-run"';

/** The log-based metrics' kind: one point per matching entry, summed per alignment period. */
const COUNTER = { metricKind: 'DELTA', valueType: 'INT64', unit: '1' } as const;
/** Alignment of every log-based condition: the lines counted per minute. */
const PER_MINUTE = { alignmentPeriod: '60s', perSeriesAligner: 'ALIGN_DELTA', crossSeriesReducer: 'REDUCE_SUM' } as const;
/** An incident whose condition has had no data for this long closes by itself. */
const AUTO_CLOSE = '1800s';

interface PolicySpec {
  readonly id: string;
  readonly title: string;
  readonly severity: 'CRITICAL' | 'ERROR' | 'WARNING';
  readonly conditions: MonitoringAlertPolicyConditions[];
  readonly content: string;
}

/** One chart of the dashboard: a metric filter, how its series are summed, and how they are drawn. */
interface ChartSpec {
  readonly title: string;
  readonly filter: string;
  readonly aligner: 'ALIGN_DELTA' | 'ALIGN_MAX';
  readonly groupBy: readonly string[];
  readonly plotType: 'STACKED_BAR' | 'LINE';
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
    const { project, namePrefix: prefix, functionName, deadLetterSubscription } = props;
    const dependsOn = props.dependsOn !== undefined && props.dependsOn.length > 0 ? props.dependsOn : undefined;
    const fromFunction = `resource.type="cloud_run_revision" AND resource.labels.service_name="${functionName}"`;

    this.decisionMetric = new LoggingMetric(this, 'DecisionMetric', {
      project,
      name: `${prefix}-decisions`,
      description:
        `Decision lines of the integrity responder '${prefix}' (function ${functionName}). ` +
        'Lines of a redelivery whose action was already done ("Already handled") are not counted.',
      // `alreadyDone` is also true on a refused relearn of an older boot, which is a decision of
      // its own (ledger "older-boot"); only the repeats of a completed action are left out.
      filter: `${fromFunction} AND jsonPayload.decision:* AND (NOT jsonPayload.alreadyDone=true OR jsonPayload.ledger="older-boot")`,
      labelExtractors: {
        decision: 'EXTRACT(jsonPayload.decision)',
        reason: 'EXTRACT(jsonPayload.reason)',
        project: 'EXTRACT(jsonPayload.projectId)',
        // Written only in dry-run: absent, the extraction fails and a BOOL label is false.
        dry_run: 'EXTRACT(jsonPayload.dryRun)',
        containment: 'EXTRACT(jsonPayload.containment)',
      },
      metricDescriptor: {
        ...COUNTER,
        displayName: `${prefix}: integrity decisions`,
        labels: [
          { key: 'decision', valueType: 'STRING', description: 'stop, relearn, none, ignore or alert' },
          { key: 'reason', valueType: 'STRING', description: 'Why, e.g. not-known-good, known-good, conflicting-reports, exempt' },
          { key: 'project', valueType: 'STRING', description: 'Project of the VM the report is about' },
          { key: 'dry_run', valueType: 'BOOL', description: 'true in dry-run (nothing was done); false when enforcing' },
          { key: 'containment', valueType: 'STRING', description: "stop or suspend, with decision 'stop'; empty otherwise" },
        ],
      },
      dependsOn,
    });

    // A containment is a stop decision whose operation finished (`DONE`), or, in dry-run, was
    // recorded instead (`dry-run`), the first time it is decided: a redelivery repeats the line
    // with `alreadyDone: true`, and a VM that no longer exists is never `DONE` (`instance-not-found`,
    // or, as the function now writes it, `decision: "none"`). Every term matches a field the
    // counted lines carry, so nothing rests on how a negation treats a missing field.
    this.containmentMetric = new LoggingMetric(this, 'ContainmentMetric', {
      project,
      name: `${prefix}-containments`,
      description:
        `VMs the integrity responder '${prefix}' (function ${functionName}) stopped or suspended (operation_status DONE), ` +
        'or would have in dry-run (operation_status dry-run); each counted once, not on redelivery.',
      filter: `${fromFunction} AND ${CONTAINMENT_LINES}`,
      labelExtractors: {
        project: 'EXTRACT(jsonPayload.projectId)',
        reason: 'EXTRACT(jsonPayload.reason)',
        containment: 'EXTRACT(jsonPayload.containment)',
        operation_status: 'EXTRACT(jsonPayload.operationStatus)',
      },
      metricDescriptor: {
        ...COUNTER,
        displayName: `${prefix}: VMs contained`,
        labels: [
          { key: 'project', valueType: 'STRING', description: 'Project of the VM' },
          { key: 'reason', valueType: 'STRING', description: 'Why, e.g. not-known-good, conflicting-reports' },
          { key: 'containment', valueType: 'STRING', description: 'stop or suspend' },
          { key: 'operation_status', valueType: 'STRING', description: 'DONE: the VM was contained; dry-run: it would have been' },
        ],
      },
      dependsOn,
    });

    this.retriedErrorMetric = new LoggingMetric(this, 'RetriedErrorMetric', {
      project,
      name: `${prefix}-retried-errors`,
      description: `Events the integrity responder '${prefix}' failed (Firestore or Compute errors) and left to be redelivered`,
      filter: `${fromFunction} AND severity=ERROR AND jsonPayload.retry=true`,
      labelExtractors: { event_kind: 'EXTRACT(jsonPayload.eventKind)' },
      metricDescriptor: {
        ...COUNTER,
        displayName: `${prefix}: retried errors`,
        labels: [{ key: 'event_kind', valueType: 'STRING', description: 'earlyBoot or lateBoot' }],
      },
      dependsOn,
    });

    const decisions = `metric.type="logging.googleapis.com/user/${this.decisionMetric.name}" AND resource.type="cloud_run_revision"`;
    const containments = `metric.type="logging.googleapis.com/user/${this.containmentMetric.name}" AND resource.type="cloud_run_revision"`;
    const errors = `metric.type="logging.googleapis.com/user/${this.retriedErrorMetric.name}" AND resource.type="cloud_run_revision"`;
    const deadLetters =
      'metric.type="pubsub.googleapis.com/subscription/num_undelivered_messages" AND resource.type="pubsub_subscription" AND ' +
      `resource.labels.project_id="${project}" AND resource.labels.subscription_id="${deadLetterSubscription}"`;
    const logQuery = (extra: string) => `${fromFunction} AND ${extra}`;
    const read = (extra: string) => `gcloud logging read '${logQuery(extra)}' --project=${project} --freshness=1d --format=json`;
    const counted = (title: string, filter: string, groupBy: readonly string[]): MonitoringAlertPolicyConditions => ({
      displayName: title,
      conditionThreshold: {
        filter,
        comparison: 'COMPARISON_GT',
        thresholdValue: 0,
        duration: '0s',
        aggregations: [{ ...PER_MINUTE, groupByFields: [...groupBy] }],
        trigger: { count: 1 },
      },
    });
    const byCause = ['metric.label.project', 'metric.label.reason', 'metric.label.dry_run'];

    const specs: Record<ResponderAlert, PolicySpec> = {
      contained: {
        id: 'ContainedPolicy',
        title: 'VMs stopped or suspended',
        severity: 'CRITICAL',
        conditions: [
          counted('VM contained', `${containments} AND metric.labels.operation_status="DONE"`, [
            'metric.label.project',
            'metric.label.reason',
            'metric.label.containment',
          ]),
        ],
        content: [
          `The integrity responder **${prefix}** stopped or suspended at least one VM: its integrity report failed and was not vetted, and the operation finished.`,
          "The incident's labels say why (`reason`) and how (`containment`: stop or suspend). Dry runs, VMs that no longer exist and redeliveries are not counted here.",
          '',
          '**Find the VMs**',
          '```',
          read(CONTAINMENT_DONE),
          '```',
          '',
          '**What to do**, by reason:',
          '- `not-known-good`: the late-boot measurements match no known-good baseline. If the VM was just updated on purpose, vet one updated VM, record its measurements (`npx integrity-baselines capture …`), then start the others (`gcloud compute instances start NAME --zone=ZONE`, or `resume` for a suspended VM). Otherwise treat the VM as compromised.',
          "- `policy-failed` (shutdown mode): the VM's boot differs from its policy baseline; investigate before starting it.",
          '- `stale-event-fail-closed`: the report was too old, future-dated or without a boot counter to be vetted; check the VM, then start it.',
          '- `conflicting-reports`: see the conflicting-reports alert. **Do not restart** the VM before inspecting it.',
        ].join('\n'),
      },
      wouldContain: {
        id: 'WouldContainPolicy',
        title: 'Dry run: VMs would be stopped or suspended',
        severity: 'WARNING',
        conditions: [
          counted('VM would be contained', `${containments} AND metric.labels.operation_status="dry-run"`, [
            'metric.label.project',
            'metric.label.reason',
            'metric.label.containment',
          ]),
        ],
        content: [
          `The integrity responder **${prefix}** runs in dry-run and would have stopped or suspended at least one VM: its integrity report failed and was not vetted. Nothing was done to the VM.`,
          'Before enforcing, make sure each of these is a VM you want contained: record the measurements of a vetted update as known good (`npx integrity-baselines capture …`), or exempt the VM.',
          '',
          '```',
          read(CONTAINMENT_DRY_RUN),
          '```',
        ].join('\n'),
      },
      relearned: {
        id: 'RelearnedPolicy',
        title: 'Integrity policies relearned (or would be, in dry-run)',
        severity: 'WARNING',
        conditions: [counted('Decision relearn', `${decisions} AND metric.labels.decision="relearn"`, byCause)],
        content: [
          `The integrity responder **${prefix}** made at least one VM relearn its integrity policy: its late-boot measurements match a known-good baseline.`,
          'Expected during a rollout whose measurements were recorded as known good. Unexpected relearns mean someone added a baseline: check who wrote the baseline database (`baselineId` in the line names the document).',
          '',
          '```',
          read('jsonPayload.decision="relearn"'),
          '```',
        ].join('\n'),
      },
      conflict: {
        id: 'ConflictPolicy',
        title: 'Conflicting integrity reports: possible forged log entry',
        severity: 'CRITICAL',
        conditions: [
          counted('Reason conflicting-reports', `${decisions} AND metric.labels.reason="conflicting-reports"`, [
            'metric.label.project',
            'metric.label.dry_run',
          ]),
        ],
        content: [
          `Two integrity reports about the same VM and boot carried different measurements. One of them is not what the VM measured: someone may have written a forged \`shielded_vm_integrity\` entry. The responder **${prefix}** stopped (or suspended) the VM and will never relearn that boot.`,
          '',
          '**Do not simply restart the VM.** If a forged "known good" report arrived first, the VM\'s policy may hold tampered measurements. Inspect the VM, and relearn only after a clean boot.',
          '',
          '```',
          read('jsonPayload.reason="conflicting-reports"'),
          '```',
          'Then find who wrote the entries: `gcloud logging read \'logName:"compute.googleapis.com%2Fshielded_vm_integrity" AND resource.labels.instance_id="ID"\'` and the Data Access audit logs of `logging.googleapis.com`.',
        ].join('\n'),
      },
      budgetExhausted: {
        id: 'BudgetExhaustedPolicy',
        title: 'Action budget exhausted: failed VMs left running',
        severity: 'CRITICAL',
        conditions: [
          counted('Reason budget-exhausted', `${decisions} AND metric.labels.reason="budget-exhausted"`, [
            'metric.label.project',
            'metric.label.dry_run',
          ]),
        ],
        content: [
          `The integrity responder **${prefix}** has used up its action budget: it decided to act on a VM and did not, to avoid acting on too much of the fleet at once. VMs whose integrity failed are running.`,
          'Find out why so many reports failed (a rollout without a recorded baseline? forged entries?), contain the affected VMs by hand if needed, and raise the budget only once the cause is understood.',
          '',
          '```',
          read('jsonPayload.reason="budget-exhausted"'),
          '```',
        ].join('\n'),
      },
      notActed: {
        id: 'NotActedPolicy',
        title: 'Failed integrity left unacted: exempt VM or fail-open',
        severity: 'CRITICAL',
        conditions: [
          counted('Reason exempt', `${decisions} AND metric.labels.reason="exempt"`, ['metric.label.project', 'metric.label.dry_run']),
          counted('Reason stale-event-fail-open', `${decisions} AND metric.labels.reason="stale-event-fail-open"`, [
            'metric.label.project',
            'metric.label.dry_run',
          ]),
        ],
        content: [
          `The integrity responder **${prefix}** would have stopped, suspended or relearned a VM and did not:`,
          '- `exempt`: the VM carries the exemption label (`wouldHave` says what was not done). Anyone who can set labels on a VM can exempt it: check who set the label (Admin Activity audit log, `compute.instances.setLabels`).',
          '- `stale-event-fail-open`: a failed report too old to be vetted, and `staleEventPolicy` is fail-open. Check the VM.',
          '',
          '```',
          read('(jsonPayload.reason="exempt" OR jsonPayload.reason="stale-event-fail-open")'),
          '```',
        ].join('\n'),
      },
      retriedErrors: {
        id: 'RetriedErrorPolicy',
        title: 'Responses failing and retried',
        severity: 'ERROR',
        conditions: [counted('Retried errors', errors, ['metric.label.event_kind'])],
        content: [
          `The function **${functionName}** could not complete a response (Firestore or Compute failed, or a Compute operation did not finish in time) and failed the event, so that Pub/Sub redelivers it (push subscription \`${prefix}-deliveries\`).`,
          'One retry after a transient error is harmless; a steady rate means reports are not being acted on. Events that keep failing end in the dead-letter subscription.',
          '',
          '```',
          read('severity=ERROR AND jsonPayload.retry=true'),
          '```',
          "The `error` field says what failed: quota (429), permissions (403: check the runtime service account's grants), or an API outage.",
        ].join('\n'),
      },
      deadLetters: {
        id: 'DeadLetterPolicy',
        title: 'Integrity events dead-lettered',
        severity: 'CRITICAL',
        conditions: [
          {
            displayName: 'Dead-letter backlog',
            conditionThreshold: {
              filter: deadLetters,
              comparison: 'COMPARISON_GT',
              thresholdValue: 0,
              duration: '0s',
              aggregations: [{ alignmentPeriod: '60s', perSeriesAligner: 'ALIGN_MAX' }],
              trigger: { count: 1 },
            },
          },
        ],
        content: [
          `Integrity events still failed after the retry window and were moved to the dead-letter subscription **${deadLetterSubscription}**: the responder **${prefix}** did not act on them. The VMs they name may be running with failed integrity.`,
          '',
          '**Read them** (without acknowledging):',
          '```',
          `gcloud pubsub subscriptions pull ${deadLetterSubscription} --project=${project} --limit=10 --format=json`,
          '```',
          "Each message's `data` is the base64 LogEntry: decode it, find the VM, and handle it by hand (or fix the cause, e.g. the retried errors, and republish the entry to the responder's topic). Acknowledge each message once it is handled (`--auto-ack`), so that the incident closes.",
        ].join('\n'),
      },
    };

    const userLabels = responderLabels(props.labels ?? {}, prefix);
    const policies = {} as Record<ResponderAlert, MonitoringAlertPolicy>;
    for (const [kind, spec] of Object.entries(specs) as [ResponderAlert, PolicySpec][]) {
      policies[kind] = new MonitoringAlertPolicy(this, spec.id, {
        project,
        displayName: `${prefix}: ${spec.title}`,
        combiner: 'OR',
        conditions: spec.conditions,
        notificationChannels: [...props.notificationChannels],
        severity: spec.severity,
        documentation: { content: spec.content, mimeType: 'text/markdown', subject: `[${prefix}] ${spec.title}` },
        alertStrategy: { autoClose: AUTO_CLOSE },
        userLabels,
        dependsOn,
      });
    }
    this.policies = policies;

    const charts: ChartSpec[] = [
      {
        title: 'VMs contained (DONE) or that a dry run would contain (dry-run)',
        filter: containments,
        aligner: 'ALIGN_DELTA',
        groupBy: ['metric.label.operation_status', 'metric.label.containment'],
        plotType: 'STACKED_BAR',
      },
      {
        title: 'Decisions by decision and reason',
        filter: decisions,
        aligner: 'ALIGN_DELTA',
        groupBy: ['metric.label.decision', 'metric.label.reason'],
        plotType: 'STACKED_BAR',
      },
      {
        title: 'Decisions by project',
        filter: decisions,
        aligner: 'ALIGN_DELTA',
        groupBy: ['metric.label.project'],
        plotType: 'STACKED_BAR',
      },
      {
        title: 'Dry-run (true) and enforced (false) decisions',
        filter: decisions,
        aligner: 'ALIGN_DELTA',
        groupBy: ['metric.label.dry_run', 'metric.label.decision'],
        plotType: 'STACKED_BAR',
      },
      { title: 'Retried errors', filter: errors, aligner: 'ALIGN_DELTA', groupBy: ['metric.label.event_kind'], plotType: 'STACKED_BAR' },
      { title: 'Dead-letter backlog (undelivered messages)', filter: deadLetters, aligner: 'ALIGN_MAX', groupBy: [], plotType: 'LINE' },
    ];
    this.dashboard = new MonitoringDashboard(this, 'Dashboard', {
      project,
      dashboardJson: dashboardJson(`${prefix}: integrity responder`, charts),
      dependsOn,
    });
  }
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
