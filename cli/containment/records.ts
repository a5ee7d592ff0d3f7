import type { DocumentSnapshot, Firestore } from '@google-cloud/firestore';
import {
  BASELINE_POLICY_COLLECTION,
  FAILURE_ACTIONS,
  LEDGER_DECISIONS_COLLECTION,
  LEDGER_INSTANCES_COLLECTION,
  RELEASE_POLICY_DOCUMENT,
} from '../../function/contract';
import type { ContainmentSummary, LedgerRecord } from '../../function/core/ledger';
import { VmRef, documentIdOf } from './options';

/*
 * What the ledger holds about contained VMs, as the containment tool reads it: the `containment`
 * summary of each VM's instance document (written by the function when a containment completes,
 * updated by a release), the ledger record of the containment with its steps, and the release
 * policy the construct writes. A summary is checked field by field: the tool acts on it (unbinds,
 * deactivates), so one it cannot read is named, never guessed at.
 */

/** The states `list --state` selects; `all` is both. */
export const LIST_STATES = ['contained', 'released', 'all'] as const;
export type ListState = (typeof LIST_STATES)[number];

/** A VM's instance document with its containment, as read. */
export interface ContainedVm extends VmRef {
  /** Document id in {@link LEDGER_INSTANCES_COLLECTION}. */
  readonly document: string;
  /** The containment summary; absent when the document's could not be read (see `problem`). */
  readonly summary?: ContainmentSummary;
  /** What is wrong with the document's `containment`, when it is not a summary the tool can read. */
  readonly problem?: string;
  /** The whole document, as `--json` prints it. */
  readonly data: Readonly<Record<string, unknown>>;
}

const isText = (v: unknown): v is string => typeof v === 'string' && v !== '';
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isTextList = (v: unknown): v is string[] => Array.isArray(v) && v.every(isText);

/** Why `by`, `reason` and `at` of a release (or of its request) are not all text, or undefined. */
function actProblem(field: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (!isRecord(v) || !isText(v.by) || !isText(v.reason) || !isText(v.at)) return `${field} must hold by, reason and at as text`;
  if (v.requestedBy !== undefined && !isText(v.requestedBy)) return `${field}.requestedBy must be text`;
  return undefined;
}

/** Why a document's `containment` is not a {@link ContainmentSummary}, or undefined when it is one. */
export function summaryProblem(c: unknown): string | undefined {
  if (!isRecord(c)) return 'containment is not a map';
  if (c.state !== 'contained' && c.state !== 'released')
    return `containment.state is ${JSON.stringify(c.state)}, not 'contained' or 'released'`;
  for (const field of ['record', 'bootCounter', 'reason', 'containedAt'] as const) {
    if (!isText(c[field])) return `containment.${field} is missing or not text`;
  }
  if (!(FAILURE_ACTIONS as readonly unknown[]).includes(c.containment)) {
    return `containment.containment is ${JSON.stringify(c.containment)}, not ${FAILURE_ACTIONS.join(' or ')}`;
  }
  if (!isTextList(c.playbook)) return 'containment.playbook is not a list of steps';
  if (!isTextList(c.snapshots)) return 'containment.snapshots is not a list of snapshot names';
  if (c.quarantine !== undefined && (!isRecord(c.quarantine) || !isText(c.quarantine.tagValue) || !isText(c.quarantine.binding))) {
    return 'containment.quarantine must hold tagValue and binding as text';
  }
  if (c.finding !== undefined && !isText(c.finding)) return 'containment.finding is not text';
  if (c.findingInactiveAt !== undefined && !isText(c.findingInactiveAt)) return 'containment.findingInactiveAt is not text';
  return actProblem('containment.released', c.released) ?? actProblem('containment.releaseRequested', c.releaseRequested);
}

/**
 * The summary without what belongs to an earlier containment of the same VM: a release while the
 * VM is contained again, a release request or an inactive finding recorded before this
 * containment completed. The instance document keeps one summary per VM, and a later containment
 * written over it may leave such fields behind.
 */
