import { CliError, FOOTER, Flags, Io, ParsedOptions, UsageError, describeError, str } from '../../common';
import type { Command } from '../../tool';
import { lateBootReportsSince, validateLateBootQuery } from '../cloud-logging';
import { COMPUTE_API_ENDPOINT } from '../../../function/contract';
import { ComputeUnanswered, ReferenceVm, describeVm } from '../compute';
import { Entry, candidateOf, lateBootEntries, readInput } from '../late-boot-entries';
import { BASELINES_BIN as BIN } from '../names';
import { TARGET_FLAGS, TARGET_OPTIONS } from '../options';
import { NEW_BASELINE_FLAGS, NEW_BASELINE_OPTIONS, beforeRecording, record } from '../recording';
import {
  LAST_START_QUERY,
  LateBootCandidate,
  MAX_FIRST_REPORT_DELAY_SECONDS,
  chooseLateBootReport,
  lateBootCommandBlock,
  span,
} from '../source-checks';

/** The gcloud command of `capture --help`, indented to sit under its option. */
const SAVE_COMMAND = lateBootCommandBlock().replace(/^/gm, ' '.repeat(26));

const USAGE = `usage: ${BIN} capture <entries.json | -> --project P [options]
       ${BIN} capture --instance NAME|ID --zone ZONE [--vm-project P] --project P [options]

Records the late-boot measurements of a reference VM (a canary you have checked) as a
known-good baseline, with where they came from: the VM, its id, the boot, the report's time.

It writes to the baseline database of --project (or $GOOGLE_CLOUD_PROJECT), and says which:
never to the VM's project unless you name it, since with a folder or organization scope the
baselines live in the responder's project, not in the projects of the VMs.

  <entries.json>        a LogEntry, or the JSON array of every late-boot report of one VM
                        since its last start ('-' reads standard input), saved with
${SAVE_COMMAND}
                        where <id> and <lastStartTimestamp> are what
                          ${LAST_START_QUERY}
                        prints. The timestamp bound replaces gcloud's own (--freshness, one day
                        by default): a fixed --freshness or a --limit can leave the first
                        boot's report out, and such a file is refused
  --instance NAME|ID    read the VM's late-boot reports from Cloud Logging instead
  --zone ZONE           the VM's zone (with --instance)
  --vm-project P        the VM's project (with --instance; default: --project)

Whoever may write logs in the VM's project can write a "late-boot report", with the date and
labels they like, so the report is checked before anything is recorded: the VM is looked up
in Compute Engine (instances.get) and only reports with its instance id count; a report
dated ahead of this machine's clock or of its receipt by Cloud Logging, or before the VM's
last start, is refused. The reports since the VM's last start must hold one set of
measurements: with two (a forged report, or a reboot into something else), nothing is
recorded and every report is named; stop and start the canary, then capture again. They
must also reach back to the start: the earliest, the first boot's, dated and received
within ${span(MAX_FIRST_REPORT_DELAY_SECONDS * 1000)} of it. From a file, when Compute Engine cannot be asked, the checks
that need it are skipped and said so on standard error, and every late-boot report in the
file must hold the same measurements.

A report that passed its policy evaluation is refused unless --force: its measurements are
the VM's current policy already, which is rarely what a rollout means to record.

options:
${NEW_BASELINE_OPTIONS}
  --force               record a report that passed its policy evaluation
  --description TEXT    the same as --note
${TARGET_OPTIONS}

--project (or $GOOGLE_CLOUD_PROJECT) is required, except with --dry-run, which writes nothing.
Needs compute.instances.get on the VM's project (roles/compute.viewer), and with --instance
logging.logEntries.list there (roles/logging.viewer). ${COMPUTE_API_ENDPOINT} and
LOGGING_API_ENDPOINT point it at other endpoints.

${FOOTER}`;

const FLAGS = {
  ...TARGET_FLAGS,
  ...NEW_BASELINE_FLAGS,
  force: { type: 'boolean' },
  description: { type: 'string' },
  instance: { type: 'string' },
  zone: { type: 'string' },
  'vm-project': { type: 'string' },
} as const satisfies Flags;

