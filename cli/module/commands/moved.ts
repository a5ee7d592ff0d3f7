import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, Flags, Io, ParsedOptions, UsageError, describeError, textOption } from '../../common';
import type { Command } from '../../tool';
import { DEFAULT_MODULE_NAME, MovedError, movedBlocks } from '../moved';
import { MODULE_BIN as BIN } from '../names';
import { PACKAGE_NAME, packageHome, readModules } from '../package';

const USAGE = `usage: ${BIN} moved --plan FILE [options]

Prints the moved blocks that bring the state of an IntegrityResponder of a CDKTF stack into a
call of the Terraform module this package ships, so that Terraform moves each resource instead
of destroying and creating it again. The stack's log sink decides the module: terraform/ for a
project scope, terraform/modules/folder or terraform/modules/organization. Every resource of
the responder gets a block, or nothing is printed and the tool fails naming the ones the module
has no counterpart for; the stack's other resources and its data sources are left alone.
Synthesize the stack with the version of the construct that matches this package's module.

options:
  --plan FILE           the stack as 'cdktf synth' wrote it: cdktf.out/stacks/<stack>/cdk.tf.json
                        (or that folder); required
  --responder PATH      the responder's construct path in the stack, e.g. Security/Responder;
                        needed when the stack holds several
  --responder-id ID     the responder by what its logical ids start with, e.g. Security_Responder:
                        for a plan whose '//' metadata (the construct paths) was removed
  --module NAME         the module call's name in your configuration (default: ${DEFAULT_MODULE_NAME})
  -h, --help            show this help

Save the output as a .tf file beside the module call, plan, and apply. Reads only files.
Exit codes: 0 done, 1 failed, 2 usage error.
`;

const FLAGS = {
  plan: { type: 'string' },
  responder: { type: 'string' },
  'responder-id': { type: 'string' },
  module: { type: 'string' },
} as const satisfies Flags;

/** The synthesized stack, parsed: from the file given, or the cdk.tf.json in the folder given. */
function readPlan(given: string): { file: string; plan: unknown } {
  let file = given;
  try {
    if (statSync(given).isDirectory()) file = join(given, 'cdk.tf.json');
  } catch {
    // Not there: reading it says so below.
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new CliError(
      `cannot read --plan ${file}: ${missing ? 'no such file' : describeError(e)}` +
        (missing ? "; 'cdktf synth' writes each stack to cdktf.out/stacks/<stack>/cdk.tf.json" : ''),
    );
  }
  try {
    return { file, plan: JSON.parse(text) as unknown };
  } catch (e) {
    throw new CliError(`--plan ${file} is not JSON (${describeError(e)}): pass the cdk.tf.json 'cdktf synth' wrote`);
  }
}

async function moved({ values, positionals }: ParsedOptions, io: Io): Promise<void> {
  if (positionals.length > 0) throw new UsageError(`moved takes no arguments, got '${positionals[0]}' (the stack is --plan FILE)`);
  const given = textOption(values, 'plan');
  if (given === undefined) throw new UsageError("moved needs --plan FILE: the stack's cdk.tf.json, from cdktf.out/stacks/<stack>/");
  const responder = textOption(values, 'responder');
  const responderId = textOption(values, 'responder-id');
  const module = textOption(values, 'module');
  if (responder !== undefined && responderId !== undefined) throw new UsageError('give --responder or --responder-id, not both');
  const { file, plan } = readPlan(given);
  const home = packageHome();
  try {
    const result = movedBlocks(plan, readModules(home.root), {
      ...(responder !== undefined && { responder }),
      ...(responderId !== undefined && { responderId }),
      ...(module !== undefined && { module }),
    });
    io.stdout(result.text);
    io.stderr(
      `${BIN}: ${result.moved} moved blocks for the IntegrityResponder ${result.responder} into module.${module ?? DEFAULT_MODULE_NAME} ` +
        `(source: ${PACKAGE_NAME}/${result.source})\n`,
    );
  } catch (e) {
    if (!(e instanceof MovedError)) throw e;
    if (e.usage) throw new UsageError(e.message);
    const version = e.problem === 'unmatched' ? ` (this is the module of ${PACKAGE_NAME} ${home.version})` : '';
    throw new CliError(`${file}: ${e.message}${version}`);
  }
}

/** `integrity-module moved`: the moved blocks that bring a stack's responder into the package's Terraform module. */
export const MOVED: Command = { flags: FLAGS, usage: USAGE, run: moved };
