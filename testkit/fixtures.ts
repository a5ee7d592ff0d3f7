/** Instance id of the fixture entries unless a test names another. */
import { INTEGRITY_EVENT_TYPE, INSTANCE_NAME_LABEL } from '../function/contract';
export const DEFAULT_INSTANCE_ID = '4617930134256183721';

/** A measurement as Shielded VM logs it. */
export interface LoggedPcr {
  hashAlgo?: string;
  pcrNum: string;
  value: string;
}

const digest = (seed: string): string => Buffer.from(`${seed}-digest-of-twenty!`).subarray(0, 20).toString('base64');

/** Late-boot measurements of a Linux VM: PCR 0, 4 and 7. */
export function linuxPcrs(seed = 'linux'): LoggedPcr[] {
  return [0, 4, 7].map((n) => ({ hashAlgo: 'SHA1', pcrNum: `PCR_${n}`, value: digest(`${seed}-${n}`) }));
}

/** Late-boot measurements of a Windows VM: PCR 0, 4, 7, 11, 13 and 14. */
export function windowsPcrs(seed = 'windows'): LoggedPcr[] {
  return [0, 4, 7, 11, 13, 14].map((n) => ({ hashAlgo: 'SHA1', pcrNum: `PCR_${n}`, value: digest(`${seed}-${n}`) }));
}

export interface EntryOptions {
  /** The report the IntegrityEvent carries (default the late-boot report). */
  kind?: 'earlyBootReportEvent' | 'lateBootReportEvent' | 'sevLaunchAttestationReportEvent';
  passed?: boolean;
  actual?: LoggedPcr[];
  policy?: LoggedPcr[];
  /** Instance name label; `null` leaves the label out. */
  name?: string | null;
  instanceId?: string;
  projectId?: string;
  zone?: string;
  bootCounter?: string;
  /** LogEntry timestamp; `null` leaves it out. */
  timestamp?: string | null;
}

/** A LogEntry shaped like the ones Shielded VM integrity monitoring writes. */
export function integrityEntry(o: EntryOptions = {}): Record<string, unknown> {
  const projectId = o.projectId ?? 'fleet-prod-1234';
  const report: Record<string, unknown> =
    o.kind === 'sevLaunchAttestationReportEvent'
      ? // Google's "Monitor Confidential VM integrity" page: the verdict and the SEV policy bits
        // set at launch (which the page exemplifies with whether debugging is allowed).
        { integrityEvaluationPassed: o.passed ?? false, sevPolicy: { debugEnabled: false, keySharingAllowed: false, esRequired: true } }
      : {
          policyEvaluationPassed: o.passed ?? false,
          actualMeasurements: o.actual ?? linuxPcrs('actual'),
          policyMeasurements: o.policy ?? linuxPcrs('policy'),
        };
  const entry: Record<string, unknown> = {
    insertId: '1a2b3c',
    logName: `projects/${projectId}/logs/compute.googleapis.com%2Fshielded_vm_integrity`,
    resource: {
      type: 'gce_instance',
      labels: { instance_id: o.instanceId ?? DEFAULT_INSTANCE_ID, project_id: projectId, zone: o.zone ?? 'europe-west1-b' },
    },
    jsonPayload: {
      '@type': INTEGRITY_EVENT_TYPE,
      bootCounter: o.bootCounter ?? '7',
      [o.kind ?? 'lateBootReportEvent']: report,
    },
    severity: 'NOTICE',
  };
  // Reports are fresh unless a test says otherwise: a second before now.
  if (o.timestamp !== null) entry.timestamp = o.timestamp ?? new Date(Date.now() - 1000).toISOString();
  if (o.name !== null) entry.labels = { [INSTANCE_NAME_LABEL]: o.name ?? 'web-1' };
  return entry;
}

/** Any other IntegrityEvent (startupEvent, shutdownEvent, …). */
export function otherIntegrityEntry(event: string): Record<string, unknown> {
  const entry = integrityEntry();
  entry.jsonPayload = { '@type': INTEGRITY_EVENT_TYPE, bootCounter: '7', [event]: {} };
  return entry;
}

/** The `data` of the CloudEvent Eventarc delivers for one Pub/Sub message. */
export function pubsubData(entry: unknown, messageId = '1234567890'): Record<string, unknown> {
  return {
    message: {
      data: Buffer.from(typeof entry === 'string' ? entry : JSON.stringify(entry)).toString('base64'),
      messageId,
      publishTime: '2026-11-20T10:00:01.000Z',
    },
    subscription: 'projects/fleet-prod-1234/subscriptions/eventarc-us-central1-trigger',
  };
}

/** A baseline typed into the console as the original tutorial describes. */
export function tutorialDocument(pcrs: LoggedPcr[]): Record<string, unknown> {
  return Object.fromEntries(pcrs.map((p) => [p.pcrNum, { hashAlgo: p.hashAlgo, pcrNum: p.pcrNum, value: p.value }]));
}
