import { LEDGER_INSTANCES_COLLECTION } from '../../../function/contract';
import { FOOTER, Flags, Io, ParsedOptions, UsageError, printable, str, textTable, utcTime } from '../../common';
import { withFirestore } from '../../firestore';
import type { Command } from '../../tool';
import { CONTAINMENT_BIN as BIN } from '../names';
import { COMMON_FLAGS, COMMON_OPTIONS, ContainmentTarget, target, vmText } from '../options';
import { ContainedVm, LIST_STATES, ListState, listContained } from '../records';

const USAGE = `usage: ${BIN} list [--state contained|released|all] [options]

Lists the VMs the responder contained (snapshots, quarantine, stop or suspend), from their
documents in ${LEDGER_INSTANCES_COLLECTION}: each VM as <project>/<zone>/<instance id>, the
boot and why, how it was contained and when, how many evidence snapshots were taken, whether
the quarantine tag is bound, the id of the finding raised, and where its release stands.

options:
  --state S             which containments (default: contained):
                          contained  the VM is still contained (a release may be requested)
                          released   an operator released it
                          all        both
  --json                print the instance documents as one JSON array
${COMMON_OPTIONS}

${FOOTER}`;

const FLAGS = { ...COMMON_FLAGS, state: { type: 'string' }, json: { type: 'boolean' } } as const satisfies Flags;

/** Where a VM's release stands, in a few words. */
function standing(vm: ContainedVm): string {
  const s = vm.summary;
  if (s === undefined) return `unreadable: ${vm.problem ?? 'no containment'}`;
  if (s.state === 'released' && s.released !== undefined) {
    return `released ${utcTime(s.released.at, 'minute')} by ${printable(s.released.by)}`;
  }
  if (s.releaseRequested !== undefined) {
    return `contained; release requested by ${printable(s.releaseRequested.by)}, waiting for another principal`;
  }
  return s.state;
}

function row(vm: ContainedVm): string[] {
  const s = vm.summary;
  const vmCell = printable(vmText(vm));
  if (s === undefined) return [vmCell, '-', '-', '-', '-', '-', '-', '-', standing(vm)];
  return [
    vmCell,
    printable(s.bootCounter),
    printable(s.reason),
    s.containment,
    utcTime(s.containedAt, 'minute'),
    String(s.snapshots.length),
    s.quarantine !== undefined ? 'yes' : 'no',
    // The finding's id: its full name is in show and --json.
    s.finding === undefined ? '-' : `${printable(s.finding.split('/').pop()!)}${s.findingInactiveAt !== undefined ? ' (inactive)' : ''}`,
    standing(vm),
  ];
}

function listText(t: ContainmentTarget, state: ListState, vms: readonly ContainedVm[]): string {
  if (vms.length === 0) {
    const what = state === 'all' ? 'no containment is recorded' : state === 'contained' ? 'no VM is contained' : 'no VM was released';
    return `${what} in ${t.where}\n`;
  }
  return textTable(['VM', 'BOOT', 'REASON', 'ACTION', 'CONTAINED', 'SNAPSHOTS', 'QUARANTINED', 'FINDING', 'STATE'], vms.map(row));
}

async function list({ values, positionals }: ParsedOptions, io: Io): Promise<void> {
  if (positionals.length > 0) throw new UsageError(`list takes no arguments, got '${positionals[0]}'`);
  const raw = str(values.state) ?? 'contained';
  if (!(LIST_STATES as readonly string[]).includes(raw)) {
    throw new UsageError(`--state must be one of ${LIST_STATES.join(', ')}, got '${raw}'`);
  }
  const state = raw as ListState;
  const t = target(values, io);
  const vms = await withFirestore(io, t, `list the contained VMs in ${t.where}`, 'read', (db) => listContained(db, state));
  if (values.json) return io.stdout(`${JSON.stringify(vms.map((vm) => ({ document: vm.document, ...vm.data })))}\n`);
  io.stdout(listText(t, state, vms));
  const unreadable = vms.filter((vm) => vm.summary === undefined).length;
  if (unreadable > 0) {
    io.stderr(
      `${BIN}: note: ${unreadable} document(s) of ${LEDGER_INSTANCES_COLLECTION} hold a containment this tool cannot read; ` +
        `'${BIN} list --json' prints them as stored\n`,
    );
  }
}

/** `integrity-containment list`: the contained (or released) VMs, as a table or JSON. */
export const LIST: Command = { flags: FLAGS, usage: USAGE, run: list };
