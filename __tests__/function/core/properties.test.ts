import fc from 'fast-check';
import { baselineDocument, measurementsFromDocument } from '../../../function/core/baseline';
import { decide } from '../../../function/core/decide';
import { PcrMeasurement, fingerprint, sameMeasurements } from '../../../function/core/measurements';
import { IntegrityReport, parseMessage } from '../../../function/core/parse';
import { integrityEntry, pubsubData } from '../../../testkit/fixtures';

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
    const paths = [
      'jsonPayload',
      'jsonPayload.lateBootReportEvent',
      'jsonPayload.lateBootReportEvent.actualMeasurements',
      'resource',
      'resource.labels',
      'labels',
      'jsonPayload.bootCounter',
      'timestamp',
      'logName',
    ];
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

  /** A baseline derived from the measured set: identical, or one near miss of it. */
  const variant = (set: PcrMeasurement[]) =>
    fc.oneof(
      fc.constant({ kind: 'same order', baseline: set, exact: true }),
      fc.constant({ kind: 'reversed', baseline: [...set].reverse(), exact: true }),
      fc.constant({ kind: 'no hash algorithms', baseline: set.map(({ hashAlgo: _, ...m }) => m), exact: true }),
      fc.nat().map((i) => ({ kind: 'one PCR fewer', baseline: set.filter((_, j) => j !== i % set.length), exact: false })),
      fc
        .integer({ min: 0, max: 23 })
        .filter((p) => !set.some((m) => m.pcr === p))
        .map((pcr) => ({ kind: 'one PCR more', baseline: [...set, { pcr, value: 'extra' }], exact: false })),
      fc.nat().map((i) => ({
        kind: 'one value changed',
        baseline: set.map((m, j) => (j === i % set.length ? { ...m, value: `${m.value}x` } : m)),
        exact: false,
      })),
      fc.nat().map((n) => {
        const i = n % set.length;
        const changed = set.map((m, j) => (j === i ? { ...m, hashAlgo: m.hashAlgo === 'SHA1' ? 'SHA256' : 'SHA1' } : m));
        // Algorithms are compared only where both sides name one.
        return { kind: 'one hash algorithm changed', baseline: changed, exact: set[i]!.hashAlgo === undefined };
      }),
    );

  it(`relearns if and only if the stored baseline matches exactly, on near misses (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(
        measurementSet.chain((set) => variant(set).map((v) => ({ set, ...v }))),
        ({ set, kind, baseline, exact }) => {
          // Through the stored form, as the Firestore store reads it.
          // A document that does not parse (an empty baseline) never matches, as in the store.
          const stored = measurementsFromDocument(baselineDocument(baseline).data);
          const matched = stored.ok && sameMeasurements(set, stored.measurements);
          const decision = decide(report(set), 'relearn-if-known-good', matched ? { matched, baselineId: 'b' } : { matched: false });
          expect({ kind, relearn: decision.action === 'relearn' }).toEqual({ kind, relearn: exact });
        },
      ),
      { numRuns: RUNS },
    );
  });

  it(`never matches a strict subset or superset (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(
        measurementSet.filter((ms) => ms.length > 1),
        fc.nat(),
        (set, cut) => {
          const subset = set.slice(0, 1 + (cut % (set.length - 1)));
          expect(sameMeasurements(set, subset)).toBe(false);
          expect(sameMeasurements(subset, set)).toBe(false);
        },
      ),
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
