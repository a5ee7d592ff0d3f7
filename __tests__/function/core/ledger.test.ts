import fc from 'fast-check';
import type { Decision } from '../../../function/core/decide';
import { requestIdFor } from '../../../function/core/request-id';
import {
  LedgerRecord,
  MAX_FINGERPRINTS,
  ReconcileInput,
  Reconciled,
  UNKNOWN_BOOT,
  compareBoots,
  ledgerDocumentId,
  ledgerKey,
  reconcile,
} from '../../../function/core/ledger';
import type { IntegrityReport } from '../../../function/core/parse';

const RUNS = 500;
const NOW = '2026-11-20T10:00:05.000Z';
const INSTANCE_ID = '4617930134256183721';

/** A failed report; `null` leaves the boot counter out. */
const report = (bootCounter: string | null = '7', kind: IntegrityReport['kind'] = 'lateBoot'): IntegrityReport => ({
  kind,
  passed: false,
  actualMeasurements: [{ pcr: 0, value: 'v' }],
  instance: { projectId: 'fleet-prod-1234', zone: 'europe-west1-b', id: INSTANCE_ID },
  ...(bootCounter !== null && { bootCounter }),
  timestamp: '2026-11-20T10:00:00.000Z',
});

const RELEARN = { action: 'relearn', reason: 'known-good', baselineId: 'baseline1' } as const;
const STOP = { action: 'stop', reason: 'not-known-good' } as const;
const CONFLICT_STOP = { action: 'stop', reason: 'conflicting-reports' } as const;

/** One reconciliation of a report delivered as message `messageId`. */
function input(o: {
  messageId: string;
  fingerprint: string;
  proposed?: ReconcileInput['proposed'];
  bootCounter?: string;
  existing?: LedgerRecord;
  newestBoot?: string;
}): ReconcileInput {
  return {
    report: report(o.bootCounter),
    proposed: o.proposed ?? RELEARN,
    fingerprint: o.fingerprint,
    requestIdFor: (action) => requestIdFor(o.messageId, action),
    ...(o.existing && { existing: o.existing }),
    ...(o.newestBoot !== undefined && { newestBoot: o.newestBoot }),
    now: NOW,
  };
}

/** What the ledger's `complete` writes once the action's operation is done. */
const completed = (r: Reconciled): LedgerRecord => ({ ...r.record, outcome: 'done', operation: 'operation-1', operationStatus: 'DONE' });

describe('ledgerKey and ledgerDocumentId', () => {
  it('key a report by project, zone, instance id, boot counter and report kind', () => {
    expect(ledgerKey(report('7'))).toEqual({
      projectId: 'fleet-prod-1234',
      zone: 'europe-west1-b',
      instanceId: INSTANCE_ID,
      bootCounter: '7',
      kind: 'lateBoot',
    });
    expect(ledgerDocumentId(ledgerKey(report('7', 'earlyBoot')))).toBe(`fleet-prod-1234~europe-west1-b~${INSTANCE_ID}-7-earlyBoot`);
  });

  it('key a report without a boot counter under the unknown boot', () => {
    expect(ledgerKey(report(null))).toEqual({
      projectId: 'fleet-prod-1234',
      zone: 'europe-west1-b',
      instanceId: INSTANCE_ID,
      bootCounter: UNKNOWN_BOOT,
      kind: 'lateBoot',
    });
    expect(ledgerDocumentId(ledgerKey(report(null)))).toBe(`fleet-prod-1234~europe-west1-b~${INSTANCE_ID}-unknown-lateBoot`);
  });
});

describe('compareBoots', () => {
  it('compares boot counters as integers, not as text', () => {
    expect(compareBoots('9', '10')).toBeLessThan(0);
    expect(compareBoots('10', '9')).toBeGreaterThan(0);
    expect(compareBoots('7', '7')).toBe(0);
  });

  it('compares 20-digit boot counters exactly', () => {
    expect(compareBoots('18446744073709551614', '18446744073709551615')).toBeLessThan(0);
    expect(compareBoots('18446744073709551615', '9999999999999999999')).toBeGreaterThan(0);
    expect(compareBoots('18446744073709551615', '18446744073709551615')).toBe(0);
  });

  it('orders the unknown boot before every known one', () => {
    expect(compareBoots(UNKNOWN_BOOT, '0')).toBeLessThan(0);
    expect(compareBoots('0', UNKNOWN_BOOT)).toBeGreaterThan(0);
    expect(compareBoots(UNKNOWN_BOOT, UNKNOWN_BOOT)).toBe(0);
  });
});

