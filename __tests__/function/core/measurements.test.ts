import { baselineDocument, measurementsFromDocument } from '../../../function/core/baseline';
import { baselineDocumentId, fingerprint, parsePcr, sameMeasurements } from '../../../function/core/measurements';
import { parseMeasurements } from '../../../function/core/parse';
import { linuxPcrs, tutorialDocument, windowsPcrs } from '../../../testkit/fixtures';

const m = (pcrs = linuxPcrs()) => parseMeasurements(pcrs, 'test');

describe('measurement identity', () => {
  it('parses only canonical PCR names from PCR_0 to PCR_23', () => {
    expect([parsePcr('PCR_0'), parsePcr('PCR_23')]).toEqual([0, 23]);
    expect([parsePcr('PCR_24'), parsePcr('PCR_07'), parsePcr('pcr_1'), parsePcr('PCR_'), parsePcr(7), parsePcr(null)]).toEqual(
      Array(6).fill(undefined),
    );
  });

  it('fingerprints a set independently of order', () => {
    expect(fingerprint(m(windowsPcrs()))).toBe(fingerprint(m(windowsPcrs().reverse())));
    expect(fingerprint(m(windowsPcrs('a')))).not.toBe(fingerprint(m(windowsPcrs('b'))));
  });

  it('leaves the hash algorithm out of the fingerprint', () => {
    expect(fingerprint(m(linuxPcrs().map(({ hashAlgo: _, ...p }) => p)))).toBe(fingerprint(m(linuxPcrs())));
  });

  it('names documents after the fingerprint', () => {
    expect(baselineDocumentId(m())).toBe(`sha256-${fingerprint(m())}`);
  });

  it('matches exactly: never a subset, never a superset', () => {
    const win = m(windowsPcrs());
    expect(sameMeasurements(win, m(windowsPcrs().reverse()))).toBe(true);
    expect(sameMeasurements(win, win.slice(0, 3))).toBe(false);
    expect(sameMeasurements(win.slice(0, 3), win)).toBe(false);
  });

  it('compares hash algorithms only where both sides name one', () => {
    const plain = m(linuxPcrs().map(({ hashAlgo: _, ...p }) => p));
    expect(sameMeasurements(m(), plain)).toBe(true);
    expect(sameMeasurements(m(), m(linuxPcrs().map((p) => ({ ...p, hashAlgo: 'SHA256' }))))).toBe(false);
  });

  it('does not match a baseline that repeats a PCR', () => {
    const a = m();
    expect(sameMeasurements(a, [a[0]!, a[0]!, a[1]!])).toBe(false);
  });
});

describe('baseline documents', () => {
  it('reads the tutorial format', () => {
    expect(measurementsFromDocument(tutorialDocument(windowsPcrs()))).toEqual({ ok: true, measurements: m(windowsPcrs()) });
  });

  it('writes the tutorial format under the fingerprint id, with metadata that readers skip', () => {
    const doc = baselineDocument(m(), { description: 'kernel 6.8 rollout', source: 'projects/p/zones/z/instances/canary' });
    expect(doc.id).toBe(baselineDocumentId(m()));
    expect(doc.data).toEqual({
      ...tutorialDocument(linuxPcrs()),
      description: 'kernel 6.8 rollout',
      source: 'projects/p/zones/z/instances/canary',
    });
    expect(measurementsFromDocument(doc.data)).toEqual({ ok: true, measurements: m() });
  });

  it.each<[string, Record<string, unknown>]>([
    ['no PCR fields', { description: 'x' }],
    ['a misnamed PCR field', { PCR_99: { pcrNum: 'PCR_99', value: 'v' } }],
    ['a PCR field that is not a map', { PCR_0: 'v' }],
    ['a pcrNum that contradicts the field', { PCR_0: { pcrNum: 'PCR_4', value: 'v' } }],
    ['an empty value', { PCR_0: { pcrNum: 'PCR_0', value: '' } }],
  ])('refuses a document with %s', (_name, data) => {
    expect(measurementsFromDocument(data)).toEqual({ ok: false, detail: expect.any(String) });
  });
});
