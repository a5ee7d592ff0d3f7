import type { InstancesClient } from '@google-cloud/compute/build/src/v1/instances_client';
import type { InstanceState } from '../decide';
import type { InstanceRef } from '../parse';
import { InstanceControl, InstanceNotFoundError, NamedInstance } from '../ports';

/** gRPC NOT_FOUND, which google-gax reports for HTTP 404 as well. */
const NOT_FOUND = 5;

function isNotFound(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === NOT_FOUND || code === 404;
}

/**
 * The client wraps the zonal operation; its own `name` holds the operation's numeric id, the
 * API's operation name is on the response it wraps.
 */
function operationName(operation: { latestResponse?: unknown; name?: string | null }): string | undefined {
  const response = operation.latestResponse as { name?: string | null } | undefined;
  return response?.name ?? operation.name ?? undefined;
}

/** The Compute Engine calls the handler makes, through the official client. */
export class ComputeInstanceControl implements InstanceControl {
  /**
   * @param timeoutMs deadline of each call; a call that times out may still have taken effect,
   *   which the request id makes safe to repeat on redelivery.
   */
  constructor(
    private readonly client: () => Promise<InstancesClient>,
    private readonly timeoutMs = 20_000,
  ) {}

  async findName(ref: InstanceRef): Promise<string | undefined> {
    const client = await this.client();
    const [items] = await client.list(
      { project: ref.projectId, zone: ref.zone, filter: `id = ${ref.id}`, maxResults: 2 },
      { autoPaginate: false, timeout: this.timeoutMs },
    );
    const matching = items.filter((i) => String(i.id) === ref.id);
    // Acting on the wrong VM is worse than retrying: any reply that is not exactly the
    // instance asked for is treated as an API failure.
    if (matching.length !== items.length || matching.length > 1) {
      throw new Error(`instances.list for id ${ref.id} in ${ref.projectId}/${ref.zone} returned ${items.length} unexpected item(s)`);
    }
    const name = matching[0]?.name;
    return name ?? undefined;
  }

  async describe(instance: NamedInstance): Promise<InstanceState> {
    const client = await this.client();
    return this.call(instance, async () => {
      const [vm] = await client.get(
        { project: instance.projectId, zone: instance.zone, instance: instance.name },
        { timeout: this.timeoutMs },
      );
      if (vm.id === undefined || vm.id === null) throw new Error(`instances.get for ${instance.name} returned no id`);
      return { id: String(vm.id), ...(vm.lastStartTimestamp ? { lastStartTimestamp: vm.lastStartTimestamp } : {}) };
    });
  }

  async stop(instance: NamedInstance, requestId: string): Promise<string | undefined> {
    const client = await this.client();
    return this.call(instance, async () => {
      const [operation] = await client.stop(
        { project: instance.projectId, zone: instance.zone, instance: instance.name, requestId },
        { timeout: this.timeoutMs },
      );
      return operationName(operation);
    });
  }

  async relearn(instance: NamedInstance, requestId: string): Promise<string | undefined> {
    const client = await this.client();
    return this.call(instance, async () => {
      const [operation] = await client.setShieldedInstanceIntegrityPolicy(
        {
          project: instance.projectId,
          zone: instance.zone,
          instance: instance.name,
          requestId,
          shieldedInstanceIntegrityPolicyResource: { updateAutoLearnPolicy: true },
        },
        { timeout: this.timeoutMs },
      );
      return operationName(operation);
    });
  }

  private async call<T>(instance: NamedInstance, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (isNotFound(e)) throw new InstanceNotFoundError(instance);
      throw e;
    }
  }
}
