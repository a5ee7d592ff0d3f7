import { handleMessage } from '../../../../function/core/handler';
import { ActionHeldError } from '../../../../function/core/budget';
import { RecordingInstances } from '../../../support/fakes';
import { running, setup } from '../../../support/handler-setup';
import { integrityEntry, linuxPcrs, pubsubData, tutorialDocument } from '../../../../testkit/fixtures';

// The action budget (blast-radius limit).

describe('the action budget (blast-radius limit)', () => {
  const BUDGET = { actionBudget: { limit: 2, windowSeconds: 3600 } } as const;
  const vm = (id: string) => `fleet-prod-1234/europe-west1-b/${id}`;
  /** A failed report about VM `id` whose measurements are not known good, delivered as `msg-<id>`. */
  const fail = (t: ReturnType<typeof setup>, id: string, message = `msg-${id}`) =>
    t.run({ instanceId: id, name: `vm-${id}`, actual: linuxPcrs('new-kernel') }, message);
  const actions = (t: ReturnType<typeof setup>) => t.instances.calls.filter((c) => !c.startsWith('get '));

  it('stops at most the budget, then leaves the next VM running with one CRITICAL line and fails the event for redelivery', async () => {
    const t = setup('relearn-if-known-good', new RecordingInstances(), BUDGET);
    await fail(t, '1');
    await fail(t, '2');
    const lines = t.logger.lines.length;
    await expect(fail(t, '3')).rejects.toThrow(ActionHeldError);
    expect(actions(t)).toEqual([`stop ${vm('1')}`, `stop ${vm('2')}`]);
    expect(t.logger.lines.slice(0, 2)).toEqual([
      expect.objectContaining({ decision: 'stop', budget: 'counted', budgetShardUsed: 1, budgetShardCapacity: 1, budgetLimit: 2 }),
      expect.objectContaining({ decision: 'stop', budget: 'counted', budgetShardUsed: 1, budgetShardCapacity: 1, budgetLimit: 2 }),
    ]);
    // A limit of 2 is two shards of one slot: the two stops took one each.
    expect(new Set(t.logger.lines.slice(0, 2).map((l) => l.budgetShard))).toEqual(new Set([0, 1]));
    expect(t.logger.lines.slice(0, 2).every((l) => !('budgetUsed' in l))).toBe(true);
    const held = t.logger.lines.slice(lines);
    expect(held).toEqual([
      expect.objectContaining({
        severity: 'CRITICAL',
        decision: 'none',
        reason: 'budget-exhausted',
        wouldHave: 'stop',
        heldReason: 'not-known-good',
        budget: 'exhausted',
        budgetUsed: 2,
        budgetLimit: 2,
        budgetWindowSeconds: 3600,
        budgetFreesAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:00:00\.000Z$/),
        retry: true,
        instanceId: '3',
        eventId: 'msg-3',
      }),
    ]);
    expect(held[0]!.message).toMatch(
      /^Action budget exhausted \(2 of 2 stops and suspends per 3600 s used; the window frees at .*\): NOT stopping fleet-prod-1234\/europe-west1-b\/vm-3 \(boot 7\), reason not-known-good; the VM is left running and the event will be redelivered$/,
    );
    expect(t.ledger.records.get('fleet-prod-1234~europe-west1-b~3-7-lateBoot')).toEqual(
      expect.objectContaining({ outcome: 'held', conflict: false }),
    );
  });

  it('stops a held VM when its event comes back in the next window', async () => {
    const t = setup('relearn-if-known-good', new RecordingInstances(), BUDGET);
    await fail(t, '1');
    await fail(t, '2');
    await expect(fail(t, '3')).rejects.toThrow(ActionHeldError);
    t.ledger.clock = () => new Date(Date.now() + 3600_000);
    await fail(t, '3');
    expect(actions(t)).toEqual([`stop ${vm('1')}`, `stop ${vm('2')}`, `stop ${vm('3')}`]);
    expect(t.logger.lines.at(-1)).toEqual(
      expect.objectContaining({ decision: 'stop', ledger: 'new', budget: 'counted', budgetShardUsed: 1 }),
    );
    expect([...t.ledger.budgetWindows.values()].map((w) => w.count)).toEqual([2, 1]);
    expect(t.ledger.records.get('fleet-prod-1234~europe-west1-b~3-7-lateBoot')).toEqual(
      expect.objectContaining({ outcome: 'done', heldSince: expect.any(String) }),
    );
  });

  it('asks for a stop and start before it relearns a held VM whose baseline was recorded meanwhile (ADR 0020)', async () => {
    const t = setup('relearn-if-known-good', new RecordingInstances(), BUDGET);
    await fail(t, '1');
    await fail(t, '2');
    await expect(fail(t, '3')).rejects.toThrow(ActionHeldError);
    t.baselines.add('kernel-6.9', tutorialDocument(linuxPcrs('new-kernel')));
    await fail(t, '3');
    // Its measurements are vetted now, but nothing shows which boot the held VM runs.
    expect(actions(t)).toEqual([`stop ${vm('1')}`, `stop ${vm('2')}`]);
    expect(t.logger.lines.at(-1)).toEqual(expect.objectContaining({ decision: 'none', reason: 'unvetted-boot', lastStopBoot: '7' }));
    expect(t.logger.lines.at(-1)).not.toHaveProperty('budget');
  });

  it('never counts a redelivery of a stop twice', async () => {
    const t = setup('relearn-if-known-good', new RecordingInstances(), BUDGET);
    await fail(t, '1');
    await fail(t, '1');
    await fail(t, '2');
    expect(actions(t)).toEqual([`stop ${vm('1')}`, `stop ${vm('2')}`]);
    expect([...t.ledger.budgetWindows.values()]).toEqual([expect.objectContaining({ count: 2, total: 2 })]);
  });

  it('never counts relearns, nor exempt VMs', async () => {
    const t = setup('relearn-if-known-good', new RecordingInstances(), { actionBudget: { limit: 1, windowSeconds: 3600 } });
    t.baselines.add('kernel-6.9', tutorialDocument(linuxPcrs('good')));
    await t.run({ instanceId: '1', actual: linuxPcrs('good') }, 'msg-1');
    t.instances.states.set('2', { id: '2', status: 'RUNNING', labels: { 'integrity-response': 'exempt' } });
    await fail(t, '2');
    await fail(t, '3');
    expect(actions(t)).toEqual([`relearn ${vm('1')}`, `stop ${vm('3')}`]);
    expect([...t.ledger.budgetWindows.values()]).toEqual([expect.objectContaining({ count: 1 })]);
  });

  it('never counts an instance that no longer exists', async () => {
    const t = setup('relearn-if-known-good', new RecordingInstances(), { actionBudget: { limit: 1, windowSeconds: 3600 } });
    t.instances.gone.add('1');
    await fail(t, '1');
    await fail(t, '2');
    expect(actions(t)).toEqual([`stop ${vm('2')}`]);
    expect(t.logger.lines[0]).toEqual(expect.objectContaining({ severity: 'WARNING', instanceFound: false }));
    expect(t.logger.lines[0]).not.toHaveProperty('budget');
  });

  it('holds a suspend as it holds a stop', async () => {
    const t = setup('shutdown', new RecordingInstances(), { actionBudget: { limit: 1, windowSeconds: 3600 }, failureAction: 'suspend' });
    await fail(t, '1');
    await expect(fail(t, '2')).rejects.toThrow(ActionHeldError);
    expect(actions(t)).toEqual([`suspend ${vm('1')}`]);
    expect(t.logger.lines.at(-1)).toEqual(
      expect.objectContaining({
        reason: 'budget-exhausted',
        wouldHave: 'suspend',
        heldReason: 'policy-failed',
        message: expect.stringContaining('NOT suspending'),
      }),
    );
  });

  it('counts in dry-run as enforcing would, and says it would have held the VM', async () => {
    const t = setup('relearn-if-known-good', new RecordingInstances(), { ...BUDGET, enforcement: 'dry-run' });
    await fail(t, '1');
    await fail(t, '2');
    await expect(fail(t, '3')).rejects.toThrow(ActionHeldError);
    expect(actions(t)).toEqual([]);
    expect(t.logger.lines.map((l) => l.budget)).toEqual(['counted', 'counted', 'exhausted']);
    expect(t.logger.lines.at(-1)).toEqual(
      expect.objectContaining({
        severity: 'CRITICAL',
        dryRun: true,
        reason: 'budget-exhausted',
        message: expect.stringMatching(/^Dry run: action budget exhausted \(2 of 2 .*\): would NOT stop .*vm-3/),
      }),
    );
  });

  it('stops, once the window frees, a held VM whose report has grown too old to vet (fail-closed)', async () => {
    const t = setup('relearn-if-known-good', new RecordingInstances(), BUDGET);
    await fail(t, '1');
    await fail(t, '2');
    await expect(fail(t, '3')).rejects.toThrow(ActionHeldError);
    const later = Date.now() + 2 * 3600_000;
    t.ledger.clock = () => new Date(later);
    t.baselines.add('kernel-6.9', tutorialDocument(linuxPcrs('new-kernel')));
    await handleMessage(
      pubsubData(integrityEntry({ instanceId: '3', name: 'vm-3', actual: linuxPcrs('new-kernel') })),
      { ...t.deps, now: () => later },
      { id: 'msg-3' },
    );
    expect(actions(t).at(-1)).toBe(`stop ${vm('3')}`);
    expect(t.logger.lines.at(-1)).toEqual(
      expect.objectContaining({ severity: 'CRITICAL', decision: 'stop', reason: 'stale-event-fail-closed', budget: 'counted' }),
    );
  });

  it('acknowledges, with a CRITICAL line and no action, a held report that has grown too old to vet when fail-open', async () => {
    const t = setup('relearn-if-known-good', new RecordingInstances(), { ...BUDGET, staleEventPolicy: 'fail-open' });
    await fail(t, '1');
    await fail(t, '2');
    await expect(fail(t, '3')).rejects.toThrow(ActionHeldError);
    const later = Date.now() + 2 * 3600_000;
    const outcome = await handleMessage(
      pubsubData(integrityEntry({ instanceId: '3', name: 'vm-3', actual: linuxPcrs('new-kernel') })),
      { ...t.deps, now: () => later },
      { id: 'msg-3' },
    );
    expect(outcome).toEqual(expect.objectContaining({ decision: { action: 'alert', reason: 'stale-event-fail-open' } }));
    expect(actions(t)).toEqual([`stop ${vm('1')}`, `stop ${vm('2')}`]);
  });

  it('takes no budget without one', async () => {
    const t = setup();
    for (const id of ['1', '2', '3']) await fail(t, id);
    expect(actions(t)).toHaveLength(3);
    expect(t.logger.lines.every((l) => !('budget' in l))).toBe(true);
  });
});

describe('the action budget and one VM', () => {
  it('takes one slot per VM and window, however many boots are reported for it', async () => {
    const t = setup('relearn-if-known-good', new RecordingInstances(), { actionBudget: { limit: 2, windowSeconds: 3600 } });
    for (const boot of ['20', '21', '22', '23']) {
      await t.run({ actual: linuxPcrs(`forged-${boot}`), bootCounter: boot }, `m-${boot}`);
    }
    expect(t.logger.lines.map((l) => l.budget)).toEqual(['counted', 'already-counted', 'already-counted', 'already-counted']);
    // Another VM still finds the second slot free.
    t.instances.states.set('99', running(new Date(Date.now() - 60_000).toISOString()));
    await handleMessage(
      pubsubData(integrityEntry({ instanceId: '99', name: 'web-99', actual: linuxPcrs('x'), bootCounter: '5' })),
      t.deps,
      {
        id: 'm-99',
      },
    );
    expect(t.logger.lines.at(-1)).toEqual(expect.objectContaining({ decision: 'stop', budget: 'counted', budgetShardUsed: 1 }));
    expect([...t.ledger.budgetWindows.values()]).toEqual([{ count: 2, total: 2 }]);
  });
});
