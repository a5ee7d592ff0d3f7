import { BudgetReset, BudgetShard, BudgetWindowRecord } from '../../../function/core/budget';
import { FOOTER, Flags, Io, ParsedOptions, UsageError, textOption } from '../../common';
import { withFirestore } from '../../firestore';
import { nameOnEmulatorOnly, recordedAsHelp, resolveActor } from '../../principal';
import type { Command } from '../../tool';
import { BUDGET_BIN as BIN } from '../names';
import { COMMON_FLAGS, COMMON_OPTIONS, target } from '../options';
import { currentWindow, summary, windowCount, windowRefs } from '../window';

const USAGE = `usage: ${BIN} reset --reason TEXT [options]

Sets the count of the current window back to 0 (every shard of it), so the responder acts
again: events it held are acted on at their next redelivery. The window's document keeps who
reset it, when, why and the count cleared. Resetting lets up to the limit of further VMs be stopped in this window.
Who is, against Firestore, always the principal of your credentials (a service account's email,
or your user's); --by names someone on the emulator only.

options:
  --reason TEXT         why (required), kept with the reset
${recordedAsHelp('--by')}
  --json                print the window after the reset as one JSON object
${COMMON_OPTIONS}

${FOOTER}`;

const FLAGS = { ...COMMON_FLAGS, reason: { type: 'string' }, by: { type: 'string' }, json: { type: 'boolean' } } as const satisfies Flags;

async function reset({ values, positionals }: ParsedOptions, io: Io, now: () => number): Promise<void> {
  if (positionals.length > 0) throw new UsageError(`reset takes no arguments, got '${positionals[0]}'`);
  const reason = textOption(values, 'reason')?.trim();
  if (reason === undefined) throw new UsageError('reset needs --reason TEXT: why the responder may act again, kept with the reset');
  const t = target(values, io);
  // Recorded as the principal of the credentials against Firestore: a declared name proves nothing.
  const byFlag = nameOnEmulatorOnly(values, 'by', io.env)?.trim();
  const { name: by } = await resolveActor(byFlag, io.env, {
    doing: `reset the action budget in ${t.where}`,
    option: '--by',
    seconds: t.seconds,
  });
  const at = now();
  const outcome = await withFirestore(io, t, `reset the action budget in ${t.where}`, 'write', async (db) => {
    const current = await currentWindow(db, t, at);
    const { window } = current;
    const { ref, shards: shardRefs } = windowRefs(db, window.id);
    // In a transaction over every shard: an action counted between the read above and the write
    // is not lost (the responder's write to a shard is conditional on the shard as it read it).
    return db.runTransaction(async (tx) => {
      const [own, ...docs] = await tx.getAll(ref, ...shardRefs);
      const shards = docs.filter((d) => d.exists);
      const record = own!.data() as BudgetWindowRecord | undefined;
      const before = windowCount(
        shards.map((d) => d.data() as BudgetShard),
        record,
      );
      if (before === undefined || before.count === 0) return { current, reset: undefined };
      const entry: BudgetReset = { at: new Date(at).toISOString(), by, reason, countBefore: before.count };
      const cleared: BudgetShard[] = [];
      for (const doc of shards) {
        // The shard is no longer full: filledAt goes; the window's document says when it was cleared.
        // Its updatedAt stays the responder's: when it last counted there, against which limit.
        const { filledAt: _filled, ...kept } = doc.data() as BudgetShard;
        const next: BudgetShard = { ...kept, count: 0 };
        cleared.push(next);
        if (doc.get('count') !== 0) tx.set(doc.ref, next);
      }
      const next: BudgetWindowRecord = {
        windowStart: window.start,
        windowEnd: window.end,
        windowSeconds: window.seconds,
        resets: [...(record?.resets ?? []), entry],
        updatedAt: entry.at,
      };
      // Merged: a window counted in one document (before the shards) keeps its count and total.
      tx.set(ref, next, { merge: true });
      return { current: { ...current, counter: windowCount(cleared, next) }, reset: entry };
    });
  });
  if (values.json) return io.stdout(`${JSON.stringify({ ...summary(t, outcome.current, at), reset: outcome.reset ?? null })}\n`);
  const { window } = outcome.current;
  if (outcome.reset === undefined) {
    return io.stdout(
      `nothing to reset: no VM stopped or suspended is counted in the window ${window.start} – ${window.end} of ${t.where}\n`,
    );
  }
  io.stdout(
    `reset the window ${window.start} – ${window.end} of ${t.where}: ${outcome.reset.countBefore} counted → 0 ` +
      `(by ${by}: ${reason}); held events are acted on at their next redelivery\n`,
  );
}

/** `integrity-budget reset`: lets the responder act again in the current window, recording who, when and why. */
export const RESET: Command = { flags: FLAGS, usage: USAGE, run: reset };
