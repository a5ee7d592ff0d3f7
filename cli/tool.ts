import { readFileSync } from 'node:fs';
import { Flags, Io, ParsedOptions, UsageError, describeError, explainFailure, parseOptions } from './common';

/*
 * How an operator tool (`integrity-baselines`, `integrity-budget`, `integrity-module`) runs: it finds the subcommand
 * its first word names, parses that command's options, answers `--help`, runs the command, and
 * turns what it throws into one line and an exit code. Written once, for both tools.
 */

/**
 * One subcommand of a tool (`integrity-baselines capture`, `integrity-budget reset`): the options
 * it takes, its help, and its work. The tool parses the options and answers `--help` before the
 * work starts, so every command refuses a wrong option and prints its help in the same way.
 */
export interface Command {
  /** The options it takes besides `--help`: exactly what its usage lists. */
  readonly flags: Flags;
  /** What `--help` prints. */
  readonly usage: string;
  /**
   * Does the work with the parsed options. A {@link UsageError} it throws exits 2 with a pointer
   * to the command's help, anything else exits 1 with its text. `now` is the clock, for tests.
   */
  readonly run: (options: ParsedOptions, io: Io, now: () => number) => Promise<void>;
}

/** A tool: its name on the command line, what it prints without a command, and its commands by name. */
export interface Tool {
  readonly bin: string;
  readonly usage: string;
  readonly commands: Readonly<Record<string, Command>>;
}

/** The options of each command, by command: what its help lists. */
export function flagsOf<N extends string>(commands: Readonly<Record<N, Command>>): Readonly<Record<N, Flags>> {
  return Object.fromEntries(Object.entries<Command>(commands).map(([name, c]) => [name, c.flags])) as Record<N, Flags>;
}

/** The help of each command, by command. */
export function usageOf<N extends string>(commands: Readonly<Record<N, Command>>): Readonly<Record<N, string>> {
  return Object.fromEntries(Object.entries<Command>(commands).map(([name, c]) => [name, c.usage])) as Record<N, string>;
}

/**
 * Runs one subcommand of a tool: `help` (or `-h`, `--help`) prints the tool's usage; no command
 * prints it on stderr, and an unknown one is a usage error. Resolves to the exit code: 0 done,
 * 1 failed, 2 usage error (on stderr, the message and the `--help` that explains the command).
 */
export async function runTool(tool: Tool, argv: string[], io: Io, now: () => number = Date.now): Promise<number> {
  const { bin, usage, commands } = tool;
  const [name, ...rest] = argv;
  const known = name !== undefined && Object.prototype.hasOwnProperty.call(commands, name);
  try {
    if (name === undefined) {
      io.stderr(usage);
      return 2;
    }
    if (name === '-h' || name === '--help' || name === 'help') {
      io.stdout(usage);
      return 0;
    }
    const command = known ? commands[name] : undefined;
    if (command === undefined) {
      throw new UsageError(name.startsWith('-') ? `unknown option '${name}'` : `unknown command '${name}'`);
    }
    const options = parseOptions(rest, command.flags);
    if (options.values.help) io.stdout(command.usage);
    else await command.run(options, io, now);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(
        `${bin}: ${e.message}\n${known ? `run '${bin} ${name} --help' for its options` : `run '${bin} --help' for its commands`}\n`,
      );
      return 2;
    }
    io.stderr(`${bin}: ${describeError(e)}\n`);
    return 1;
  }
}

/** Runs a tool on this process's arguments and streams, and exits with its code. */
export function runAsCommand(bin: string, run: (argv: string[], io: Io) => Promise<number>): void {
  const io: Io = {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    readStdin: () => readFileSync(0, 'utf8'),
    env: process.env,
  };
  // A Google client can fail outside the call the tool awaits (its credentials are looked up in
  // the background): one sentence, not the client's stack trace.
  const fail = (e: unknown) => {
    io.stderr(`${bin}: ${explainFailure(e, io.env)}\n`);
    process.exit(1);
  };
  process.on('unhandledRejection', fail);
  process.on('uncaughtException', fail);
  // Exit explicitly: a Google client that gave up on an unreachable server may still hold sockets.
  void run(process.argv.slice(2), io).then((code) => process.exit(code));
}
