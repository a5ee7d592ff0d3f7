import type { SecurityCenterClient } from '@google-cloud/security-center/build/src/v2/security_center_client';
import { Code, errorCode } from '../core/api-errors';
import type { FindingRequest, FindingSink } from '../core/ports';

/** A source, as FINDINGS_SOURCE names it. */
const SOURCE = /^organizations\/[1-9][0-9]*\/sources\/[1-9][0-9]*$/;
/** What the API takes as a finding id: 1 to 32 letters and digits. */
const FINDING_ID = /^[A-Za-z0-9]{1,32}$/;
/** A v2 finding name, with its location (the API reads one without it as `global`). */
const FINDING_NAME = /^organizations\/[1-9][0-9]*\/sources\/[1-9][0-9]*(?:\/locations\/[a-z0-9-]+)?\/findings\/[A-Za-z0-9]{1,32}$/;
/** What the API takes as a source property's key. */
const PROPERTY_KEY = /^[A-Za-z][A-Za-z0-9_]{0,254}$/;
const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'] as const;
/** RFC 3339 with an optional fraction of up to nine digits and a zone. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.(\d{1,9}))?(?:Z|[+-]\d{2}:\d{2})$/i;

/**
 * Findings are raised in the source's `global` location: an organization without data residency
 * holds its findings there, and v2 names every finding with a location.
 */
const LOCATION = 'global';

/** A Security Command Center call failed, or a finding could not be sent as asked. */
export class FindingError extends Error {
  constructor(
    /** `createFinding` or `setFindingState`. */
    readonly call: string,
    /** The finding's name (or the one it would have). */
    readonly finding: string,
    readonly detail: string,
    /** The gRPC status code the client reported, if any. */
    readonly code?: unknown,
    options?: { cause?: unknown },
  ) {
    super(`${call} for ${finding} failed: ${detail}`, options);
    this.name = 'FindingError';
  }
}

/**
 * Findings in Security Command Center, through the v2 API. A finding is raised ACTIVE, with the
 * class THREAT: a failed integrity report says the VM booted something other than what it was
 * known to boot, which is activity on the VM (possibly malicious), not a setting of it
 * (MISCONFIGURATION) or a weakness in its software (VULNERABILITY). Its id is the caller's,
 * deterministic, so a redelivery finds the finding it raised (ALREADY_EXISTS) and counts it.
 * Built from a client factory so that the function and the tools share it.
 */
export class SecurityCenterFindings implements FindingSink {
  /**
   * @param client creates the Security Command Center client, on first use.
   * @param timeoutMs deadline of each call.
   */
  constructor(
    private readonly client: () => Promise<SecurityCenterClient>,
    private readonly timeoutMs = 20_000,
  ) {}

  async raise(request: FindingRequest): Promise<{ readonly name: string; readonly existed: boolean }> {
    const parent = `${request.source}/locations/${LOCATION}`;
    const name = `${parent}/findings/${request.findingId}`;
    const severity = SEVERITIES.find((s) => s === request.severity);
    const problem =
      requestProblem(request) ??
      (severity === undefined ? `severity '${request.severity}' is not one of ${SEVERITIES.join(', ')}` : undefined);
    if (problem !== undefined) throw new FindingError('createFinding', name, problem, Code.INVALID_ARGUMENT);
    const client = await this.client();
    try {
      const [finding] = await client.createFinding(
        {
          parent,
          findingId: request.findingId,
          finding: {
            state: 'ACTIVE',
            findingClass: 'THREAT',
            category: request.category,
            severity,
            resourceName: request.resourceName,
            eventTime: timestamp(request.eventTime),
            description: request.description,
            ...(request.externalUri !== undefined && { externalUri: request.externalUri }),
            sourceProperties: Object.fromEntries(Object.entries(request.properties).map(([k, v]) => [k, protoValue(v)])),
          },
        },
        { timeout: this.timeoutMs },
      );
      return { name: finding.name || name, existed: false };
    } catch (e) {
      if (errorCode(e) !== Code.ALREADY_EXISTS) throw failure('createFinding', name, e);
    }
    // Raised before, about the same VM and boot: by an earlier delivery of this containment, or by
    // an earlier containment since released or relearned. Either way it is open now.
    try {
      await client.setFindingState({ name, state: 'ACTIVE' }, { timeout: this.timeoutMs });
    } catch (e) {
      throw failure('setFindingState', name, e);
    }
    return { name, existed: true };
  }

  async deactivate(name: string): Promise<void> {
    if (!FINDING_NAME.test(name)) {
      throw new FindingError(
        'setFindingState',
        name,
        'not a finding name like organizations/O/sources/S/locations/global/findings/F',
        Code.INVALID_ARGUMENT,
      );
    }
    const client = await this.client();
    try {
      await client.setFindingState({ name, state: 'INACTIVE' }, { timeout: this.timeoutMs });
    } catch (e) {
      // A finding that is gone has nothing left to close.
      if (errorCode(e) === Code.NOT_FOUND) return;
      throw failure('setFindingState', name, e);
    }
  }
}

/** Why the API would refuse the finding, or undefined: checked here so the refusal names the field. */
function requestProblem(r: FindingRequest): string | undefined {
  if (!SOURCE.test(r.source)) return `source '${r.source}' is not organizations/<number>/sources/<number>`;
  if (!FINDING_ID.test(r.findingId)) return `finding id '${r.findingId}' is not 1 to 32 letters and digits`;
  if (!RFC3339.test(r.eventTime) || Number.isNaN(Date.parse(r.eventTime))) return `eventTime '${r.eventTime}' is not an RFC 3339 time`;
  const key = Object.keys(r.properties).find((k) => !PROPERTY_KEY.test(k));
  if (key !== undefined) return `property key '${key}' does not start with a letter or holds more than letters, digits and underscores`;
  return undefined;
}

/** An RFC 3339 time as `google.protobuf.Timestamp`, its fraction kept to the nanosecond. */
function timestamp(time: string): { seconds: number; nanos: number } {
  const fraction = RFC3339.exec(time)?.[1] ?? '';
  return { seconds: Math.floor(Date.parse(time) / 1000), nanos: Number(fraction.padEnd(9, '0')) };
}

/** A source property as `google.protobuf.Value`. */
function protoValue(v: string | number | boolean | readonly string[]) {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  return { listValue: { values: v.map((s) => ({ stringValue: s })) } };
}

function failure(call: string, name: string, e: unknown): FindingError {
  const code = errorCode(e);
  const detail = code === Code.DEADLINE_EXCEEDED ? 'no answer within the deadline' : e instanceof Error ? e.message : String(e);
  return new FindingError(call, name, detail, code, { cause: e });
}
