import { ActionBudget, ActionHeldError } from '../../../function/core/budget';
import { ledgerDocumentId, ledgerKey } from '../../../function/core/ledger';
import { fingerprint } from '../../../function/core/measurements';
import { parseMessage } from '../../../function/core/parse';
import { handleMessage } from '../../../function/core/handler';
import { requestIdFor } from '../../../function/core/request-id';
import { RecordingInstances } from '../../support/fakes';
import { GET, RELEARNED, STOPPED, running, setup } from '../../support/handler-setup';
import { DEFAULT_INSTANCE_ID, integrityEntry, linuxPcrs, pubsubData, tutorialDocument } from '../../../testkit/fixtures';

// A relearn adopts whatever the VM booted last. These tests hold the handler to the boot it
// decided on: one boot has one ledger record whatever the spelling of its counter, a relearn is
// made only for the newest boot the ledger holds, re-read just before the Compute call, and only
// while the report is fresh.

const GOOD = linuxPcrs('kernel-6.9');
const TAMPERED = linuxPcrs('bootkit');
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
const DEFAULT_VM = `fleet-prod-1234/europe-west1-b/${DEFAULT_INSTANCE_ID}`;
const relearns = (t: ReturnType<typeof setup>) => t.instances.calls.filter((c) => c.startsWith('relearn '));
/** Every record the ledger holds for the fixture VM's late-boot reports. */
const recordIds = (t: ReturnType<typeof setup>) => [...t.ledger.records.keys()];

/** A budget with one slot, already taken by another VM. */
async function exhaustedBudget(windowSeconds = 3600) {
  const budget: ActionBudget = { limit: 1, windowSeconds };
  const t = setup('relearn-if-known-good', new RecordingInstances(), { actionBudget: budget });
  t.baselines.add('kernel-6.9', tutorialDocument(GOOD));
  t.instances.states.set('99', running(minutesAgo(5)));
  await t.run({ instanceId: '99', name: 'other-1', actual: linuxPcrs('other') }, 'msg-other');
  expect(t.logger.lines.at(-1)).toEqual(expect.objectContaining({ decision: 'stop', budget: 'counted' }));
  t.logger.lines.length = 0;
  t.instances.calls.length = 0;
  return t;
}

describe('one boot, one ledger record', () => {
  it('keys every spelling of a boot counter to one record', () => {
    const keyOf = (bootCounter: string | number) => {
      const parsed = parseMessage(pubsubData(integrityEntry({ bootCounter: bootCounter as string })));
      if (parsed.status !== 'report') throw new Error(`did not parse: ${JSON.stringify(parsed)}`);
      return ledgerDocumentId(ledgerKey(parsed.report));
    };
    const ids = new Set(['12', '012', '0000000000000000012', 12].map(keyOf));
    expect([...ids]).toEqual([`fleet-prod-1234~europe-west1-b~${DEFAULT_INSTANCE_ID}-12-lateBoot`]);
  });

  it('stops on a forged known-good "012" after the genuine "12" was held by the budget, and never relearns', async () => {
    const t = await exhaustedBudget();
    await expect(t.run({ bootCounter: '12', actual: TAMPERED }, 'genuine')).rejects.toThrow(ActionHeldError);
    await expect(t.run({ bootCounter: '012', actual: GOOD }, 'forged')).rejects.toThrow(ActionHeldError);
    expect(relearns(t)).toEqual([]);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({ severity: 'CRITICAL', reason: 'budget-exhausted', heldReason: 'not-known-good', bootCounter: '12' }),
      expect.objectContaining({
        severity: 'CRITICAL',
        reason: 'budget-exhausted',
        heldReason: 'conflicting-reports',
        bootCounter: '12',
        bootCounterAsWritten: '012',
        ledger: 'conflict',
      }),
    ]);
    expect(t.logger.lines[1]!.message).toMatch(
      /conflicting integrity reports for this boot \(possible forged entry\), nothing will relearn it/,
    );
    expect(recordIds(t)).toEqual([
      expect.stringMatching(/~99-7-lateBoot$/),
      `fleet-prod-1234~europe-west1-b~${DEFAULT_INSTANCE_ID}-12-lateBoot`,
    ]);
  });

  it('ends in the CRITICAL conflict stop when the forged "012" comes first and the genuine "12" second', async () => {
    const t = setup();
    t.baselines.add('kernel-6.9', tutorialDocument(GOOD));
    await t.run({ bootCounter: '012', actual: GOOD }, 'forged');
    await t.run({ bootCounter: '12', actual: TAMPERED }, 'genuine');
    expect(t.logger.lines.map((l) => [l.severity, l.decision, l.reason])).toEqual([
      ['NOTICE', 'relearn', 'known-good'],
      ['CRITICAL', 'stop', 'conflicting-reports'],
    ]);
    expect(t.instances.calls).toEqual([...RELEARNED, ...STOPPED]);
  });

  it('ends in the CRITICAL conflict stop in that order with the budget exhausted too, held until a slot frees', async () => {
    const t = await exhaustedBudget();
    await t.run({ bootCounter: '012', actual: GOOD }, 'forged');
    await expect(t.run({ bootCounter: '12', actual: TAMPERED }, 'genuine')).rejects.toThrow(ActionHeldError);
    expect(t.logger.lines.map((l) => [l.severity, l.reason, l.heldReason])).toEqual([
      ['NOTICE', 'known-good', undefined],
      ['CRITICAL', 'budget-exhausted', 'conflicting-reports'],
    ]);
  });

  it('never relearns boot "007" after boot 7 was stopped', async () => {
    const t = setup();
    t.baselines.add('kernel-6.9', tutorialDocument(GOOD));
    await t.run({ bootCounter: '7', actual: TAMPERED }, 'genuine');
    await t.run({ bootCounter: '007', actual: GOOD }, 'forged');
    expect(relearns(t)).toEqual([]);
    expect(t.logger.lines.map((l) => [l.severity, l.decision, l.reason])).toEqual([
      ['WARNING', 'stop', 'not-known-good'],
      ['CRITICAL', 'stop', 'conflicting-reports'],
    ]);
  });
});

