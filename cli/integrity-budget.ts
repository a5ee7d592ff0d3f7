import type { Firestore } from '@google-cloud/firestore';
import { BudgetCounter, BudgetReset, BudgetWindow, budgetWindow } from '../function/core/budget';
import { LEDGER_BUDGET_COLLECTION, SETTINGS, UNLIMITED, settingProblem, settingValue } from '../function/contract';
import { FOOTER, Flags, Io, OptionValues, ParsedOptions, UsageError, str, textOption } from './common';
import { Command, runAsCommand, runTool } from './tool';
import { DEFAULT_LEDGER_DATABASE as DEFAULT_DATABASE, FirestoreTarget, ledgerTarget, onEmulator, withFirestore } from './firestore';
import { nameOnEmulatorOnly, recordedAsHelp, resolveActor } from './principal';

/** What the tool is called on the command line. */
export const BIN = 'integrity-budget';

const { min: MIN_WINDOW, max: MAX_WINDOW } = SETTINGS.actionWindowSeconds;
const { min: MIN_LIMIT, max: MAX_LIMIT, default: DEFAULT_LIMIT, env: LIMIT_VARIABLE } = SETTINGS.maxActionsPerWindow;

const TOP_USAGE = `usage: ${BIN} <command> [options]

Shows or resets the action budget (blast-radius limit) of an IntegrityResponder: how many VMs
it stopped or suspended in the current window, and whether it is leaving failed VMs running
because the limit is reached.

commands:
  show     the current window: actions counted, the limit, when it frees
  reset    let the responder act again in the current window (its count goes back to 0)

Run '${BIN} <command> --help' for a command's options.
`;

const COMMON_OPTIONS = `  --project P           project of the ledger (default: $GOOGLE_CLOUD_PROJECT)
  --database D          the responder's decision-ledger database (default: ${DEFAULT_DATABASE},
                        the one of the default namePrefix: pass '<namePrefix>-decisions')
  --window-seconds N    the responder's actionWindowSeconds, ${MIN_WINDOW}-${MAX_WINDOW} (default: the length of
                        the window it counted in last, else ${SETTINGS.actionWindowSeconds.default})
  --max-actions N       the responder's maxActionsPerWindow, ${MIN_LIMIT}-${MAX_LIMIT} or '${UNLIMITED}' (default: the
                        limit it counted its last action against; unknown before its first)
  --timeout SECONDS     give up when Firestore has not answered by then (default: 60)
  -h, --help            show this help`;

const SHOW_USAGE = `usage: ${BIN} show [options]

Prints the current window of the action budget: actions counted ('used') against the limit,
when it frees, and the resets made in it. The limit is the responder's own setting
(${LIMIT_VARIABLE}); the ledger holds it only once an action was counted, so before that
show says it is unknown unless --max-actions gives it.

options:
  --json                print one JSON object instead of text
${COMMON_OPTIONS}

${FOOTER}`;

const RESET_USAGE = `usage: ${BIN} reset --reason TEXT [options]

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

/** Options of every command. */
const COMMON_FLAGS = {
  project: { type: 'string' },
  database: { type: 'string' },
  'window-seconds': { type: 'string' },
  'max-actions': { type: 'string' },
  timeout: { type: 'string' },
} as const satisfies Flags;

/** The options each command takes, besides `--help`: what its usage lists. */
export const COMMAND_FLAGS = {
  show: { ...COMMON_FLAGS, json: { type: 'boolean' } },
  reset: { ...COMMON_FLAGS, reason: { type: 'string' }, by: { type: 'string' }, json: { type: 'boolean' } },
} as const satisfies Record<string, Flags>;

/** Each command's usage, by command. */
export const COMMAND_USAGE: Readonly<Record<keyof typeof COMMAND_FLAGS, string>> = { show: SHOW_USAGE, reset: RESET_USAGE };

/** The limit the budget is compared with, and where the tool learnt it. */
type Limit =
  | {
      readonly value: number | typeof UNLIMITED;
      /**
       * `option`: --max-actions; `window`: the limit the responder counted the window's last
       * action against; `ledger`: the one it counted its last action against, in an earlier window.
       */
      readonly from: 'option' | 'window' | 'ledger';
      /** When the responder counted that action (`ledger`). */
      readonly at?: string;
    }
  | { readonly value: undefined; readonly from: 'unknown' };

/** The window the budget counts in now, as the ledger holds it. */
interface CurrentWindow {
  readonly window: BudgetWindow;
  /** The window's document; absent when nothing was counted in it. */
  readonly counter?: BudgetCounter;
  /** Where the window's length came from. */
  readonly lengthFrom: 'option' | 'ledger' | 'default';
  readonly limit: Limit;
}

interface Target extends FirestoreTarget {
  readonly windowSeconds?: number;
  readonly maxActions?: number | typeof UNLIMITED;
  readonly where: string;
}

/** A setting of the responder given as an option: checked by the contract's own rule, undefined when not given. */
function settingOption(
  values: OptionValues,
  name: 'window-seconds' | 'max-actions',
  setting: (typeof SETTINGS)['actionWindowSeconds' | 'maxActionsPerWindow'],
): number | typeof UNLIMITED | undefined {
  const raw = str(values[name]);
  if (raw === undefined) return undefined;
  const problem = settingProblem(setting, raw);
  if (problem !== undefined) throw new UsageError(`--${name} ${problem} (the responder's ${setting.env}), got '${raw}'`);
  return settingValue(setting, raw) as number | typeof UNLIMITED;
}

