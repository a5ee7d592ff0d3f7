import type { InstanceGroupManagersClient } from '@google-cloud/compute/build/src/v1/instance_group_managers_client';
import type { InstancesClient } from '@google-cloud/compute/build/src/v1/instances_client';
import type { RegionInstanceGroupManagersClient } from '@google-cloud/compute/build/src/v1/region_instance_group_managers_client';
import type { ZoneOperationsClient } from '@google-cloud/compute/build/src/v1/zone_operations_client';
import { Code, errorCode } from '../core/api-errors';
import type { AttachedDisk, InstanceState } from '../core/decide';
import { CREATED_BY_KEY, InstanceGroupRef, groupPath } from '../core/instance-group';
import {
  CompletedOperation,
  GroupMember,
  InstanceControl,
  InstanceNotFoundError,
  InstanceTarget,
  OperationFailedError,
} from '../core/ports';

/** The clients of zonal and regional managed instance groups, each created on first use. */
export interface GroupClients {
  readonly zonal: () => Promise<InstanceGroupManagersClient>;
  readonly regional: () => Promise<RegionInstanceGroupManagersClient>;
}

/**
 * Pause before asking again when `zoneOperations.wait` came back RUNNING quickly. The real
 * call blocks server-side (up to ≈2 min) until the operation is done, so this only matters
 * when it returns early: the loop never spins.
 */
export const MIN_PAUSE_MS = 100;
export const MAX_PAUSE_MS = 1_000;
/** A wait that took at least this long did block server-side: ask again at once. */
export const BLOCKED_MS = 1_000;

function isNotFound(e: unknown): boolean {
  const code = errorCode(e);
  return code === Code.NOT_FOUND || code === 404;
}

/** The fields of a zonal (or global) operation the adapters read (REST replies carry the enum as a string). */
export interface ZoneOperation {
  name?: string | null;
  status?: unknown;
  httpErrorStatusCode?: number | null;
  httpErrorMessage?: string | null;
  error?: { errors?: Array<{ code?: string | null; message?: string | null }> | null } | null;
}

/** `DONE` as REST replies spell it, or its enum number (`Operation.Status.DONE`). */
export const isDone = (op: ZoneOperation): boolean => op.status === 'DONE' || op.status === 2104194;