describe('a relearn bound to its boot', () => {
  it('does not relearn when a later boot is recorded between the decision and the relearn call', async () => {
    const t = setup();
    t.baselines.add('kernel-6.9', tutorialDocument(GOOD));
    t.instances.states.set(DEFAULT_INSTANCE_ID, running(minutesAgo(60)));
    // Boot 8, tampered, is recorded (and stopped) by another function instance right after this
    // one recorded its relearn of boot 7.
    const record = t.ledger.record.bind(t.ledger);
    let interleaved = false;
    t.ledger.record = async (input, budget) => {
      const recorded = await record(input, budget);
      if (!interleaved && input.report.bootCounter === '7') {
        interleaved = true;
        await t.run({ bootCounter: '8', actual: TAMPERED }, 'boot-8');
      }
      return recorded;
    };
    const outcome = await t.run({ bootCounter: '7', actual: GOOD, timestamp: minutesAgo(2) }, 'boot-7');
    expect(outcome).toEqual(expect.objectContaining({ decision: { action: 'none', reason: 'superseded-by-later-boot' } }));
    expect(relearns(t)).toEqual([]);
    expect(t.instances.calls).toEqual([GET, ...STOPPED]);
    const line = t.logger.lines.find((l) => l.eventId === 'boot-7')!;
    expect(line).toEqual(expect.objectContaining({ severity: 'WARNING', decision: 'none', laterBoot: '8', bootCounter: '7' }));
    expect(line.message).toMatch(/a later boot of the instance \(boot 8\) is recorded: no relearn; the later boot's report decides/);
    expect(t.ledger.records.get(ledgerDocumentId({ ...keyOf7(), bootCounter: '7' }))).toEqual(
      expect.objectContaining({ outcome: 'done', decision: { action: 'none', reason: 'superseded-by-later-boot' } }),
    );
  });

  it('does not relearn when the later boot is recorded just before the ledger is read again', async () => {
    const t = setup();
    t.baselines.add('kernel-6.9', tutorialDocument(GOOD));
    const standing = t.ledger.standing.bind(t.ledger);
    t.ledger.standing = async (key) => {
      const parsed = parseMessage(pubsubData(integrityEntry({ bootCounter: '8', actual: TAMPERED }), 'boot-8'));
      if (parsed.status !== 'report') throw new Error('fixture did not parse');
      await t.ledger.record({
        report: parsed.report,
        proposed: { action: 'stop', reason: 'not-known-good' },
        fingerprint: fingerprint(parsed.report.actualMeasurements),
        requestIdFor: (action) => requestIdFor('boot-8', action),
      });
      return standing(key);
    };
    await t.run({ bootCounter: '7', actual: GOOD }, 'boot-7');
    expect(relearns(t)).toEqual([]);
    expect(t.logger.lines).toEqual([expect.objectContaining({ reason: 'superseded-by-later-boot', laterBoot: '8' })]);
  });

  it('never relearns a known-good report older than relearnMaxAgeSeconds, though maxEventAgeSeconds still vets it', async () => {
    const t = setup();
    t.baselines.add('kernel-6.9', tutorialDocument(GOOD));
    t.instances.states.set(DEFAULT_INSTANCE_ID, running(minutesAgo(120)));
    const outcome = await t.run({ actual: GOOD, timestamp: minutesAgo(50) });
    expect(outcome).toEqual(expect.objectContaining({ decision: { action: 'none', reason: 'relearn-window-passed' } }));
    expect(t.instances.calls).toEqual([GET]);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({
        severity: 'NOTICE',
        decision: 'none',
        reason: 'relearn-window-passed',
        relearnMaxAgeSeconds: 300,
        ageSeconds: 3000,
      }),
    ]);
    expect(t.logger.lines[0]!.message).toBe(
      `Measurements of fleet-prod-1234/europe-west1-b/web-1 (boot 7) are known good, but the report is 3000 s old, past the relearn bound of 300 s (relearnMaxAgeSeconds): no relearn, the VM keeps running; the next boot's report decides`,
    );
  });

  it('relearns a report inside a bound the operator widened', async () => {
    const t = setup('relearn-if-known-good', new RecordingInstances(), { relearnMaxAgeSeconds: 3600 });
    t.baselines.add('kernel-6.9', tutorialDocument(GOOD));
    t.instances.states.set(DEFAULT_INSTANCE_ID, running(minutesAgo(120)));
    await t.run({ actual: GOOD, timestamp: minutesAgo(50) });
    expect(t.instances.calls).toEqual(RELEARNED);
  });

  it('judges freshness by when Cloud Logging received the entry too, not by the timestamp its writer chose', async () => {
    const t = setup();
    t.baselines.add('kernel-6.9', tutorialDocument(GOOD));
    t.instances.states.set(DEFAULT_INSTANCE_ID, running(minutesAgo(120)));
    // Dated 4 minutes ago (inside the bound), received 8 minutes ago (past it): within the clock
    // skew allowed between the two, and not fresh.
    await t.run({ ...integrityEntry({ actual: GOOD, timestamp: minutesAgo(4) }), receiveTimestamp: minutesAgo(8) });
    expect(relearns(t)).toEqual([]);
    expect(t.logger.lines).toEqual([expect.objectContaining({ reason: 'relearn-window-passed' })]);
  });

  it('does not vet an entry dated well after Cloud Logging received it: the stale-event policy decides', async () => {
    const t = setup();
    t.baselines.add('kernel-6.9', tutorialDocument(GOOD));
    await t.run({ ...integrityEntry({ actual: GOOD, timestamp: minutesAgo(1) }), receiveTimestamp: minutesAgo(30) });
    expect(t.baselines.lookups).toBe(0);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({ severity: 'CRITICAL', decision: 'stop', reason: 'stale-event-fail-closed' }),
    ]);
  });

  it('relearns a fresh report whose receipt time is as fresh', async () => {
    const t = setup();
    t.baselines.add('kernel-6.9', tutorialDocument(GOOD));
    t.instances.states.set(DEFAULT_INSTANCE_ID, running(minutesAgo(120)));
    await t.run({ ...integrityEntry({ actual: GOOD, timestamp: minutesAgo(1) }), receiveTimestamp: minutesAgo(0.9) });
    expect(t.instances.calls).toEqual(RELEARNED);
  });
});

