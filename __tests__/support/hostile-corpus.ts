import { integrityEntry, otherIntegrityEntry, pubsubData } from '../../testkit/fixtures';

/** How the handler must treat a hostile input: the one log line it writes, and no Compute call. */
export type Expected = 'rejected' | 'ignored' | 'no-action';

/** One malformed or hostile input. */
export interface HostileInput {
  readonly name: string;
  /** The CloudEvent `data`, as Eventarc would deliver it. */
  readonly data: unknown;
  /**
   * `pubsub` when a Pub/Sub publisher can produce it (it has a base64 `message.data`); `direct`
   * when only a direct HTTP delivery can (Pub/Sub builds the envelope itself); `handler` when
   * not even that reaches the handler (the Functions Framework answers 400 to a null body).
   */
  readonly transport: 'pubsub' | 'direct' | 'handler';
  readonly expected: Expected;
  /** For `rejected`: the rejection code. */
  readonly code?: string;
}

const PROJECT = 'fleet-prod-1234';

function mutated(fn: (e: any) => void, opts: Parameters<typeof integrityEntry>[0] = {}): Record<string, unknown> {
  const e = integrityEntry({ projectId: PROJECT, ...opts }) as any;
  fn(e);
  return e;
}

const text = (s: string): Record<string, unknown> => ({ message: { data: Buffer.from(s).toString('base64'), messageId: 'x' } });

const late = (fn: (r: any) => void) => mutated((e) => fn(e.jsonPayload.lateBootReportEvent));
const labels = (fn: (l: any) => void) => mutated((e) => fn(e.resource.labels));
const measurement = (fn: (m: any) => void) => late((r) => fn(r.actualMeasurements[0]));

