import { LEDGER_BUDGET_COLLECTION } from '../../../function/contract';
import { BudgetCounter, BudgetReset } from '../../../function/core/budget';
import { FOOTER, Flags, Io, ParsedOptions, UsageError, textOption } from '../../common';
import { withFirestore } from '../../firestore';
import { nameOnEmulatorOnly, recordedAsHelp, resolveActor } from '../../principal';
import type { Command } from '../../tool';
import { BUDGET_BIN as BIN } from '../names';
import { COMMON_FLAGS, COMMON_OPTIONS, target } from '../options';
import { currentWindow, summary } from '../window';

const USAGE = `usage: ${BIN} reset --reason TEXT [options]

Sets the count of the current window back to 0, so the responder acts again: events it held
are acted on at their next redelivery. The window's document keeps who reset it, when, why and
the count cleared. Resetting lets up to the limit of further VMs be stopped in this window.
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
    const ref = db.collection(LEDGER_BUDGET_COLLECTION).doc(current.window.id);
    // In a transaction: an action counted between the read above and the write is not lost.
    return db.runTransaction(async (tx) => {
      const doc = await tx.get(ref);
      const counter = doc.data() as BudgetCounter | undefined;
      if (counter === undefined || counter.count === 0) return { current, reset: undefined };
      const entry: BudgetReset = { at: new Date(at).toISOString(), by, reason, countBefore: counter.count };
      // The window is no longer full: filledAt goes; the reset says when it was cleared.
      const { filledAt: _filled, ...kept } = counter;
      const next: BudgetCounter = { ...kept, count: 0, resets: [...(counter.resets ?? []), entry], updatedAt: entry.at };
      tx.set(ref, next);
      return { current: { ...current, counter: next }, reset: entry };
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