describe('no relearn while a containment of the VM is open', () => {
  it('refuses a known-good report of the next boot while the stop of a tampered boot is held by the budget', async () => {
    const t = await exhaustedBudget();
    await expect(t.run({ bootCounter: '12', actual: TAMPERED }, 'genuine')).rejects.toThrow(ActionHeldError);
    await t.run({ bootCounter: '13', actual: GOOD }, 'forged');
    expect(relearns(t)).toEqual([]);
    expect(t.logger.lines.at(-1)).toEqual(
      expect.objectContaining({
        severity: 'CRITICAL',
        decision: 'none',
        reason: 'containment-pending',
        lastStopState: 'held',
        lastStopBoot: '12',
        bootCounter: '13',
      }),
    );
    expect(t.logger.lines.at(-1)!.message).toMatch(/a stop of the instance for boot 12 is held by the action budget: no relearn/);
  });

  it('refuses it while the stop is still to be retried, and relearns nothing once the stop is done', async () => {
    const t = setup();
    t.baselines.add('kernel-6.9', tutorialDocument(GOOD));
    t.instances.failWith = new Error('503 Service Unavailable');
    await expect(t.run({ bootCounter: '12', actual: TAMPERED }, 'genuine')).rejects.toThrow('503');
    delete t.instances.failWith;
    await t.run({ bootCounter: '13', actual: GOOD }, 'forged');
    expect(relearns(t)).toEqual([]);
    expect(t.logger.lines.at(-1)).toEqual(expect.objectContaining({ reason: 'containment-pending', lastStopState: 'pending' }));
    // The redelivered stop goes through; the instance is stopped, so nothing relearns it either.
    await t.run({ bootCounter: '12', actual: TAMPERED }, 'genuine');
    t.instances.states.set(DEFAULT_INSTANCE_ID, { ...running(minutesAgo(60)), status: 'TERMINATED' });
    await t.run({ bootCounter: '13', actual: GOOD }, 'forged');
    expect(relearns(t)).toEqual([]);
  });

  it('asks for a stop and start before a boot held by the budget relearns, even once its baseline exists', async () => {
    const t = await exhaustedBudget();
    t.baselines.docs.delete('kernel-6.9');
    t.instances.states.set(DEFAULT_INSTANCE_ID, running(minutesAgo(60)));
    // A rollout outran the budget: boot 12, on the new kernel, was held before its baseline existed.
    await expect(t.run({ bootCounter: '12', actual: GOOD }, 'held-12')).rejects.toThrow(ActionHeldError);
    t.baselines.add('kernel-6.9', tutorialDocument(GOOD));
    await t.run({ bootCounter: '12', actual: GOOD }, 'held-12');
    await t.run({ bootCounter: '13', actual: GOOD }, 'next-13');
    expect(relearns(t)).toEqual([]);
    expect(t.logger.lines.at(-1)).toEqual(expect.objectContaining({ reason: 'unvetted-boot', lastStopBoot: '12' }));
    // Stopped and started: its next boot relearns.
    t.instances.states.set(DEFAULT_INSTANCE_ID, running(new Date(Date.now() + 1000).toISOString()));
    await t.run({ bootCounter: '14', actual: GOOD, timestamp: new Date(Date.now() + 2000).toISOString() }, 'after-start');
    expect(relearns(t)).toEqual([`relearn ${DEFAULT_VM}`]);
  });

  it('refuses a forged report that turns a forged held stop of a later boot into a relearn (review 3, R1)', async () => {
    const t = await exhaustedBudget();
    t.instances.states.set(DEFAULT_INSTANCE_ID, running(minutesAgo(180)));
    await expect(t.run({ bootCounter: '12', actual: TAMPERED }, 'genuine-12')).rejects.toThrow(ActionHeldError);
    // Too old to vet, so a (held) stop; then the same claim, fresh, decided again as a relearn.
    await expect(t.run({ bootCounter: '14', actual: GOOD, timestamp: minutesAgo(120) }, 'forged-stale-14')).rejects.toThrow(
      ActionHeldError,
    );
    await t.run({ bootCounter: '14', actual: GOOD }, 'forged-fresh-14');
    expect(relearns(t)).toEqual([]);
    expect(t.logger.lines.at(-1)).toEqual(expect.objectContaining({ decision: 'none', reason: 'unvetted-boot', lastStopBoot: '14' }));
  });

  it('marks a held stop again when a conflicting report reopens it after a start (review 3, R3)', async () => {
    // A week-long window: the ledger's clock moves seconds below, never into another window.
    const t = await exhaustedBudget(604800);
    const later = (s: number) => new Date(Date.now() + s * 1000).toISOString();
    t.instances.states.set(DEFAULT_INSTANCE_ID, running(minutesAgo(180)));
    await expect(t.run({ bootCounter: '13', actual: linuxPcrs('forged') }, 'forged-13')).rejects.toThrow(ActionHeldError);
    // Stopped and started for another reason; it boots a tampered 13, whose report (after the
    // start) conflicts with the forged one.
    t.instances.states.set(DEFAULT_INSTANCE_ID, running(later(1)));
    t.ledger.clock = () => new Date(Date.now() + 5000);
    await expect(t.run({ bootCounter: '13', actual: TAMPERED, timestamp: later(2) }, 'genuine-13')).rejects.toThrow(ActionHeldError);
    await t.run({ bootCounter: '14', actual: GOOD, timestamp: later(3) }, 'forged-14');
    expect(relearns(t)).toEqual([]);
    expect(t.logger.lines.at(-1)).toEqual(
      expect.objectContaining({ reason: 'containment-pending', lastStopState: 'held', lastStopBoot: '13' }),
    );
  });

  it('relearns a later boot once the earlier stop is done and the VM runs again', async () => {
    const t = setup();
    t.baselines.add('kernel-6.9', tutorialDocument(GOOD));
    t.ledger.clock = () => new Date(Date.now() - 10 * 60_000);
    await t.run({ bootCounter: '12', actual: TAMPERED }, 'genuine');
    // Started again by an operator after the investigation: its next boot reports known good.
    t.instances.states.set(DEFAULT_INSTANCE_ID, running(minutesAgo(2)));
    await t.run({ bootCounter: '13', actual: GOOD, timestamp: minutesAgo(1) }, 'next');
    expect(relearns(t)).toEqual([`relearn ${DEFAULT_VM}`]);
  });
});

