import { LIST } from './containment/commands/list';
import { RELEASE } from './containment/commands/release';
import { SHOW } from './containment/commands/show';
import { CONTAINMENT_BIN } from './containment/names';
import type { Io } from './common';
import { Command, flagsOf, runAsCommand, runTool, usageOf } from './tool';

/*
 * `integrity-containment`: the entry of the containment tool, the operator's way back from a
 * containment (ADR 0031). Each command is a module of cli/containment/commands/ (its usage, its
 * options, its work); cli/tool.ts runs the one named.
 */

/** What the tool is called on the command line. */
export const BIN = CONTAINMENT_BIN;

const TOP_USAGE = `usage: ${BIN} <command> [options]

Lists the VMs an IntegrityResponder contained (evidence snapshots, quarantine, stop or
suspend), shows what each step did, and releases a VM: removes its quarantine tag, sets its
finding INACTIVE and records who released it and why. A release never starts the VM, never
changes a baseline and never relearns: the integrity report of its next boot decides.

commands:
  list     the contained (or released) VMs
  show     one VM: its containment, every snapshot, the tag binding, the finding
  release  let a VM go (two principals where the release policy requires approval)

Run '${BIN} <command> --help' for a command's options.
`;

/** The tool's commands, by name. */
const COMMANDS = { list: LIST, show: SHOW, release: RELEASE } satisfies Record<string, Command>;

/** The options each command takes, besides `--help`: what its usage lists. */
export const COMMAND_FLAGS = flagsOf(COMMANDS);

/** Each command's usage, by command. */
export const COMMAND_USAGE = usageOf(COMMANDS);

/** Runs the tool; resolves to the process exit code. `now` is the clock, for tests. */
export function run(argv: string[], io: Io, now: () => number = Date.now): Promise<number> {
  return runTool({ bin: BIN, usage: TOP_USAGE, commands: COMMANDS }, argv, io, now);
}

if (require.main === module) runAsCommand(BIN, run);
