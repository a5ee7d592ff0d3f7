import type { Firestore } from '@google-cloud/firestore';
import { FirestoreBaselineStore } from '../function/adapters/firestore-store';
import { baselineDocument } from '../function/baseline';
import { createFirestore } from '../function/clients';
import { parseMeasurements } from '../function/parse';
import { RunningEmulator, startFirestoreEmulator } from '../testkit/emulators';
import { describeWithEmulators } from './support/emulator-suite';
import { CapturingLogger } from './support/fakes';
import { linuxPcrs, tutorialDocument, windowsPcrs } from '../testkit/fixtures';

// The store against the real Firestore emulator: the queries it builds must run there.
// Over gRPC here, because Jest's sandbox stalls the REST transport; the shipped bundle's
// REST path is exercised end to end outside Jest.
let emulator: RunningEmulator;
let db: Firestore;
let collections = 0;

function freshStore() {
  const name = `known_good_${++collections}`;
  const logger = new CapturingLogger();
  const store = new FirestoreBaselineStore(async () => db, name, logger);
  return { store, logger, collection: db.collection(name) };
}

const m = parseMeasurements;

describeWithEmulators('FirestoreBaselineStore on the Firestore emulator', () => {
  beforeAll(async () => {
    emulator = await startFirestoreEmulator();
    process.env.FIRESTORE_EMULATOR_HOST = emulator.host;
    process.env.METADATA_SERVER_DETECTION = 'none';
    db = await createFirestore({ projectId: 'demo-responder', firestoreDatabase: 'integrity-baselines' }, 'grpc');
  }, 60_000);

  afterAll(async () => {
    await db?.terminate();
    await emulator?.stop();
    delete process.env.FIRESTORE_EMULATOR_HOST;
  });

  it('finds a baseline stored under its fingerprint with one point read', async () => {
    const { store, collection } = freshStore();
    const doc = baselineDocument(m(linuxPcrs('good'), 't'), { description: 'canary' });
    await collection.doc(doc.id).set(doc.data);
    expect(await store.findExactMatch(m(linuxPcrs('good'), 't'))).toEqual({ matched: true, baselineId: doc.id, reads: 1 });
  });

  it('finds a tutorial-format Linux baseline under any document id', async () => {
    const { store, collection } = freshStore();
    await collection.doc('baseline1').set(tutorialDocument(linuxPcrs('good')));
    expect(await store.findExactMatch(m(linuxPcrs('good').reverse(), 't'))).toEqual({ matched: true, baselineId: 'baseline1', reads: 2 });
  });

  it('finds a tutorial-format Windows baseline of six PCRs', async () => {
    const { store, collection } = freshStore();
    await collection.doc('windows-baseline').set(tutorialDocument(windowsPcrs('good')));
    expect(await store.findExactMatch(m(windowsPcrs('good'), 't'))).toEqual(
      expect.objectContaining({ matched: true, baselineId: 'windows-baseline' }),
    );
  });

  it('never matches a baseline holding a subset or a superset of the PCRs', async () => {
    const { store, collection } = freshStore();
    await collection.doc('subset').set(tutorialDocument(windowsPcrs('good').slice(0, 3)));
    await collection.doc('superset').set(tutorialDocument(windowsPcrs('good')));
    expect(await store.findExactMatch(m(windowsPcrs('good').slice(0, 3).concat(windowsPcrs('good').slice(3, 5)), 't'))).toEqual(
      expect.objectContaining({ matched: false }),
    );
    expect((await store.findExactMatch(m(windowsPcrs('good').slice(0, 3), 't'))).matched).toBe(true);
    await collection.doc('subset').delete();
    expect((await store.findExactMatch(m(windowsPcrs('good').slice(0, 3), 't'))).matched).toBe(false);
  });

  it('never matches a document whose hash algorithm differs', async () => {
    const { store, collection } = freshStore();
    await collection.doc('sha256').set(tutorialDocument(linuxPcrs('good').map((p) => ({ ...p, hashAlgo: 'SHA256' }))));
    expect((await store.findExactMatch(m(linuxPcrs('good'), 't'))).matched).toBe(false);
  });

  it('logs and skips a malformed document stored under the fingerprint id', async () => {
    const { store, collection, logger } = freshStore();
    const doc = baselineDocument(m(linuxPcrs('good'), 't'));
    await collection.doc(doc.id).set({ PCR_0: 'not a map' });
    expect((await store.findExactMatch(m(linuxPcrs('good'), 't'))).matched).toBe(false);
    expect(logger.lines).toEqual([expect.objectContaining({ severity: 'WARNING', baselineId: doc.id })]);
  });

  it('reads the same number of documents with 5 or 300 baselines stored', async () => {
    const readsWith = async (count: number) => {
      const { store, collection } = freshStore();
      const batch = db.batch();
      for (let i = 0; i < count; i++) batch.set(collection.doc(`noise-${i}`), tutorialDocument(windowsPcrs(`noise-${i}`)));
      batch.set(collection.doc('the-one'), tutorialDocument(linuxPcrs('good')));
      await batch.commit();
      const hit = await store.findExactMatch(m(linuxPcrs('good'), 't'));
      const miss = await store.findExactMatch(m(linuxPcrs('tampered'), 't'));
      return { hit: hit.reads, miss: miss.reads, matched: hit.matched };
    };
    const small = await readsWith(5);
    const large = await readsWith(300);
    expect(small).toEqual({ hit: 2, miss: 2, matched: true });
    expect(large).toEqual(small);
  });
});
