import { decide, needsBaselineLookup } from '../function/decide';
import type { IntegrityReport } from '../function/parse';

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
