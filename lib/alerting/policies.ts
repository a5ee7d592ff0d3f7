import { MonitoringAlertPolicy, MonitoringAlertPolicyConditions } from '@cdktf/provider-google/lib/monitoring-alert-policy';
import type { ITerraformDependable } from 'cdktf';
import type { Construct } from 'constructs';
import {
  ContainmentStep,
  DECISIONS,
  INTEGRITY_LOG_ID,
  LINE_FIELDS as F,
  OPERATION_STATUSES,
  REASONS,
  dedicatedLedgerDatabaseId,
} from '../../function/contract';
import { responderLabels } from '../labels';
import { CONTAINMENT_DONE, CONTAINMENT_DRY_RUN, RETRIED_LINES, functionLogs, is } from './lines';
import { LABELS, ResponderMetrics, byLabel, labelIs } from './metrics';

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

/** What the policies are built from. */
export interface PolicyInputs {
  readonly project: string;
  readonly namePrefix: string;
  readonly functionName: string;
  readonly deadLetterSubscription: string;
  readonly notificationChannels: readonly string[];
  readonly labels: Record<string, string>;
  readonly dependsOn?: ITerraformDependable[];
  readonly metrics: ResponderMetrics;
  /** Time series of the dead-letter subscription's backlog. */
  readonly deadLetters: string;
  /** The containment playbook, ending with the stop or suspend. */
  readonly containment: readonly ContainmentStep[];
  /** Whether a finding is raised for each VM contained. */
  readonly raiseFindings: boolean;
}

/** A condition that fires on the first line counted in a minute. */
function counted(title: string, filter: string, groupBy: readonly string[]): MonitoringAlertPolicyConditions {
  return {
    displayName: title,
    conditionThreshold: {
      filter,
      comparison: 'COMPARISON_GT',
      thresholdValue: 0,
      duration: '0s',
      aggregations: [{ ...PER_MINUTE, groupByFields: [...groupBy] }],
      trigger: { count: 1 },
    },
  };
}

/** One alert policy per {@link ResponderAlert}, each documented with what to do and the query to run. */
export function buildPolicies(c: Construct, inputs: PolicyInputs): Record<ResponderAlert, MonitoringAlertPolicy> {
  const specs = policySpecs(inputs);
  const { project, namePrefix: prefix, dependsOn } = inputs;
  const userLabels = responderLabels(inputs.labels, prefix);
  const policies = {} as Record<ResponderAlert, MonitoringAlertPolicy>;
  for (const [kind, spec] of Object.entries(specs) as [ResponderAlert, PolicySpec][]) {
    policies[kind] = new MonitoringAlertPolicy(c, spec.id, {
      project,
      displayName: `${prefix}: ${spec.title}`,
      combiner: 'OR',
      conditions: spec.conditions,
      notificationChannels: [...inputs.notificationChannels],
      severity: spec.severity,
      documentation: { content: spec.content, mimeType: 'text/markdown', subject: `[${prefix}] ${spec.title}` },
      alertStrategy: { autoClose: AUTO_CLOSE },
      userLabels,
      dependsOn,
    });
  }
  return policies;
}

/**
 * What the alert on contained VMs says of the playbook, when the responder has one: what else
 * happened to the VMs, and how `integrity-containment` lists, shows and releases them. A
 * quarantined VM stays cut off, whoever starts it, until it is released; the release starts
 * nothing. Nothing without a playbook.
 */
