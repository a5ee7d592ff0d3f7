import fc from 'fast-check';
import { decide } from '../function/decide';
import { PcrMeasurement, fingerprint, sameMeasurements } from '../function/measurements';
import { IntegrityReport, parseMessage } from '../function/parse';
import { integrityEntry, pubsubData } from './support/fixtures';

const RUNS = 500;

const measurement = fc.record({
  pcr: fc.integer({ min: 0, max: 23 }),
  value: fc.string({ minLength: 1, maxLength: 44 }),
  hashAlgo: fc.option(fc.constantFrom('SHA1', 'SHA256'), { nil: undefined }),
});
/** A measurement set: every PCR at most once. */
const measurementSet = fc
  .uniqueArray(measurement, { selector: (m) => m.pcr, minLength: 1, maxLength: 24 })
  .map((ms) => ms.map(({ hashAlgo, ...m }) => (hashAlgo === undefined ? m : { ...m, hashAlgo })) as PcrMeasurement[]);

/** A typed outcome reached by the parser's own checks, not by its last-resort catch. */
function expectTypedOutcome(result: ReturnType<typeof parseMessage>): void {
  expect(['report', 'ignored', 'rejected']).toContain(result.status);
  if (result.status === 'rejected') expect(result.detail).not.toMatch(/unexpected parser failure/);
}

const report = (actualMeasurements: PcrMeasurement[]): IntegrityReport => ({
  kind: 'lateBoot',
  passed: false,
  actualMeasurements,
  instance: { projectId: 'fleet-prod-1234', zone: 'us-central1-a', id: '1' },
});

describe('properties', () => {
  it(`parseMessage returns a typed result from its own checks for any input (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.anything(), (data) => {
        expectTypedOutcome(parseMessage(data));
      }),
      { numRuns: RUNS },
    );
  });

  it(`parseMessage returns a typed result from its own checks for any JSON spliced into a real entry (${RUNS} runs)`, () => {
    const paths = ['jsonPayload', 'jsonPayload.lateBootReportEvent', 'jsonPayload.lateBootReportEvent.actualMeasurements', 'resource', 'resource.labels', 'labels', 'jsonPayload.bootCounter', 'timestamp', 'logName'];
    fc.assert(
      fc.property(fc.constantFrom(...paths), fc.jsonValue(), (path, value) => {
        const entry = integrityEntry() as Record<string, any>;
        const keys = path.split('.');
        let target = entry;
        for (const k of keys.slice(0, -1)) target = target[k];
        target[keys.at(-1)!] = value;
        expectTypedOutcome(parseMessage(pubsubData(entry)));
      }),
      { numRuns: RUNS },
    );
  });

  it(`never relearns unless the baseline matches exactly (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(measurementSet, measurementSet, (actual, baseline) => {
        const matched = sameMeasurements(actual, baseline);
        const decision = decide(report(actual), 'relearn-if-known-good', matched ? { matched, baselineId: 'b' } : { matched: false });
        if (decision.action === 'relearn') {
          expect(new Set(actual.map((m) => m.pcr))).toEqual(new Set(baseline.map((m) => m.pcr)));
          for (const m of actual) expect(baseline.find((b) => b.pcr === m.pcr)!.value).toBe(m.value);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it(`never matches a strict subset or superset (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(measurementSet.filter((ms) => ms.length > 1), fc.nat(), (set, cut) => {
        const subset = set.slice(0, 1 + (cut % (set.length - 1)));
        expect(sameMeasurements(set, subset)).toBe(false);
        expect(sameMeasurements(subset, set)).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it(`matches, and fingerprints, independently of PCR order (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(measurementSet, fc.func(fc.integer()), (set, key) => {
        const shuffled = [...set].sort((a, b) => key(a.pcr) - key(b.pcr));
        expect(sameMeasurements(set, shuffled)).toBe(true);
        expect(fingerprint(shuffled)).toBe(fingerprint(set));
      }),
      { numRuns: RUNS },
    );
  });
});
