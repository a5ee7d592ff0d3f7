import { GROUP_ACTIONS } from '../contract';
import type { InstanceState } from './decide';
import type { HandlerDeps } from './handler-deps';
import { groupPath, parseCreatedBy } from './instance-group';
import type { LedgerKey, Reconciled } from './ledger';
import type { GroupFacts } from './outcome';
import { AbandonPendingError, InstanceTarget } from './ports';
import { requestIdFor } from './request-id';

/** A VM its group still lists this long after the first abandon is contained anyway, seconds (ADR 0010). */
const ABANDON_TIMEOUT_SECONDS = 120;
/** How long one delivery watches the group let go of the VM after an abandon, ms. */
const ABANDON_SETTLE_MS = 5_000;
const ABANDON_POLL_MS = 250;

/** What {@link leaveGroup} needs of the handler's parts and settings. */
export type GroupDeps = Pick<
  HandlerDeps,
  'instances' | 'ledger' | 'enforcement' | 'instanceGroupAction' | 'abandonTimeoutSeconds' | 'abandonSettleMs' | 'now'
>;

/**
 * Before a VM is stopped or suspended, takes it out of the managed instance group its
 * `created-by` names, if that group (in the VM's project) lists it: otherwise the group would
 * recreate it (ADR 0010). The abandon's request id is recorded in the ledger before the call, so
 * a redelivery repeats the same request; while the group still lists the VM the event is
 * redelivered (AbandonPendingError), until `abandonTimeoutSeconds` after the first abandon,
 * when the VM is contained inside the group anyway. In dry-run the group is only read.
 * Returns what was done with the group, or undefined when `created-by` names none.
 */
export async function leaveGroup(
  current: InstanceState,
  target: InstanceTarget,
  deps: GroupDeps,
  key: LedgerKey,
  recorded: Reconciled,
  eventId: string | undefined,
): Promise<GroupFacts | undefined> {
  const group = parseCreatedBy(current.createdBy);
  if (group === undefined) return undefined;
  const path = groupPath(group);
  if (deps.instanceGroupAction === 'contain-only') {
    return { path, action: GROUP_ACTIONS.containOnly };
  }
  if (group.projectId !== target.projectId) {
    // The runtime role is granted in the VM's project only: a group elsewhere is not asked.
    return { path, action: GROUP_ACTIONS.notAMember, note: `the group is in project ${group.projectId}, not the instance's` };
  }
  let member = await deps.instances.findMember(group, target.id);
  const earlier = recorded.record.groupAbandon;
  if (member === undefined) {
    return earlier !== undefined
      ? { path, action: GROUP_ACTIONS.abandoned }
      : { path, action: GROUP_ACTIONS.notAMember, note: 'the group does not list it' };
  }
  if (deps.enforcement === 'dry-run') return { path, action: GROUP_ACTIONS.wouldAbandon };
  const now = deps.now ?? Date.now;
  const abandon =
    earlier ??
    (await deps.ledger.noteAbandon(key, recorded.requestId, {
      group: path,
      requestId: requestIdFor(eventId, `abandon ${path}`),
      requestedAt: new Date(now()).toISOString(),
    }));
  const age = (now() - Date.parse(abandon.requestedAt)) / 1000;
  if (age >= (deps.abandonTimeoutSeconds ?? ABANDON_TIMEOUT_SECONDS)) {
    // Containment outranks forensics: a group that will not let go does not keep the VM running.
    return { path, action: GROUP_ACTIONS.abandonTimeout, abandonAgeSeconds: Math.round(age) };
  }
  await deps.instances.abandon(group, member.instance, abandon.requestId);
  const settle = now() + (deps.abandonSettleMs ?? ABANDON_SETTLE_MS);
  while ((member = await deps.instances.findMember(group, target.id)) !== undefined && now() < settle) {
    await new Promise<void>((resolve) => setTimeout(resolve, ABANDON_POLL_MS));
  }
  if (member !== undefined) throw new AbandonPendingError(path, member.currentAction);
  return { path, action: GROUP_ACTIONS.abandoned };
}
