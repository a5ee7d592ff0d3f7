import { LEDGER_DECISIONS_COLLECTION, LEDGER_INSTANCES_COLLECTION } from '../../../function/contract';
import type { ContainmentSummary, LedgerRecord } from '../../../function/core/ledger';
import { CliError, FOOTER, Flags, Io, ParsedOptions, printable } from '../../common';
import { withFirestore } from '../../firestore';
import type { Command } from '../../tool';
import { CONTAINMENT_BIN as BIN } from '../names';
import { COMMON_FLAGS, COMMON_OPTIONS, ContainmentTarget, VmRef, documentIdOf, target, vmArgument, vmText } from '../options';
import { ContainedVm, readRecord, readVm } from '../records';

const USAGE = `usage: ${BIN} show <project>/<zone>/<instance id> [options]

Shows one contained VM: its containment as ${LEDGER_INSTANCES_COLLECTION} holds it, and what
each step of the playbook did as its ledger record (${LEDGER_DECISIONS_COLLECTION}) holds it:
every evidence snapshot with its disk and operation, the disks no snapshot could take, the
quarantine tag's binding, the stop or suspend operation, and the finding.

options:
  --json                print one JSON object: the instance document and the record
${COMMON_OPTIONS}

${FOOTER}`;

const FLAGS = { ...COMMON_FLAGS, json: { type: 'boolean' } } as const satisfies Flags;

/** `label:` padded so the values line up. */
const line = (label: string, value: string) => `${`${label}:`.padEnd(13)}${value}`;

/** The lines about the release: done, requested, or what to run. */
function releaseLines(vm: VmRef, s: ContainmentSummary): string[] {
  const lines: string[] = [];
  if (s.releaseRequested !== undefined) {
    const r = s.releaseRequested;
    lines.push(line('requested', `release requested by ${printable(r.by)} at ${printable(r.at)}: ${printable(r.reason)}`));
  }
  if (s.released !== undefined) {
    const r = s.released;
    const asked = r.requestedBy !== undefined ? ` (requested by ${printable(r.requestedBy)})` : '';
    lines.push(line('released', `by ${printable(r.by)} at ${printable(r.at)}${asked}: ${printable(r.reason)}`));
  } else {
    lines.push(line('next', `${BIN} release ${vmText(vm)} --reason "…" once the evidence is secured and the VM vetted`));
  }
  return lines;
}

/** The lines about the steps, from the ledger record (or what is known without it). */
function stepLines(s: ContainmentSummary, record: LedgerRecord | undefined): string[] {
  const lines: string[] = [];
  if (record === undefined) {
    lines.push(line('record', `${LEDGER_DECISIONS_COLLECTION}/${printable(s.record)} is gone; the summary above is all that is known`));
    for (const snapshot of s.snapshots) lines.push(line('snapshot', printable(snapshot)));
    return lines;
  }
  lines.push(line('record', `${LEDGER_DECISIONS_COLLECTION}/${printable(s.record)} (request ${printable(record.requestId)})`));
  const steps = record.steps ?? {};
  const snap = steps.snapshot;
  if (snap !== undefined) {
    for (const e of snap.snapshots) {
      const op = e.operation !== undefined ? `, operation ${printable(e.operation)}` : ', found taken already';
      lines.push(
        line('snapshot', `${printable(e.snapshot)} of disk ${printable(e.deviceName)} (${printable(e.disk)}${op}, at ${printable(e.at)})`),
      );
    }
    for (const d of snap.skipped ?? [])
      lines.push(line('not taken', `${printable(d)}: a local SSD, which no snapshot can take (the stop kept it)`));
    if (!snap.done) lines.push(line('snapshots', 'not finished: the responder resumes the step at the next delivery'));
  } else if (s.playbook.includes('snapshot')) {
    lines.push(line('snapshot', 'none recorded'));
  }
  const q = steps.quarantine;
  if (q !== undefined)
    lines.push(line('quarantine', `tag value ${printable(q.tagValue)}, binding ${printable(q.binding)}, at ${printable(q.at)}`));
  else if (s.playbook.includes('quarantine')) lines.push(line('quarantine', 'none recorded'));
  const operation = record.operation !== undefined ? `operation ${printable(record.operation)}` : 'no operation recorded';
  const completed = record.completedAt !== undefined ? `, completed at ${printable(record.completedAt)}` : '';
  lines.push(line(s.containment, `${operation} (${printable(record.operationStatus ?? record.outcome)}${completed})`));
  if (steps.finding !== undefined)
    lines.push(line('finding', `${printable(steps.finding.name)}, raised at ${printable(steps.finding.at)}`));
  return lines;
}

function showText(t: ContainmentTarget, vm: ContainedVm, s: ContainmentSummary, record: LedgerRecord | undefined): string {
  const since = s.state === 'released' ? 'released' : `contained since ${printable(s.containedAt)}`;
  const lines = [
    line('vm', `${printable(vmText(vm))} (${LEDGER_INSTANCES_COLLECTION}/${printable(vm.document)} in ${t.where})`),
    line('state', since),
    line('boot', printable(s.bootCounter)),
    line('reason', printable(s.reason)),
    line('playbook', [...s.playbook, s.containment].join(', ')),
    line('contained', printable(s.containedAt)),
    line(
      'quarantined',
      s.quarantine !== undefined ? `yes: ${printable(s.quarantine.tagValue)} (${printable(s.quarantine.binding)})` : 'no',
    ),
    line(
      'finding',
      s.finding === undefined
        ? 'none'
        : `${printable(s.finding)}${s.findingInactiveAt !== undefined ? `, INACTIVE since ${printable(s.findingInactiveAt)}` : ''}`,
    ),
    ...stepLines(s, record),
    ...releaseLines(vm, s),
  ];
  return `${lines.join('\n')}\n`;
}

async function show({ values, positionals }: ParsedOptions, io: Io): Promise<void> {
  const ref = vmArgument(positionals, 'show');
  const t = target(values, io);
  const { vm, record } = await withFirestore(io, t, `read the containment of ${vmText(ref)} in ${t.where}`, 'read', async (db) => {
    const read = await readVm(db, ref);
    const found = read.vm;
    if (found?.summary === undefined) return { vm: found, record: undefined };
    return { vm: found, record: await readRecord(db, found.summary.record) };
  });
  if (vm === undefined || (vm.summary === undefined && vm.data.containment === undefined)) {
    throw new CliError(
      `${vmText(ref)} has no containment recorded in ${t.where} (no ${LEDGER_INSTANCES_COLLECTION}/${documentIdOf(ref)}` +
        `${vm === undefined ? '' : ' with a containment'}); '${BIN} list --state all' lists the VMs that have one`,
    );
  }
  if (vm.summary === undefined) {
    throw new CliError(
      `${LEDGER_INSTANCES_COLLECTION}/${vm.document} holds a containment this tool cannot read (${vm.problem ?? 'unknown'}); ` +
        `'${BIN} list --state all --json' prints it as stored`,
    );
  }
  if (values.json) {
    return io.stdout(`${JSON.stringify({ document: vm.document, ...vm.data, record: record ?? null })}\n`);
  }
  io.stdout(showText(t, vm, vm.summary, record));
}

/** `integrity-containment show`: one contained VM and what each step of its playbook did. */
export const SHOW: Command = { flags: FLAGS, usage: USAGE, run: show };
