import type { Io } from './common';
import { MOVED } from './module/commands/moved';
import { MODULE_BIN } from './module/names';
import { Command, flagsOf, runAsCommand, runTool, usageOf } from './tool';

/*
 * `integrity-module`: the entry of the tool that moves a CDKTF stack's IntegrityResponder to the
 * Terraform module of this package. Each command is a module of cli/module/commands/; cli/tool.ts
 * runs the one named.
 */

/** What the tool is called on the command line. */
export const BIN = MODULE_BIN;

const TOP_USAGE = `usage: ${BIN} <command> [options]

Helps a CDKTF stack holding an IntegrityResponder move to the Terraform module this package
ships (terraform/, terraform/modules/folder, terraform/modules/organization), keeping its state.

commands:
  moved    the moved blocks that bring the responder's resources into a call of the module

Run '${BIN} <command> --help' for a command's options.
`;

/** The tool's commands, by name. */
const COMMANDS = { moved: MOVED } satisfies Record<string, Command>;

/** The options each command takes, besides `--help`: what its usage lists. */
export const COMMAND_FLAGS = flagsOf(COMMANDS);

/** Each command's usage, by command. */
export const COMMAND_USAGE = usageOf(COMMANDS);

/** Runs the tool; resolves to the process exit code. */
export function run(argv: string[], io: Io): Promise<number> {
  return runTool({ bin: BIN, usage: TOP_USAGE, commands: COMMANDS }, argv, io);
}

if (require.main === module) runAsCommand(BIN, run);
