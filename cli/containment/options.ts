import { INSTANCE_ID, PROJECT_ID, ZONE } from '../../function/contract';
import { instanceDocumentId } from '../../function/core/ledger';
import { Flags, Io, OptionValues, UsageError } from '../common';
import { DEFAULT_LEDGER_DATABASE, FirestoreTarget, ledgerTarget, onEmulator } from '../firestore';

/*
 * The options every containment command takes (the ledger: project, database, deadline), their
 * lines of help and how they are read; and the VM a command names, as `<project>/<zone>/<id>`.
 */

/** The help lines of the options every command takes, and `--help`. */
export const COMMON_OPTIONS = `  --project P           project of the ledger (default: $GOOGLE_CLOUD_PROJECT)
  --database D          the responder's decision-ledger database (default: ${DEFAULT_LEDGER_DATABASE},
                        the one of the default namePrefix: pass '<namePrefix>-decisions')
  --timeout SECONDS     give up when Firestore has not answered by then (default: 60)
  -h, --help            show this help`;

/** Options of every command. */
export const COMMON_FLAGS = {
  project: { type: 'string' },
  database: { type: 'string' },
  timeout: { type: 'string' },
} as const satisfies Flags;

/** The ledger a command works on, and how messages name it. */
export interface ContainmentTarget extends FirestoreTarget {
  /** `<database> in project <project>[ on the emulator at …]`. */
  readonly where: string;
}

/** The ledger named by a command's options. */
export function target(values: OptionValues, io: Io): ContainmentTarget {
  const ledger = ledgerTarget(values, io.env);
  return { ...ledger, where: `${ledger.database} in project ${ledger.project}${onEmulator(ledger)}` };
}

/** A VM as the ledger keys it: its project, zone and numeric id. */
export interface VmRef {
  readonly projectId: string;
  readonly zone: string;
  /** Numeric instance id, decimal. */
  readonly instanceId: string;
}

/** `<project>/<zone>/<instance id>`: how the tool names a VM, in what it prints and what it takes. */
export function vmText(vm: VmRef): string {
  return `${vm.projectId}/${vm.zone}/${vm.instanceId}`;
}

/** The id of the VM's instance document in the ledger (`<project>~<zone>~<instance id>`). */
export function documentIdOf(vm: VmRef): string {
  return instanceDocumentId({ projectId: vm.projectId, zone: vm.zone, instanceId: vm.instanceId });
}

/**
 * The one VM a command names: `<project>/<zone>/<instance id>`, by numeric id because the ledger
 * keys VMs by id (a name can be given to another VM later). A {@link UsageError} otherwise.
 */
export function vmArgument(positionals: readonly string[], command: string): VmRef {
  const form = `${command} takes one VM as <project>/<zone>/<instance id> (as 'list' prints it)`;
  if (positionals.length === 0) throw new UsageError(`${form}, got none`);
  if (positionals.length > 1) throw new UsageError(`${form}, got ${positionals.length} arguments: '${positionals.join("' '")}'`);
  const raw = positionals[0]!;
  const parts = raw.split('/');
  if (parts.length !== 3) throw new UsageError(`${form}, got '${raw}'`);
  const [projectId, zone, instanceId] = parts as [string, string, string];
  if (!PROJECT_ID.test(projectId)) throw new UsageError(`'${projectId}' in '${raw}' is not a Google Cloud project id`);
  if (!ZONE.test(zone)) throw new UsageError(`'${zone}' in '${raw}' is not a Compute Engine zone (like us-central1-a)`);
  if (!INSTANCE_ID.test(instanceId)) {
    throw new UsageError(
      `'${instanceId}' in '${raw}' is not a numeric instance id; the ledger keys VMs by id: ` +
        `'gcloud compute instances describe NAME --zone ${zone} --project ${projectId} --format="value(id)"' prints it`,
    );
  }
  return { projectId, zone, instanceId };
}
