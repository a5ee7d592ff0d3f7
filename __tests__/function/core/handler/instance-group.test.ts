import type { ResponseMode } from '../../../../function/contract';
import { requestIdFor } from '../../../../function/core/request-id';
import type { InstanceState } from '../../../../function/core/decide';
import { RecordingInstances } from '../../../support/fakes';
import { GET, RELEARNED, STOP, STOPPED, VM, running, setup } from '../../../support/handler-setup';
import { DEFAULT_INSTANCE_ID, linuxPcrs, tutorialDocument } from '../../../../testkit/fixtures';

// Members of a managed instance group (ADR 0010).

describe('members of a managed instance group (ADR 0010)', () => {
  const ZONAL = 'projects/fleet-prod-1234/zones/europe-west1-b/instanceGroupManagers/web-mig';
  const REGIONAL = 'projects/fleet-prod-1234/regions/europe-west1/instanceGroupManagers/web-rmig';
  const LIST = `list ${ZONAL}`;
  const member = (createdBy: string, extra: Partial<InstanceState> = {}): InstanceState => ({
    ...running(new Date(Date.now() - 60_000).toISOString()),
    createdBy,
    ...extra,
  });
  const inGroup = (extra: Parameters<typeof setup>[2] = {}, createdBy = ZONAL, mode: ResponseMode = 'relearn-if-known-good') => {
    const t = setup(mode, new RecordingInstances(), { abandonSettleMs: 0, ...extra });
    t.instances.states.set(DEFAULT_INSTANCE_ID, member(createdBy));
    t.instances.members.set(createdBy, new Set([DEFAULT_INSTANCE_ID]));
    return t;
  };
  const abandonCall = (group: string, msg = 'msg-1') =>
    `abandon ${group} ${DEFAULT_INSTANCE_ID} ${requestIdFor(msg, `abandon ${group}`).slice(0, 8)}`;

  it('abandons a member from its zonal group, then stops it, and names the group', async () => {
    const t = inGroup();
    await t.run({ actual: linuxPcrs('tampered') });
    expect(t.instances.calls).toEqual([GET, LIST, abandonCall(ZONAL), LIST, STOP]);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({
        severity: 'WARNING',
        decision: 'stop',
        reason: 'not-known-good',
        instanceGroup: ZONAL,
        groupAction: 'abandoned',
        message: `Integrity of ${VM.replace(DEFAULT_INSTANCE_ID, 'web-1')} (boot 7) not vetted (not-known-good); abandoned it from its managed instance group ${ZONAL}, then stopping the instance`,
      }),
    ]);
  });

  it('records the abandon request in the ledger before sending it', async () => {
    const t = inGroup();
    await t.run({ actual: linuxPcrs('tampered') });
    const record = [...t.ledger.records.values()][0]!;
    expect(record.groupAbandon).toEqual({
      group: ZONAL,
      requestId: requestIdFor('msg-1', `abandon ${ZONAL}`),
      requestedAt: expect.any(String),
    });
    expect(record).toMatchObject({ outcome: 'done', operationStatus: 'DONE' });
  });

  it('abandons a member of a regional group the same way', async () => {
    const t = inGroup({}, REGIONAL);
    await t.run({ actual: linuxPcrs('tampered') });
    expect(t.instances.calls).toEqual([GET, `list ${REGIONAL}`, abandonCall(REGIONAL), `list ${REGIONAL}`, STOP]);
    expect(t.logger.lines[0]).toEqual(expect.objectContaining({ instanceGroup: REGIONAL, groupAction: 'abandoned' }));
  });

  it('abandons, then suspends, when the failure action is suspend', async () => {
    const t = inGroup({ failureAction: 'suspend' });
    await t.run({ actual: linuxPcrs('tampered') });
    expect(t.instances.calls).toEqual([GET, LIST, abandonCall(ZONAL), LIST, `suspend ${VM}`]);
  });

  it('abandons in the shutdown mode too', async () => {
    const t = inGroup({}, ZONAL, 'shutdown');
    await t.run({ passed: false, kind: 'earlyBootReportEvent' });
    expect(t.instances.calls).toEqual([GET, LIST, abandonCall(ZONAL), LIST, STOP]);
  });

  it('stops a VM whose created-by names a group that does not list it, as not a member', async () => {
    const t = inGroup();
    t.instances.members.set(ZONAL, new Set(['1']));
    await t.run({ actual: linuxPcrs('tampered') });
    expect(t.instances.calls).toEqual([GET, LIST, STOP]);
    expect(t.logger.lines[0]).toEqual(
      expect.objectContaining({
        severity: 'WARNING',
        instanceGroup: ZONAL,
        groupAction: 'not-a-member',
        message: expect.stringContaining(
          `its created-by names ${ZONAL}, but it is no member (the group does not list it); stopping the instance`,
        ),
      }),
    );
  });

  it('never asks a group in another project, and stops the VM as not a member', async () => {
    const other = 'projects/other-project-99/zones/europe-west1-b/instanceGroupManagers/web-mig';
    const t = inGroup({}, other);
    await t.run({ actual: linuxPcrs('tampered') });
    expect(t.instances.calls).toEqual(STOPPED);
    expect(t.logger.lines[0]).toEqual(
      expect.objectContaining({
        instanceGroup: other,
        groupAction: 'not-a-member',
        message: expect.stringContaining('the group is in project other-project-99'),
      }),
    );
  });

  it('stops a member inside its group at CRITICAL with contain-only, naming the group', async () => {
    const t = inGroup({ instanceGroupAction: 'contain-only' });
    await t.run({ actual: linuxPcrs('tampered') });
    expect(t.instances.calls).toEqual(STOPPED);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({
        severity: 'CRITICAL',
        decision: 'stop',
        instanceGroup: ZONAL,
        groupAction: 'contain-only',
        message: expect.stringContaining(`its created-by names managed instance group ${ZONAL}, which may recreate it`),
      }),
    ]);
  });

  it('in dry-run reads the group, abandons nothing and says it would abandon', async () => {
    const t = inGroup({ enforcement: 'dry-run' });
    await t.run({ actual: linuxPcrs('tampered') });
    expect(t.instances.calls).toEqual([GET, LIST]);
    expect(t.instances.members.get(ZONAL)).toEqual(new Set([DEFAULT_INSTANCE_ID]));
    expect(t.logger.lines).toEqual([
      expect.objectContaining({
        dryRun: true,
        instanceGroup: ZONAL,
        groupAction: 'would-abandon',
        message: expect.stringMatching(new RegExp(`^Dry run: would abandon it from group ${ZONAL} and stop the instance: `)),
      }),
    ]);
    expect([...t.ledger.records.values()][0]!.groupAbandon).toBeUndefined();
  });

  it('in dry-run with contain-only says it would stop the member inside its group, at CRITICAL as enforcing would', async () => {
    const t = inGroup({ enforcement: 'dry-run', instanceGroupAction: 'contain-only' });
    await t.run({ actual: linuxPcrs('tampered') });
    expect(t.instances.calls).toEqual([GET]);
    expect(t.logger.lines).toEqual([
      expect.objectContaining({
        severity: 'CRITICAL',
        dryRun: true,
        groupAction: 'contain-only',
        message: expect.stringMatching(
          new RegExp(
            `^Dry run: would stop the instance inside its managed instance group ${ZONAL} \\(instanceGroupAction contain-only\\): `,
          ),
        ),
      }),
    ]);
  });

  it('never touches the group when it relearns', async () => {
    const t = inGroup();
    t.baselines.add('baseline1', tutorialDocument(linuxPcrs('good')));
    await t.run({ actual: linuxPcrs('good') });
    expect(t.instances.calls).toEqual(RELEARNED);
    expect(t.logger.lines[0]).not.toHaveProperty('groupAction');
  });

  it('leaves an exempt member and its group alone', async () => {
    const t = inGroup();
    t.instances.states.set(DEFAULT_INSTANCE_ID, member(ZONAL, { labels: { 'integrity-response': 'exempt' } }));
    await t.run({ actual: linuxPcrs('tampered') });
    expect(t.instances.calls).toEqual([GET]);
  });

  it('redelivers while the group still lists the VM, repeating the same abandon request, then contains it anyway after 120 s', async () => {
    let clock = Date.now();
    const t = inGroup({ now: () => clock });
    t.instances.sticky.add(ZONAL);

    await expect(t.run({ actual: linuxPcrs('tampered') })).rejects.toThrow(/still lists the instance after abandonInstances/);
    expect(t.logger.lines.at(-1)).toEqual(
      expect.objectContaining({ severity: 'ERROR', retry: true, instanceGroup: ZONAL, groupAction: 'abandon-pending' }),
    );
    clock += 60_000;
    await expect(t.run({ actual: linuxPcrs('tampered') })).rejects.toThrow(/still lists/);
    expect(t.instances.calls).toEqual([GET, LIST, abandonCall(ZONAL), LIST, GET, LIST, abandonCall(ZONAL), LIST]);

    clock += 61_000;
    t.instances.calls.length = 0;
    await t.run({ actual: linuxPcrs('tampered') });
    expect(t.instances.calls).toEqual([GET, LIST, STOP]);
    expect(t.logger.lines.at(-1)).toEqual(
      expect.objectContaining({
        severity: 'CRITICAL',
        decision: 'stop',
        instanceGroup: ZONAL,
        groupAction: 'abandon-timeout',
        message: expect.stringContaining(`managed instance group ${ZONAL} still lists it 121 s after it was asked to abandon it`),
      }),
    );
  });

  it('redelivers when the group refuses the abandon, keeping the stop request id, and contains the VM after 120 s', async () => {
    let clock = Date.now();
    const t = inGroup({ now: () => clock });
    t.instances.abandonFailsWith = new Error('abandonInstances on the group failed: CONDITION_NOT_MET');

    await expect(t.run({ actual: linuxPcrs('tampered') })).rejects.toThrow(/CONDITION_NOT_MET/);
    const record = [...t.ledger.records.values()][0]!;
    expect(record).toMatchObject({ outcome: 'pending', requestId: requestIdFor('msg-1', 'stop') });
    expect(record.failedAttempts).toBeUndefined();

    clock += 121_000;
    t.instances.calls.length = 0;
    await t.run({ actual: linuxPcrs('tampered') });
    expect(t.instances.calls).toEqual([GET, LIST, STOP]);
    expect(t.logger.lines.at(-1)).toEqual(expect.objectContaining({ severity: 'CRITICAL', groupAction: 'abandon-timeout' }));
  });

  it('keeps the first abandon request id when a later message redelivers the same report', async () => {
    const t = inGroup();
    t.instances.sticky.add(ZONAL);
    await expect(t.run({ actual: linuxPcrs('tampered') }, 'msg-1')).rejects.toThrow(/still lists/);
    await expect(t.run({ actual: linuxPcrs('tampered') }, 'msg-2')).rejects.toThrow(/still lists/);
    expect(t.instances.calls.filter((c) => c.startsWith('abandon'))).toEqual([abandonCall(ZONAL, 'msg-1'), abandonCall(ZONAL, 'msg-1')]);
  });

  it('watches the group let go of the VM by the injected clock, not the wall clock', async () => {
    // Each reading of the clock is 30 s later: the minute of settling is over after two looks,
    // where the wall clock would keep the delivery polling for a minute.
    let clock = Date.now();
    const t = inGroup({ now: () => (clock += 30_000), abandonSettleMs: 60_000 });
    t.instances.sticky.add(ZONAL);
    await expect(t.run({ actual: linuxPcrs('tampered') })).rejects.toThrow(/still lists/);
    expect(t.instances.calls).toEqual([GET, LIST, abandonCall(ZONAL), LIST, LIST]);
  });

  it('says abandoned on a redelivery after the group let go of the VM, and stops it', async () => {
    const t = inGroup();
    t.instances.failWith = new Error('503 on stop');
    await expect(t.run({ actual: linuxPcrs('tampered') })).rejects.toThrow('503');
    t.instances.failWith = undefined;
    t.instances.calls.length = 0;
    await t.run({ actual: linuxPcrs('tampered') });
    expect(t.instances.calls).toEqual([GET, LIST, STOP]);
    expect(t.logger.lines.at(-1)).toEqual(expect.objectContaining({ groupAction: 'abandoned', instanceGroup: ZONAL }));
  });

  it('does nothing again for a redelivery once the VM was abandoned and stopped', async () => {
    const t = inGroup();
    await t.run({ actual: linuxPcrs('tampered') });
    t.instances.calls.length = 0;
    await t.run({ actual: linuxPcrs('tampered') });
    expect(t.instances.calls).toEqual([GET]);
    expect(t.logger.lines.at(-1)).toEqual(expect.objectContaining({ alreadyDone: true }));
  });
});
