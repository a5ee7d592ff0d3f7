import { randomBytes } from 'node:crypto';
import { constants, copyFileSync, linkSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CliError, Flags, Io, ParsedOptions, UsageError, describeError, textOption } from '../../common';
import type { Command } from '../../tool';
import { DEFAULT_MODULE_NAME, MovedError, movedBlocks } from '../moved';
import { MODULE_BIN as BIN } from '../names';
import { PACKAGE_NAME, packageHome, readModules } from '../package';

const USAGE = `usage: ${BIN} moved --plan FILE [options]

Writes the moved blocks that bring the state of an IntegrityResponder of a CDKTF stack into a
call of the Terraform module this package ships, so that Terraform moves each resource instead
of destroying and creating it again. The stack's log sink decides the module: terraform/ for a
project scope, terraform/modules/folder or terraform/modules/organization. Every resource of
the responder gets a block, or nothing is written and the tool fails naming the ones the module
has no counterpart for; the stack's other resources and its data sources are left alone.
Synthesize the stack with the version of the construct that matches this package's module.

It also fails, naming each, when the module holds a value fixed (memory, timeout, action budget,
event ages, IAM wait) that the stack has otherwise: the move would change it unnoticed, in the
function's update. The file's header lists the function's other settings, which the module call
must give, and the module call they make where they map to its inputs with certainty. A line
of the file reads an output of the module call, so that 'terraform validate' fails when the
configuration has no call of that --module name.

options:
  --plan FILE           the stack as 'cdktf synth' wrote it: cdktf.out/stacks/<stack>/cdk.tf.json
                        (or that folder); required
  --responder PATH      the responder's construct path in the stack, e.g. Security/Responder;
                        needed when the stack holds several
  --responder-id ID     the responder by what its logical ids start with, e.g. Security_Responder:
                        for a plan whose '//' metadata (the construct paths) was removed
  --module NAME         the module call's name in your configuration (default: ${DEFAULT_MODULE_NAME})
  --out FILE            write the blocks to FILE, a .tf file beside the module call, only when
                        they are complete; without it they are printed on stdout
  --force               with --out: replace FILE if it exists (refused otherwise)
  -h, --help            show this help

Write the file beside the module call, plan, and apply. Reads only the stack and the package's
modules, and writes only --out. Exit codes: 0 done, 1 failed, 2 usage error.
`;

const FLAGS = {
  plan: { type: 'string' },
  responder: { type: 'string' },
  'responder-id': { type: 'string' },
  module: { type: 'string' },
  out: { type: 'string' },
  force: { type: 'boolean' },
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

/** `--out` as given: a file Terraform reads, not there yet unless `force`. */
function checkOut(out: string, force: boolean): void {
  if (!out.endsWith('.tf')) {
    throw new UsageError(`--out must name a .tf file, got '${out}': Terraform reads no other, and would plan without the moved blocks`);
  }
  let existing: ReturnType<typeof statSync> | undefined;
  try {
    existing = statSync(out);
  } catch {
    // Not there: written below.
  }
  if (existing?.isDirectory()) throw new CliError(`--out ${out} is a folder: name the file to write, e.g. ${join(out, 'moved.tf')}`);
  if (existing !== undefined && !force) throw new CliError(`--out ${out} exists: pass --force to replace it`);
}

/**
 * Writes `text` to `out` at once: a file beside it, then renamed over it (`force`) or linked to
 * its name, which fails if something took the name meanwhile. Never a partial or empty `out`.
 */
function writeOut(out: string, text: string, force: boolean): void {
  const temp = join(dirname(out), `.${basename(out)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(temp, text, { flag: 'wx' });
  } catch (e) {
    throw new CliError(`cannot write --out ${out}: ${describeError(e)}`);
  }
  try {
    if (force) {
      renameSync(temp, out);
      return;
    }
    try {
      linkSync(temp, out);
    } catch (e) {
      // A file system without hard links: copied, still refusing an existing file.
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw e;
      copyFileSync(temp, out, constants.COPYFILE_EXCL);
    }
  } catch (e) {
    const exists = (e as NodeJS.ErrnoException).code === 'EEXIST';
    throw new CliError(`cannot write --out ${out}: ${exists ? 'it exists now; pass --force to replace it' : describeError(e)}`);
  } finally {
    rmSync(temp, { force: true });
  }
}

async function moved({ values, positionals }: ParsedOptions, io: Io): Promise<void> {
  if (positionals.length > 0) throw new UsageError(`moved takes no arguments, got '${positionals[0]}' (the stack is --plan FILE)`);
  const given = textOption(values, 'plan');
  if (given === undefined) throw new UsageError("moved needs --plan FILE: the stack's cdk.tf.json, from cdktf.out/stacks/<stack>/");
  const responder = textOption(values, 'responder');
  const responderId = textOption(values, 'responder-id');
  const module = textOption(values, 'module');
  const out = textOption(values, 'out');
  const force = values.force === true;
  if (responder !== undefined && responderId !== undefined) throw new UsageError('give --responder or --responder-id, not both');
  if (force && out === undefined) throw new UsageError('--force replaces the file of --out: give --out FILE');
  if (out !== undefined) checkOut(out, force);
  const { file, plan } = readPlan(given);
  const home = packageHome();
  try {
    const result = movedBlocks(plan, readModules(home.root), {
      ...(responder !== undefined && { responder }),
      ...(responderId !== undefined && { responderId }),
      ...(module !== undefined && { module }),
    });
    if (out !== undefined) writeOut(out, result.text, force);
    else io.stdout(result.text);
    io.stderr(
      `${BIN}: ${result.moved} moved blocks for the IntegrityResponder ${result.responder} into module.${module ?? DEFAULT_MODULE_NAME} ` +
        `(source: ${PACKAGE_NAME}/${result.source})${out !== undefined ? ` written to ${out}` : ''}\n`,
    );
  } catch (e) {
    if (!(e instanceof MovedError)) throw e;
    if (e.usage) throw new UsageError(e.message);
    const versioned = e.problem === 'unmatched' || e.problem === 'fixed-values';
    const version = versioned ? ` (this is the module of ${PACKAGE_NAME} ${home.version})` : '';
    throw new CliError(`${file}: ${e.message}${version}`);
  }
}

/** `integrity-module moved`: the moved blocks that bring a stack's responder into the package's Terraform module. */
export const MOVED: Command = { flags: FLAGS, usage: USAGE, run: moved };
