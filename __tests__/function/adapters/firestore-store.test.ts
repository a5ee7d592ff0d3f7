import { CollectionReference, Firestore, Timestamp } from '@google-cloud/firestore';
import { FirestoreBaselineStore } from '../../../function/adapters/firestore-store';
import { baselineDocument } from '../../../function/core/baseline';
import { createFirestore } from '../../../function/runtime/clients';
import { parseMeasurements } from '../../../function/core/parse';
import { baselineDocumentId } from '../../../function/core/measurements';
import { RunningEmulator, useFirestoreEmulator } from '../../../testkit/emulators';
import { describeWithEmulators } from '../../support/emulator-suite';
import { CapturingLogger } from '../../support/fakes';
import { linuxPcrs, tutorialDocument, windowsPcrs } from '../../../testkit/fixtures';

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
    emulator = await useFirestoreEmulator();
    process.env.FIRESTORE_EMULATOR_HOST = emulator.host;
    process.env.METADATA_SERVER_DETECTION = 'none';
    db = await createFirestore({ projectId: 'demo-responder', firestoreDatabase: 'integrity-baselines' }, 'grpc');
  }, 60_000);

  afterAll(async () => {
    await db?.terminate();
    await emulator?.stop();
    delete process.env.FIRESTORE_EMULATOR_HOST;
  });

  it('finds a baseline stored under its fingerprint with one read', async () => {
    const { store, collection } = freshStore();
    const doc = baselineDocument(m(linuxPcrs('good'), 't'), { description: 'canary' });
    await collection.doc(doc.id).set(doc.data);
    expect(await store.findExactMatch(m(linuxPcrs('good'), 't'))).toEqual({ matched: true, baselineId: doc.id, reads: 1 });
  });

  describe('the state of a baseline', () => {
    const good = () => m(linuxPcrs('good'), 't');
    it.each([
      ['proposed', { state: 'proposed' }, 'it is proposed'],
      ['of an unknown state', { state: 'approved-ish' }, 'its state "approved-ish" is unknown'],
      ['expired (RFC 3339 text)', { expiresAt: '2020-01-01T00:00:00Z' }, 'it expired at 2020-01-01T00:00:00.000Z'],
      [
        'expired (Firestore timestamp)',
        { expiresAt: Timestamp.fromMillis(Date.UTC(2021, 0, 1)) },
        'it expired at 2021-01-01T00:00:00.000Z',
      ],
      ['of an unreadable expiry', { expiresAt: 'next tuesday' }, 'its expiresAt "next tuesday" is not a timestamp'],
    ])('never matches a baseline %s, by id or by query, and says why', async (_what, fields, why) => {
      const { store, collection, logger } = freshStore();
      const doc = baselineDocument(good());
      await collection.doc(doc.id).set({ ...doc.data, ...fields });
      await collection.doc('tutorial-copy').set({ ...tutorialDocument(linuxPcrs('good')), ...fields });
      expect(await store.findExactMatch(good())).toEqual({ matched: false, reads: 2 });
      expect(logger.lines).toEqual([
        expect.objectContaining({ severity: 'NOTICE', baselineId: doc.id, baselineRefused: why }),
        expect.objectContaining({ severity: 'NOTICE', baselineId: 'tutorial-copy', baselineRefused: why }),
      ]);
    });

    it('lets a revoked baseline veto its measurements: no other document holding them vouches', async () => {
      const { store, collection, logger } = freshStore();
      const doc = baselineDocument(good());
      await collection.doc(doc.id).set({ ...doc.data, state: 'revoked', revokeReason: 'kernel 6.9 found bad' });
      await collection.doc('tutorial-copy').set(tutorialDocument(linuxPcrs('good')));
      expect(await store.findExactMatch(good())).toEqual({ matched: false, reads: 2 });
      expect(logger.lines).toEqual([expect.objectContaining({ severity: 'NOTICE', baselineId: doc.id, baselineRefused: 'it is revoked' })]);

      // A revoked tutorial document vetoes an active one too, whatever the order the query returns them in.
      const other = freshStore();
      await other.collection.doc('a-active').set(tutorialDocument(linuxPcrs('good')));
      await other.collection.doc('b-revoked').set({ ...tutorialDocument(linuxPcrs('good')), state: 'revoked' });
      expect(await other.store.findExactMatch(good())).toEqual({ matched: false, reads: 2 });
    });

    it('under the two-person rule, matches only a baseline approved by a second principal', async () => {
      const logger = new CapturingLogger();
      const name = `known_good_${++collections}`;
      const store = new FirestoreBaselineStore(async () => db, name, logger, { approval: 'two-person' });
      const doc = baselineDocument(good(), { createdBy: 'alice@example.com' });
      await db.collection(name).doc(doc.id).set(doc.data);
      await db
        .collection(name)
        .doc('baseline1')
        .set(tutorialDocument(linuxPcrs('good')));
      expect(await store.findExactMatch(good())).toEqual({ matched: false, reads: 2 });
      expect(logger.lines.map((l) => l.baselineRefused)).toEqual([
        'it has no approval, and requireBaselineApproval needs one by a second principal',
        'it has no approval, and requireBaselineApproval needs one by a second principal',
      ]);
      await db.collection(name).doc(doc.id).update({ approvedBy: 'bob@example.com' });
      expect(await store.findExactMatch(good())).toEqual({ matched: true, baselineId: doc.id, reads: 2 });
    });

    it('matches an active baseline that expires later, and a tutorial document with no state', async () => {
      const { store, collection } = freshStore();
      const doc = baselineDocument(good());
      await collection.doc(doc.id).set({ ...doc.data, state: 'active', expiresAt: '2999-01-01T00:00:00Z' });
      expect(await store.findExactMatch(good())).toEqual({ matched: true, baselineId: doc.id, reads: 1 });
    });

    it('stops matching on the very next lookup once the baseline is revoked: nothing is cached', async () => {
      const { store, collection } = freshStore();
      const doc = baselineDocument(good());
      await collection.doc(doc.id).set(doc.data);
      expect(await store.findExactMatch(good())).toEqual(expect.objectContaining({ matched: true }));
      await collection.doc(doc.id).update({ state: 'revoked' });
      expect(await store.findExactMatch(good())).toEqual(expect.objectContaining({ matched: false }));
    });
  });

  it('finds a tutorial-format Linux baseline under any document id', async () => {
    const { store, collection } = freshStore();
    await collection.doc('baseline1').set(tutorialDocument(linuxPcrs('good')));
    expect(await store.findExactMatch(m(linuxPcrs('good').reverse(), 't'))).toEqual({ matched: true, baselineId: 'baseline1', reads: 1 });
  });

  it('fails closed, saying why, when documents holding the values fill the query page', async () => {
    const { store, collection, logger } = freshStore();
    const good = linuxPcrs('good');
    const doc = baselineDocument(m(good, 't'));
    for (let i = 0; i < 8; i++) {
      // Same three values, plus PCRs the report does not carry: returned by the query, never matched.
      await collection.doc(`a-superset-${i}`).set(tutorialDocument([...good, { hashAlgo: 'SHA1', pcrNum: 'PCR_11', value: `extra-${i}` }]));
    }
    await collection.doc(doc.id).set(doc.data);
    expect(await store.findExactMatch(m(good, 't'))).toEqual({ matched: true, baselineId: doc.id, reads: 9 });
    // One more, and a revoked document could be hiding behind the page.
    await collection.doc('zz-revoked').set({ ...tutorialDocument(good), state: 'revoked' });
    expect(await store.findExactMatch(m(good, 't'))).toEqual({ matched: false, reads: 10 });
    expect(logger.lines.at(-1)).toEqual(expect.objectContaining({ severity: 'WARNING', detail: 'too-many-candidates' }));
  });

  it('lets a revocation veto the same values whatever hash algorithm either side names', async () => {
    const { store, collection } = freshStore();
    const good = linuxPcrs('good');
    await collection.doc('sha1').set(tutorialDocument(good));
    await collection.doc('other-algorithm').set({ ...tutorialDocument(good.map((p) => ({ ...p, hashAlgo: 'SHA256' }))), state: 'revoked' });
    expect((await store.findExactMatch(m(good, 't'))).matched).toBe(false);
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

  it('logs and skips a malformed document holding the reported values', async () => {
    const { store, collection, logger } = freshStore();
    const doc = baselineDocument(m(linuxPcrs('good'), 't'));
    await collection.doc(doc.id).set({ ...doc.data, PCR_9: 'not a map' });
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
    expect(small).toEqual({ hit: 1, miss: 1, matched: true });
    expect(large).toEqual(small);
  });
});

