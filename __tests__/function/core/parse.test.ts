import { MAX_LOG_ENTRY_BYTES, parseMessage } from '../../../function/core/parse';
import { integrityEntry, linuxPcrs, otherIntegrityEntry, pubsubData } from '../../../testkit/fixtures';

const parse = (entry: unknown) => parseMessage(pubsubData(entry));

describe('parseMessage', () => {
  it('reads a failed late-boot report with its measurements and instance', () => {
    expect(
      parse(integrityEntry({ actual: linuxPcrs('x'), name: 'web-1', bootCounter: '12', timestamp: '2026-11-20T10:00:00.000Z' })),
    ).toEqual({
      status: 'report',
      report: {
        kind: 'lateBoot',
        passed: false,
        actualMeasurements: linuxPcrs('x').map((p) => ({ pcr: Number(p.pcrNum.slice(4)), value: p.value, hashAlgo: 'SHA1' })),
        bootCounter: '12',
        instance: { projectId: 'fleet-prod-1234', zone: 'europe-west1-b', id: '4617930134256183721', name: 'web-1' },
        timestamp: '2026-11-20T10:00:00.000Z',
      },
    });
  });

  it('reads an early-boot report', () => {
    const r = parse(integrityEntry({ kind: 'earlyBootReportEvent' }));
    expect(r).toEqual(expect.objectContaining({ status: 'report', report: expect.objectContaining({ kind: 'earlyBoot' }) }));
  });

  it('leaves the name out when the entry carries none', () => {
    const r = parse(integrityEntry({ name: null }));
    expect(r.status === 'report' && r.report.instance).toEqual({
      projectId: 'fleet-prod-1234',
      zone: 'europe-west1-b',
      id: '4617930134256183721',
    });
  });

  it('accepts a numeric boot counter', () => {
    const entry = integrityEntry();
    (entry.jsonPayload as Record<string, unknown>).bootCounter = 9;
    const r = parse(entry);
    expect(r.status === 'report' && r.report.bootCounter).toBe('9');
  });

  it('does not require measurements on a passed report', () => {
    expect(parse(integrityEntry({ passed: true, actual: [] })).status).toBe('report');
  });

  it('ignores entries of other logs', () => {
    expect(parse({ ...integrityEntry(), logName: 'projects/fleet-prod-1234/logs/syslog' })).toEqual({
      status: 'ignored',
      reason: expect.stringContaining('not the Shielded VM integrity log'),
    });
    const noLog = integrityEntry();
    delete noLog.logName;
    expect(parse(noLog).status).toBe('ignored');
  });

  it('ignores other IntegrityEvents and other payload types', () => {
    expect(parse(otherIntegrityEntry('startupEvent'))).toEqual({ status: 'ignored', reason: expect.stringContaining('startupEvent') });
    expect(parse({ ...integrityEntry(), jsonPayload: { '@type': 'type.googleapis.com/other' } }).status).toBe('ignored');
    expect(parse({ textPayload: 'hello' }).status).toBe('ignored');
  });

  const rejected: Array<[string, unknown, string]> = [
    ['no envelope', null, 'missing-message'],
    ['no message', { subscription: 's' }, 'missing-message'],
    ['no data', { message: {} }, 'missing-data'],
    ['non-string data', { message: { data: 42 } }, 'missing-data'],
    ['bad base64', { message: { data: '***' } }, 'invalid-base64'],
    ['not JSON', { message: { data: Buffer.from('nope').toString('base64') } }, 'invalid-json'],
    ['oversized', { message: { data: 'A'.repeat(Math.ceil((MAX_LOG_ENTRY_BYTES * 4) / 3) + 8) } }, 'too-large'],
    ['a JSON array', pubsubData([1, 2]), 'invalid-log-entry'],
  ];
  it.each(rejected)('rejects %s', (_name, data, code) => {
    expect(parseMessage(data)).toEqual({ status: 'rejected', code, detail: expect.any(String) });
  });

  const mutate = (fn: (e: any) => void) => {
    const e = integrityEntry() as any;
    fn(e);
    return e;
  };
  const rejectedEntries: Array<[string, unknown, string]> = [
    ['both reports', mutate((e) => (e.jsonPayload.earlyBootReportEvent = e.jsonPayload.lateBootReportEvent)), 'invalid-report'],
    ['a report that is not an object', mutate((e) => (e.jsonPayload.lateBootReportEvent = 'x')), 'invalid-report'],
    [
      'a string policyEvaluationPassed',
      mutate((e) => (e.jsonPayload.lateBootReportEvent.policyEvaluationPassed = 'false')),
      'invalid-report',
    ],
    ['a missing policyEvaluationPassed', mutate((e) => delete e.jsonPayload.lateBootReportEvent.policyEvaluationPassed), 'invalid-report'],
    ['a negative boot counter', mutate((e) => (e.jsonPayload.bootCounter = '-1')), 'invalid-report'],
    ['a non-gce resource', mutate((e) => (e.resource.type = 'gce_disk')), 'invalid-resource'],
    ['missing resource labels', mutate((e) => delete e.resource.labels), 'invalid-resource'],
    ['a non-numeric instance id', mutate((e) => (e.resource.labels.instance_id = '12 OR name = x')), 'invalid-resource'],
    ['an instance id above uint64', mutate((e) => (e.resource.labels.instance_id = '18446744073709551616')), 'invalid-resource'],
    [
      'an instance id with a leading zero (one VM, one spelling)',
      mutate((e) => (e.resource.labels.instance_id = '04617930134256183721')),
      'invalid-resource',
    ],
    ['a numeric instance id', mutate((e) => (e.resource.labels.instance_id = 123)), 'invalid-resource'],
    ['a bad zone', mutate((e) => (e.resource.labels.zone = '../zones')), 'invalid-resource'],
    ['a bad project', mutate((e) => (e.resource.labels.project_id = 'P')), 'invalid-resource'],
    ['a bad instance name label', mutate((e) => (e.labels['compute.googleapis.com/resource_name'] = 'Web_1')), 'invalid-resource'],
    [
      'measurements that are not an array',
      mutate((e) => (e.jsonPayload.lateBootReportEvent.actualMeasurements = {})),
      'invalid-measurements',
    ],
    ['missing measurements', mutate((e) => delete e.jsonPayload.lateBootReportEvent.actualMeasurements), 'invalid-measurements'],
    ['an empty measurement array', mutate((e) => (e.jsonPayload.lateBootReportEvent.actualMeasurements = [])), 'invalid-measurements'],
    [
      'more measurements than PCRs',
      mutate(
        (e) =>
          (e.jsonPayload.lateBootReportEvent.actualMeasurements = Array.from({ length: 25 }, (_, i) => ({
            pcrNum: `PCR_${i}`,
            value: 'v',
          }))),
      ),
      'invalid-measurements',
    ],
    [
      'a duplicated PCR',
      mutate((e) =>
        e.jsonPayload.lateBootReportEvent.actualMeasurements.push({ ...e.jsonPayload.lateBootReportEvent.actualMeasurements[0] }),
      ),
      'invalid-measurements',
    ],
    [
      'an unknown PCR name',
      mutate((e) => (e.jsonPayload.lateBootReportEvent.actualMeasurements[0].pcrNum = 'PCR_24')),
      'invalid-measurements',
    ],
    [
      'a PCR name with a leading zero',
      mutate((e) => (e.jsonPayload.lateBootReportEvent.actualMeasurements[0].pcrNum = 'PCR_07')),
      'invalid-measurements',
    ],
    ['an empty value', mutate((e) => (e.jsonPayload.lateBootReportEvent.actualMeasurements[0].value = '')), 'invalid-measurements'],
    ['a numeric value', mutate((e) => (e.jsonPayload.lateBootReportEvent.actualMeasurements[0].value = 5)), 'invalid-measurements'],
    [
      'a logName of another project',
      mutate((e) => (e.logName = 'projects/other-project-42/logs/compute.googleapis.com%2Fshielded_vm_integrity')),
      'invalid-resource',
    ],
    ['an unparseable timestamp', mutate((e) => (e.timestamp = 'yesterday')), 'invalid-log-entry'],
    [
      'a non-string hashAlgo',
      mutate((e) => (e.jsonPayload.lateBootReportEvent.actualMeasurements[0].hashAlgo = {})),
      'invalid-measurements',
    ],
  ];
  it.each(rejectedEntries)('rejects an entry with %s', (_name, entry, code) => {
    expect(parse(entry)).toEqual({ status: 'rejected', code, detail: expect.any(String) });
  });
});