describe('no relearn of a VM still running a boot judged not known good', () => {
  const markedExempt = () => ({ ...running(minutesAgo(60)), labels: { 'integrity-response': 'exempt' } });

  it('refuses a forged next-boot report once the exemption label of a VM with a tampered boot is gone', async () => {
    const t = setup();
    t.baselines.add('kernel-6.9', tutorialDocument(GOOD));
    t.instances.states.set(DEFAULT_INSTANCE_ID, markedExempt());
    await t.run({ bootCounter: '4', actual: TAMPERED }, 'genuine');
    t.instances.states.set(DEFAULT_INSTANCE_ID, running(minutesAgo(60)));
    await t.run({ bootCounter: '5', actual: GOOD }, 'forged');
    expect(relearns(t)).toEqual([]);
    expect(t.logger.lines.at(-1)).toEqual(
      expect.objectContaining({ severity: 'WARNING', reason: 'unvetted-boot', lastStopBoot: '4', lastStopSettledAs: 'exempt' }),
    );
    expect(t.logger.lines.at(-1)!.message).toMatch(/no relearn until it is stopped and started$/);
  });

  it('refuses one after a dry run judged the running boot not known good, and says the repeat did nothing then', async () => {
    const t = setup('relearn-if-known-good', new RecordingInstances(), { enforcement: 'dry-run' });
    t.baselines.add('kernel-6.9', tutorialDocument(GOOD));
    t.instances.states.set(DEFAULT_INSTANCE_ID, running(minutesAgo(60)));
    await t.run({ bootCounter: '4', actual: TAMPERED }, 'genuine');
    const enforcing = { ...t.deps, enforcement: 'enforce' as const };
    await handleMessage(pubsubData(integrityEntry({ bootCounter: '4', actual: TAMPERED }), 'genuine'), enforcing, { id: 'genuine' });
    expect(t.logger.lines.at(-1)!.message).toMatch(/^Already handled: .*nothing was done to it then \(recorded in dry run\)/);
    await handleMessage(pubsubData(integrityEntry({ bootCounter: '5', actual: GOOD }), 'forged'), enforcing, { id: 'forged' });
    expect(relearns(t)).toEqual([]);
    expect(t.logger.lines.at(-1)).toEqual(expect.objectContaining({ reason: 'unvetted-boot', lastStopSettledAs: 'dry-run' }));
  });

  it('keeps a held stop in force when a briefly exempt VM records a later boot', async () => {
    const t = await exhaustedBudget();
    t.instances.states.set(DEFAULT_INSTANCE_ID, running(minutesAgo(60)));
    await expect(t.run({ bootCounter: '12', actual: TAMPERED }, 'genuine')).rejects.toThrow(ActionHeldError);
    t.instances.states.set(DEFAULT_INSTANCE_ID, markedExempt());
    await t.run({ bootCounter: '13', actual: linuxPcrs('other') }, 'while-exempt');
    t.instances.states.set(DEFAULT_INSTANCE_ID, running(minutesAgo(60)));
    await t.run({ bootCounter: '15', actual: GOOD }, 'forged');
    expect(relearns(t)).toEqual([]);
    expect(t.logger.lines.at(-1)).toEqual(expect.objectContaining({ decision: 'none', reason: 'unvetted-boot' }));
  });

  it('refuses one for a VM suspended for a tampered boot and resumed: it runs that boot still', async () => {
    const t = setup('relearn-if-known-good', new RecordingInstances(), { failureAction: 'suspend' });
    t.baselines.add('kernel-6.9', tutorialDocument(GOOD));
    t.instances.states.set(DEFAULT_INSTANCE_ID, running(minutesAgo(60)));
    await t.run({ bootCounter: '12', actual: TAMPERED }, 'genuine');
    expect(t.instances.calls.at(-1)).toBe(`suspend ${DEFAULT_VM}`);
    // Resumed by someone: RUNNING again, its last start unchanged (a resume continues the boot).
    await t.run({ bootCounter: '13', actual: GOOD }, 'forged');
    expect(relearns(t)).toEqual([]);
    expect(t.logger.lines.at(-1)).toEqual(expect.objectContaining({ reason: 'unvetted-boot', lastStopSettledAs: 'DONE' }));
    expect(t.logger.lines.at(-1)!.message).toMatch(
      /\(it was contained; resumed, a VM runs that boot still\) and the instance has not been started since/,
    );
  });

  it('leaves no trace of an early-boot report about an id Compute does not know', async () => {
    const t = setup();
    t.instances.gone.add(DEFAULT_INSTANCE_ID);
    await t.run({ kind: 'earlyBootReportEvent', bootCounter: '18446744073709551615', actual: TAMPERED });
    expect(t.ledger.newestBoots.size).toBe(0);
    expect(t.logger.lines).toEqual([expect.objectContaining({ decision: 'ignore', instanceFound: false })]);
    expect(t.logger.lines[0]!.message).toMatch(/no longer exists; nothing to note \(/);
  });
});

describe('a memory of the reports that decide nothing', () => {
  it("does not relearn an older boot after a later boot's failed early-boot report", async () => {
    const t = setup();
    t.baselines.add('kernel-6.9', tutorialDocument(GOOD));
    t.instances.states.set(DEFAULT_INSTANCE_ID, running(minutesAgo(60)));
    await t.run({ kind: 'earlyBootReportEvent', bootCounter: '8', actual: TAMPERED }, 'early-8');
    expect(t.logger.lines.at(-1)).toEqual(expect.objectContaining({ decision: 'ignore' }));
    await t.run({ bootCounter: '7', actual: GOOD, timestamp: minutesAgo(2) }, 'late-7');
    expect(relearns(t)).toEqual([]);
    expect(t.logger.lines.at(-1)).toEqual(expect.objectContaining({ decision: 'none', reason: 'older-boot' }));
  });

  it("takes a forged known-good report of an exempt VM's tampered boot as a conflict once the label is gone", async () => {
    const t = setup();
    t.baselines.add('kernel-6.9', tutorialDocument(GOOD));
    t.instances.states.set(DEFAULT_INSTANCE_ID, { ...running(minutesAgo(60)), labels: { 'integrity-response': 'exempt' } });
    await t.run({ bootCounter: '4', actual: TAMPERED }, 'genuine');
    expect(t.logger.lines.at(-1)).toEqual(expect.objectContaining({ reason: 'exempt' }));
    t.instances.states.set(DEFAULT_INSTANCE_ID, running(minutesAgo(60)));
    await t.run({ bootCounter: '4', actual: GOOD }, 'forged');
    expect(relearns(t)).toEqual([]);
    expect(t.logger.lines.at(-1)).toEqual(
      expect.objectContaining({ severity: 'CRITICAL', decision: 'stop', reason: 'conflicting-reports' }),
    );
  });
});

describe('lines that tell the truth', () => {
  it('names the VM as Compute does, and flags an entry label that names another VM at WARNING', async () => {
    const t = setup();
    t.baselines.add('kernel-6.9', tutorialDocument(GOOD));
    t.instances.states.set(DEFAULT_INSTANCE_ID, { ...running(minutesAgo(5)), name: 'payments-db-1' });
    await t.run({ actual: GOOD, name: 'scratch-test-vm' });
    expect(t.instances.calls).toEqual(RELEARNED);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({
        severity: 'WARNING',
        decision: 'relearn',
        instanceName: 'payments-db-1',
        entryInstanceName: 'scratch-test-vm',
      }),
    ]);
    expect(t.logger.lines[0]!.message).toBe(
      `Measurements of fleet-prod-1234/europe-west1-b/payments-db-1 (boot 7) match a known-good baseline; relearning the integrity policy (the log entry's label names it 'scratch-test-vm')`,
    );
  });

  it("names a VM Compute Engine does not know by its id, and its label as the entry's unconfirmed word", async () => {
    const t = setup();
    t.instances.gone.add(DEFAULT_INSTANCE_ID);
    await t.run({ actual: TAMPERED, name: 'prod-db-1' });
    expect(t.logger.lines).toEqual([
      expect.objectContaining({ reason: 'instance-not-found', entryInstanceName: 'prod-db-1', instanceId: DEFAULT_INSTANCE_ID }),
    ]);
    expect(t.logger.lines[0]).not.toHaveProperty('instanceName');
    expect(t.logger.lines[0]!.message).toBe(
      `Instance fleet-prod-1234/europe-west1-b/${DEFAULT_INSTANCE_ID} (boot 7) no longer exists; nothing to stop (its log entry's label says 'prod-db-1', which Compute Engine did not confirm)`,
    );
  });

  it('names the VM of a fail-open CRITICAL line by its id, since nothing asked Compute Engine', async () => {
    const t = setup('relearn-if-known-good', new RecordingInstances(), { staleEventPolicy: 'fail-open' });
    await t.run({ actual: TAMPERED, name: 'prod-db-1', timestamp: minutesAgo(120) });
    expect(t.instances.calls).toEqual([]);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({ severity: 'CRITICAL', reason: 'stale-event-fail-open', entryInstanceName: 'prod-db-1' }),
    ]);
    expect(t.logger.lines[0]!.message).toMatch(
      new RegExp(
        `^Failed integrity report of fleet-prod-1234/europe-west1-b/${DEFAULT_INSTANCE_ID} \\(boot 7\\) is 7200 s old .*label says 'prod-db-1', which Compute Engine did not confirm\\)$`,
      ),
    );
  });

  it('keeps the severity and adds no field when the label and Compute agree', async () => {
    const t = setup();
    t.instances.states.set(DEFAULT_INSTANCE_ID, { ...running(minutesAgo(5)), name: 'web-1' });
    await t.run({ actual: TAMPERED, name: 'web-1' });
    expect(t.logger.lines).toEqual([expect.objectContaining({ severity: 'WARNING', decision: 'stop', instanceName: 'web-1' })]);
    expect(t.logger.lines[0]).not.toHaveProperty('entryInstanceName');
  });

  it('says decision none, instance-not-found, when the VM to stop was deleted between the read and the stop', async () => {
    const t = setup();
    const stop = t.instances.stop.bind(t.instances);
    t.instances.stop = async (i, requestId) => {
      t.instances.gone.add(i.id);
      return stop(i, requestId);
    };
    await t.run({ actual: TAMPERED });
    expect(t.logger.lines).toEqual([
      expect.objectContaining({ severity: 'WARNING', decision: 'none', reason: 'instance-not-found', wouldHave: 'stop' }),
    ]);
    expect(t.logger.lines[0]!.message).toBe(`Instance fleet-prod-1234/europe-west1-b/web-1 (boot 7) no longer exists; nothing to stop`);
  });
});

function keyOf7() {
  return { projectId: 'fleet-prod-1234', zone: 'europe-west1-b', instanceId: DEFAULT_INSTANCE_ID, kind: 'lateBoot' as const };
}
