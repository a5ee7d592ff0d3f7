import type { ProjectsClient } from '@google-cloud/resource-manager/build/src/v3/projects_client';
import type { TagBindingsClient } from '@google-cloud/resource-manager/build/src/v3/tag_bindings_client';
import { Code, errorCode } from '../core/api-errors';
import type { InstanceTarget, QuarantineControl, TagBound } from '../core/ports';

/** A project id never is all digits (it starts with a letter): such a value is a project number already. */
const PROJECT_NUMBER = /^[1-9][0-9]*$/;

/** A Resource Manager call about a VM's tag bindings failed, or answered what it should not. */
export class TagBindingError extends Error {
  constructor(
    /** The Resource Manager method: `createTagBinding`, `listTagBindings`, `deleteTagBinding`, `getProject`. */
    readonly call: string,
    /** The VM's full resource name, or the project for `getProject`. */
    readonly resource: string,
    readonly detail: string,
    /** The gRPC status code the client reported, if any. */
    readonly code?: unknown,
    options?: { cause?: unknown },
  ) {
    super(`${call} for ${resource} failed: ${detail}`, options);
    this.name = 'TagBindingError';
  }
}

/**
 * The quarantine's secure tag through Resource Manager's tag bindings. A VM is named as the API
 * names it: `//compute.googleapis.com/projects/<project number>/zones/<zone>/instances/<id>`,
 * its project by number (read once per project with `projects.get`, then kept) and the VM by its
 * numeric id, which is never reused. Each zone's bindings go to that zone's client.
 *
 * Creating and deleting a binding are long-running operations, waited for; every method keeps
 * to one deadline for its calls and the wait. Built from client factories so that the function
 * and the tools share it.
 */
export class ResourceManagerQuarantine implements QuarantineControl {
  private readonly zonal = new Map<string, Promise<TagBindingsClient>>();
  private readonly numbers = new Map<string, Promise<string>>();

  /**
   * @param tagBindings creates the tag bindings client of a zone; called once per zone.
   * @param projects creates the projects client, on first use.
   * @param timeoutMs deadline of each method as a whole.
   */
  constructor(
    private readonly tagBindings: (zone: string) => Promise<TagBindingsClient>,
    private readonly projects: () => Promise<ProjectsClient>,
    private readonly timeoutMs = 20_000,
  ) {}

  async bind(instance: InstanceTarget, tagValue: string): Promise<TagBound> {
    const deadline = Date.now() + this.timeoutMs;
    const parent = await this.parentOf(instance, deadline);
    const client = await this.clientOf(instance.zone);
    try {
      const [operation] = await client.createTagBinding({ tagBinding: { parent, tagValue } }, this.callOptions(deadline));
      const [binding] = await operation.promise();
      if (!binding?.name)
        throw new TagBindingError('createTagBinding', parent, `the operation ${operation.name ?? '?'} returned no binding name`);
      return { binding: binding.name, existed: false };
    } catch (e) {
      // Answered at once or by the finished operation: the VM carries the value already.
      if (errorCode(e) !== Code.ALREADY_EXISTS) throw this.failure('createTagBinding', parent, e, deadline);
    }
    const existing = await this.find(client, parent, tagValue, deadline);
    if (existing === undefined) {
      throw new TagBindingError(
        'createTagBinding',
        parent,
        `ALREADY_EXISTS for ${tagValue}, yet listTagBindings does not list it`,
        Code.ALREADY_EXISTS,
      );
    }
    return { binding: existing, existed: true };
  }

  async unbind(instance: InstanceTarget, tagValue: string): Promise<boolean> {
    const deadline = Date.now() + this.timeoutMs;
    const parent = await this.parentOf(instance, deadline);
    const client = await this.clientOf(instance.zone);
    const name = await this.find(client, parent, tagValue, deadline);
    if (name === undefined) return false;
    try {
      const [operation] = await client.deleteTagBinding({ name }, this.callOptions(deadline));
      await operation.promise();
    } catch (e) {
      // Removed by someone else between the list and the delete.
      if (errorCode(e) === Code.NOT_FOUND) return false;
      throw this.failure('deleteTagBinding', parent, e, deadline);
    }
    return true;
  }

