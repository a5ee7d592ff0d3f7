import { confirmRelearn, decide, needsBaselineLookup } from '../../../function/core/decide';
import type { IntegrityReport } from '../../../function/core/parse';

const report = (kind: IntegrityReport['kind'], passed: boolean): IntegrityReport => ({
  kind,
  passed,
  actualMeasurements: passed ? [] : [{ pcr: 0, value: 'v' }],
  instance: { projectId: 'fleet-prod-1234', zone: 'us-central1-a', id: '1' },
});
const hit = { matched: true, baselineId: 'b1' } as const;
const miss = { matched: false } as const;

describe('decide', () => {
  it.each([
    ['relearn-if-known-good', 'lateBoot', true, undefined, { action: 'none', reason: 'policy-passed' }],
    ['relearn-if-known-good', 'lateBoot', false, hit, { action: 'relearn', reason: 'known-good', baselineId: 'b1' }],
    ['relearn-if-known-good', 'lateBoot', false, miss, { action: 'stop', reason: 'not-known-good' }],
    ['relearn-if-known-good', 'earlyBoot', false, undefined, { action: 'ignore', reason: 'early-boot-report-in-relearn-mode' }],
    ['relearn-if-known-good', 'earlyBoot', true, undefined, { action: 'ignore', reason: 'early-boot-report-in-relearn-mode' }],
    ['shutdown', 'earlyBoot', false, undefined, { action: 'stop', reason: 'policy-failed' }],
    ['shutdown', 'lateBoot', false, undefined, { action: 'stop', reason: 'policy-failed' }],
    ['shutdown', 'lateBoot', true, undefined, { action: 'none', reason: 'policy-passed' }],
  ] as const)('in %s mode, a %s report (passed: %s) with lookup %j → %j', (mode, kind, passed, lookup, expected) => {
    expect(decide(report(kind, passed), mode, lookup)).toEqual(expected);
  });

  it('asks for a lookup only for a failed late-boot report in relearn mode', () => {
    expect(needsBaselineLookup(report('lateBoot', false), 'relearn-if-known-good')).toBe(true);
    expect(needsBaselineLookup(report('lateBoot', true), 'relearn-if-known-good')).toBe(false);
    expect(needsBaselineLookup(report('earlyBoot', false), 'relearn-if-known-good')).toBe(false);
    expect(needsBaselineLookup(report('lateBoot', false), 'shutdown')).toBe(false);
  });

  it('refuses to decide a failed late-boot report without a lookup', () => {
    expect(() => decide(report('lateBoot', false), 'relearn-if-known-good')).toThrow(/needs a baseline lookup/);
  });
});

describe('confirmRelearn', () => {
  const relearn = { action: 'relearn', reason: 'known-good', baselineId: 'b1' } as const;
  const reported = { ...report('lateBoot', false), timestamp: '2026-11-20T10:00:00Z' };

  it('keeps a relearn when the running instance has not started since the report', () => {
    expect(confirmRelearn(relearn, reported, { id: '1', status: 'RUNNING', lastStartTimestamp: '2026-11-20T09:58:00Z' })).toBe(relearn);
  });

  it.each<[string, { id: string; status?: string; lastStartTimestamp?: string }, string | undefined, string]>([
    [
      'started after the report',
      { id: '1', status: 'RUNNING', lastStartTimestamp: '2026-11-20T10:00:01Z' },
      '2026-11-20T10:00:00Z',
      'superseded-by-later-boot',
    ],
    ['has no start time', { id: '1', status: 'RUNNING' }, '2026-11-20T10:00:00Z', 'superseded-by-later-boot'],
    [
      'is compared with a report without time',
      { id: '1', status: 'RUNNING', lastStartTimestamp: '2026-11-20T09:00:00Z' },
      undefined,
      'superseded-by-later-boot',
    ],
    [
      'answers as another instance',
      { id: '2', status: 'RUNNING', lastStartTimestamp: '2026-11-20T09:00:00Z' },
      '2026-11-20T10:00:00Z',
      'instance-replaced',
    ],
    [
      'answers as another instance that is not running',
      { id: '2', status: 'TERMINATED', lastStartTimestamp: '2026-11-20T09:00:00Z' },
      '2026-11-20T10:00:00Z',
      'instance-replaced',
    ],
    [
      'is stopped',
      { id: '1', status: 'TERMINATED', lastStartTimestamp: '2026-11-20T09:00:00Z' },
      '2026-11-20T10:00:00Z',
      'instance-not-running',
    ],
    [
      'is suspended',
      { id: '1', status: 'SUSPENDED', lastStartTimestamp: '2026-11-20T09:00:00Z' },
      '2026-11-20T10:00:00Z',
      'instance-not-running',
    ],
    [
      'is stopping',
      { id: '1', status: 'STOPPING', lastStartTimestamp: '2026-11-20T09:00:00Z' },
      '2026-11-20T10:00:00Z',
      'instance-not-running',
    ],
    ['has no status', { id: '1', lastStartTimestamp: '2026-11-20T09:00:00Z' }, '2026-11-20T10:00:00Z', 'instance-not-running'],
    [
      'is not running and started after the report',
      { id: '1', status: 'TERMINATED', lastStartTimestamp: '2026-11-20T10:00:01Z' },
      '2026-11-20T10:00:00Z',
      'instance-not-running',
    ],
  ])('turns a relearn into no action when the instance %s', (_name, current, timestamp, reason) => {
    const r = { ...report('lateBoot', false), ...(timestamp !== undefined && { timestamp }) };
    expect(confirmRelearn(relearn, r, current)).toEqual({ action: 'none', reason });
  });

  it('leaves other decisions alone', () => {
    const stop = { action: 'stop', reason: 'not-known-good' } as const;
    expect(confirmRelearn(stop, reported, { id: '2' })).toBe(stop);
    expect(confirmRelearn(stop, reported, { id: '1', status: 'TERMINATED' })).toBe(stop);
  });
});
