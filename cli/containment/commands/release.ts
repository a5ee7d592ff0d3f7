import type { DocumentSnapshot } from '@google-cloud/firestore';
import { LEDGER_INSTANCES_COLLECTION } from '../../../function/contract';
import { Code, errorCode } from '../../../function/core/api-errors';
import { samePrincipal } from '../../../function/core/baseline';
import type { ContainmentSummary } from '../../../function/core/ledger';
import { CliError, FOOTER, Flags, Io, ParsedOptions, UsageError, printable, textOption } from '../../common';
import { withFirestore } from '../../firestore';
import { nameOnEmulatorOnly, recordedAsHelp, resolveActor } from '../../principal';
import type { Command } from '../../tool';
import { ControlsNeeded, ReleaseSteps, releaseControls } from '../controls';
import { CONTAINMENT_BIN as BIN } from '../names';
import { COMMON_FLAGS, COMMON_OPTIONS, ContainmentTarget, VmRef, documentIdOf, target, vmArgument, vmText } from '../options';
import { ContainedVm, RELEASE_POLICY_PATH, ReleaseApproval, readVm, releaseApprovalOf } from '../records';

const USAGE = `usage: ${BIN} release <project>/<zone>/<instance id> --reason TEXT [options]

Lets a contained VM go: removes the quarantine's tag binding from it, sets its finding in
Security Command Center INACTIVE, then records the release (who, when, why) in its instance
document, in one write that fails if the document changed since it was read. If removing the
tag fails, nothing is recorded; running the command again is safe.

It never starts or resumes the VM, never changes a baseline and never relearns: start the VM
yourself (the command prints how), and the integrity report of its next boot decides, as for
any VM. A suspended VM's resume brings back the memory of the boot that was contained and is no
new boot: resume, stop and start it, best before the release, while the quarantine holds. The
quarantine leaves the metadata server reachable (its service account's tokens, DNS): remove the
VM's service account before you run it under quarantine.

Where the release policy (${RELEASE_POLICY_PATH} in the ledger database) requires
approval, the first principal to run the command requests the release, and another principal
runs the same command to perform it; the same principal twice is refused. Who is, against
Firestore, always the principal of your credentials; --by names someone on the emulator only.

Removing the binding takes roles/resourcemanager.tagUser on the quarantine's tag value, and
compute.instances.listTagBindings, compute.instances.deleteTagBinding and
resourcemanager.projects.get on the VM's project; setting the finding INACTIVE takes
securitycenter.findings.setState on it (the construct's releasePrincipals get the tag value's
and the findings source's roles, and what this tool needs on the ledger database). RESOURCE_MANAGER_API_ENDPOINT and
SECURITY_CENTER_API_ENDPOINT point the tool at other endpoints.

options:
  --reason TEXT         why the VM may leave containment (required), kept with the release
${recordedAsHelp('--by')}
${COMMON_OPTIONS}

${FOOTER}`;

const FLAGS = { ...COMMON_FLAGS, reason: { type: 'string' }, by: { type: 'string' } } as const satisfies Flags;

