import { SETTINGS, UNLIMITED, settingProblem, settingValue } from '../../function/contract';
import { Flags, Io, OptionValues, UsageError, str } from '../common';
import { DEFAULT_LEDGER_DATABASE as DEFAULT_DATABASE, FirestoreTarget, ledgerTarget, onEmulator } from '../firestore';

/*
 * The options both budget commands take: the ledger (project, database, deadline) and the two
 * settings of the responder the budget is read with; their lines of help, their declarations
 * and how they are read.
 */

const { min: MIN_WINDOW, max: MAX_WINDOW } = SETTINGS.actionWindowSeconds;
const { min: MIN_LIMIT, max: MAX_LIMIT } = SETTINGS.maxActionsPerWindow;

/** The help lines of the options every command takes, and `--help`. */
export const COMMON_OPTIONS = `  --project P           project of the ledger (default: $GOOGLE_CLOUD_PROJECT)
  --database D          the responder's decision-ledger database (default: ${DEFAULT_DATABASE},
                        the one of the default namePrefix: pass '<namePrefix>-decisions')
  --window-seconds N    the responder's actionWindowSeconds, ${MIN_WINDOW}-${MAX_WINDOW} (default: the length of
                        the window it counted in last, else ${SETTINGS.actionWindowSeconds.default})
  --max-actions N       the responder's maxActionsPerWindow, ${MIN_LIMIT}-${MAX_LIMIT} or '${UNLIMITED}' (default: the
                        limit it counted its last action against; unknown before its first)
  --timeout SECONDS     give up when Firestore has not answered by then (default: 60)
  -h, --help            show this help`;

/** Options of every command. */
export const COMMON_FLAGS = {
  project: { type: 'string' },
  database: { type: 'string' },
  'window-seconds': { type: 'string' },
  'max-actions': { type: 'string' },
  timeout: { type: 'string' },
} as const satisfies Flags;

/** The ledger a command reads, and the settings given as options. */
export interface BudgetTarget extends FirestoreTarget {
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

/** The ledger and the settings named by a command's options. */
export function target(values: OptionValues, io: Io): BudgetTarget {
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
