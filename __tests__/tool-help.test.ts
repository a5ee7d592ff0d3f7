import { EFFECTIVE_STATES } from '../cli/baselines/records';
import type { Io } from '../cli/common';
import * as baselines from '../cli/integrity-baselines';
import * as budget from '../cli/integrity-budget';

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

describe.each([
  ['integrity-baselines', baselines.run, baselines.COMMAND_FLAGS, baselines.COMMAND_USAGE],
  ['integrity-budget', budget.run, budget.COMMAND_FLAGS, budget.COMMAND_USAGE],
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
