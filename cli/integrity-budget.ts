import { RESET } from './budget/commands/reset';
import { SHOW } from './budget/commands/show';
import { BUDGET_BIN } from './budget/names';
import type { Io } from './common';
import { Command, flagsOf, runAsCommand, runTool, usageOf } from './tool';

/*
 * `integrity-budget`: the entry of the action-budget tool. Each command is a module of
 * cli/budget/commands/ (its usage, its options, its work); cli/tool.ts runs the one named.
 */

/** What the tool is called on the command line. */
export const BIN = BUDGET_BIN;

const TOP_USAGE = `usage: ${BIN} <command> [options]

Shows or resets the action budget (blast-radius limit) of an IntegrityResponder: how many VMs
it stopped or suspended in the current window, and whether it is leaving failed VMs running
because the limit is reached.

commands:
  show     the current window: actions counted, the limit, when it frees
  reset    let the responder act again in the current window (its count goes back to 0)

Run '${BIN} <command> --help' for a command's options.
`;

/** The tool's commands, by name. */
const COMMANDS = { show: SHOW, reset: RESET } satisfies Record<string, Command>;

/** The options each command takes, besides `--help`: what its usage lists. */
export const COMMAND_FLAGS = flagsOf(COMMANDS);

/** Each command's usage, by command. */
export const COMMAND_USAGE = usageOf(COMMANDS);

/** Runs the tool; resolves to the process exit code. `now` is the clock, for tests. */
export function run(argv: string[], io: Io, now: () => number = Date.now): Promise<number> {
  return runTool({ bin: BIN, usage: TOP_USAGE, commands: COMMANDS }, argv, io, now);
}

if (require.main === module) runAsCommand(BIN, run);