function releaseAdvice(inputs: PolicyInputs): { start: string; lines: string[] } {
  const { project, namePrefix: prefix, containment, raiseFindings } = inputs;
  const quarantine = containment.includes('quarantine');
  const done = [
    ...(containment.includes('snapshot') ? ['its disks were snapshotted into the forensics project'] : []),
    ...(quarantine ? ['it was quarantined: a secure tag denies all its traffic, and stays bound when the VM is started'] : []),
    ...(raiseFindings ? ['a finding was raised in Security Command Center'] : []),
  ];
  if (done.length === 0) return { start: 'start the others', lines: [] };
  const tool = (command: string) =>
    `npx integrity-containment ${command} --project ${project} --database ${dedicatedLedgerDatabaseId(prefix)}`;
  return {
    start: quarantine
      ? 'release the others (below), then start them'
      : raiseFindings
        ? 'start the others, and release them (below) to close their findings'
        : 'start the others',
    lines: [
      '',
      `**The playbook.** Besides the stop or suspend, for each VM: ${done.join('; ')}. List the contained VMs, and see what each step did:`,
      '```',
      tool('list'),
      tool('show PROJECT/ZONE/INSTANCE_ID'),
      '```',
      `Once a VM may run again, release it: the release ${[
        ...(quarantine ? ['removes the quarantine tag'] : []),
        ...(raiseFindings ? ['sets the finding INACTIVE'] : []),
        'records who released it and why',
      ].join(', ')}, and never starts the VM.`,
      '```',
      `${tool('release PROJECT/ZONE/INSTANCE_ID')} --reason TEXT`,
      '```',
    ],
  };
}