function target(values: OptionValues, io: Io): Target {
  const ledger = ledgerTarget(values, io.env);
  const windowSeconds = settingOption(values, 'window-seconds', SETTINGS.actionWindowSeconds) as number | undefined;
  const maxActions = settingOption(values, 'max-actions', SETTINGS.maxActionsPerWindow);
  return {
    ...ledger,
    ...(windowSeconds !== undefined && { windowSeconds }),
    ...(maxActions !== undefined && { maxActions }),
    where: `${ledger.database} in project ${ledger.project}${onEmulator(ledger)}`,
  };
}

/**
 * The current window: of the length given, else of the length of the window the responder
 * counted in last; and the limit: the one given, else the one the responder counted its last
 * action against (the function does not tell the ledger its configuration otherwise).
 */
async function currentWindow(db: Firestore, t: Target, now: number): Promise<CurrentWindow> {
  const windows = db.collection(LEDGER_BUDGET_COLLECTION);
  const last =
    t.windowSeconds === undefined || t.maxActions === undefined
      ? ((await windows.orderBy('updatedAt', 'desc').limit(1).get()).docs[0]?.data() as BudgetCounter | undefined)
      : undefined;
  const seconds = t.windowSeconds ?? last?.windowSeconds ?? SETTINGS.actionWindowSeconds.default;
  const lengthFrom: CurrentWindow['lengthFrom'] = t.windowSeconds !== undefined ? 'option' : last === undefined ? 'default' : 'ledger';
  const window = budgetWindow(now, seconds);
  const doc = await windows.doc(window.id).get();
  const counter = doc.exists ? (doc.data() as BudgetCounter) : undefined;
  const limit: Limit =
    t.maxActions !== undefined
      ? { value: t.maxActions, from: 'option' }
      : counter !== undefined
        ? { value: counter.limit, from: 'window' }
        : last !== undefined
          ? { value: last.limit, from: 'ledger', at: last.updatedAt }
          : { value: undefined, from: 'unknown' };
  return { window, lengthFrom, limit, ...(counter !== undefined && { counter }) };
}

/** Whether the window's count has reached a known, numeric limit. */
function exhausted(current: CurrentWindow): boolean {
  const { value } = current.limit;
  return typeof value === 'number' && (current.counter?.count ?? 0) >= value;
}

/** The window as `show --json` prints it. */
function summary(t: Target, current: CurrentWindow, now: number): Record<string, unknown> {
  const { window, counter } = current;
  return {
    project: t.project,
    database: t.database,
    window: { id: window.id, start: window.start, end: window.end, seconds: window.seconds, lengthFrom: current.lengthFrom },
    counted: counter?.count ?? 0,
    limit: current.limit.value ?? null,
    limitFrom: current.limit.from,
    total: counter?.total ?? 0,
    exhausted: exhausted(current),
    filledAt: counter?.filledAt ?? null,
    freesAt: window.end,
    freesInSeconds: Math.max(0, Math.round((Date.parse(window.end) - now) / 1000)),
    resets: counter?.resets ?? [],
  };
}

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

function showText(t: Target, current: CurrentWindow, now: number): string {
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
    lines.push(`total:   ${counter.total} counted in this window; ${counter.resets?.length ?? 0} reset(s)`);
    for (const r of counter.resets ?? []) lines.push(`reset:   ${r.at} by ${r.by} (cleared ${r.countBefore}): ${r.reason}`);
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

/** The tool's commands, by name. */
const COMMANDS = {
  show: { flags: COMMAND_FLAGS.show, usage: SHOW_USAGE, run: show },
  reset: { flags: COMMAND_FLAGS.reset, usage: RESET_USAGE, run: reset },
} satisfies Record<string, Command>;

/** Runs the tool; resolves to the process exit code. `now` is the clock, for tests. */
export function run(argv: string[], io: Io, now: () => number = Date.now): Promise<number> {
  return runTool({ bin: BIN, usage: TOP_USAGE, commands: COMMANDS }, argv, io, now);
}

if (require.main === module) runAsCommand(BIN, run);
