import type { GlobalOperationsClient } from '@google-cloud/compute/build/src/v1/global_operations_client';
import type { SnapshotsClient } from '@google-cloud/compute/build/src/v1/snapshots_client';
import { SNAPSHOT_LABELS } from '../contract';
import { Code, errorCode } from '../core/api-errors';
import { EvidenceControl, OperationFailedError, SnapshotRateLimitedError, SnapshotRequest, TakenSnapshot } from '../core/ports';
import { BLOCKED_MS, MAX_PAUSE_MS, MIN_PAUSE_MS, ZoneOperation, isDone, operationError, remaining, sleep } from './compute-control';

/**
 * The code Compute Engine gives a snapshot refused for its per-disk rate, in the finished
 * operation's errors or at once in an HTTP 403
 * (https://cloud.google.com/compute/docs/disks/snapshot-best-practices).
 */
const RATE_EXCEEDED = 'RESOURCE_OPERATION_RATE_EXCEEDED';

/**
 * `projects/…/disks/NAME` from a disk URL: `sourceDisk` may be sent as a full URL
 * (`https://www.googleapis.com/compute/v1/projects/…`) or a partial one, and the API answers it
 * as a full URL, whose host may differ.
 */
function diskPath(url: string): string {
  const at = url.indexOf('projects/');
  return at < 0 ? url : url.slice(at);
}

/** Whether a Compute error is the snapshot rate limit: by its ErrorInfo reason, or its message. */
function isRateExceeded(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const { reason, message } = e as { reason?: unknown; message?: unknown };
  return reason === RATE_EXCEEDED || (typeof message === 'string' && message.includes(RATE_EXCEEDED));
}

/**
 * A conflict on insert: the name is taken. Over REST the client maps HTTP 409 to ABORTED; the
 * snapshot itself, read next, says whether it is the one asked for.
 */
