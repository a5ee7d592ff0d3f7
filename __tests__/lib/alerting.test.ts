import { MonitoringAlertPolicy } from '@cdktf/provider-google/lib/monitoring-alert-policy';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { ProjectService } from '@cdktf/provider-google/lib/project-service';
import { TerraformStack, Testing } from 'cdktf';
import * as entry from '../../lib';
import type { ResponderAlert } from '../../lib';
import { ResponderAlerting, ResponderAlertingProps, validateNotificationChannels } from '../../lib/alerting';
import { lineOf } from '../../function/core/decision-line';
import type { EventOutcome } from '../../function/core/outcome';
import { recordOf, reportOf } from '../support/handler-setup';
import { extract, matchesFilter } from '../support/log-filter';

/*
 * Every expectation below is written out by hand: filters, label names and metric types are the
 * contract with the function's log lines and with Cloud Monitoring, so a change to the construct
 * must show up here, not move the expectation along with it.
 */

type Body = Record<string, any>;
type Resources = Record<string, Record<string, Body>>;

const CHANNELS = ['projects/fleet-prod-1234/notificationChannels/1355104823470596720', 'projects/123456789012/notificationChannels/42'];

function synth(...propsList: Partial<ResponderAlertingProps>[]): { json: string; resources: Resources } {
  const app = Testing.app();
  const stack = new TerraformStack(app, 'test');
  new GoogleProvider(stack, 'google', { project: 'fleet-prod-1234' });
  propsList.forEach(
    (props, i) =>
      new ResponderAlerting(stack, i === 0 ? 'Alerting' : `Alerting${i + 1}`, {
        project: 'fleet-prod-1234',
        namePrefix: 'fleet',
        functionName: 'fleet-handler',
        deadLetterSubscription: 'fleet-dead-letters',
        notificationChannels: CHANNELS,
        ...props,
      }),
  );
  const json = Testing.synth(stack);
  return { json, resources: (JSON.parse(json) as { resource: Resources }).resource };
}

/** The logging metric of that name, with the reference Terraform resolves to its name. */
function metric(r: Resources, name: string): { body: Body; nameRef: string } {
  const found = Object.entries(r.google_logging_metric ?? {}).filter(([, b]) => b.name === name);
  if (found.length !== 1) throw new Error(`expected one google_logging_metric named ${name}, found ${found.length}`);
  return { body: found[0]![1], nameRef: `\${google_logging_metric.${found[0]![0]}.name}` };
}

function policy(r: Resources, displayName: string): Body {
  const found = Object.values(r.google_monitoring_alert_policy ?? {}).filter((b) => b.display_name === displayName);
  if (found.length !== 1) throw new Error(`expected one alert policy '${displayName}', found ${found.length}`);
  return found[0]!;
}

function dashboard(r: Resources): any {
  const bodies = Object.values(r.google_monitoring_dashboard ?? {});
  if (bodies.length !== 1) throw new Error(`expected one dashboard, found ${bodies.length}`);
  return JSON.parse(bodies[0]!.dashboard_json as string);
}

const FUNCTION_LOGS = 'resource.type="cloud_run_revision" AND resource.labels.service_name="fleet-handler"';

