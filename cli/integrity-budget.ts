import type { Firestore } from '@google-cloud/firestore';
import { BudgetCounter, BudgetReset, BudgetWindow, budgetWindow } from '../function/budget';
import { DATABASE_ID, DEFAULT_NAME_PREFIX, LEDGER_BUDGET_COLLECTION, SETTINGS, dedicatedLedgerDatabaseId } from '../function/contract';
import {
  CliError,
  Io,
  OptionValues,
  UsageError,
  credentialsHint,
  dispatch,
  localUser,
  describeError,
  parseOptions,
  runAsCommand,
  timeoutSeconds,
  withDeadline,
} from './common';

/** What the tool is called on the command line. */
export const BIN = 'integrity-budget';

/** Ledger database the example stack creates: what `--database` defaults to. */
const DEFAULT_DATABASE = dedicatedLedgerDatabaseId(DEFAULT_NAME_PREFIX);

const { min: MIN_WINDOW, max: MAX_WINDOW } = SETTINGS.actionWindowSeconds;

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
  --window-seconds N    the responder's actionWindowSeconds (default: the length of the window
                        it counted in last)
  --timeout SECONDS     give up when Firestore has not answered by then (default: 60)
  -h, --help            show this help`;

const FOOTER = `Uses Application Default Credentials (gcloud auth application-default login), or the
emulator named by FIRESTORE_EMULATOR_HOST. Exit codes: 0 done, 1 failed, 2 usage error.
`;

const SHOW_USAGE = `usage: ${BIN} show [options]

Prints the current window of the action budget: actions counted, the limit, when it frees, and
the resets made in it.

options:
  --json                print one JSON object instead of text
${COMMON_OPTIONS}

${FOOTER}`;

const RESET_USAGE = `usage: ${BIN} reset --reason TEXT [options]

Sets the count of the current window back to 0, so the responder acts again: events it held
are acted on at their next redelivery. The window's document keeps who reset it, when, why and
the count cleared. Resetting lets up to the limit of further VMs be stopped in this window.

options:
  --reason TEXT         why (required), kept with the reset
  --by NAME             who (default: your user and host name, ${localUser()})
  --json                print the window after the reset as one JSON object
${COMMON_OPTIONS}