/** `'<code>: <message>; …'` for an operation that ended in error, undefined for one that succeeded. */
export function operationError(op: ZoneOperation): string | undefined {
  const errors = op.error?.errors ?? [];
  if (errors.length > 0) return errors.map((e) => `${e.code ?? 'UNKNOWN'}: ${e.message ?? ''}`).join('; ');
  if (typeof op.httpErrorStatusCode === 'number' && op.httpErrorStatusCode >= 400) {
    return `HTTP ${op.httpErrorStatusCode}${op.httpErrorMessage ? `: ${op.httpErrorMessage}` : ''}`;
  }
  return undefined;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The Compute Engine calls the handler makes, through the official clients. Every call names
 * the VM by its numeric id (the API takes "name or id" wherever it takes an instance), never by
 * name: ids are never reused, so a new VM given an old VM's name is never acted on.
 */
export class ComputeInstanceControl implements InstanceControl {
  /**
   * @param instances the Instances client, created on first use.
   * @param operations the ZoneOperations client, created on first use.
   * @param timeoutMs deadline of each method as a whole: the call, and for an action the wait
   *   for its operation. An action that runs out of time may still take effect, which the
   *   request id makes safe to repeat on redelivery.
   * @param groups the managed-instance-group clients, for {@link findMember} and {@link abandon}.
   */
  constructor(
    private readonly instances: () => Promise<InstancesClient>,
    private readonly operations: () => Promise<ZoneOperationsClient>,
    private readonly timeoutMs = 20_000,
    private readonly groups?: GroupClients,
  ) {}

  async describe(target: InstanceTarget): Promise<InstanceState> {
    const client = await this.instances();
    const [vm] = await this.act(target, () =>
      client.get({ project: target.projectId, zone: target.zone, instance: target.id }, { timeout: this.timeoutMs }),
    );
    // Acting on the wrong VM is worse than retrying: a reply about any other instance is an
    // API failure.
    const id = vm.id === undefined || vm.id === null ? undefined : String(vm.id);
    if (id !== target.id) {
      throw new Error(`instances.get for id ${target.id} in ${target.projectId}/${target.zone} returned instance id ${id ?? '(none)'}`);
    }
    return {
      id,
      ...(vm.name ? { name: vm.name } : {}),
      ...(vm.status ? { status: String(vm.status) } : {}),
      ...(vm.lastStartTimestamp ? { lastStartTimestamp: vm.lastStartTimestamp } : {}),
      // The client answers an unlabelled VM with `{}`.
      ...(vm.labels && Object.keys(vm.labels).length > 0 ? { labels: { ...vm.labels } } : {}),
      ...createdBy(vm.metadata?.items),
      ...attachedDisks(vm.disks),
    };
  }

  async findMember(group: InstanceGroupRef, instanceId: string): Promise<GroupMember | undefined> {
    const request = { project: group.projectId, instanceGroupManager: group.name };
    const options = { timeout: this.timeoutMs };
    let members;
    try {
      [members] =
        group.scope === 'zones'
          ? await (await this.groupClients().zonal()).listManagedInstances({ ...request, zone: group.location }, options)
          : await (await this.groupClients().regional()).listManagedInstances({ ...request, region: group.location }, options);
    } catch (e) {
      // A group that does not exist lists nobody.
      if (isNotFound(e)) return undefined;
      throw e;
    }
    const member = members.find((m) => m.id !== undefined && m.id !== null && String(m.id) === instanceId);
    if (member === undefined) return undefined;
    if (!member.instance) throw new Error(`${groupPath(group)} lists instance id ${instanceId} without its URL`);
    return { id: instanceId, instance: member.instance, ...(member.currentAction ? { currentAction: String(member.currentAction) } : {}) };
  }

  async abandon(group: InstanceGroupRef, instanceUrl: string, requestId: string): Promise<void> {
    const request = { project: group.projectId, instanceGroupManager: group.name, requestId };
    const options = { timeout: this.timeoutMs };
    const [operation] =
      group.scope === 'zones'
        ? await (
            await this.groupClients().zonal()
          ).abandonInstances(
            { ...request, zone: group.location, instanceGroupManagersAbandonInstancesRequestResource: { instances: [instanceUrl] } },
            options,
          )
        : await (
            await this.groupClients().regional()
          ).abandonInstances(
            {
              ...request,
              region: group.location,
              regionInstanceGroupManagersAbandonInstancesRequestResource: { instances: [instanceUrl] },
            },
            options,
          );
    // The operation is DONE once the abandon is scheduled; one refused at once says so here. Not
    // an OperationFailedError: that would renew the request id of the stop, which did not fail.
    const op = operation.latestResponse as ZoneOperation | undefined;
    const error = op && isDone(op) ? operationError(op) : undefined;
    if (error !== undefined) throw new Error(`abandonInstances on ${groupPath(group)} failed (operation ${op?.name ?? '?'}): ${error}`);
  }

  private groupClients(): GroupClients {
    if (this.groups === undefined) throw new Error('ComputeInstanceControl was built without managed-instance-group clients');
    return this.groups;
  }

  async stop(target: InstanceTarget, requestId: string): Promise<CompletedOperation> {
    const deadline = Date.now() + this.timeoutMs;
    const client = await this.instances();
    const [operation] = await this.act(target, () =>
      client.stop({ project: target.projectId, zone: target.zone, instance: target.id, requestId }, { timeout: remaining(deadline) }),
    );
    return this.waitFor(target, operation.latestResponse as ZoneOperation, 'instances.stop', deadline);
  }

  async suspend(target: InstanceTarget, requestId: string): Promise<CompletedOperation> {
    const deadline = Date.now() + this.timeoutMs;
    const client = await this.instances();
    const [operation] = await this.act(target, () =>
      client.suspend({ project: target.projectId, zone: target.zone, instance: target.id, requestId }, { timeout: remaining(deadline) }),
    );
    return this.waitFor(target, operation.latestResponse as ZoneOperation, 'instances.suspend', deadline);
  }

  async relearn(target: InstanceTarget, requestId: string): Promise<CompletedOperation> {
    const deadline = Date.now() + this.timeoutMs;
    const client = await this.instances();
    const [operation] = await this.act(target, () =>
      client.setShieldedInstanceIntegrityPolicy(
        {
          project: target.projectId,
          zone: target.zone,
          instance: target.id,
          requestId,
          shieldedInstanceIntegrityPolicyResource: { updateAutoLearnPolicy: true },
        },
        { timeout: remaining(deadline) },
      ),
    );
    return this.waitFor(target, operation.latestResponse as ZoneOperation, 'instances.setShieldedInstanceIntegrityPolicy', deadline);
  }

  /**
   * Waits with `zoneOperations.wait` until the operation is DONE or the deadline passes; a DONE
   * operation carrying errors throws OperationFailedError, as does running out of time.
   */
  private async waitFor(
    target: InstanceTarget,
    first: ZoneOperation | undefined,
    call: string,
    deadline: number,
  ): Promise<CompletedOperation> {
    const name = first?.name;
    if (!name) throw new Error(`${call} for id ${target.id} in ${target.projectId}/${target.zone} returned no operation name`);
    let op: ZoneOperation = first;
    let pause = MIN_PAUSE_MS;
    let client: ZoneOperationsClient | undefined;
    while (!isDone(op)) {
      const left = remaining(deadline);
      if (left <= 0) throw this.notDone(name);
      client ??= await this.operations();
      const asked = Date.now();
      try {
        [op] = await client.wait({ project: target.projectId, zone: target.zone, operation: name }, { timeout: left });
      } catch (e) {
        // The call's own timeout is the deadline: report the operation, not the transport.
        if (remaining(deadline) <= 0 || errorCode(e) === Code.DEADLINE_EXCEEDED) throw this.notDone(name);
        throw e;
      }
      if (isDone(op)) break;
      if (Date.now() - asked < BLOCKED_MS) {
        await sleep(Math.min(pause, remaining(deadline)));
        pause = Math.min(pause * 2, MAX_PAUSE_MS);
      }
    }
    const error = operationError(op);
    if (error !== undefined) throw new OperationFailedError(name, error);
    return { name, status: 'DONE' };
  }

  private notDone(name: string): OperationFailedError {
    return new OperationFailedError(name, `not done after ${Math.round(this.timeoutMs / 100) / 10} s`, false);
  }

  /** Runs a call about the target, reporting a 404 as InstanceNotFoundError. */
  private async act<T>(target: InstanceTarget, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (isNotFound(e)) throw new InstanceNotFoundError(target);
      throw e;
    }
  }
}