describe('ResponderAlerting', () => {
  const { json, resources: r } = synth({});
  const decisions = metric(r, 'fleet-decisions');
  const errors = metric(r, 'fleet-retried-errors');
  const containments = metric(r, 'fleet-containments');
  const onContainments = `metric.type="logging.googleapis.com/user/${containments.nameRef}" AND resource.type="cloud_run_revision"`;
  const onDecisions = `metric.type="logging.googleapis.com/user/${decisions.nameRef}" AND resource.type="cloud_run_revision"`;

  it('matches the snapshot', () => {
    expect(r).toMatchSnapshot();
  });

  it('is exported from the package entry, with one policy per ResponderAlert key', () => {
    expect(entry.ResponderAlerting).toBe(ResponderAlerting);
    const stack = new TerraformStack(Testing.app(), 'keys');
    const alerting = new entry.ResponderAlerting(stack, 'Alerting', {
      project: 'fleet-prod-1234',
      namePrefix: 'fleet',
      functionName: 'fleet-handler',
      deadLetterSubscription: 'fleet-dead-letters',
      notificationChannels: [],
    });
    // Every key of the type, each once: the compiler refuses a missing or an unknown one.
    const keys: Record<ResponderAlert, true> = {
      contained: true,
      wouldContain: true,
      relearned: true,
      conflict: true,
      budgetExhausted: true,
      notActed: true,
      retriedErrors: true,
      deadLetters: true,
    };
    expect(Object.keys(alerting.policies).sort()).toEqual(Object.keys(keys).sort());
  });

  it('creates three metrics, eight policies, one dashboard, and nothing else', () => {
    expect(Object.fromEntries(Object.entries(r).map(([type, byId]) => [type, Object.keys(byId).length]))).toEqual({
      google_logging_metric: 3,
      google_monitoring_alert_policy: 8,
      google_monitoring_dashboard: 1,
    });
  });

  describe('the decision metric', () => {
    it('counts the decision lines of the function, without the repeats of a completed action', () => {
      expect(decisions.body.filter).toBe(
        'resource.type="cloud_run_revision" AND resource.labels.service_name="fleet-handler" AND jsonPayload.decision:* AND ' +
          '(NOT jsonPayload.alreadyDone=true OR jsonPayload.ledger="older-boot")',
      );
      expect(decisions.body.project).toBe('fleet-prod-1234');
    });

    it('extracts decision, reason, project, dry-run and containment from the line', () => {
      expect(decisions.body.label_extractors).toEqual({
        decision: 'EXTRACT(jsonPayload.decision)',
        reason: 'EXTRACT(jsonPayload.reason)',
        project: 'EXTRACT(jsonPayload.projectId)',
        dry_run: 'EXTRACT(jsonPayload.dryRun)',
        containment: 'EXTRACT(jsonPayload.containment)',
      });
    });

    it('declares each extracted label, dry_run as a BOOL so that a line without dryRun counts as false', () => {
      const d = decisions.body.metric_descriptor;
      expect([d.metric_kind, d.value_type, d.unit]).toEqual(['DELTA', 'INT64', '1']);
      expect(d.labels.map((l: Body) => [l.key, l.value_type])).toEqual([
        ['decision', 'STRING'],
        ['reason', 'STRING'],
        ['project', 'STRING'],
        ['dry_run', 'BOOL'],
        ['containment', 'STRING'],
      ]);
    });
  });

  describe('the containment metric', () => {
    /** A decision line as the function writes it, stored by Cloud Logging for its Cloud Run revision. */
    const line = (payload: Record<string, unknown>, service = 'fleet-handler') => ({
      resource: { type: 'cloud_run_revision', labels: { service_name: service, location: 'us-central1' } },
      severity: 'WARNING',
      jsonPayload: {
        mode: 'relearn-if-known-good',
        eventKind: 'lateBoot',
        projectId: 'fleet-vms-1',
        zone: 'us-central1-a',
        instanceId: '4242424242424242',
        bootCounter: '7',
        ...payload,
      },
    });
    const stopped = {
      decision: 'stop',
      reason: 'not-known-good',
      containment: 'stop',
      instanceFound: true,
      ledger: 'new',
      alreadyDone: false,
    };
    const lines: Record<string, ReturnType<typeof line>> = {
      'a VM stopped': line({ ...stopped, operationStatus: 'DONE', operation: 'operation-1' }),
      'a VM suspended over conflicting reports': line({
        ...stopped,
        reason: 'conflicting-reports',
        containment: 'suspend',
        ledger: 'conflict',
        operationStatus: 'DONE',
      }),
      'a dry run that would stop a VM': line({ ...stopped, dryRun: true, operationStatus: 'dry-run' }),
      'the redelivery of a completed stop': line({ ...stopped, ledger: 'repeat', alreadyDone: true, operationStatus: 'DONE' }),
      'the redelivery of a dry-run stop': line({
        ...stopped,
        dryRun: true,
        ledger: 'repeat',
        alreadyDone: true,
        operationStatus: 'dry-run',
      }),
      'a VM that no longer exists, as the function now writes it': line({
        decision: 'none',
        reason: 'instance-not-found',
        wouldHave: 'stop',
        instanceFound: false,
        operationStatus: 'instance-not-found',
      }),
      'a VM that no longer exists, as earlier versions wrote it (before the ledger)': line({
        decision: 'stop',
        reason: 'not-known-good',
        containment: 'stop',
        instanceFound: false,
        operationStatus: 'instance-not-found',
      }),
      'a VM gone between the record and the stop, as earlier versions wrote it': line({
        ...stopped,
        instanceFound: false,
        operationStatus: 'instance-not-found',
      }),
      'a dry run about a VM that no longer exists': line({
        decision: 'none',
        reason: 'instance-not-found',
        wouldHave: 'suspend',
        dryRun: true,
        instanceFound: false,
        operationStatus: 'instance-not-found',
      }),
      'a relearn': line({
        decision: 'relearn',
        reason: 'known-good',
        baselineId: 'b-1',
        ledger: 'new',
        alreadyDone: false,
        operationStatus: 'DONE',
      }),
      'a stop held for want of budget': line({
        decision: 'none',
        reason: 'budget-exhausted',
        wouldHave: 'stop',
        ledger: 'new',
        alreadyDone: false,
      }),
      'an exempt VM': line({ decision: 'none', reason: 'exempt', wouldHave: 'stop', instanceFound: true }),
      'a stop line of another service': line({ ...stopped, operationStatus: 'DONE' }, 'other-handler'),
    };
    /** What each policy's condition selects: the lines the metric counts, by the label the condition names. */
    const counted = (status: string) =>
      Object.entries(lines)
        .filter(([, entry]) => matchesFilter(containments.body.filter, entry))
        .filter(([, entry]) => extract(containments.body.label_extractors.operation_status, entry) === status)
        .map(([name]) => name);

    it('counts the stop decisions whose operation finished, or that a dry run recorded instead, each once', () => {
      expect(containments.body.filter).toBe(
        `${FUNCTION_LOGS} AND jsonPayload.decision="stop" AND jsonPayload.alreadyDone=false AND jsonPayload.operationStatus=("DONE" OR "dry-run")`,
      );
      expect(containments.body.label_extractors).toEqual({
        project: 'EXTRACT(jsonPayload.projectId)',
        reason: 'EXTRACT(jsonPayload.reason)',
        containment: 'EXTRACT(jsonPayload.containment)',
        operation_status: 'EXTRACT(jsonPayload.operationStatus)',
      });
      expect(containments.body.metric_descriptor.labels.map((l: Body) => [l.key, l.value_type])).toEqual([
        ['project', 'STRING'],
        ['reason', 'STRING'],
        ['containment', 'STRING'],
        ['operation_status', 'STRING'],
      ]);
    });

    it('pages (CRITICAL) on real containments only: not dry runs, not VMs that no longer exist, not redeliveries', () => {
      const page = policy(r, 'fleet: VMs stopped or suspended');
      expect(page.severity).toBe('CRITICAL');
      expect(page.conditions.map((c: Body) => c.condition_threshold.filter)).toEqual([
        `${onContainments} AND metric.labels.operation_status="DONE"`,
      ]);
      expect(counted('DONE')).toEqual(['a VM stopped', 'a VM suspended over conflicting reports']);
    });

    it('warns (not CRITICAL) of what a dry run would contain, once per decision', () => {
      const warning = policy(r, 'fleet: Dry run: VMs would be stopped or suspended');
      expect(warning.severity).toBe('WARNING');
      expect(warning.conditions.map((c: Body) => c.condition_threshold.filter)).toEqual([
        `${onContainments} AND metric.labels.operation_status="dry-run"`,
      ]);
      expect(counted('dry-run')).toEqual(['a dry run that would stop a VM']);
    });

    it('counts nothing else', () => {
      const all = Object.entries(lines)
        .filter(([, entry]) => matchesFilter(containments.body.filter, entry))
        .map(([name]) => name);
      expect(all).toEqual([...counted('DONE'), ...counted('dry-run')]);
    });
  });

  describe('the retried-error metric', () => {
    it('counts the ERROR lines the function writes before it throws for redelivery', () => {
      expect(errors.body.filter).toBe(
        'resource.type="cloud_run_revision" AND resource.labels.service_name="fleet-handler" AND severity=ERROR AND jsonPayload.retry=true',
      );
      expect(errors.body.label_extractors).toEqual({ event_kind: 'EXTRACT(jsonPayload.eventKind)' });
      expect(errors.body.metric_descriptor.labels.map((l: Body) => [l.key, l.value_type])).toEqual([['event_kind', 'STRING']]);
    });
  });

  describe('the alert policies', () => {
    const conditionFilters = (displayName: string): string[] =>
      policy(r, displayName).conditions.map((c: Body) => c.condition_threshold.filter as string);

    it.each([
      ['fleet: Integrity policies relearned (or would be, in dry-run)', 'metric.labels.decision="relearn"'],
      ['fleet: Conflicting integrity reports: possible forged log entry', 'metric.labels.reason="conflicting-reports"'],
      ['fleet: Action budget exhausted: failed VMs left running', 'metric.labels.reason="budget-exhausted"'],
    ])('%s: watches the decision metric for %s', (displayName, label) => {
      expect(conditionFilters(displayName)).toEqual([`${onDecisions} AND ${label}`]);
    });

    it('watches exempt VMs and fail-open stale reports in one policy, one condition each', () => {
      expect(conditionFilters('fleet: Failed integrity left unacted: exempt VM or fail-open')).toEqual([
        `${onDecisions} AND metric.labels.reason="exempt"`,
        `${onDecisions} AND metric.labels.reason="stale-event-fail-open"`,
      ]);
      expect(policy(r, 'fleet: Failed integrity left unacted: exempt VM or fail-open').combiner).toBe('OR');
    });

    it('watches the retried-error metric', () => {
      expect(conditionFilters('fleet: Responses failing and retried')).toEqual([
        `metric.type="logging.googleapis.com/user/${errors.nameRef}" AND resource.type="cloud_run_revision"`,
      ]);
    });

    it('watches the backlog of the dead-letter subscription', () => {
      const p = policy(r, 'fleet: Integrity events dead-lettered');
      expect(p.conditions).toHaveLength(1);
      expect(p.conditions[0].condition_threshold).toEqual({
        filter:
          'metric.type="pubsub.googleapis.com/subscription/num_undelivered_messages" AND resource.type="pubsub_subscription" AND ' +
          'resource.labels.project_id="fleet-prod-1234" AND resource.labels.subscription_id="fleet-dead-letters"',
        comparison: 'COMPARISON_GT',
        threshold_value: 0,
        duration: '0s',
        aggregations: [{ alignment_period: '60s', per_series_aligner: 'ALIGN_MAX' }],
        trigger: { count: 1 },
      });
    });

    it('fires on the first line of a minute, summed per project and reason', () => {
      const c = policy(r, 'fleet: VMs stopped or suspended').conditions[0].condition_threshold;
      expect([c.comparison, c.threshold_value, c.duration]).toEqual(['COMPARISON_GT', 0, '0s']);
      expect(c.aggregations).toEqual([
        {
          alignment_period: '60s',
          per_series_aligner: 'ALIGN_DELTA',
          cross_series_reducer: 'REDUCE_SUM',
          group_by_fields: ['metric.label.project', 'metric.label.reason', 'metric.label.containment'],
        },
      ]);
    });

    it('sends every policy to the given channels, with severity, documentation, auto-close and labels', () => {
      const bodies = Object.values(r.google_monitoring_alert_policy!);
      for (const p of bodies) {
        expect(p.notification_channels).toEqual(CHANNELS);
        expect(p.project).toBe('fleet-prod-1234');
        expect(p.alert_strategy).toEqual({ auto_close: '1800s' });
        expect(p.documentation.mime_type).toBe('text/markdown');
        expect(p.user_labels).toEqual({ 'managed-by': 'shielded-vm-integrity-responder', responder: 'fleet' });
        // Terraform would read `${…}` in the text as an interpolation.
        expect(p.documentation.content).not.toContain('${');
      }
      expect(Object.fromEntries(bodies.map((p) => [p.display_name, p.severity]))).toEqual({
        'fleet: VMs stopped or suspended': 'CRITICAL',
        'fleet: Dry run: VMs would be stopped or suspended': 'WARNING',
        'fleet: Integrity policies relearned (or would be, in dry-run)': 'WARNING',
        'fleet: Conflicting integrity reports: possible forged log entry': 'CRITICAL',
        'fleet: Action budget exhausted: failed VMs left running': 'CRITICAL',
        'fleet: Failed integrity left unacted: exempt VM or fail-open': 'CRITICAL',
        'fleet: Responses failing and retried': 'ERROR',
        'fleet: Integrity events dead-lettered': 'CRITICAL',
      });
    });

    it('tells the on-call which log query and which command to run', () => {
      expect(policy(r, 'fleet: VMs stopped or suspended').documentation.content).toContain(
        `gcloud logging read '${FUNCTION_LOGS} AND jsonPayload.decision="stop" AND jsonPayload.alreadyDone=false AND jsonPayload.operationStatus="DONE"' --project=fleet-prod-1234`,
      );
      expect(policy(r, 'fleet: Dry run: VMs would be stopped or suspended').documentation.content).toContain(
        `gcloud logging read '${FUNCTION_LOGS} AND jsonPayload.decision="stop" AND jsonPayload.alreadyDone=false AND jsonPayload.operationStatus="dry-run"' --project=fleet-prod-1234`,
      );
      expect(policy(r, 'fleet: Integrity events dead-lettered').documentation.content).toContain(
        'gcloud pubsub subscriptions pull fleet-dead-letters --project=fleet-prod-1234',
      );
    });

    describe('with a containment playbook', () => {
      const contained = (props: Partial<ResponderAlertingProps>): string =>
        policy(synth(props).resources, 'fleet: VMs stopped or suspended').documentation.content;
      const RELEASE =
        'npx integrity-containment release PROJECT/ZONE/INSTANCE_ID --project fleet-prod-1234 --database fleet-decisions --reason TEXT';

      it('says that a quarantined VM must be released before it is started, and how', () => {
        const text = contained({ containment: ['snapshot', 'quarantine', 'stop'], raiseFindings: true });
        expect(text).toContain(
          'record its measurements (`npx integrity-baselines capture …`), then release the others (below), then start them (`gcloud compute instances start NAME --zone=ZONE`',
        );
        expect(text).toContain(
          '**The playbook.** Besides the stop or suspend, for each VM: its disks were snapshotted into the forensics project; it was quarantined: a secure tag denies all its traffic, and stays bound when the VM is started; a finding was raised in Security Command Center.',
        );
        expect(text).toContain('npx integrity-containment list --project fleet-prod-1234 --database fleet-decisions');
        expect(text).toContain(
          'npx integrity-containment show PROJECT/ZONE/INSTANCE_ID --project fleet-prod-1234 --database fleet-decisions',
        );
        expect(text).toContain(
          'the release removes the quarantine tag, sets the finding INACTIVE, records who released it and why, and never starts the VM.',
        );
        expect(text).toContain(RELEASE);
      });

      it('names the release tool for findings or snapshots alone, without a quarantine to lift', () => {
        const findings = contained({ raiseFindings: true });
        expect(findings).toContain('then start the others, and release them (below) to close their findings (');
        expect(findings).toContain('the release sets the finding INACTIVE, records who released it and why');
        expect(findings).not.toContain('quarantine');
        const snapshots = contained({ containment: ['snapshot', 'suspend'] });
        expect(snapshots).toContain('then start the others (');
        expect(snapshots).toContain('its disks were snapshotted into the forensics project. List the contained VMs');
        expect(snapshots).toContain(RELEASE);
      });

      it('says nothing of the release tool without a playbook', () => {
        for (const props of [{}, { containment: ['suspend'] }] as Partial<ResponderAlertingProps>[]) {
          const text = contained(props);
          expect(text).not.toContain('integrity-containment');
          expect(text).toContain('then start the others (`gcloud compute instances start');
        }
      });
    });

    it('creates the policies with no channel when none is given', () => {
      const none = synth({ notificationChannels: [] }).resources;
      const bodies = Object.values(none.google_monitoring_alert_policy!);
      expect(bodies).toHaveLength(8);
      for (const p of bodies) expect(p.notification_channels).toEqual([]);
    });

    it('adds the given labels to the policies', () => {
      const labelled = synth({ labels: { team: 'platform' } }).resources;
      for (const p of Object.values(labelled.google_monitoring_alert_policy!)) {
        expect(p.user_labels).toEqual({ team: 'platform', 'managed-by': 'shielded-vm-integrity-responder', responder: 'fleet' });
      }
    });
  });

  describe('the dashboard', () => {
    const d = dashboard(r);
    const widgets = d.gridLayout.widgets as any[];
    const query = (title: string) => {
      const w = widgets.find((x) => x.title === title);
      if (!w) throw new Error(`no widget '${title}'`);
      return w.xyChart.dataSets[0].timeSeriesQuery.timeSeriesFilter;
    };

    it('is named after the prefix and laid out on a two-column grid', () => {
      expect(d.displayName).toBe('fleet: integrity responder');
      expect(d.gridLayout.columns).toBe('2');
      expect(widgets.map((w) => w.title)).toEqual([
        'VMs contained (DONE) or that a dry run would contain (dry-run)',
        'Decisions by decision and reason',
        'Decisions by project',
        'Dry-run (true) and enforced (false) decisions',
        'Retried errors',
        'Dead-letter backlog (undelivered messages)',
      ]);
    });

    it('charts the decision metric by decision and reason, by project, and by dry-run', () => {
      expect(query('Decisions by decision and reason')).toEqual({
        filter: onDecisions,
        aggregation: {
          alignmentPeriod: '60s',
          perSeriesAligner: 'ALIGN_DELTA',
          crossSeriesReducer: 'REDUCE_SUM',
          groupByFields: ['metric.label.decision', 'metric.label.reason'],
        },
      });
      expect(query('Decisions by project').aggregation.groupByFields).toEqual(['metric.label.project']);
      expect(query('Dry-run (true) and enforced (false) decisions').aggregation.groupByFields).toEqual([
        'metric.label.dry_run',
        'metric.label.decision',
      ]);
    });

    it('charts the containments by outcome and containment', () => {
      expect(query('VMs contained (DONE) or that a dry run would contain (dry-run)')).toEqual({
        filter: onContainments,
        aggregation: {
          alignmentPeriod: '60s',
          perSeriesAligner: 'ALIGN_DELTA',
          crossSeriesReducer: 'REDUCE_SUM',
          groupByFields: ['metric.label.operation_status', 'metric.label.containment'],
        },
      });
    });

    it('charts the retried errors and the dead-letter backlog', () => {
      expect(query('Retried errors').filter).toBe(
        `metric.type="logging.googleapis.com/user/${errors.nameRef}" AND resource.type="cloud_run_revision"`,
      );
      expect(query('Dead-letter backlog (undelivered messages)')).toEqual({
        filter:
          'metric.type="pubsub.googleapis.com/subscription/num_undelivered_messages" AND resource.type="pubsub_subscription" AND ' +
          'resource.labels.project_id="fleet-prod-1234" AND resource.labels.subscription_id="fleet-dead-letters"',
        aggregation: { alignmentPeriod: '60s', perSeriesAligner: 'ALIGN_MAX', crossSeriesReducer: 'REDUCE_SUM' },
      });
    });

    it('is written the same way on every synth', () => {
      expect(synth({}).json).toBe(json);
    });
  });

  it('gives two responders in one project distinct metric names and display names', () => {
    const two = synth(
      {},
      { namePrefix: 'strict', functionName: 'strict-handler', deadLetterSubscription: 'strict-dead-letters' },
    ).resources;
    const names = Object.values(two.google_logging_metric!).map((m) => m.name);
    expect(names.sort()).toEqual([
      'fleet-containments',
      'fleet-decisions',
      'fleet-retried-errors',
      'strict-containments',
      'strict-decisions',
      'strict-retried-errors',
    ]);
    const titles = Object.values(two.google_monitoring_alert_policy!).map((p) => p.display_name as string);
    expect(new Set(titles).size).toBe(16);
    expect(metric(two, 'strict-decisions').body.filter).toContain('resource.labels.service_name="strict-handler"');
  });

  it('makes every resource wait for what dependsOn names', () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, 'test');
    new GoogleProvider(stack, 'google', { project: 'fleet-prod-1234' });
    const api = new ProjectService(stack, 'MonitoringApi', { project: 'fleet-prod-1234', service: 'monitoring.googleapis.com' });
    new ResponderAlerting(stack, 'Alerting', {
      project: 'fleet-prod-1234',
      namePrefix: 'fleet',
      functionName: 'fleet-handler',
      deadLetterSubscription: 'fleet-dead-letters',
      notificationChannels: [],
      dependsOn: [api],
    });
    const synthesized = JSON.parse(Testing.synth(stack)) as { resource: Resources };
    for (const type of ['google_logging_metric', 'google_monitoring_alert_policy', 'google_monitoring_dashboard']) {
      for (const body of Object.values(synthesized.resource[type]!)) {
        expect(body.depends_on).toEqual(['google_project_service.MonitoringApi']);
      }
    }
  });

  it('writes policies a cdktf assertion can find by their literal properties', () => {
    expect(json).toHaveResourceWithProperties(MonitoringAlertPolicy, {
      display_name: 'fleet: Integrity events dead-lettered',
      notification_channels: CHANNELS,
      severity: 'CRITICAL',
    });
  });

  describe('the fields it reads, against the lines the function writes', () => {
    // The lines of the outcomes the alerting watches, as the function's own formatter writes
    // them: a field or value renamed on one side only leaves a filter that matches nothing.
    const ledger = { note: 'new', requestId: 'req-1', alreadyDone: false } as const;
    const done = { name: 'operation-1', status: 'DONE' } as const;
    const window = { id: 'w', start: '2026-11-20T09:00:00.000Z', end: '2026-11-20T10:00:00.000Z', seconds: 3600 };
    const held = { status: 'exhausted', window, limit: 2, used: 2, wouldHave: 'stop', heldReason: 'not-known-good' } as const;
    const outcomes: EventOutcome[] = [
      recordOf({ decision: { action: 'stop', reason: 'not-known-good' }, ledger, operation: done }),
      recordOf({ decision: { action: 'stop', reason: 'policy-failed' }, ledger, dryRun: true, operation: { status: 'dry-run' } }),
      recordOf({ decision: { action: 'stop', reason: 'conflicting-reports' }, ledger: { ...ledger, note: 'conflict' }, operation: done }),
      recordOf({ decision: { action: 'stop', reason: 'stale-event-fail-closed' }, ledger, operation: done, containment: 'suspend' }),
      recordOf({ decision: { action: 'relearn', reason: 'known-good', baselineId: 'b-1' }, ledger, operation: done }),
      recordOf({ decision: { action: 'stop', reason: 'not-known-good' }, ledger: { ...ledger, note: 'repeat', alreadyDone: true } }),
      recordOf({ decision: { action: 'none', reason: 'older-boot' }, ledger: { ...ledger, note: 'older-boot', alreadyDone: true } }),
      recordOf({ decision: { action: 'none', reason: 'budget-exhausted', wouldHave: 'stop' }, ledger: { ...ledger, budget: held } }),
      recordOf({ decision: { action: 'none', reason: 'exempt', wouldHave: 'stop' }, exemptLabel: 'a=b', ledger: { note: 'new' } }),
      recordOf({ decision: { action: 'alert', reason: 'stale-event-fail-open' } }),
      recordOf({ decision: { action: 'none', reason: 'instance-not-found', wouldHave: 'stop' }, vm: { found: false } }),
    ]
      .map((record): EventOutcome => ({ kind: 'decided', record }))
      .concat([{ kind: 'failed', report: reportOf(), error: '503', cause: new Error('503') }]);
    /** Each field written, with every value it was written with. */
    const written = new Map<string, Set<unknown>>();
    for (const outcome of outcomes) {
      for (const [field, value] of Object.entries(lineOf(outcome, { mode: 'relearn-if-known-good', eventId: 'msg-1' }).fields)) {
        written.set(field, (written.get(field) ?? new Set()).add(value));
      }
    }
    /** Every text of the synthesized alerting: filters, label extractors, documentation, the dashboard's JSON. */
    const texts = (value: unknown): string[] =>
      typeof value === 'string' ? [value] : typeof value === 'object' && value !== null ? Object.values(value).flatMap(texts) : [];
    const all = texts(r);
    /** `"DONE"`, `("DONE" OR "dry-run")`, `true`: the values a filter term compares a field with. */
    const valuesOf = (term: string): unknown[] =>
      term === 'true' || term === 'false' ? [term === 'true'] : [...term.matchAll(/"([^"]*)"/g)].map((m) => m[1]);
    const unwritten = (pairs: [string | undefined, unknown][]) =>
      pairs.filter(([field, value]) => field === undefined || !written.get(field)?.has(value)).map(([f, v]) => `${f}=${String(v)}`);

    it('names only fields the function writes', () => {
      const named = new Set(all.flatMap((t) => [...t.matchAll(/jsonPayload\.(\w+)/g)].map((m) => m[1]!)));
      expect([...named].sort()).toEqual([
        'alreadyDone',
        'containment',
        'decision',
        'dryRun',
        'eventKind',
        'ledger',
        'operationStatus',
        'projectId',
        'reason',
        'retry',
      ]);
      expect([...named].filter((field) => !written.has(field))).toEqual([]);
    });

    it('compares a field only with values the function writes', () => {
      const compared = all.flatMap((t) =>
        [...t.matchAll(/jsonPayload\.(\w+)=(\([^)]*\)|"[^"]*"|true|false)/g)].flatMap(([, field, term]) =>
          valuesOf(term!).map((value): [string, unknown] => [field!, value]),
        ),
      );
      expect(compared.length).toBeGreaterThan(10);
      expect(unwritten(compared)).toEqual([]);
    });

    it('keys the policies on metric labels whose values the function writes', () => {
      const fieldOf = new Map<string, string>();
      for (const m of Object.values(r.google_logging_metric!)) {
        for (const [label, extractor] of Object.entries(m.label_extractors as Record<string, string>)) {
          fieldOf.set(label, /^EXTRACT\(jsonPayload\.(\w+)\)$/.exec(extractor)![1]!);
        }
      }
      const compared = all.flatMap((t) =>
        [...t.matchAll(/metric\.labels\.(\w+)="([^"]*)"/g)].map(([, label, value]): [string | undefined, unknown] => [
          fieldOf.get(label!),
          value,
        ]),
      );
      expect(compared.length).toBeGreaterThan(5);
      expect(unwritten(compared)).toEqual([]);
    });
  });
});

