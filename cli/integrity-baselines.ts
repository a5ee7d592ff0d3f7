import { ADD } from './baselines/commands/add';
import { APPROVE } from './baselines/commands/approve';
import { CAPTURE } from './baselines/commands/capture';
import { DECISIONS } from './baselines/commands/decisions';
import { IMPORT_LEGACY } from './baselines/commands/import-legacy';
import { LIST } from './baselines/commands/list';
import { REVOKE } from './baselines/commands/revoke';
import { SHOW } from './baselines/commands/show';
import { BASELINES_BIN } from './baselines/names';
import type { Io } from './common';
import { Command, flagsOf, runAsCommand, runTool, usageOf } from './tool';

/*
 * `integrity-baselines`: the entry of the baseline tool. Each command is a module of
 * cli/baselines/commands/ (its usage, its options, its work); cli/tool.ts runs the one named.
 */

export type { Io } from './common';

/** What the tool is called on the command line. */
export const BIN = BASELINES_BIN;

const TOP_USAGE = `usage: ${BIN} <command> [options]

Manages the known-good baselines an IntegrityResponder relearns against: a baseline is a set
of late-boot PCR measurements, with who recorded it, from which VM and boot, and its state.
Only an active, unexpired (and, under requireBaselineApproval, approved) baseline vouches.

commands:
  capture         record the late-boot measurements of a reference VM, from a saved log
                  entry or straight from Cloud Logging
  add             record explicit PCR values
  list            the baselines, as a table or JSON
  show <id>       one baseline: state, provenance, PCRs
  approve <id>    approve a proposed baseline (by another principal than its creator)
  revoke <id>     withdraw trust at once; kept for audit, never matched again
  import-legacy   copy tutorial-format documents into this tool's format
  decisions       what the responder decided, newest first, from its decision ledger

Run '${BIN} <command> --help' for a command's options.
`;

/** The tool's commands, by name. */
const COMMANDS = {
  capture: CAPTURE,
  add: ADD,
  list: LIST,
  show: SHOW,
  approve: APPROVE,
  revoke: REVOKE,
  'import-legacy': IMPORT_LEGACY,
  decisions: DECISIONS,
} satisfies Record<string, Command>;

/** The options each command takes, besides `--help`: exactly what its usage lists. */
export const COMMAND_FLAGS = flagsOf(COMMANDS);

/** Each command's usage, by command. */
export const COMMAND_USAGE = usageOf(COMMANDS);

/** Runs the tool; resolves to the process exit code. `now` is the clock, for tests. */
export function run(argv: string[], io: Io, now: () => number = Date.now): Promise<number> {
  return runTool({ bin: BIN, usage: TOP_USAGE, commands: COMMANDS }, argv, io, now);
}

if (require.main === module) runAsCommand(BIN, run);
