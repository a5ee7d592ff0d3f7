import { handleMessage } from '../../../../function/core/handler';
import { GET, RELEARNED, STOPPED, VM, running, setup } from '../../../support/handler-setup';
import { DEFAULT_INSTANCE_ID, integrityEntry, linuxPcrs, pubsubData, tutorialDocument } from '../../../../testkit/fixtures';

// Which VM a report names: by its numeric id, in its own project, named as Compute Engine answers.

describe('addressing the instance', () => {
  it('acts on the numeric instance id even when the entry carries a name', async () => {
    const t = setup();
    await t.run({ name: 'db-3' });
    expect(t.instances.calls).toEqual(STOPPED);
  });

  it("uses the entry's name only in the log line", async () => {
    const t = setup();
    await t.run({ name: 'db-3' });
    expect(t.instances.calls.some((c) => c.includes('db-3'))).toBe(false);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({ instanceName: 'db-3', instanceId: DEFAULT_INSTANCE_ID, message: expect.stringContaining('db-3') }),
    ]);
  });

  it('acts on the id alone when the entry carries no name', async () => {
    const t = setup();
    await t.run({ name: null });
    expect(t.instances.calls).toEqual(STOPPED);
    expect(t.logger.lines).toEqual([expect.objectContaining({ instanceId: DEFAULT_INSTANCE_ID, message: expect.stringContaining(VM) })]);
    expect(t.logger.lines[0]).not.toHaveProperty('instanceName');
  });

  it('names a VM it relearns by what instances.get answers when the entry carries no name', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    t.instances.states.set(DEFAULT_INSTANCE_ID, { ...running(new Date(Date.now() - 60_000).toISOString()), name: 'api-7' });
    await t.run({ actual: linuxPcrs('good'), name: null });
    expect(t.instances.calls).toEqual(RELEARNED);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({ decision: 'relearn', instanceName: 'api-7', instanceId: DEFAULT_INSTANCE_ID }),
    ]);
  });

  it('acknowledges with a warning, and records nothing, when the instance to stop no longer exists', async () => {
    const t = setup();
    t.instances.gone.add(DEFAULT_INSTANCE_ID);
    const outcome = await t.run({});
    expect(outcome).toEqual(expect.objectContaining({ status: 'decided', instanceFound: false }));
    // Gone at the get: no stop is sent.
    expect(t.instances.calls).toEqual([GET]);
    // Nothing was stopped: the line says so in its decision, which the stop alert counts.
    expect(t.logger.lines).toEqual([
      expect.objectContaining({
        severity: 'WARNING',
        instanceFound: false,
        decision: 'none',
        reason: 'instance-not-found',
        wouldHave: 'stop',
        operationStatus: 'instance-not-found',
      }),
    ]);
    // Nothing recorded: an id that does not exist in its project leaves no trace a later report could meet.
    expect(t.ledger.records.size).toBe(0);
  });

  it('acknowledges with a warning, and records nothing, when the instance to relearn no longer exists', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    t.instances.gone.add(DEFAULT_INSTANCE_ID);
    const outcome = await t.run({ actual: linuxPcrs('good') });
    expect(outcome).toEqual(expect.objectContaining({ status: 'decided', instanceFound: false }));
    expect(t.instances.calls).toEqual([GET]);
    expect(t.logger.lines).toEqual([expect.objectContaining({ severity: 'WARNING', instanceFound: false })]);
    // Nothing recorded: an id that does not exist in its project leaves no trace a later report could meet.
    expect(t.ledger.records.size).toBe(0);

    // Redelivered: still reported as gone, not as a relearn done.
    expect(await t.run({ actual: linuxPcrs('good') })).toEqual(expect.objectContaining({ instanceFound: false }));
    expect(t.instances.calls).toEqual([GET, GET]);
    expect(t.logger.lines[1]).toEqual(expect.objectContaining({ severity: 'WARNING', instanceFound: false }));
    expect(t.ledger.records.size).toBe(0);
  });
});

describe('reports that name a VM of another project', () => {
  it('never lets an entry of one project meet the ledger records of a VM of another with the same id', async () => {
    const t = setup();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    // Written in sandbox-project-7, naming the id of a VM of fleet-prod-1234, with other
    // measurements and the same boot: that id does not exist in sandbox-project-7.
    t.instances.emptyProjects.add('sandbox-project-7');
    await handleMessage(pubsubData(integrityEntry({ projectId: 'sandbox-project-7', actual: linuxPcrs('forged') })), t.deps, { id: 'f-1' });
    expect(t.ledger.records.size).toBe(0);
    // The genuine known-good report of the real VM relearns: no conflict with the forged one.
    await handleMessage(pubsubData(integrityEntry({ actual: linuxPcrs('good') })), t.deps, { id: 'g-1' });
    expect(t.logger.lines.at(-1)).toEqual(expect.objectContaining({ decision: 'relearn', ledger: 'new' }));
  });
});