const entries: Array<[string, Expected, string | undefined, Record<string, unknown>]> = [
  ['an empty LogEntry', 'ignored', undefined, {}],
  [
    'a textPayload entry',
    'ignored',
    undefined,
    { logName: `projects/${PROJECT}/logs/compute.googleapis.com%2Fshielded_vm_integrity`, textPayload: 'boot' },
  ],
  [
    'another payload @type',
    'ignored',
    undefined,
    mutated((e) => (e.jsonPayload['@type'] = 'type.googleapis.com/google.cloud.audit.AuditLog')),
  ],
  ['a payload without @type', 'ignored', undefined, mutated((e) => delete e.jsonPayload['@type'])],
  [
    'a startupEvent',
    'ignored',
    undefined,
    {
      ...otherIntegrityEntry('startupEvent'),
      resource: integrityEntry({ projectId: PROJECT }).resource,
      logName: `projects/${PROJECT}/logs/compute.googleapis.com%2Fshielded_vm_integrity`,
    },
  ],
  [
    'a shutdownEvent',
    'ignored',
    undefined,
    {
      ...otherIntegrityEntry('shutdownEvent'),
      resource: integrityEntry({ projectId: PROJECT }).resource,
      logName: `projects/${PROJECT}/logs/compute.googleapis.com%2Fshielded_vm_integrity`,
    },
  ],
  ['an entry of another log', 'ignored', undefined, mutated((e) => (e.logName = `projects/${PROJECT}/logs/syslog`))],
  ['an entry without logName', 'ignored', undefined, mutated((e) => delete e.logName)],
  ['a jsonPayload that is an array', 'ignored', undefined, mutated((e) => (e.jsonPayload = []))],
  [
    'a passed report that also carries garbage measurements',
    'no-action',
    undefined,
    late((r) => ((r.policyEvaluationPassed = true), (r.actualMeasurements = 'garbage'))),
  ],
  [
    'both early and late reports',
    'rejected',
    'invalid-report',
    mutated((e) => (e.jsonPayload.earlyBootReportEvent = e.jsonPayload.lateBootReportEvent)),
  ],
  ['a report that is a string', 'rejected', 'invalid-report', mutated((e) => (e.jsonPayload.lateBootReportEvent = 'failed'))],
  ['a report that is an array', 'rejected', 'invalid-report', mutated((e) => (e.jsonPayload.lateBootReportEvent = []))],
  ['a report that is null', 'rejected', 'invalid-report', mutated((e) => (e.jsonPayload.lateBootReportEvent = null))],
  ['policyEvaluationPassed "false"', 'rejected', 'invalid-report', late((r) => (r.policyEvaluationPassed = 'false'))],
  ['policyEvaluationPassed 0', 'rejected', 'invalid-report', late((r) => (r.policyEvaluationPassed = 0))],
  ['policyEvaluationPassed null', 'rejected', 'invalid-report', late((r) => (r.policyEvaluationPassed = null))],
  ['no policyEvaluationPassed', 'rejected', 'invalid-report', late((r) => delete r.policyEvaluationPassed)],
  ['a negative boot counter', 'rejected', 'invalid-report', mutated((e) => (e.jsonPayload.bootCounter = '-1'))],
  ['a fractional boot counter', 'rejected', 'invalid-report', mutated((e) => (e.jsonPayload.bootCounter = 1.5))],
  ['an object boot counter', 'rejected', 'invalid-report', mutated((e) => (e.jsonPayload.bootCounter = {}))],
  ['no resource', 'rejected', 'invalid-resource', mutated((e) => delete e.resource)],
  ['a gce_disk resource', 'rejected', 'invalid-resource', mutated((e) => (e.resource.type = 'gce_disk'))],
  ['no resource labels', 'rejected', 'invalid-resource', mutated((e) => delete e.resource.labels)],
  ['resource labels that are a string', 'rejected', 'invalid-resource', mutated((e) => (e.resource.labels = 'x'))],
  ['a non-numeric instance id', 'rejected', 'invalid-resource', labels((l) => (l.instance_id = 'abc'))],
  ['an instance id carrying a filter', 'rejected', 'invalid-resource', labels((l) => (l.instance_id = '1 OR name = prod-db'))],
  // eslint-disable-next-line no-loss-of-precision -- the point: a JSON number cannot carry a uint64 id exactly
  ['a numeric (not string) instance id', 'rejected', 'invalid-resource', labels((l) => (l.instance_id = 4617930134256183721))],
  ['an instance id above uint64', 'rejected', 'invalid-resource', labels((l) => (l.instance_id = '99999999999999999999'))],
  ['an empty instance id', 'rejected', 'invalid-resource', labels((l) => (l.instance_id = ''))],
  ['a negative instance id', 'rejected', 'invalid-resource', labels((l) => (l.instance_id = '-5'))],
  ['a zone with a path', 'rejected', 'invalid-resource', labels((l) => (l.zone = 'us-central1-a/../../global'))],
  ['a numeric zone', 'rejected', 'invalid-resource', labels((l) => (l.zone = 7))],
  ['an invalid project id', 'rejected', 'invalid-resource', labels((l) => (l.project_id = 'Robert"); DROP TABLE'))],
  [
    'a logName of another project',
    'rejected',
    'invalid-resource',
    mutated((e) => (e.logName = 'projects/other-project-42/logs/compute.googleapis.com%2Fshielded_vm_integrity')),
  ],
  [
    'an instance name label with uppercase',
    'rejected',
    'invalid-resource',
    mutated((e) => (e.labels['compute.googleapis.com/resource_name'] = 'Prod_DB')),
  ],
  [
    'a numeric instance name label',
    'rejected',
    'invalid-resource',
    mutated((e) => (e.labels['compute.googleapis.com/resource_name'] = 12)),
  ],
  [
    'an instance name label of 64 characters',
    'rejected',
    'invalid-resource',
    mutated((e) => (e.labels['compute.googleapis.com/resource_name'] = `a${'b'.repeat(63)}`)),
  ],
  ['no actualMeasurements', 'rejected', 'invalid-measurements', late((r) => delete r.actualMeasurements)],
  ['actualMeasurements that are an object', 'rejected', 'invalid-measurements', late((r) => (r.actualMeasurements = { PCR_0: 'x' }))],
  ['an empty measurement array', 'rejected', 'invalid-measurements', late((r) => (r.actualMeasurements = []))],
  [
    'a very large measurement array',
    'rejected',
    'invalid-measurements',
    late((r) => (r.actualMeasurements = Array.from({ length: 5000 }, (_, i) => ({ pcrNum: `PCR_${i % 24}`, value: 'v' })))),
  ],
  ['a duplicated PCR', 'rejected', 'invalid-measurements', late((r) => r.actualMeasurements.push({ ...r.actualMeasurements[0] }))],
  [
    'the same PCR spelled twice (PCR_7, PCR_07)',
    'rejected',
    'invalid-measurements',
    late((r) => r.actualMeasurements.push({ pcrNum: 'PCR_07', value: 'v' })),
  ],
  ['an unknown PCR (PCR_24)', 'rejected', 'invalid-measurements', measurement((m) => (m.pcrNum = 'PCR_24'))],
  ['a lowercase PCR name', 'rejected', 'invalid-measurements', measurement((m) => (m.pcrNum = 'pcr_0'))],
  ['a missing pcrNum', 'rejected', 'invalid-measurements', measurement((m) => delete m.pcrNum)],
  ['an empty value', 'rejected', 'invalid-measurements', measurement((m) => (m.value = ''))],
  ['a numeric value', 'rejected', 'invalid-measurements', measurement((m) => (m.value = 42))],
  ['a 300-character value', 'rejected', 'invalid-measurements', measurement((m) => (m.value = 'A'.repeat(300)))],
  ['an object hashAlgo', 'rejected', 'invalid-measurements', measurement((m) => (m.hashAlgo = { name: 'SHA1' }))],
  ['a measurement that is null', 'rejected', 'invalid-measurements', late((r) => (r.actualMeasurements[0] = null))],
  ['an unparseable timestamp', 'rejected', 'invalid-log-entry', mutated((e) => (e.timestamp = 'yesterday'))],
  ['a numeric timestamp', 'rejected', 'invalid-log-entry', mutated((e) => (e.timestamp = 1763632800))],
  ['labels that are a string', 'rejected', 'invalid-log-entry', mutated((e) => (e.labels = 'web-1'))],
  ['a numeric pcrNum', 'rejected', 'invalid-measurements', measurement((m) => (m.pcrNum = 7))],
  ['a numeric logName', 'ignored', undefined, mutated((e) => (e.logName = 42))],
  ['a numeric @type', 'ignored', undefined, mutated((e) => (e.jsonPayload['@type'] = 7))],
  ['a numeric resource type', 'rejected', 'invalid-resource', mutated((e) => (e.resource.type = 1))],
  ['a numeric project id', 'rejected', 'invalid-resource', labels((l) => (l.project_id = 1234))],
  ['an entry about another project', 'rejected', 'foreign-project', mutated(() => undefined, { projectId: 'other-project-42' })],
];

