import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs, refusalMessage } from '../../scripts/terraform-module/args';
import { DefaultsRefused, generateModule } from '../../scripts/terraform-module/module';
import { MODULES } from '../../scripts/terraform-module/spec';
import { REPO_ROOT } from '../support/paths';

/*
 * The generator's command line (scripts/terraform-module.ts): an argument it does not take is
 * named with the rule it breaks, and a --set value the construct refuses is blamed on that --set.
 */

const FIXED_LIST =
  'memoryMib, timeoutSeconds, maxEventAgeSeconds, relearnMaxAgeSeconds, maxActionsPerWindow, actionWindowSeconds, iamPropagationSeconds';

describe('scripts/terraform-module.ts arguments', () => {
  it('takes --out, --check, --with-zip and repeated --set PROP=VALUE', () => {
    expect(
      parseArgs(['--out', '/tmp/x', '--check', '--with-zip', '--set', 'memoryMib=512', '--set', 'maxActionsPerWindow=unlimited']),
    ).toEqual({
      options: {
        out: '/tmp/x',
        check: true,
        zip: true,
        fixed: { memoryMib: 512, maxActionsPerWindow: 'unlimited' },
        sets: { memoryMib: '--set memoryMib=512', maxActionsPerWindow: '--set maxActionsPerWindow=unlimited' },
      },
    });
  });

  it.each([
    [['--set', 'memoryMib=abc'], "--set memoryMib=abc: memoryMib takes a whole number, got 'abc'"],
    [
      ['--set', 'maxActionsPerWindow=many'],
      "--set maxActionsPerWindow=many: maxActionsPerWindow takes a whole number or 'unlimited', got 'many'",
    ],
    [['--set', 'memoryMib=unlimited'], "--set memoryMib=unlimited: memoryMib takes a whole number, got 'unlimited'"],
    [['--set', 'nope=1'], `--set nope=1: 'nope' is not a prop the module fixes; one of ${FIXED_LIST}`],
    [['--set', 'memoryMib'], '--set memoryMib: expected PROP=VALUE'],
    [['--set'], `--set needs PROP=VALUE, PROP one of ${FIXED_LIST}`],
    [['--out'], '--out needs a directory'],
    [['--out', '--check'], '--out needs a directory'],
    [['--frob'], "unknown argument '--frob'"],
  ])('%j: %s', (args, error) => {
    expect(parseArgs(args)).toEqual({ error });
  });

  it('blames a refused value on the --set the construct names, or on every --set when it names none', () => {
    const sets = { memoryMib: '--set memoryMib=99999', timeoutSeconds: '--set timeoutSeconds=30' };
    expect(refusalMessage('memoryMib must be an integer from 128 to 4096', sets)).toBe(
      '--set memoryMib=99999: the construct refuses this value: memoryMib must be an integer from 128 to 4096',
    );
    expect(refusalMessage('the two do not fit together', sets)).toBe(
      '--set memoryMib=99999 --set timeoutSeconds=30: the construct refuses these values: the two do not fit together',
    );
    expect(refusalMessage('memoryMib must be …', {})).toBe("the construct refuses the module's defaults: memoryMib must be …");
  });

  it('generating with a value the construct refuses throws its sentence, which names the prop', () => {
    const refused = (() => {
      try {
        generateModule(MODULES[0]!, { root: REPO_ROOT, fixed: { memoryMib: 99999 }, zipSha256: '0'.repeat(64), strength: 2 });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(refused).toBeInstanceOf(DefaultsRefused);
    expect((refused as DefaultsRefused).detail).toMatch(/^memoryMib must be /);
  });

  it('the script says so and exits 2, before generating anything', () => {
    const run = spawnSync(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/terraform-module.ts', '--set', 'memoryMib=abc'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    expect({ status: run.status, first: run.stderr.split('\n')[0] }).toEqual({
      status: 2,
      first: "terraform-module: --set memoryMib=abc: memoryMib takes a whole number, got 'abc'",
    });
  });
});