/** `{ createdBy }` from the VM's metadata items, or nothing when it has no `created-by`. */
function createdBy(items: Array<{ key?: string | null; value?: string | null }> | null | undefined): { createdBy?: string } {
  const value = items?.find((i) => i.key === CREATED_BY_KEY)?.value;
  return value ? { createdBy: value } : {};
}

/** `AttachedDisk.Type` as REST replies spell it, or by its enum number. */
const DISK_TYPES: Readonly<Record<string, string>> = { '460683927': 'PERSISTENT', '496778970': 'SCRATCH' };

/**
 * `{ disks }` from the VM's attached disks, or nothing when it lists none. A disk without a type
 * is persistent, the API's default; a local SSD (`SCRATCH`) has no source.
 */
function attachedDisks(
  disks:
    | Array<{ deviceName?: string | null; type?: unknown; source?: string | null; boot?: boolean | null; index?: number | null }>
    | null
    | undefined,
): { disks?: AttachedDisk[] } {
  if (!disks || disks.length === 0) return {};
  return {
    disks: disks.map((d, i) => {
      const type = d.type === undefined || d.type === null ? 'PERSISTENT' : String(d.type);
      return {
        // The API always names the device; the index keeps a nameless one apart from the others.
        deviceName: d.deviceName || `index-${d.index ?? i}`,
        type: DISK_TYPES[type] ?? type,
        ...(d.source ? { source: d.source } : {}),
        ...(typeof d.boot === 'boolean' ? { boot: d.boot } : {}),
      };
    }),
  };
}

/** Milliseconds left before `deadline`, never negative. */
export function remaining(deadline: number): number {
  return Math.max(0, deadline - Date.now());
}