describe('validateNotificationChannels', () => {
  it('accepts full channel names, by project id or number, and an empty list', () => {
    expect(validateNotificationChannels(CHANNELS)).toBeUndefined();
    expect(validateNotificationChannels(['projects/example.com:fleet-prod/notificationChannels/7'])).toBeUndefined();
    expect(validateNotificationChannels([])).toBeUndefined();
  });

  it('names the entry, the value and the expected form', () => {
    expect(
      validateNotificationChannels(['projects/fleet-prod-1234/notificationChannels/1', 'fleet-prod-1234/notificationChannels/2']),
    ).toBe(
      "notificationChannels[1] must be a full notification channel name 'projects/<project id or number>/notificationChannels/<channel id>', " +
        "e.g. 'projects/fleet-prod-1234/notificationChannels/1355104823470596720' (the name `gcloud beta monitoring channels list " +
        "--format='value(name)'` prints, or a google_monitoring_notification_channel's id), got 'fleet-prod-1234/notificationChannels/2'",
    );
  });

  it('says when a channel id is given alone', () => {
    expect(validateNotificationChannels(['1355104823470596720'])).toMatch(
      /got '1355104823470596720': this is a channel id alone; give its full name$/,
    );
  });

  it('says when an email address is given instead of a channel', () => {
    expect(validateNotificationChannels(['oncall@example.com'])).toMatch(
      /got 'oncall@example.com': this is an address; create a notification channel/,
    );
  });

  it.each([
    ['a channel path of another kind', ['projects/fleet-prod-1234/alertPolicies/5'], /notificationChannels\[0\] must be a full/],
    ['a trailing slash', ['projects/fleet-prod-1234/notificationChannels/5/'], /notificationChannels\[0\] must be a full/],
    ['an empty id', ['projects/fleet-prod-1234/notificationChannels/'], /notificationChannels\[0\] must be a full/],
    ['uppercase in the project', ['projects/Fleet/notificationChannels/5'], /notificationChannels\[0\] must be a full/],
    ['a number', [5], /notificationChannels\[0\] must be a string .*, got 5$/],
    ['a string instead of a list', CHANNELS[0], /^notificationChannels must be a list of notification channel names .*, got 'projects\//],
    ['undefined', undefined, /^notificationChannels must be a list .*, got undefined$/],
  ])('refuses %s', (_what, channels, message) => {
    expect(validateNotificationChannels(channels)).toMatch(message);
  });

  it('refuses a channel listed twice', () => {
    expect(validateNotificationChannels([CHANNELS[0], CHANNELS[0]])).toBe(`notificationChannels lists '${CHANNELS[0]}' twice`);
  });

  it('makes the construct fail with its path', () => {
    expect(() => synth({ notificationChannels: ['42'] })).toThrow(
      /^ResponderAlerting at 'test\/Alerting': notificationChannels\[0\] must be a full notification channel name/,
    );
  });
});