async function capture({ values, positionals }: ParsedOptions, io: Io): Promise<void> {
  const instance = str(values.instance);
  let source: { readonly instance: string; readonly zone: string; readonly vmProject: string } | { readonly file: string };
  // Usage errors before any call: the options, then the VM's name, zone and project.
  if (instance !== undefined) {
    if (positionals.length > 0) throw new UsageError('capture reads either a file or --instance, not both');
    const zone = str(values.zone);
    if (zone === undefined) throw new UsageError('--instance needs --zone: the zone of the VM');
    const vmProject = str(values['vm-project']) ?? str(values.project) ?? (io.env.GOOGLE_CLOUD_PROJECT || undefined);
    if (vmProject === undefined) throw new UsageError('--instance needs --vm-project or --project (or GOOGLE_CLOUD_PROJECT)');
    try {
      validateLateBootQuery({ vmProject, zone, instance });
    } catch (e) {
      throw new UsageError(describeError(e));
    }
    source = { instance, zone, vmProject };
  } else {
    if (values.zone !== undefined || values['vm-project'] !== undefined) {
      throw new UsageError('--zone and --vm-project go with --instance');
    }
    if (positionals.length !== 1) {
      throw new UsageError(
        positionals.length === 0
          ? 'capture needs the file holding the log entry (or - for standard input), or --instance and --zone'
          : `capture takes one file, got ${positionals.length}`,
      );
    }
    source = { file: positionals[0]! };
  }
  const checked = await beforeRecording(values, io, 'capture');
  const seconds = checked.place.seconds;
  let candidates: LateBootCandidate[];
  let where: string;
  let described: ReferenceVm | undefined;
  if ('instance' in source) {
    const { vmProject, zone } = source;
    // The VM as Compute Engine knows it: its id selects the reports, its last start dates them.
    const vm = await describeVm({ project: vmProject, zone, instance: source.instance }, io.env, seconds, io.openInstances);
    described = vm;
    where = `Cloud Logging (projects/${vmProject}, zone ${zone})`;
    if (vm.lastStartTimestamp === undefined) {
      throw new CliError(
        `refusing to record a baseline: Compute Engine gives VM ${vm.name} (id ${vm.id}) no last start time, so no report can be ` +
          `tied to the boot it runs now; start it, wait for its late-boot report, then capture again`,
      );
    }
    const found = await lateBootReportsSince({ vmProject, zone, instanceId: vm.id }, vm.lastStartTimestamp, io.env, seconds);
    if (found.length === 0) {
      throw new CliError(
        `${where} holds no late-boot report of VM ${vm.name} (id ${vm.id}); boot it (a late-boot report is written at every boot) ` +
          `and check the name or id, the zone and the project`,
      );
    }
    candidates = found.map((e) => candidateOf(e as Entry, where));
  } else {
    const { file } = source;
    where = file === '-' ? 'standard input' : file;
    candidates = lateBootEntries(readInput(file, io), where).map((e) => candidateOf(e, where));
    const claimed = candidates[0]!.report.instance;
    try {
      described = await describeVm(
        { project: claimed.projectId, zone: claimed.zone, instance: claimed.id },
        io.env,
        seconds,
        io.openInstances,
      );
    } catch (e) {
      if (!(e instanceof ComputeUnanswered)) throw new CliError(`refusing to record a baseline from ${where}: ${describeError(e)}`);
      const unreceived = candidates.some((c) => c.report.receiveTimestamp === undefined);
      io.stderr(
        `${BIN}: warning: could not ask Compute Engine about VM ${claimed.name ?? claimed.id} (id ${claimed.id}) in ` +
          `${claimed.projectId}/${claimed.zone} (${e.reason}), so NOT checked: that this VM exists, that the report is dated ` +
          `after its last start, and that ${where} reaches back to that start${unreceived ? `; nor when Cloud Logging received it (the entry has no receiveTimestamp)` : ''}. ` +
          `Checked: the report's date against this machine's clock${unreceived ? '' : ' and its receipt time'}, and one set of ` +
          `measurements among the ${candidates.length} late-boot report${candidates.length === 1 ? '' : 's'} in ${where}` +
          `${candidates.length === 1 ? ' (a single one: save every report of the VM since it last started, not --limit=1)' : ''}\n`,
      );
    }
  }
  const chosen = chooseLateBootReport(candidates, described, Date.now(), where, instance === undefined ? 'file' : 'cloud-logging');
  const { entry, report, measurements } = chosen;
  const { instance: claimedVm } = report;
  // Compute Engine's word for the VM when it was asked; the entry's own labels otherwise.
  const vm = described === undefined ? claimedVm : { ...claimedVm, name: described.name };
  const name = vm.name ?? vm.id;
  if (report.passed && values.force !== true) {
    throw new CliError(
      `the late-boot report of ${name} (boot ${report.bootCounter ?? '?'}) in ${where} passed its policy evaluation: its measurements ` +
        `are the VM's current baseline already, which is usually not what a rollout means to record (capture the report that ` +
        `failed after the update). Pass --force to record it anyway`,
    );
  }
  if (report.passed) io.stderr(`${BIN}: warning: recording a report that passed its policy evaluation (--force)\n`);
  await record(values, io, checked, {
    measurements,
    origin: `${name} boot ${report.bootCounter ?? '?'}`,
    fields: {
      description: str(values.note) ?? str(values.description) ?? `late-boot measurements of ${name} at boot ${report.bootCounter ?? '?'}`,
      source: `projects/${vm.projectId}/zones/${vm.zone}/instances/${name}`,
      sourceInstanceId: vm.id,
      ...(report.bootCounter !== undefined && { sourceBootCounter: report.bootCounter }),
      ...(typeof entry.timestamp === 'string' && { sourceReportTime: entry.timestamp }),
      createdVia: 'capture',
    },
  });
}

/**
 * `integrity-baselines capture`: records the late-boot measurements of a reference VM, from a
 * saved log entry or from Cloud Logging, once its source is checked.
 */
export const CAPTURE: Command = { flags: FLAGS, usage: USAGE, run: capture };