  /** The name of the binding of `tagValue` to `parent`, every page read, or undefined. */
  private async find(client: TagBindingsClient, parent: string, tagValue: string, deadline: number): Promise<string | undefined> {
    let bindings;
    try {
      [bindings] = await client.listTagBindings({ parent }, { timeout: remaining(deadline) });
    } catch (e) {
      throw this.failure('listTagBindings', parent, e, deadline);
    }
    const found = bindings.find((b) => b.tagValue === tagValue);
    if (found !== undefined && !found.name)
      throw new TagBindingError('listTagBindings', parent, `lists ${tagValue} without the binding's name`);
    return found?.name ?? undefined;
  }

  /** The VM's full resource name, its project by number. */
  private async parentOf(instance: InstanceTarget, deadline: number): Promise<string> {
    const number = await this.projectNumber(instance.projectId, deadline);
    return `//compute.googleapis.com/projects/${number}/zones/${instance.zone}/instances/${instance.id}`;
  }

  /** The project's number, read once per project; a failed read is forgotten, so the next event asks again. */
  private projectNumber(projectId: string, deadline: number): Promise<string> {
    if (PROJECT_NUMBER.test(projectId)) return Promise.resolve(projectId);
    let pending = this.numbers.get(projectId);
    if (pending === undefined) {
      pending = this.readProjectNumber(projectId, deadline);
      this.numbers.set(projectId, pending);
      pending.catch(() => this.numbers.delete(projectId));
    }
    return pending;
  }

  private async readProjectNumber(projectId: string, deadline: number): Promise<string> {
    const resource = `projects/${projectId}`;
    let project;
    try {
      [project] = await (await this.projects()).getProject({ name: resource }, { timeout: remaining(deadline) });
    } catch (e) {
      throw this.failure('getProject', resource, e, deadline);
    }
    const number = /^projects\/([1-9][0-9]*)$/.exec(project.name ?? '')?.[1];
    // Binding the tag in another project than the VM's is worse than retrying.
    if (number === undefined || project.projectId !== projectId) {
      throw new TagBindingError('getProject', resource, `answered name '${project.name ?? ''}' and projectId '${project.projectId ?? ''}'`);
    }
    return number;
  }

  /** The zone's client, created once; a failed creation is forgotten. */
  private clientOf(zone: string): Promise<TagBindingsClient> {
    let pending = this.zonal.get(zone);
    if (pending === undefined) {
      pending = this.tagBindings(zone);
      this.zonal.set(zone, pending);
      pending.catch(() => this.zonal.delete(zone));
    }
    return pending;
  }

  /** The call's own timeout and, for a long-running call, the polling of its operation, both within the deadline. */
  private callOptions(deadline: number) {
    const left = remaining(deadline);
    return {
      timeout: left,
      longrunning: {
        initialRetryDelayMillis: 100,
        retryDelayMultiplier: 2,
        maxRetryDelayMillis: 1_000,
        initialRpcTimeoutMillis: left,
        rpcTimeoutMultiplier: 1,
        maxRpcTimeoutMillis: left,
        totalTimeoutMillis: left,
      },
    };
  }

  private failure(call: string, resource: string, e: unknown, deadline: number): Error {
    if (e instanceof TagBindingError) return e;
    const code = errorCode(e);
    const detail =
      code === Code.DEADLINE_EXCEEDED || remaining(deadline) <= 0
        ? `not done after ${Math.round(this.timeoutMs / 100) / 10} s`
        : e instanceof Error
          ? e.message
          : String(e);
    return new TagBindingError(call, resource, detail, code, { cause: e });
  }
}

/** Milliseconds left before `deadline`, never negative. */
function remaining(deadline: number): number {
  return Math.max(0, deadline - Date.now());
}