function policySpecs(inputs: PolicyInputs): Record<ResponderAlert, PolicySpec> {
  const { project, namePrefix: prefix, functionName, deadLetterSubscription } = inputs;
  const release = releaseAdvice(inputs);
  const { decisions, containments, errors } = inputs.metrics;
  const read = (extra: string) =>
    `gcloud logging read '${functionLogs(functionName)} AND ${extra}' --project=${project} --freshness=1d --format=json`;
  const byCause = [byLabel(LABELS.project), byLabel(LABELS.reason), byLabel(LABELS.dryRun)];
  const byProject = [byLabel(LABELS.project), byLabel(LABELS.dryRun)];
  const byContainment = [byLabel(LABELS.project), byLabel(LABELS.reason), byLabel(LABELS.containment)];
  const onReason = (reason: string) => counted(`Reason ${reason}`, `${decisions} AND ${labelIs(LABELS.reason, reason)}`, byProject);
  return {
    contained: {
      id: 'ContainedPolicy',
      title: 'VMs stopped or suspended',
      severity: 'CRITICAL',
      conditions: [
        counted('VM contained', `${containments} AND ${labelIs(LABELS.operationStatus, OPERATION_STATUSES.done)}`, byContainment),
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
        `- \`${REASONS.notKnownGood}\`: the late-boot measurements match no known-good baseline. If the VM was just updated on purpose, vet one updated VM, record its measurements (\`npx integrity-baselines capture …\`), then ${release.start} (\`gcloud compute instances start NAME --zone=ZONE\`, or \`resume\` for a suspended VM). Otherwise treat the VM as compromised.`,
        `- \`${REASONS.policyFailed}\` (shutdown mode): the VM's boot differs from its policy baseline; investigate before starting it.`,
        `- \`${REASONS.staleEventFailClosed}\`: the report was too old, future-dated or without a boot counter to be vetted; check the VM, then start it.`,
        `- \`${REASONS.conflictingReports}\`: see the conflicting-reports alert. **Do not restart** the VM before inspecting it.`,
        ...release.lines,
      ].join('\n'),
    },
    wouldContain: {
      id: 'WouldContainPolicy',
      title: 'Dry run: VMs would be stopped or suspended',
      severity: 'WARNING',
      conditions: [
        counted(
          'VM would be contained',
          `${containments} AND ${labelIs(LABELS.operationStatus, OPERATION_STATUSES.dryRun)}`,
          byContainment,
        ),
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
      conditions: [counted(`Decision ${DECISIONS.relearn}`, `${decisions} AND ${labelIs(LABELS.decision, DECISIONS.relearn)}`, byCause)],
      content: [
        `The integrity responder **${prefix}** made at least one VM relearn its integrity policy: its late-boot measurements match a known-good baseline.`,
        `Expected during a rollout whose measurements were recorded as known good. Unexpected relearns mean someone added a baseline: check who wrote the baseline database (\`${F.baselineId}\` in the line names the document).`,
        '',
        '```',
        read(is(F.decision, DECISIONS.relearn)),
        '```',
      ].join('\n'),
    },
    conflict: {
      id: 'ConflictPolicy',
      title: 'Conflicting integrity reports: possible forged log entry',
      severity: 'CRITICAL',
      conditions: [onReason(REASONS.conflictingReports)],
      content: [
        `Two integrity reports about the same VM and boot carried different measurements. One of them is not what the VM measured: someone may have written a forged \`shielded_vm_integrity\` entry. The responder **${prefix}** stopped (or suspended) the VM and will never relearn that boot.`,
        '',
        '**Do not simply restart the VM.** If a forged "known good" report arrived first, the VM\'s policy may hold tampered measurements. Inspect the VM, and relearn only after a clean boot.',
        '',
        '```',
        read(is(F.reason, REASONS.conflictingReports)),
        '```',
        `Then find who wrote the entries: \`gcloud logging read 'logName:"${INTEGRITY_LOG_ID}" AND resource.labels.instance_id="ID"'\` and the Data Access audit logs of \`logging.googleapis.com\`.`,
      ].join('\n'),
    },
    budgetExhausted: {
      id: 'BudgetExhaustedPolicy',
      title: 'Action budget exhausted: failed VMs left running',
      severity: 'CRITICAL',
      conditions: [onReason(REASONS.budgetExhausted)],
      content: [
        `The integrity responder **${prefix}** has used up its action budget: it decided to act on a VM and did not, to avoid acting on too much of the fleet at once. VMs whose integrity failed are running.`,
        'Find out why so many reports failed (a rollout without a recorded baseline? forged entries?), contain the affected VMs by hand if needed, and raise the budget only once the cause is understood.',
        '',
        '```',
        read(is(F.reason, REASONS.budgetExhausted)),
        '```',
      ].join('\n'),
    },
    notActed: {
      id: 'NotActedPolicy',
      title: 'Failed integrity left unacted: exempt VM or fail-open',
      severity: 'CRITICAL',
      conditions: [onReason(REASONS.exempt), onReason(REASONS.staleEventFailOpen)],
      content: [
        `The integrity responder **${prefix}** would have stopped, suspended or relearned a VM and did not:`,
        `- \`${REASONS.exempt}\`: the VM carries the exemption label (\`${F.wouldHave}\` says what was not done). Anyone who can set labels on a VM can exempt it: check who set the label (Admin Activity audit log, \`compute.instances.setLabels\`).`,
        `- \`${REASONS.staleEventFailOpen}\`: a failed report too old to be vetted, and \`staleEventPolicy\` is fail-open. Check the VM.`,
        '',
        '```',
        read(`(${is(F.reason, REASONS.exempt)} OR ${is(F.reason, REASONS.staleEventFailOpen)})`),
        '```',
      ].join('\n'),
    },
    retriedErrors: {
      id: 'RetriedErrorPolicy',
      title: 'Responses failing and retried',
      severity: 'ERROR',
      conditions: [counted('Retried errors', errors, [byLabel(LABELS.eventKind)])],
      content: [
        `The function **${functionName}** could not complete a response (Firestore or Compute failed, or a Compute operation did not finish in time) and failed the event, so that Pub/Sub redelivers it (push subscription \`${prefix}-deliveries\`).`,
        'One retry after a transient error is harmless; a steady rate means reports are not being acted on. Events that keep failing end in the dead-letter subscription.',
        '',
        '```',
        read(RETRIED_LINES),
        '```',
        `The \`${F.error}\` field says what failed: quota (429), permissions (403: check the runtime service account's grants), or an API outage.`,
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
            filter: inputs.deadLetters,
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
}
