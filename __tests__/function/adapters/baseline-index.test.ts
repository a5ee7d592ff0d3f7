import type { CollectionReference, QuerySnapshot } from '@google-cloud/firestore';
import { BaselineIndex, INDEX_IDLE_MS } from '../../../function/adapters/baseline-index';
import { baselineDocumentId } from '../../../function/core/measurements';
import { parseMeasurements } from '../../../function/core/parse';
import { linuxPcrs, tutorialDocument } from '../../../testkit/fixtures';
import { CapturingLogger } from '../../support/fakes';

/** A collection whose listener the test drives by hand. */
function fakeCollection() {
  let deliver: ((s: QuerySnapshot) => void) | undefined;
  const collection = {
    id: 'known_good_measurements',
    onSnapshot: (next: (s: QuerySnapshot) => void) => {
      deliver = next;
      return () => (deliver = undefined);
    },
  } as unknown as CollectionReference;
  const snapshot = (changes: { type: 'added' | 'modified' | 'removed'; id: string; data: Record<string, unknown> }[]) =>
    deliver!({
      docChanges: () => changes.map((c) => ({ type: c.type, doc: { id: c.id, data: () => c.data } })),
    } as unknown as QuerySnapshot);
  return { collection, snapshot };
}

const goodId = baselineDocumentId(parseMeasurements(linuxPcrs('good'), 't'));

describe('BaselineIndex', () => {
  it('answers nothing before its first snapshot, then which documents hold the values', () => {
    let now = 0;
    const { collection, snapshot } = fakeCollection();
    const index = new BaselineIndex(collection, new CapturingLogger(), () => now);
    index.start();
    expect(index.documentsHolding(goodId)).toBeUndefined();
    snapshot([{ type: 'added', id: 'baseline1', data: tutorialDocument(linuxPcrs('good')) }]);
    now += 10;
    expect(index.documentsHolding(goodId)).toEqual(['baseline1']);
    snapshot([{ type: 'removed', id: 'baseline1', data: {} }]);
    expect(index.documentsHolding(goodId)).toEqual([]);
  });

  it('answers nothing for the first lookup after an idle spell, when the listener may not have kept up', () => {
    let now = 0;
    const { collection, snapshot } = fakeCollection();
    const index = new BaselineIndex(collection, new CapturingLogger(), () => now);
    index.start();
    snapshot([]);
    expect(index.documentsHolding(goodId)).toBeUndefined(); // first lookup ever
    now += 1000;
    expect(index.documentsHolding(goodId)).toEqual([]);
    now += INDEX_IDLE_MS;
    expect(index.documentsHolding(goodId)).toBeUndefined();
    now += 50;
    expect(index.documentsHolding(goodId)).toEqual([]);
  });
});