${FOOTER}`;

/** The window the budget counts in now, as the ledger holds it. */
interface CurrentWindow {
  readonly window: BudgetWindow;
  /** The window's document; absent when nothing was counted in it. */
  readonly counter?: BudgetCounter;
  /** Where the window's length came from. */
  readonly lengthFrom: 'option' | 'ledger' | 'default';
}

interface Target {
  readonly project: string;
  readonly database: string;
  readonly windowSeconds?: number;
  readonly seconds: number;
  readonly where: string;
}

function target(values: OptionValues, io: Io, usage: string): Target {
  const project = (values.project as string | undefined) ?? io.env.GOOGLE_CLOUD_PROJECT;
  if (project === undefined || project === '') {
    throw new UsageError('--project is required (or set GOOGLE_CLOUD_PROJECT): the project of the decision ledger', usage);
  }
  const database = (values.database as string | undefined) ?? DEFAULT_DATABASE;
  if (!DATABASE_ID.test(database)) {
    throw new UsageError(`--database must be a database id like '${DEFAULT_DATABASE}', got '${database}'`, usage);
  }
  const rawWindow = values['window-seconds'] as string | undefined;
  let windowSeconds: number | undefined;
  if (rawWindow !== undefined) {
    windowSeconds = Number(rawWindow);
    if (!/^[0-9]+$/.test(rawWindow) || windowSeconds < MIN_WINDOW || windowSeconds > MAX_WINDOW) {
      throw new UsageError(
        `--window-seconds must be a whole number of seconds from ${MIN_WINDOW} to ${MAX_WINDOW}, got '${rawWindow}'`,
        usage,
      );
    }
  }
  const emulator = io.env.FIRESTORE_EMULATOR_HOST;
  return {
    project,
    database,
    ...(windowSeconds !== undefined && { windowSeconds }),
    seconds: timeoutSeconds(values.timeout, usage),
    where: `${database} in project ${project}${emulator ? ` on the emulator at ${emulator}` : ''}`,
  };
}

async function withLedger<T>(t: Target, what: string, work: (db: Firestore) => Promise<T>): Promise<T> {
  const { createFirestore } = await import('../function/clients.js');
  const db = await createFirestore({ firestoreDatabase: t.database, projectId: t.project });
  try {
    return await withDeadline(work(db), t.seconds, `when asked to ${what} ${t.where}`);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`could not ${what} ${t.where}: ${describeError(e)}${credentialsHint(e)}`);
  } finally {
    // Closing may fail for the same reason the work did; the work's error is the one to report.
    await Promise.race([db.terminate().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
  }
}

/**
 * The current window: of the length given, else of the length of the window the responder
 * counted in last (the function does not tell the ledger its configuration otherwise).
 */
async function currentWindow(db: Firestore, t: Target, now: number): Promise<CurrentWindow> {
  const windows = db.collection(LEDGER_BUDGET_COLLECTION);
  let seconds = t.windowSeconds;
  let lengthFrom: CurrentWindow['lengthFrom'] = 'option';
  if (seconds === undefined) {
    const latest = await windows.orderBy('updatedAt', 'desc').limit(1).get();
    const last = latest.docs[0]?.data() as BudgetCounter | undefined;
    seconds = last?.windowSeconds ?? SETTINGS.actionWindowSeconds.default;
    lengthFrom = last === undefined ? 'default' : 'ledger';
  }
  const window = budgetWindow(now, seconds);
  const doc = await windows.doc(window.id).get();
  return { window, lengthFrom, ...(doc.exists && { counter: doc.data() as BudgetCounter }) };
}

/** The window as `show --json` prints it. */
function summary(t: Target, current: CurrentWindow, now: number): Record<string, unknown> {
  const { window, counter } = current;
  const count = counter?.count ?? 0;
  return {
    project: t.project,
    database: t.database,
    window: { id: window.id, start: window.start, end: window.end, seconds: window.seconds, lengthFrom: current.lengthFrom },
    counted: count,
    limit: counter?.limit ?? null,
    total: counter?.total ?? 0,
    exhausted: counter !== undefined && count >= counter.limit,
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

function showText(t: Target, current: CurrentWindow, now: number): string {
  const { window, counter } = current;
  const length =
    current.lengthFrom === 'default' ? ` (no window counted yet: assuming the default length; pass --window-seconds if yours differs)` : '';
  const lines = [
    `action budget of ${t.where}`,
    `window:  ${window.start} – ${window.end} (${window.seconds} s${length}), frees in ${duration(Date.parse(window.end) - now)}`,
  ];
  if (counter === undefined) {
    lines.push('counted: 0: no VM stopped or suspended in this window');
  } else {
    const exhausted = counter.count >= counter.limit;
    lines.push(
      `counted: ${counter.count} of ${counter.limit} (the limit when the last action was counted)${
        exhausted
          ? `: EXHAUSTED${counter.filledAt ? ` since ${counter.filledAt}` : ''}; failed VMs are left running and their events redelivered`
          : ''
      }`,
      `total:   ${counter.total} counted in this window; ${counter.resets?.length ?? 0} reset(s)`,
    );
    for (const r of counter.resets ?? []) lines.push(`reset:   ${r.at} by ${r.by} (cleared ${r.countBefore}): ${r.reason}`);
  }
  return `${lines.join('\n')}\n`;
}

async function show(args: string[], io: Io, now: () => number): Promise<void> {
  const { values, positionals } = parseOptions(
    args,
    {
      json: { type: 'boolean' },
      project: { type: 'string' },
      database: { type: 'string' },
      'window-seconds': { type: 'string' },
      timeout: { type: 'string' },
    },
    SHOW_USAGE,
  );
  if (values.help) return io.stdout(SHOW_USAGE);
  if (positionals.length > 0) throw new UsageError(`show takes no arguments, got '${positionals[0]}'`, SHOW_USAGE);
  const t = target(values, io, SHOW_USAGE);
  const at = now();
  const current = await withLedger(t, 'read the action budget in', (db) => currentWindow(db, t, at));
  io.stdout(values.json ? `${JSON.stringify(summary(t, current, at))}\n` : showText(t, current, at));
}

async function reset(args: string[], io: Io, now: () => number): Promise<void> {
  const { values, positionals } = parseOptions(
    args,
    {
      reason: { type: 'string' },
      by: { type: 'string' },
      json: { type: 'boolean' },
      project: { type: 'string' },
      database: { type: 'string' },
      'window-seconds': { type: 'string' },
      timeout: { type: 'string' },
    },
    RESET_USAGE,
  );
  if (values.help) return io.stdout(RESET_USAGE);
  if (positionals.length > 0) throw new UsageError(`reset takes no arguments, got '${positionals[0]}'`, RESET_USAGE);
  const reason = ((values.reason as string | undefined) ?? '').trim();
  if (reason === '') throw new UsageError('reset needs --reason TEXT: why the responder may act again, kept with the reset', RESET_USAGE);
  const by = ((values.by as string | undefined) ?? localUser()).trim();
  const t = target(values, io, RESET_USAGE);
  const at = now();
  const outcome = await withLedger(t, 'reset the action budget in', async (db) => {
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

/** Runs the tool; resolves to the process exit code. `now` is the clock, for tests. */
export function run(argv: string[], io: Io, now: () => number = Date.now): Promise<number> {
  return dispatch(BIN, TOP_USAGE, { show: (rest) => show(rest, io, now), reset: (rest) => reset(rest, io, now) }, argv, io);
}

if (require.main === module) runAsCommand(BIN, run);
