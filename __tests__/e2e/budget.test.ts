import { runTool } from '../../testkit/tools';
import { describeWithEmulators } from '../support/emulator-suite';
import { integrityEntry, linuxPcrs } from '../../testkit/fixtures';
import { Harness, Responder } from '../../testkit/harness';

// The blast-radius limit on real parts: the shipped function deployed with a budget of 2 stops
// per window, behind a Pub/Sub push subscription with a short backoff, the ledger (and the
// budget) in the Firestore emulator, a loopback Compute API, and the real integrity-budget tool.
// Four VMs fail at once: two are stopped, two are left running and their events redelivered
// until an operator resets the budget; then they are stopped too.

const ZONE = 'us-central1-a';
const PROJECT = 'fleet-prod-1234';
const VMS = [
  ['rollout-1', '8001'],
  ['rollout-2', '8002'],
  ['rollout-3', '8003'],
  ['rollout-4', '8004'],
] as const;

describeWithEmulators('the action budget end to end', () => {
  let h: Harness;
  let r: Responder;

  beforeAll(async () => {
    h = await Harness.start();
    // A day-long window: the test never runs into the window's end, only the reset frees it.
    r = await h.deploy(
      { GOOGLE_CLOUD_PROJECT: PROJECT, MAX_ACTIONS_PER_WINDOW: '2', ACTION_WINDOW_SECONDS: '86400' },
      'budget',
      {},
      { gate: true, retryPolicy: { minimumBackoff: '1s', maximumBackoff: '2s' } },
    );
    for (const [name, id] of VMS) h.compute.add({ project: PROJECT, zone: ZONE, name, id });
  }, 120_000);

  afterAll(() => h?.stop());

  const decided = (l: Record<string, unknown>) => l.decision !== undefined;
  const vm = (id: string) => h.compute.instances.find((i) => i.id === id)!;
  const stopsOf = (id: string) => h.compute.actions().filter((q) => q.path.endsWith(`/instances/${id}/stop`));
  const budgetCli = (args: string[]) =>
    runTool('integrity-budget', args, {
      env: { PATH: process.env.PATH, FIRESTORE_EMULATOR_HOST: h.firestore.host, METADATA_SERVER_DETECTION: 'none' },
    });
  /** The decision lines of an event, in order. */
  const linesOf = (messageId: string) => r.host.logs.filter((l) => l.eventId === messageId && decided(l));
  async function until(what: string, ok: () => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last lines: ${JSON.stringify(r.host.logs.slice(-4))}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const print = (l: Record<string, unknown>) =>
    console.log(
      `${String(l.severity)} ${String(l.instanceName)}: decision=${String(l.decision)} reason=${String(l.reason)}` +
        `${l.budget ? ` budget=${String(l.budget)}` : ''}${l.budgetUsed !== undefined ? ` ${String(l.budgetUsed)}/${String(l.budgetLimit)}` : ''}` +
        `${l.budgetShard !== undefined ? ` shard ${String(l.budgetShard)}: ${String(l.budgetShardUsed)}/${String(l.budgetShardCapacity)}` : ''}` +
        `${l.wouldHave ? ` wouldHave=${String(l.wouldHave)}` : ''}${l.retry ? ' retry=true' : ''}\n  ${String(l.message)}`,
    );

  it('stops two of four failed VMs, holds the other two (CRITICAL, redelivered) until integrity-budget reset, then stops them', async () => {
    expect(r.plan.env).toEqual(expect.objectContaining({ MAX_ACTIONS_PER_WINDOW: '2', ACTION_WINDOW_SECONDS: '86400' }));
    const ids = await Promise.all(
      VMS.map(([name, id]) =>
        r.publish(
          integrityEntry({
            projectId: PROJECT,
            zone: ZONE,
            name,
            instanceId: id,
            bootCounter: '12',
            actual: linuxPcrs('kernel-7.0-unvetted'),
          }),
        ),
      ),
    );
    const messageOf = new Map(VMS.map(([, id], i) => [id, ids[i]!]));
    try {
      // Every event decided once; then each held one delivered again, and held again.
      await until('a decision line for every event', () => ids.every((m) => linesOf(m).length >= 1));
      const held = () => ids.filter((m) => linesOf(m)[0]!.reason === 'budget-exhausted');
      const stopped = ids.filter((m) => linesOf(m)[0]!.decision === 'stop');
      expect(stopped).toHaveLength(2);
      expect(held()).toHaveLength(2);
      await until('a redelivery of each held event', () =>
        held().every((m) => linesOf(m).length >= 2 && r.gate!.deliveriesOf(m).length >= 2),
      );

      expect(VMS.filter(([, id]) => stopsOf(id).length === 1)).toHaveLength(2);
      // A limit of 2 is two shards of one slot: each stop took its slot in a shard of its own.
      const counted = stopped.map((m) => linesOf(m)[0]!);
      expect(counted.every((l) => l.budget === 'counted' && l.budgetShardUsed === 1 && l.budgetShardCapacity === 1)).toBe(true);
      expect(new Set(counted.map((l) => l.budgetShard))).toEqual(new Set([0, 1]));
      expect(h.compute.actions().filter((q) => q.path.endsWith('/stop'))).toHaveLength(2);
      for (const m of held()) {
        const [first, second] = linesOf(m);
        for (const line of [first, second]) {
          expect(line).toEqual(
            expect.objectContaining({
              severity: 'CRITICAL',
              decision: 'none',
              reason: 'budget-exhausted',
              wouldHave: 'stop',
              heldReason: 'not-known-good',
              budget: 'exhausted',
              budgetUsed: 2,
              budgetLimit: 2,
              budgetWindowSeconds: 86400,
              retry: true,
            }),
          );
          expect(String(line!.message)).toContain('Action budget exhausted');
        }
        // The function failed the delivery: Pub/Sub redelivered it.
        expect(r.gate!.deliveriesOf(m)[0]!.status).toBe(500);
        expect(vm(String(first!.instanceId)).status).toBe('RUNNING');
        // One line per delivery: no second, generic ERROR line.
        expect(r.host.logs.filter((l) => l.eventId === m && l.severity === 'ERROR')).toEqual([]);
      }
      const heldIds = held();
      console.log('e2e budget: before the reset, the first decision line of each event:');
      for (const m of ids) print(linesOf(m)[0]!);

      const shown = budgetCli(['show', '--project', PROJECT]);
      expect(shown.status).toBe(0);
      expect(shown.stdout).toMatch(/used: +2 of 2 .*EXHAUSTED/);
      console.log(`$ integrity-budget show --project ${PROJECT}\n${shown.stdout}`);
      const reset = budgetCli(['reset', '--project', PROJECT, '--reason', 'e2e: the two held VMs may be stopped', '--by', 'e2e']);
      expect(reset.stderr).toBe('');
      expect(reset.status).toBe(0);
      console.log(`$ integrity-budget reset --project ${PROJECT} --reason '…' --by e2e\n${reset.stdout}`);

      const resetAt = Date.now();
      await until('the held events acted on after the reset', () => heldIds.every((m) => linesOf(m).some((l) => l.decision === 'stop')));
      console.log(`e2e budget: after the reset (${((Date.now() - resetAt) / 1000).toFixed(1)} s), the held events:`);
      for (const m of heldIds) {
        const done = linesOf(m).find((l) => l.decision === 'stop')!;
        print(done);
        expect(done).toEqual(
          expect.objectContaining({
            severity: 'WARNING',
            reason: 'not-known-good',
            ledger: 'new',
            budget: 'counted',
            operationStatus: 'DONE',
          }),
        );
        expect(r.host.logs.filter((l) => l.eventId === m && l.severity === 'CRITICAL').length).toBeGreaterThanOrEqual(2);
      }
      for (const [, id] of VMS) {
        expect(stopsOf(id)).toHaveLength(1);
        expect(vm(id).status).toBe('TERMINATED');
      }
      const after = JSON.parse(budgetCli(['show', '--project', PROJECT, '--json']).stdout);
      expect(after).toEqual(
        expect.objectContaining({
          counted: 2,
          total: 4,
          shards: { written: 2, of: 2 },
          resets: [expect.objectContaining({ by: 'e2e', countBefore: 2 })],
        }),
      );
      const gaps = heldIds.map((m) => {
        const at = r
          .gate!.deliveriesOf(m)
          .map((d) => d.at)
          .sort((a, b) => a - b);
        return at.slice(1).map((t, i) => ((t - at[i]!) / 1000).toFixed(1));
      });
      console.log(
        `e2e budget: 4 VMs failed, budget 2 → 2 stopped at once, 2 held (${heldIds.map((m) => r.gate!.deliveriesOf(m).length - 1).join(' and ')} redeliveries, ` +
          `${gaps.map((g) => `${g.join(' s, ')} s apart`).join('; ')}), ` +
          `stopped after the reset; the window counted ${after.total} in all (${after.counted} since the reset)`,
      );
    } finally {
      for (const m of messageOf.values()) r.gate!.drop(m);
    }
  }, 120_000);
});
