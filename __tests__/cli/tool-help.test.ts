import { EFFECTIVE_STATES } from '../../cli/baselines/records';
import type { Io } from '../../cli/common';
import * as baselines from '../../cli/integrity-baselines';
import * as budget from '../../cli/integrity-budget';
import * as containment from '../../cli/integrity-containment';
import * as moduleTool from '../../cli/integrity-module';

// Every command's --help lists exactly the options it accepts: each accepted option has its line,
// and no line names an option it refuses.

/** The options a help text defines: lines `  --name …` or `  -h, --help …` of its option lists. */
function documented(help: string): string[] {
  return [...help.matchAll(/^ {2}(?:-[a-z], )?--([a-z][a-z-]*)/gm)].map((m) => m[1]!).sort();
}

async function helpOf(run: (argv: string[], io: Io) => Promise<number>, command: string): Promise<string> {
  let out = '';
  const code = await run([command, '--help'], { stdout: (t) => (out += t), stderr: (t) => (out += t), readStdin: () => '', env: {} });
  expect(code).toBe(0);
  return out;
}

async function cli(
  run: (argv: string[], io: Io) => Promise<number>,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), readStdin: () => '', env: {} });
  return { code, stdout, stderr };
}

describe.each([
  ['integrity-baselines', baselines.run],
  ['integrity-budget', budget.run],
  ['integrity-containment', containment.run],
  ['integrity-module', moduleTool.run],
] as const)('%s', (bin, run) => {
  it('prints the usage and exits 2 without a command', async () => {
    const r = await cli(run, []);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^usage: ${bin} <command>`));
  });

  it.each([
    ['frob', "unknown command 'frob'"],
    ['--frob', "unknown option '--frob'"],
  ])('says in one line what is wrong with %j, and where the commands are, and exits 2', async (arg, message) => {
    expect(await cli(run, [arg])).toEqual({
      code: 2,
      stdout: '',
      stderr: `${bin}: ${message}\nrun '${bin} --help' for its commands\n`,
    });
  });
});

describe.each([
  ['integrity-baselines', baselines.run, baselines.COMMAND_FLAGS, baselines.COMMAND_USAGE],
  ['integrity-budget', budget.run, budget.COMMAND_FLAGS, budget.COMMAND_USAGE],
  ['integrity-containment', containment.run, containment.COMMAND_FLAGS, containment.COMMAND_USAGE],
  ['integrity-module', moduleTool.run, moduleTool.COMMAND_FLAGS, moduleTool.COMMAND_USAGE],
] as const)('%s --help', (_bin, run, flags, usage) => {
  it.each(Object.keys(flags))('of %s lists every option it takes and nothing else', async (command) => {
    const help = await helpOf(run, command);
    expect(help).toBe((usage as Record<string, string>)[command]);
    expect(documented(help)).toEqual([...Object.keys((flags as Record<string, object>)[command]!), 'help'].sort());
  });
});

describe('integrity-baselines list --help', () => {
  it('explains every state --state accepts', () => {
    for (const state of EFFECTIVE_STATES) expect(baselines.COMMAND_USAGE.list).toMatch(new RegExp(`\n {2}${state} {2,}\\S`));
  });
});
