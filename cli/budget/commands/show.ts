import { SETTINGS, UNLIMITED } from '../../../function/contract';
import { FOOTER, Flags, Io, ParsedOptions, UsageError } from '../../common';
import { withFirestore } from '../../firestore';
import type { Command } from '../../tool';
import { BUDGET_BIN as BIN } from '../names';
import { COMMON_FLAGS, COMMON_OPTIONS, BudgetTarget, target } from '../options';
import { CurrentWindow, currentWindow, exhausted, summary } from '../window';

const { default: DEFAULT_LIMIT, env: LIMIT_VARIABLE } = SETTINGS.maxActionsPerWindow;

const USAGE = `usage: ${BIN} show [options]

Prints the current window of the action budget: actions counted ('used', summed over the
window's shards) against the limit, when it frees, and the resets made in it. The limit is the responder's own setting
(${LIMIT_VARIABLE}); the ledger holds it only once an action was counted, so before that
show says it is unknown unless --max-actions gives it.

options:
  --json                print one JSON object instead of text
${COMMON_OPTIONS}

${FOOTER}`;

const FLAGS = { ...COMMON_FLAGS, json: { type: 'boolean' } } as const satisfies Flags;

/** How long until the window frees, in the unit that reads best. */
function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return s < 172800 ? `${Math.round(s / 3600)} h` : `${Math.round(s / 86400)} days`;
}

/** `N of L (where L comes from)`, or what is known when the limit is not. */
function usedText(current: CurrentWindow): string {
  const count = current.counter?.count ?? 0;
  const { limit, counter } = current;
  switch (limit.from) {
    case 'unknown':
      return (
        `${count} of an unknown limit: the responder has counted no action in this ledger yet, and only its ` +
        `${LIMIT_VARIABLE} setting (maxActionsPerWindow, default ${DEFAULT_LIMIT}) holds it; pass --max-actions N to compare`
      );
    case 'option': {
      const counted = counter !== undefined && counter.limit !== limit.value ? `; it counted the last action against ${counter.limit}` : '';
      return limit.value === UNLIMITED
        ? `${count} (no limit: --max-actions ${UNLIMITED}, so the responder counts nothing${counted})`
        : `${count} of ${limit.value} (the limit given with --max-actions${counted})`;
    }
    case 'window':
      return `${count} of ${limit.value} (the limit when the last action was counted)`;
    case 'ledger':
      return (
        `${count} of ${limit.value} (the limit the responder counted its last action against, at ${limit.at ?? 'an unknown time'}; ` +
        `pass --max-actions N if it changed since)`
      );
  }
}

function showText(t: BudgetTarget, current: CurrentWindow, now: number): string {
  const { window, counter } = current;
  const length =
    current.lengthFrom === 'default'
      ? ': the default, assumed since no window was counted yet; pass --window-seconds if yours differs'
      : '';
  const lines = [
    `action budget of ${t.where}`,
    `window:  ${window.start} – ${window.end} (${window.seconds} s${length}), frees in ${duration(Date.parse(window.end) - now)}`,
  ];
  const full = exhausted(current)
    ? `: EXHAUSTED${counter?.filledAt ? ` since ${counter.filledAt}` : ''}; failed VMs are left running and their events redelivered`
    : '';
  lines.push(`used:    ${usedText(current)}${full}`);
  if (counter === undefined) {
    lines.push('total:   0: no VM stopped or suspended in this window');
  } else {
    lines.push(`total:   ${counter.total} counted in this window; ${counter.resets.length} reset(s)`);
    lines.push(`shards:  ${counter.shardsWritten} of ${counter.shards} written (the count is their sum)`);
    for (const r of counter.resets) lines.push(`reset:   ${r.at} by ${r.by} (cleared ${r.countBefore}): ${r.reason}`);
  }
  return `${lines.join('\n')}\n`;
}

async function show({ values, positionals }: ParsedOptions, io: Io, now: () => number): Promise<void> {
  if (positionals.length > 0) throw new UsageError(`show takes no arguments, got '${positionals[0]}'`);
  const t = target(values, io);
  const at = now();
  const current = await withFirestore(io, t, `read the action budget in ${t.where}`, 'read', (db) => currentWindow(db, t, at));
  io.stdout(values.json ? `${JSON.stringify(summary(t, current, at))}\n` : showText(t, current, at));
}

/** `integrity-budget show`: the current window of the action budget, as text or JSON. */
export const SHOW: Command = { flags: FLAGS, usage: USAGE, run: show };