function isConflict(e: unknown): boolean {
  const code = errorCode(e);
  return code === Code.ALREADY_EXISTS || code === Code.ABORTED || code === 409;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Evidence snapshots through the official Compute client: `snapshots.insert` in the forensics
 * project with the disk's URL as `sourceDisk` (the call that can write a snapshot into another
 * project than the disk's, unlike `disks.createSnapshot`:
 * https://cloud.google.com/compute/docs/reference/rest/v1/disks/createSnapshot), then
 * `globalOperations.wait` until it is done.
 */
export class ComputeEvidenceControl implements EvidenceControl {
  /**
   * @param snapshots the Snapshots client, created on first use.
   * @param operations the GlobalOperations client, created on first use.
   * @param timeoutMs deadline of a snapshot as a whole: the insert and the wait for its
   *   operation. A snapshot that runs out of time may still be taken, which the request id (and
   *   the deterministic name) make safe to ask for again on redelivery.
   */
  constructor(
    private readonly snapshots: () => Promise<SnapshotsClient>,
    private readonly operations: () => Promise<GlobalOperationsClient>,
    private readonly timeoutMs = 20_000,
  ) {}

  async snapshot(request: SnapshotRequest): Promise<TakenSnapshot> {
    const deadline = Date.now() + this.timeoutMs;
    const snapshot = `projects/${request.project}/global/snapshots/${request.name}`;
    const client = await this.snapshots();
    let first: ZoneOperation | undefined;
    try {
      const [operation] = await client.insert(
        {
          project: request.project,
          requestId: request.requestId,
          // storageLocations is left unset: the forensics project's snapshot settings then
          // decide where the snapshot is stored, by default the Cloud Storage multi-region
          // nearest the disk (https://cloud.google.com/compute/docs/disks/snapshot-settings).
          // An operator bound to a region sets it there, once, for every snapshot.
          snapshotResource: {
            name: request.name,
            sourceDisk: request.sourceDisk,
            labels: { ...request.labels },
            description: request.description,
          },
        },
        { timeout: remaining(deadline) },
      );
      first = operation.latestResponse as ZoneOperation | undefined;
    } catch (e) {
      if (isRateExceeded(e)) throw new SnapshotRateLimitedError(request.sourceDisk, message(e));
      if (isConflict(e)) return this.existing(client, request, snapshot, e, deadline);
      throw e;
    }
    const operation = await this.waitFor(request, first, deadline);
    return { snapshot, operation, existed: false };
  }

  /**
   * The snapshot of that name the project holds already: evidence of the same disk counts as
   * taken (an earlier delivery took it), a snapshot of another disk never does.
   */
  private async existing(
    client: SnapshotsClient,
    request: SnapshotRequest,
    snapshot: string,
    conflict: unknown,
    deadline: number,
  ): Promise<TakenSnapshot> {
    let found;
    try {
      [found] = await client.get({ project: request.project, snapshot: request.name }, { timeout: remaining(deadline) });
    } catch (e) {
      // Gone between the insert and the read: report the conflict as it was.
      if (errorCode(e) === Code.NOT_FOUND) throw conflict;
      throw e;
    }
    const wanted = diskPath(request.sourceDisk);
    const held = found.sourceDisk ? diskPath(found.sourceDisk) : '(none)';
    if (held !== wanted) {
      throw new Error(
        `snapshot ${snapshot} exists already and is of disk ${held}, not of ${wanted}: it is not taken as evidence of ${wanted}; ` +
          'delete or rename it, or take the evidence under another name',
      );
    }
    // Of the same disk, and taken for the same decision: a snapshot some other request left under
    // this name is not this containment's evidence.
    const wantedRequest = request.labels[SNAPSHOT_LABELS.requestId];
    const heldRequest = found.labels?.[SNAPSHOT_LABELS.requestId];
    if (wantedRequest !== undefined && heldRequest !== wantedRequest) {
      throw new Error(
        `snapshot ${snapshot} exists already but was taken for request ${heldRequest ?? '(none)'}, not ${wantedRequest}: ` +
          'it is not taken as evidence of this containment; delete or rename it',
      );
    }
    const status = found.status === undefined || found.status === null ? undefined : String(found.status);
    if (status === 'FAILED' || status === 'DELETING') {
      throw new Error(`snapshot ${snapshot} of ${wanted} exists already but is ${status}: delete it to take the evidence again`);
    }
    // Taken by an earlier delivery whose operation is still running: evidence once it is READY.
    // Not done yet, so the event is redelivered and the step asks again.
    if (status === 'CREATING' || status === 'UPLOADING') {
      throw new OperationFailedError(snapshot, `exists already and is still ${status}`, false);
    }
    return { snapshot, existed: true };
  }

  /**
   * Waits with `globalOperations.wait` until the operation is DONE or the deadline passes, with
   * the pauses and deadline of ComputeInstanceControl's zonal wait. The rate limit in the finished
   * operation throws SnapshotRateLimitedError; any other error, OperationFailedError; running out
   * of time, OperationFailedError that is not finished.
   */
  private async waitFor(request: SnapshotRequest, first: ZoneOperation | undefined, deadline: number): Promise<string> {
    const name = first?.name;
    if (!name) throw new Error(`snapshots.insert of ${request.name} in ${request.project} returned no operation name`);
    let op: ZoneOperation = first;
    let pause = MIN_PAUSE_MS;
    let client: GlobalOperationsClient | undefined;
    while (!isDone(op)) {
      const left = remaining(deadline);
      if (left <= 0) throw this.notDone(name);
      client ??= await this.operations();
      const asked = Date.now();
      try {
        [op] = await client.wait({ project: request.project, operation: name }, { timeout: left });
      } catch (e) {
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
    if (error === undefined) return name;
    if ((op.error?.errors ?? []).some((e) => e.code === RATE_EXCEEDED)) {
      throw new SnapshotRateLimitedError(request.sourceDisk, `operation ${name}: ${error}`);
    }
    throw new OperationFailedError(name, error);
  }

  private notDone(name: string): OperationFailedError {
    return new OperationFailedError(name, `not done after ${Math.round(this.timeoutMs / 100) / 10} s`, false);
  }
}