describe('reconcile', () => {
  it('records a new key with the proposed action, pending, under the request id of this message', () => {
    const r = reconcile(input({ messageId: 'msg-a', fingerprint: 'fp-a' }));
    expect(r).toEqual({
      decision: RELEARN,
      requestId: requestIdFor('msg-a', 'relearn'),
      containment: 'stop',
      alreadyDone: false,
      note: 'new',
      newestBoot: '7',
      record: {
        instanceId: INSTANCE_ID,
        projectId: 'fleet-prod-1234',
        zone: 'europe-west1-b',
        bootCounter: '7',
        kind: 'lateBoot',
        fingerprints: ['fp-a'],
        decision: RELEARN,
        requestId: requestIdFor('msg-a', 'relearn'),
        outcome: 'pending',
        conflict: false,
        recordedAt: NOW,
      },
    });
  });

  it('records a new stop under the stop request id of this message', () => {
    const r = reconcile(input({ messageId: 'msg-b', fingerprint: 'fp-b', proposed: STOP }));
    expect(r).toEqual(
      expect.objectContaining({ decision: STOP, requestId: requestIdFor('msg-b', 'stop'), alreadyDone: false, note: 'new' }),
    );
    expect(r.record).toEqual(expect.objectContaining({ decision: STOP, outcome: 'pending', conflict: false }));
  });

  it('records the containment of a suspend, and a redelivery repeats it whatever is configured now', () => {
    const first = reconcile({ ...input({ messageId: 'msg-s', fingerprint: 'fp-s', proposed: STOP }), containment: 'suspend' });
    expect(first.containment).toBe('suspend');
    expect(first.record.decision).toEqual({ ...STOP, containment: 'suspend' });
    const again = reconcile({
      ...input({ messageId: 'msg-s', fingerprint: 'fp-s', proposed: STOP, existing: first.record }),
      containment: 'stop',
    });
    expect(again).toEqual(expect.objectContaining({ containment: 'suspend', requestId: first.requestId, note: 'repeat' }));
  });

  it('marks the records of a dry run', () => {
    expect(reconcile({ ...input({ messageId: 'msg-d', fingerprint: 'fp-d', proposed: STOP }), dryRun: true }).record.dryRun).toBe(true);
    expect(reconcile(input({ messageId: 'msg-d', fingerprint: 'fp-d', proposed: STOP })).record).not.toHaveProperty('dryRun');
  });

  it('stops, enforcing, a VM whose conflict a dry run only would have stopped; a further conflict after that changes nothing', () => {
    const dry = (r: ReconcileInput): ReconcileInput => ({ ...r, dryRun: true });
    const first = reconcile(dry(input({ messageId: 'msg-1', fingerprint: 'fp-a', proposed: STOP })));
    const dryConflict = reconcile(dry(input({ messageId: 'msg-2', fingerprint: 'fp-b', proposed: STOP, existing: completed(first) })));
    expect(dryConflict.record).toEqual(expect.objectContaining({ conflict: true, dryRun: true }));
    const enforcing = reconcile(input({ messageId: 'msg-3', fingerprint: 'fp-c', proposed: STOP, existing: completed(dryConflict) }));
    expect(enforcing).toEqual(expect.objectContaining({ decision: CONFLICT_STOP, alreadyDone: false, note: 'conflict' }));
    expect(enforcing.record.outcome).toBe('pending');
    expect(enforcing.record).not.toHaveProperty('dryRun');
    const after = reconcile(input({ messageId: 'msg-4', fingerprint: 'fp-d', proposed: STOP, existing: completed(enforcing) }));
    expect(after).toEqual(expect.objectContaining({ decision: CONFLICT_STOP, alreadyDone: true }));
  });

  it('never lets a dry run reopen a conflict stop an enforcing responder completed', () => {
    const first = reconcile(input({ messageId: 'msg-1', fingerprint: 'fp-a', proposed: STOP }));
    const conflict = reconcile(input({ messageId: 'msg-2', fingerprint: 'fp-b', proposed: STOP, existing: completed(first) }));
    const done = completed(conflict);
    // The brake engaged (dry run): the genuine report redelivered, and a new one.
    for (const [messageId, fingerprint] of [
      ['msg-1', 'fp-a'],
      ['msg-3', 'fp-c'],
    ] as const) {
      const dry = reconcile({ ...input({ messageId, fingerprint, proposed: STOP, existing: done }), dryRun: true });
      expect(dry).toEqual(expect.objectContaining({ decision: CONFLICT_STOP, alreadyDone: true }));
      expect(dry.record).toEqual(expect.objectContaining({ outcome: 'done', operation: 'operation-1', operationStatus: 'DONE' }));
      expect(dry.record).not.toHaveProperty('dryRun');
    }
  });

  it("decides again, enforcing, a dry run's record that never completed, with a request id of its own", () => {
    const dry = reconcile({ ...input({ messageId: 'msg-1', fingerprint: 'fp-a', proposed: STOP }), dryRun: true });
    const again = reconcile(input({ messageId: 'msg-2', fingerprint: 'fp-a', proposed: STOP, existing: dry.record }));
    expect(again).toEqual(
      expect.objectContaining({ decision: STOP, alreadyDone: false, note: 'new', requestId: requestIdFor('msg-2', 'stop') }),
    );
    expect(again.record).not.toHaveProperty('dryRun');
    expect(again.record.recordedAt).toBe(dry.record.recordedAt);
  });

  it('repeats a pending action of the same report with the recorded request id', () => {
    const first = reconcile(input({ messageId: 'msg-a', fingerprint: 'fp-a' }));
    const again = reconcile(input({ messageId: 'msg-a2', fingerprint: 'fp-a', existing: first.record, newestBoot: first.newestBoot }));
    expect(again).toEqual(
      expect.objectContaining({ decision: RELEARN, requestId: requestIdFor('msg-a', 'relearn'), alreadyDone: false, note: 'repeat' }),
    );
    expect(again.record).toBe(first.record);
  });

  it('stops instead of repeating a pending relearn when its baseline no longer vouches (revoked meanwhile)', () => {
    const first = reconcile(input({ messageId: 'msg-a', fingerprint: 'fp-a' }));
    expect(first.decision).toEqual(RELEARN);
    const again = reconcile(
      input({ messageId: 'msg-a2', fingerprint: 'fp-a', proposed: STOP, existing: first.record, newestBoot: first.newestBoot }),
    );
    expect(again).toEqual(expect.objectContaining({ decision: STOP, requestId: requestIdFor('msg-a2', 'stop'), alreadyDone: false }));
    expect(again.record).toEqual(
      expect.objectContaining({ decision: { action: 'stop', reason: 'not-known-good' }, outcome: 'pending', fingerprints: ['fp-a'] }),
    );
    expect(again.record.recordedAt).toBe(first.record.recordedAt);
  });

  it('does nothing again for the same report once its action completed', () => {
    const first = reconcile(input({ messageId: 'msg-a', fingerprint: 'fp-a', proposed: STOP }));
    const again = reconcile(
      input({ messageId: 'msg-a', fingerprint: 'fp-a', proposed: STOP, existing: completed(first), newestBoot: '7' }),
    );
    expect(again).toEqual(
      expect.objectContaining({ decision: STOP, requestId: requestIdFor('msg-a', 'stop'), alreadyDone: true, note: 'repeat' }),
    );
  });

  it('repeats the decision a relearn became, not the relearn', () => {
    const first = reconcile(input({ messageId: 'msg-a', fingerprint: 'fp-a' }));
    const settled: LedgerRecord = {
      ...first.record,
      outcome: 'done',
      operationStatus: 'not-acted',
      decision: { action: 'none', reason: 'instance-not-running' },
    };
    const again = reconcile(input({ messageId: 'msg-a', fingerprint: 'fp-a', existing: settled, newestBoot: '7' }));
    expect(again).toEqual(expect.objectContaining({ decision: { action: 'none', reason: 'instance-not-running' }, alreadyDone: true }));
  });

  it.each<[string, (r: Reconciled) => LedgerRecord, ReconcileInput['proposed'], ReconcileInput['proposed']]>([
    ['a completed relearn', completed, RELEARN, STOP],
    ['a pending relearn', (r) => r.record, RELEARN, STOP],
    ['a completed stop', completed, STOP, RELEARN],
    ['a pending stop', (r) => r.record, STOP, RELEARN],
    ['a completed stop, when the second report would stop too', completed, STOP, STOP],
  ])('stops the VM on a report that conflicts with %s', (_name, settle, firstProposed, secondProposed) => {
    const first = reconcile(input({ messageId: 'msg-a', fingerprint: 'fp-a', proposed: firstProposed }));
    const second = reconcile(
      input({ messageId: 'msg-b', fingerprint: 'fp-b', proposed: secondProposed, existing: settle(first), newestBoot: first.newestBoot }),
    );
    expect(second).toEqual(
      expect.objectContaining({ decision: CONFLICT_STOP, requestId: requestIdFor('msg-b', 'stop'), alreadyDone: false, note: 'conflict' }),
    );
    expect(second.record).toEqual(
      expect.objectContaining({
        fingerprints: ['fp-a', 'fp-b'],
        conflict: true,
        decision: CONFLICT_STOP,
        requestId: requestIdFor('msg-b', 'stop'),
        outcome: 'pending',
        recordedAt: NOW,
      }),
    );
  });

  it("does not carry the earlier action's operation into the pending conflict stop", () => {
    const first = reconcile(input({ messageId: 'msg-a', fingerprint: 'fp-a' }));
    const conflict = reconcile(
      input({
        messageId: 'msg-b',
        fingerprint: 'fp-b',
        proposed: STOP,
        existing: { ...completed(first), completedAt: NOW },
        newestBoot: '7',
      }),
    );
    expect(conflict.record).not.toHaveProperty('operation');
    expect(conflict.record).not.toHaveProperty('operationStatus');
    expect(conflict.record).not.toHaveProperty('completedAt');
  });

  it('never calls two reports without a boot counter a conflict: the newer replaces the older', () => {
    const first = reconcile(input({ messageId: 'msg-a', fingerprint: 'fp-a', proposed: STOP, bootCounter: UNKNOWN_BOOT }));
    const second = reconcile(
      input({ messageId: 'msg-b', fingerprint: 'fp-b', proposed: STOP, bootCounter: UNKNOWN_BOOT, existing: completed(first) }),
    );
    expect(second).toEqual(
      expect.objectContaining({ decision: STOP, note: 'new', alreadyDone: false, requestId: requestIdFor('msg-b', 'stop') }),
    );
    expect(second.record).toEqual(expect.objectContaining({ conflict: false, fingerprints: ['fp-b'], outcome: 'pending' }));
  });

  it('keeps the request id of a pending conflict stop, whichever report comes next', () => {
    const first = reconcile(input({ messageId: 'msg-a', fingerprint: 'fp-a' }));
    const conflict = reconcile(
      input({ messageId: 'msg-b', fingerprint: 'fp-b', proposed: STOP, existing: completed(first), newestBoot: '7' }),
    );
    for (const [messageId, fp] of [
      ['msg-a', 'fp-a'],
      ['msg-b', 'fp-b'],
      ['msg-c', 'fp-c'],
    ] as const) {
      const next = reconcile(input({ messageId, fingerprint: fp, existing: conflict.record, newestBoot: '7' }));
      expect(next).toEqual(
        expect.objectContaining({
          decision: CONFLICT_STOP,
          requestId: requestIdFor('msg-b', 'stop'),
          alreadyDone: false,
          note: 'conflict',
        }),
      );
    }
  });

  it('does nothing again for any report once the conflict stop completed', () => {
    const first = reconcile(input({ messageId: 'msg-a', fingerprint: 'fp-a' }));
    const conflict = reconcile(
      input({ messageId: 'msg-b', fingerprint: 'fp-b', proposed: STOP, existing: completed(first), newestBoot: '7' }),
    );
    const stopped = completed(conflict);
    for (const fp of ['fp-a', 'fp-b', 'fp-c']) {
      const next = reconcile(input({ messageId: 'msg-z', fingerprint: fp, existing: stopped, newestBoot: '7' }));
      expect(next).toEqual(
        expect.objectContaining({ decision: CONFLICT_STOP, alreadyDone: true, requestId: requestIdFor('msg-b', 'stop') }),
      );
      expect(next.record).toEqual(expect.objectContaining({ conflict: true, outcome: 'done', decision: CONFLICT_STOP }));
    }
  });

  it(`accumulates distinct fingerprints, keeping the first ${MAX_FINGERPRINTS}`, () => {
    let record = reconcile(input({ messageId: 'msg-0', fingerprint: 'fp-0' })).record;
    for (let i = 1; i < MAX_FINGERPRINTS + 4; i++) {
      record = reconcile(input({ messageId: `msg-${i}`, fingerprint: `fp-${i}`, existing: record, newestBoot: '7' })).record;
      // A fingerprint already recorded adds nothing.
      record = reconcile(input({ messageId: `msg-${i}`, fingerprint: 'fp-0', existing: record, newestBoot: '7' })).record;
    }
    expect(record.fingerprints).toEqual(Array.from({ length: MAX_FINGERPRINTS }, (_, i) => `fp-${i}`));
    expect(record.conflict).toBe(true);
  });

  it('never relearns on a report about a boot older than the newest recorded', () => {
    const r = reconcile(input({ messageId: 'msg-8', fingerprint: 'fp-a', bootCounter: '8', newestBoot: '9' }));
    expect(r).toEqual(
      expect.objectContaining({
        decision: { action: 'none', reason: 'older-boot' },
        alreadyDone: true,
        note: 'older-boot',
        newestBoot: '9',
      }),
    );
    expect(r.record).toEqual(
      expect.objectContaining({ decision: { action: 'none', reason: 'older-boot' }, outcome: 'done', conflict: false }),
    );
  });

  it('still stops the VM on a report about an older boot', () => {
    const r = reconcile(input({ messageId: 'msg-8', fingerprint: 'fp-a', bootCounter: '8', newestBoot: '9', proposed: STOP }));
    expect(r).toEqual(expect.objectContaining({ decision: STOP, alreadyDone: false, note: 'new', newestBoot: '9' }));
    expect(r.record).toEqual(expect.objectContaining({ outcome: 'pending' }));
  });

  it('withdraws a pending relearn repeated after a newer boot was recorded', () => {
    const first = reconcile(input({ messageId: 'msg-8', fingerprint: 'fp-a', bootCounter: '8' }));
    expect(first.decision).toEqual(RELEARN);
    const again = reconcile(input({ messageId: 'msg-8', fingerprint: 'fp-a', bootCounter: '8', existing: first.record, newestBoot: '9' }));
    expect(again).toEqual(
      expect.objectContaining({
        decision: { action: 'none', reason: 'older-boot' },
        alreadyDone: true,
        note: 'older-boot',
        newestBoot: '9',
      }),
    );
    expect(again.record).toEqual(expect.objectContaining({ decision: { action: 'none', reason: 'older-boot' }, outcome: 'done' }));
  });

  it('repeats a pending stop after a newer boot was recorded', () => {
    const first = reconcile(input({ messageId: 'msg-8', fingerprint: 'fp-a', bootCounter: '8', proposed: STOP }));
    const again = reconcile(
      input({ messageId: 'msg-8', fingerprint: 'fp-a', bootCounter: '8', proposed: STOP, existing: first.record, newestBoot: '9' }),
    );
    expect(again).toEqual(expect.objectContaining({ decision: STOP, alreadyDone: false, note: 'repeat', requestId: first.requestId }));
  });

  it('decides a stop held for want of budget again when it comes back: a baseline recorded meanwhile makes it a relearn', () => {
    const first = reconcile(input({ messageId: 'msg-h', fingerprint: 'fp-a', proposed: STOP }));
    const held: LedgerRecord = { ...first.record, outcome: 'held', heldSince: NOW };
    const again = reconcile(input({ messageId: 'msg-h', fingerprint: 'fp-a', proposed: RELEARN, existing: held }));
    expect(again).toEqual(
      expect.objectContaining({ decision: RELEARN, alreadyDone: false, note: 'new', requestId: requestIdFor('msg-h', 'relearn') }),
    );
    expect(again.record).toEqual(
      expect.objectContaining({ outcome: 'pending', decision: RELEARN, heldSince: NOW, fingerprints: ['fp-a'] }),
    );
  });

  it('decides a held stop again as a stop, under the same request id, when nothing changed', () => {
    const first = reconcile(input({ messageId: 'msg-h', fingerprint: 'fp-a', proposed: STOP }));
    const again = reconcile(
      input({ messageId: 'msg-h', fingerprint: 'fp-a', proposed: STOP, existing: { ...first.record, outcome: 'held' } }),
    );
    expect(again).toEqual(expect.objectContaining({ decision: STOP, alreadyDone: false, requestId: first.requestId }));
    expect(again.record.outcome).toBe('pending');
  });

  it('calls a different report about the boot of a held stop a conflict: holding keeps the measurements known', () => {
    const first = reconcile(input({ messageId: 'msg-h', fingerprint: 'fp-a', proposed: STOP }));
    const forged = reconcile(
      input({ messageId: 'msg-f', fingerprint: 'fp-b', proposed: RELEARN, existing: { ...first.record, outcome: 'held', heldSince: NOW } }),
    );
    expect(forged).toEqual(expect.objectContaining({ decision: CONFLICT_STOP, note: 'conflict', alreadyDone: false }));
    expect(forged.record).toEqual(expect.objectContaining({ conflict: true, outcome: 'pending', fingerprints: ['fp-a', 'fp-b'] }));
  });

  it.each([
    ['7', undefined, '7'],
    ['10', '9', '10'],
    ['9', '10', '10'],
    ['18446744073709551615', '18446744073709551614', '18446744073709551615'],
    ['18446744073709551614', '18446744073709551615', '18446744073709551615'],
    ['99', '18446744073709551615', '18446744073709551615'],
  ])('keeps the newest boot: boot %s after %s → %s', (boot, newest, expected) => {
    expect(
      reconcile(input({ messageId: 'm', fingerprint: 'fp', bootCounter: boot, ...(newest !== undefined && { newestBoot: newest }) }))
        .newestBoot,
    ).toBe(expected);
  });

  it('compares a report with the newest boot as integers: boot 9 is older than boot 10', () => {
    const r = reconcile(input({ messageId: 'm', fingerprint: 'fp', bootCounter: '9', newestBoot: '10' }));
    expect(r.decision).toEqual({ action: 'none', reason: 'older-boot' });
  });

  it('orders a report without a boot counter before every known boot', () => {
    const unknown = { ...input({ messageId: 'm', fingerprint: 'fp', newestBoot: '0' }), report: report(null) };
    expect(reconcile(unknown)).toEqual(expect.objectContaining({ decision: { action: 'none', reason: 'older-boot' }, newestBoot: '0' }));
    const first = { ...input({ messageId: 'm', fingerprint: 'fp' }), report: report(null) };
    expect(reconcile(first)).toEqual(expect.objectContaining({ decision: RELEARN, newestBoot: UNKNOWN_BOOT }));
    expect(reconcile(input({ messageId: 'm', fingerprint: 'fp', bootCounter: '0', newestBoot: UNKNOWN_BOOT })).newestBoot).toBe('0');
  });
});