/** `text` quoted for a POSIX shell, as printed commands show it. */
function shellQuoted(text: string): string {
  return /^[A-Za-z0-9_./:@-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The release command again, as another principal runs it. */
function sameCommand(t: ContainmentTarget, vm: VmRef, reason: string): string {
  return `${BIN} release ${vmText(vm)} --project ${t.project} --database ${t.database} --reason ${shellQuoted(printable(reason))}`;
}

/** The commands that bring the VM back, and why no other way: release itself starts nothing. */
function nextSteps(vm: VmRef, s: ContainmentSummary): string {
  const where = `${vm.instanceId} --project ${vm.projectId} --zone ${vm.zone}`;
  const untouched = 'the release started nothing, changed no baseline and relearned nothing';
  if (s.containment === 'suspend') {
    return (
      `the VM is still suspended (${untouched}). Resuming it brings back the memory of the boot that was contained, and a ` +
      `resume is no boot: no new integrity report would judge it. To have a new boot judged, resume it, stop it and start it:\n` +
      `  gcloud compute instances resume ${where}\n` +
      `  gcloud compute instances stop ${where}\n` +
      `  gcloud compute instances start ${where}\n`
    );
  }
  return (
    `the VM is still stopped (${untouched}). When you are ready, start it; the integrity report of its next boot decides, ` +
    `as for any VM (a boot that is not known good is contained again):\n` +
    `  gcloud compute instances start ${where}\n`
  );
}

/** What the release did, in one line. */
function doneText(vm: VmRef, s: ContainmentSummary, steps: ReleaseSteps, by: string, requestedBy: string | undefined): string {
  const who = requestedBy !== undefined ? `by ${printable(by)}, requested by ${printable(requestedBy)}` : `by ${printable(by)}`;
  const tag =
    s.quarantine === undefined
      ? 'no quarantine tag was bound'
      : steps.unbound
        ? `quarantine tag ${printable(s.quarantine.tagValue)} removed from the VM`
        : `quarantine tag ${printable(s.quarantine.tagValue)} was no longer bound`;
  const finding =
    s.finding === undefined
      ? 'no finding was raised'
      : steps.deactivated
        ? `finding ${printable(s.finding)} set INACTIVE`
        : `finding ${printable(s.finding)} was already INACTIVE`;
  return `released ${vmText(vm)} (${who}): ${tag}; ${finding}\n`;
}

/** The one write of a command, made only if the document is as it was read. */
async function writeAsRead(
  io: Io,
  t: ContainmentTarget,
  read: DocumentSnapshot,
  doing: string,
  change: (deleteField: unknown) => Record<string, unknown>,
): Promise<void> {
  await withFirestore(io, t, doing, 'write', async (db) => {
    const { FieldValue } = await import('@google-cloud/firestore');
    try {
      await db
        .collection(LEDGER_INSTANCES_COLLECTION)
        .doc(read.id)
        .update(change(FieldValue.delete()), { lastUpdateTime: read.updateTime! });
    } catch (e) {
      if (errorCode(e) !== Code.FAILED_PRECONDITION) throw e;
      throw new CliError(
        `could not ${doing}: ${LEDGER_INSTANCES_COLLECTION}/${read.id} changed while the command ran (the responder or another ` +
          `operator wrote it), so nothing was recorded; run '${BIN} show' to see it now, and the command again: repeating it is safe`,
      );
    }
  });
}

/** The contained VM the command is about, refused with what to do when it is not one. */
function containedOf(ref: VmRef, t: ContainmentTarget, vm: ContainedVm | undefined): ContainedVm & { summary: ContainmentSummary } {
  if (vm === undefined || vm.data.containment === undefined) {
    throw new CliError(
      `${vmText(ref)} is not contained: ${t.where} has no containment for it (${LEDGER_INSTANCES_COLLECTION}/` +
        `${documentIdOf(ref)}${vm === undefined ? ' does not exist' : ' holds none'}); check the VM's project, zone and numeric id ` +
        `against '${BIN} list', and --project and --database against the responder's ledger`,
    );
  }
  if (vm.summary === undefined) {
    throw new CliError(
      `${LEDGER_INSTANCES_COLLECTION}/${vm.document} holds a containment this tool cannot read (${vm.problem ?? 'unknown'}), ` +
        `so it releases nothing; '${BIN} list --state all --json' prints it as stored`,
    );
  }
  return vm as ContainedVm & { summary: ContainmentSummary };
}

async function release({ values, positionals }: ParsedOptions, io: Io, now: () => number): Promise<void> {
  const ref = vmArgument(positionals, 'release');
  const reason = textOption(values, 'reason')?.trim();
  if (reason === undefined) throw new UsageError('release needs --reason TEXT: why the VM may leave containment, kept with the release');
  const t = target(values, io);
  const byFlag = nameOnEmulatorOnly(values, 'by', io.env)?.trim();
  const { name: by } = await resolveActor(byFlag, io.env, {
    doing: `release ${vmText(ref)} in ${t.where}`,
    option: '--by',
    seconds: t.seconds,
  });

  const read = await withFirestore(io, t, `read the containment of ${vmText(ref)} in ${t.where}`, 'read', async (db) => ({
    ...(await readVm(db, ref)),
    approval: await releaseApprovalOf(db),
  }));
  const vm = containedOf(ref, t, read.vm);
  const s = vm.summary;
  if (s.state === 'released') {
    const r = s.released;
    const how =
      r === undefined
        ? ''
        : `: by ${printable(r.by)} at ${printable(r.at)}${r.requestedBy ? ` (requested by ${printable(r.requestedBy)})` : ''}: ${printable(r.reason)}`;
    return io.stdout(`${vmText(ref)} is already released${how}; nothing to do\n`);
  }

  const at = new Date(now()).toISOString();
  const asked = s.releaseRequested;
  if ((read.approval satisfies ReleaseApproval) === 'two-person') {
    if (asked === undefined) {
      await writeAsRead(io, t, read.snapshot, `record the release request of ${vmText(ref)} in ${t.where}`, () => ({
        'containment.releaseRequested': { by, reason, at },
      }));
      return io.stdout(
        `release of ${vmText(ref)} requested by ${printable(by)}: the release policy (${RELEASE_POLICY_PATH} in ${t.where}) ` +
          `requires a second principal, so nothing was released yet; the VM stays quarantined and ${s.containment === 'suspend' ? 'suspended' : 'stopped'}. ` +
          `Another principal than ${printable(by)} performs it with:\n  ${sameCommand(t, ref, reason)}\n`,
      );
    }
    if (samePrincipal(asked.by, by)) {
      throw new CliError(
        `${vmText(ref)}: ${printable(by)} requested this release at ${printable(asked.at)}, and the release policy (${RELEASE_POLICY_PATH}) ` +
          `requires another principal to perform it; ask one to run '${sameCommand(t, ref, reason)}'`,
      );
    }
  }
  const requestedBy = asked !== undefined && !samePrincipal(asked.by, by) ? asked.by : undefined;

  // Outside Firestore first, each step safe to repeat: a failure here leaves the ledger as it was.
  const needs: ControlsNeeded = {
    ...(s.quarantine !== undefined && { quarantine: s.quarantine.tagValue }),
    ...(s.finding !== undefined && s.findingInactiveAt === undefined && { finding: s.finding }),
  };
  const steps = await releaseControls(io.env, t.seconds, ref, needs);

  await writeAsRead(io, t, read.snapshot, `record the release of ${vmText(ref)} in ${t.where}`, (deleteField) => ({
    'containment.state': 'released',
    'containment.released': { by, reason, at, ...(requestedBy !== undefined && { requestedBy }) },
    // The summary holds the quarantine only while the VM carries it.
    ...(s.quarantine !== undefined && { 'containment.quarantine': deleteField }),
    ...(steps.deactivated && { 'containment.findingInactiveAt': at }),
  }));
  io.stdout(doneText(ref, s, steps, by, requestedBy));
  io.stdout(nextSteps(ref, s));
}

/** `integrity-containment release`: lets a contained VM go (under the two-person rule, in two steps by two principals). */
export const RELEASE: Command = { flags: FLAGS, usage: USAGE, run: release };
