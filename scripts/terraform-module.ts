import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UNLIMITED } from '../function/contract';
import { loadFunctionBundle } from '../lib/function-bundle';
import { CliOptions, parseArgs, refusalMessage } from './terraform-module/args';
import { drift, moduleTree } from './terraform-module/files';
import { DefaultsRefused, Options, STRENGTH } from './terraform-module/module';
import { FIXED } from './terraform-module/spec';

const USAGE = `usage: npx tsx scripts/terraform-module.ts [--out DIR] [--check] [--with-zip] [--set PROP=VALUE]…

Synthesizes the IntegrityResponder construct into a Terraform module for HCL stacks
(docs/adr/0030-terraform-module.md): DIR (default terraform/) holds the root module (project
scope), modules/folder/ and modules/organization/, each with main.tf.json, variables.tf.json,
outputs.tf.json, versions.tf.json and a README.md whose tables are generated.

  --out DIR         write the module there instead of terraform/
  --check           generate in memory and compare with DIR: exit 1, naming the files that
                    differ, when they are stale (__tests__/terraform/module.test.ts makes the
                    same comparison)
  --with-zip        also copy the built function zip to DIR/function.zip (built first when
                    stale), which the module uploads; the zip is not committed. With --check,
                    only when DIR is up to date (what the package build runs)
  --set PROP=VALUE  a value for a prop the construct computes with, which the module fixes
                    (a whole number; maxActionsPerWindow also '${UNLIMITED}'); may be repeated:
                    ${FIXED.join(', ')}
`;

const NAME = basename(__filename, '.ts');

/** The options, once parsed: a refusal of their `--set` values names those. */
let options: CliOptions | undefined;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  const parsed = parseArgs(args);
  if ('error' in parsed) {
    process.stderr.write(`${NAME}: ${parsed.error}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  options = parsed.options;
  const root = join(__dirname, '..');
  const out = resolve(process.cwd(), options.out);
  const bundle = loadFunctionBundle(root);
  // A value the prop does not take (unlimited memory) is refused by the construct, which names it.
  const fixed = options.fixed as Options['fixed'];
  const tree = await moduleTree({ root, fixed, zipSha256: bundle.zipSha256, strength: STRENGTH });
  const report = tree.modules.map((m) => `${m.spec.dir || 'root'}: ${m.synths} synths, ${(m.milliseconds / 1000).toFixed(1)} s`).join('; ');
  // The folder as it was given (`terraform/`, `/tmp/x/`).
  const shown = `${options.out.replace(/\/+$/, '')}/`;
  if (options.check) {
    const stale = drift(out, tree.files);
    if (stale.length > 0) {
      process.stderr.write(
        `${NAME}: ${shown} is stale (run npx tsx scripts/terraform-module.ts${options.out === 'terraform' ? '' : ` --out ${options.out}`}):\n` +
          stale.map((s) => `  ${s}\n`).join(''),
      );
      process.exitCode = 1;
      return;
    }
    if (options.zip) copyFileSync(bundle.zipPath, join(out, 'function.zip'));
    process.stdout.write(`${NAME}: ${shown} matches the construct${options.zip ? ', function.zip copied in' : ''} (${report})\n`);
    return;
  }
  for (const [path, content] of tree.files) {
    mkdirSync(dirname(join(out, path)), { recursive: true });
    writeFileSync(join(out, path), content);
  }
  if (options.zip) copyFileSync(bundle.zipPath, join(out, 'function.zip'));
  process.stdout.write(`${NAME}: wrote ${shown}${options.zip ? ' and its function.zip' : ''} (${report})\n`);
}

main().catch((e: unknown) => {
  const told =
    e instanceof DefaultsRefused ? refusalMessage(e.detail, options?.sets ?? {}) : e instanceof Error ? (e.stack ?? e.message) : String(e);
  process.stderr.write(`${NAME}: ${told}\n`);
  process.exitCode = 1;
});