describe('reconcile, as a property', () => {
  /** One delivery: which measurements, what the report alone decides, and how the action ends. */
  const delivery = fc.record({
    fingerprint: fc.integer({ min: 0, max: 3 }).map((i) => `fp-${i}`),
    proposed: fc.constantFrom<ReconcileInput['proposed']>(RELEARN, STOP),
    messageId: fc.integer({ min: 0, max: 5 }).map((i) => `msg-${i}`),
    /** done: the operation completed; withdrawn: a relearn became no action; failed: it is redelivered. */
    ending: fc.constantFrom('done', 'withdrawn', 'failed'),
    /** A newer boot of the instance was recorded before this delivery. */
    newerBoot: fc.boolean(),
  });
  const deliveries = fc.array(delivery, { minLength: 2, maxLength: 25 }).filter((ds) => new Set(ds.map((d) => d.fingerprint)).size >= 2);

  it(`ends any interleaving of two or more different reports about one key in a conflict stop, with no relearn after the first conflict (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(deliveries, (ds) => {
        let existing: LedgerRecord | undefined;
        let newestBoot: string | undefined;
        let conflictSeen = false;
        const decisions: Decision[] = [];
        for (const d of ds) {
          if (d.newerBoot) newestBoot = '8';
          const r = reconcile(input({ ...d, ...(existing && { existing }), ...(newestBoot !== undefined && { newestBoot }) }));
          if (conflictSeen) decisions.push(r.decision);
          if (r.record.conflict) conflictSeen = true;
          newestBoot = r.newestBoot;
          existing = r.record;
          // What the handler writes back through `complete`, only while its request id is the record's.
          if (!r.alreadyDone && d.ending !== 'failed' && existing.requestId === r.requestId) {
            existing =
              d.ending === 'withdrawn' && r.decision.action === 'relearn'
                ? {
                    ...existing,
                    outcome: 'done',
                    operationStatus: 'not-acted',
                    decision: { action: 'none', reason: 'withdrawn-after-conflict' },
                  }
                : { ...existing, outcome: 'done', operationStatus: 'DONE' };
          }
        }
        expect(existing).toEqual(expect.objectContaining({ conflict: true, decision: CONFLICT_STOP }));
        expect(decisions.filter((d) => d.action !== 'stop')).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });
});