export function currentSummary(s: ContainmentSummary): ContainmentSummary {
  const since = Date.parse(s.containedAt);
  const earlier = (at: string | undefined) => at !== undefined && !Number.isNaN(since) && Date.parse(at) < since;
  const { released, releaseRequested, findingInactiveAt, ...rest } = s;
  return {
    ...rest,
    ...(released !== undefined && s.state === 'released' && { released }),
    ...(releaseRequested !== undefined && !earlier(releaseRequested.at) && { releaseRequested }),
    ...(findingInactiveAt !== undefined && !earlier(findingInactiveAt) && { findingInactiveAt }),
  };
}

/** A VM's instance document as the tool reads it. */
export function containedVmOf(doc: DocumentSnapshot): ContainedVm {
  const data = doc.data() ?? {};
  const [projectId = '', zone = '', instanceId = ''] = doc.id.split('~');
  const vm = {
    projectId: isText(data.projectId) ? data.projectId : projectId,
    zone: isText(data.zone) ? data.zone : zone,
    instanceId: isText(data.instanceId) ? data.instanceId : instanceId,
  };
  const problem = summaryProblem(data.containment);
  return problem === undefined
    ? { ...vm, document: doc.id, summary: currentSummary(data.containment as ContainmentSummary), data }
    : { ...vm, document: doc.id, problem, data };
}

/**
 * The VMs whose containment is in `state` (`all`: either), newest containment first. Sorted here,
 * not by the query: an equality on one field ordered by another needs a composite index the
 * construct does not create.
 */
export async function listContained(db: Firestore, state: ListState): Promise<ContainedVm[]> {
  const instances = db.collection(LEDGER_INSTANCES_COLLECTION);
  const query =
    state === 'all'
      ? instances.where('containment.state', 'in', ['contained', 'released'])
      : instances.where('containment.state', '==', state);
  const vms = (await query.get()).docs.map(containedVmOf);
  const when = (v: ContainedVm) => (typeof v.summary?.containedAt === 'string' ? v.summary.containedAt : '');
  return vms.sort((a, b) => when(b).localeCompare(when(a)) || a.document.localeCompare(b.document));
}

/** A VM's instance document (it may not exist), and the VM as read from it when it does. */
export interface ReadVm {
  readonly snapshot: DocumentSnapshot;
  readonly vm?: ContainedVm;
}

/** Reads the instance document of `vm`. */
export async function readVm(db: Firestore, vm: VmRef): Promise<ReadVm> {
  const snapshot = await db.collection(LEDGER_INSTANCES_COLLECTION).doc(documentIdOf(vm)).get();
  return snapshot.exists ? { snapshot, vm: containedVmOf(snapshot) } : { snapshot };
}

/** The ledger record of a containment; undefined when it is gone. */
export async function readRecord(db: Firestore, record: string): Promise<LedgerRecord | undefined> {
  const doc = await db.collection(LEDGER_DECISIONS_COLLECTION).doc(record).get();
  return doc.exists ? (doc.data() as LedgerRecord) : undefined;
}

/** How a release is approved: by one principal, or (`two-person`) by a second one after a first asked. */
export type ReleaseApproval = 'single' | 'two-person';

/** Where the release policy lives, as messages name it. */
export const RELEASE_POLICY_PATH = `${BASELINE_POLICY_COLLECTION}/${RELEASE_POLICY_DOCUMENT}`;

/** The release policy the construct writes in the ledger database: `{ requireApproval: true }` means two persons. */
export async function releaseApprovalOf(db: Firestore): Promise<ReleaseApproval> {
  const doc = await db.collection(BASELINE_POLICY_COLLECTION).doc(RELEASE_POLICY_DOCUMENT).get();
  return doc.get('requireApproval') === true ? 'two-person' : 'single';
}