/** The corpus: at least fifty malformed or hostile inputs, each with its required outcome. */
export const HOSTILE_INPUTS: readonly HostileInput[] = [
  { name: 'no data at all', data: null, transport: 'handler', expected: 'rejected', code: 'missing-message' },
  { name: 'an envelope without message', data: { subscription: 's' }, transport: 'direct', expected: 'rejected', code: 'missing-message' },
  { name: 'a null message', data: { message: null }, transport: 'direct', expected: 'rejected', code: 'missing-message' },
  { name: 'a message that is a string', data: { message: 'hello' }, transport: 'direct', expected: 'rejected', code: 'missing-message' },
  {
    name: 'a message without data',
    data: { message: { messageId: '1' } },
    transport: 'direct',
    expected: 'rejected',
    code: 'missing-data',
  },
  { name: 'numeric message data', data: { message: { data: 42 } }, transport: 'direct', expected: 'rejected', code: 'missing-data' },
  {
    name: 'bad base64',
    data: { message: { data: '%%%not-base64%%%' } },
    transport: 'direct',
    expected: 'rejected',
    code: 'invalid-base64',
  },
  { name: 'non-JSON text', data: text('integrity failed!'), transport: 'pubsub', expected: 'rejected', code: 'invalid-json' },
  { name: 'truncated JSON', data: text('{"jsonPayload": {"@type": '), transport: 'pubsub', expected: 'rejected', code: 'invalid-json' },
  { name: 'a JSON array', data: text('[1,2,3]'), transport: 'pubsub', expected: 'rejected', code: 'invalid-log-entry' },
  { name: 'a JSON number', data: text('42'), transport: 'pubsub', expected: 'rejected', code: 'invalid-log-entry' },
  { name: 'JSON null', data: text('null'), transport: 'pubsub', expected: 'rejected', code: 'invalid-log-entry' },
  {
    name: 'an oversized message (400 KB)',
    data: pubsubData({ ...integrityEntry({ projectId: PROJECT }), padding: 'x'.repeat(400 * 1024) }),
    transport: 'pubsub',
    expected: 'rejected',
    code: 'too-large',
  },
  ...entries.map(([name, expected, code, entry]): HostileInput => ({
    name,
    data: pubsubData(entry),
    transport: 'pubsub',
    expected,
    ...(code !== undefined && { code }),
  })),
];