describeWithEmulators("FirestoreBaselineStore with the listener's index, on the Firestore emulator", () => {
  let emulator2: RunningEmulator;
  let db2: Firestore;
  let n = 0;

  beforeAll(async () => {
    emulator2 = await useFirestoreEmulator();
    process.env.FIRESTORE_EMULATOR_HOST = emulator2.host;
    process.env.METADATA_SERVER_DETECTION = 'none';
    db2 = await createFirestore({ projectId: 'demo-responder', firestoreDatabase: 'integrity-baselines' }, 'grpc');
  }, 60_000);

  afterAll(async () => {
    await db2?.terminate();
    await emulator2?.stop();
    delete process.env.FIRESTORE_EMULATOR_HOST;
  });

  const good = () => m(linuxPcrs('good'), 't');

  /** A store with the index, warmed until its listener delivered a first snapshot. */
  async function warmStore() {
    const name = `indexed_${++n}`;
    const logger = new CapturingLogger();
    const store = new FirestoreBaselineStore(async () => db2, name, logger, { listen: true });
    const collection = db2.collection(name);
    return {
      store,
      logger,
      collection,
      warm: async () => {
        // The first lookups are answered by a query; the second starts the listener.
        expect((await store.findExactMatch(m(linuxPcrs('warm-up'), 't'))).reads).toBe(1);
        expect(store.index).toBeUndefined();
        expect((await store.findExactMatch(m(linuxPcrs('warm-up'), 't'))).reads).toBe(1);
        const deadline = Date.now() + 10_000;
        while (store.index?.documentsHolding(baselineDocumentId(good())) === undefined && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 20));
        expect(store.index?.documentsHolding(baselineDocumentId(good()))).toBeDefined();
      },
      settle: async (until: () => Promise<boolean>) => {
        const deadline = Date.now() + 10_000;
        while (!(await until()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      },
    };
  }

  it('reads nothing for measurements no document holds, once warm, and reads the holders afresh otherwise', async () => {
    const { store, collection, warm } = await warmStore();
    const doc = baselineDocument(good());
    await collection.doc(doc.id).set(doc.data);
    await collection.doc('baseline1').set(tutorialDocument(linuxPcrs('good')));
    await warm();
    expect(await store.findExactMatch(m(linuxPcrs('tampered'), 't'))).toEqual({ matched: false, reads: 0 });
    expect(await store.findExactMatch(good())).toEqual({ matched: true, baselineId: doc.id, reads: 2 });
    store.index?.close();
  });

  it('follows documents added and removed while it runs', async () => {
    const { store, collection, warm, settle } = await warmStore();
    await warm();
    expect(await store.findExactMatch(good())).toEqual({ matched: false, reads: 0 });
    await collection.doc('baseline1').set(tutorialDocument(linuxPcrs('good')));
    await settle(async () => (await store.findExactMatch(good())).matched);
    expect(await store.findExactMatch(good())).toEqual({ matched: true, baselineId: 'baseline1', reads: 1 });
    await collection.doc('baseline1').delete();
    await settle(async () => !(await store.findExactMatch(good())).matched);
    expect(await store.findExactMatch(good())).toEqual({ matched: false, reads: 0 });
    store.index?.close();
  });

  // The bound: whatever the listener has (not) seen, a revoked baseline never matches. The
  // index is frozen before the revocation, as a listener that has not caught up would be.
  it.each([
    [
      'a revocation written to the document itself',
      async (c: CollectionReference, id: string) => c.doc(id).update({ state: 'revoked' }),
      'own',
    ],
    [
      'a revocation written only to the fingerprint document (what revoke creates for a tutorial document)',
      async (c: CollectionReference) => {
        const marker = baselineDocument(good(), { state: 'revoked', createdVia: 'revoke' });
        await c.doc(marker.id).set(marker.data);
      },
      'tutorial',
    ],
    [
      'integrity-baselines revoke itself (every holder, and the fingerprint document)',
      async (c: CollectionReference, id: string) => {
        const marker = baselineDocument(good(), { state: 'revoked', createdVia: 'revoke' });
        await c.doc(id).update({ state: 'revoked' });
        await c.doc(marker.id).set(marker.data);
      },
      'tutorial',
    ],
  ] as const)('never matches after %s, even from a stale index', async (_what, revoke, format) => {
    const { store, collection, warm } = await warmStore();
    const own = baselineDocument(good());
    const id = format === 'own' ? own.id : 'baseline1';
    await collection.doc(id).set(format === 'own' ? own.data : tutorialDocument(linuxPcrs('good')));
    await warm();
    const deadline = Date.now() + 10_000;
    while ((store.index?.documentsHolding(baselineDocumentId(good())) ?? []).length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect((await store.findExactMatch(good())).matched).toBe(true);
    store.index?.freeze();
    await revoke(collection, id);
    expect(await store.findExactMatch(good())).toEqual(expect.objectContaining({ matched: false }));
  });

  it('misses a baseline added after its last snapshot: fail-closed, the one stale answer it can give', async () => {
    const { store, collection, warm } = await warmStore();
    await warm();
    store.index?.freeze();
    const doc = baselineDocument(good());
    await collection.doc(doc.id).set(doc.data);
    expect(await store.findExactMatch(good())).toEqual({ matched: false, reads: 0 });
  });
});
