import type { InstancesClient } from '@google-cloud/compute/build/src/v1/instances_client';
import { COMPUTE_API_ENDPOINT } from '../../function/contract';
import { Code, errorCode } from '../../function/core/api-errors';
import { ComputeTarget, openInstancesClient } from '../clients';
import {
  CliError,
  authDetail,
  closedOnce,
  credentialsHint,
  deadlineIn,
  describeError,
  isInstanceId,
  unansweredWithin,
  withDeadline,
} from '../common';
import { CredentialsProblem, checkedCredentials } from '../credentials';
import { NetworkFailure, networkFailure, networkReason, networkSentence } from '../network';
import { apiEndpoint, probeUrlOf, standInProblem } from './endpoints';

/*
 * What Compute Engine says about a reference VM: its id, name and last start. The baseline tool
 * trusts these, not the labels or the timestamp of a log entry, which whoever writes the entry
 * chooses (ADR 0021). The client is the tools' own (cli/clients.ts), pointed at
 * COMPUTE_API_ENDPOINT by the rule the function applies (the contract's `parseApiEndpoint`).
 */

/** Which VM to ask about. */
export interface VmQuery {
  readonly project: string;
  readonly zone: string;
  /** Instance name or numeric id, as `instances.get` takes either. */
  readonly instance: string;
}

/** A VM as Compute Engine describes it. */
export interface ReferenceVm {
  readonly project: string;
  readonly zone: string;
  /** Numeric id, as a decimal string. */
  readonly id: string;
  readonly name: string;
  readonly status?: string;
  /** RFC 3339 time of its most recent start; absent when it never started. */
  readonly lastStartTimestamp?: string;
}

/**
 * Compute Engine could not be asked about the VM, or did not answer: nothing is known about
 * it. `reason` says why in a few words, for a line that lists the checks not made.
 */
export class ComputeUnanswered extends CliError {
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
    this.name = 'ComputeUnanswered';
  }
}

/** Where Compute Engine is asked, unless COMPUTE_API_ENDPOINT names another endpoint. */
const COMPUTE_URL = 'https://compute.googleapis.com';

/**
 * Reads one VM with `instances.get`. Rejects with a {@link ComputeUnanswered} when Compute
 * Engine could not be asked or did not answer (no credentials, a network that fails, a
 * refusal, no answer within `timeoutSeconds`), and with a plain {@link CliError} when it
 * answered that there is no such VM or answered about another one. `open` creates the client;
 * by default the tools' own (cli/clients.ts), with Application Default Credentials checked first (a plain-HTTP
 * stand-in takes none). It is always closed.
 */
export async function describeVm(
  q: VmQuery,
  env: NodeJS.ProcessEnv,
  timeoutSeconds: number,
  open?: (config: ComputeTarget) => Promise<InstancesClient>,
): Promise<ReferenceVm> {
  const endpoint = apiEndpoint(env, COMPUTE_API_ENDPOINT);
  const vm = `VM ${q.instance} in ${q.project}/${q.zone}`;
  // One deadline for all of it: the credentials' check, the client, the call.
  const deadline = deadlineIn(timeoutSeconds);
  const late = unansweredWithin('Compute Engine', timeoutSeconds, `when asked about ${vm}`);
  const tooLate = (network: NetworkFailure | undefined) =>
    network !== undefined
      ? new ComputeUnanswered(`${late}: ${networkSentence(network)}`, networkReason(network))
      : new ComputeUnanswered(
          `${late}; check the network, ${COMPUTE_API_ENDPOINT} (${endpoint ? `now ${env[COMPUTE_API_ENDPOINT]}` : 'unset: the default endpoint'}) ` +
            `and your credentials, or allow more time (--timeout)`,
          `it did not answer within ${timeoutSeconds} s`,
        );
  const { hold, close } = closedOnce<InstancesClient>();
  const lookup = async () => {
    const absent = await standInProblem(env, COMPUTE_API_ENDPOINT, endpoint);
    if (absent !== undefined) {
      throw new ComputeUnanswered(
        `cannot ask Compute Engine about ${vm}: ${absent}`,
        `nothing listens at ${COMPUTE_API_ENDPOINT} ${env[COMPUTE_API_ENDPOINT]}`,
      );
    }
    let authClient;
    if (open === undefined && endpoint?.protocol !== 'http') {
      try {
        ({ authClient } = await checkedCredentials(env, `ask Compute Engine about ${vm}`, deadline));
      } catch (e) {
        throw e instanceof CredentialsProblem ? new ComputeUnanswered(e.message, e.reason) : e;
      }
    }
    const config = endpoint === undefined ? {} : { computeEndpoint: endpoint };
    const created = await (open ? open(config) : openInstancesClient(config, authClient));
    if (!hold(created)) return close().then(() => undefined);
    // Find credentials here, where a failure is caught: the generated methods start the client
    // with a rejection nobody handles, which ends the process when there are none.
    await created.initialize();
    const [instance] = await created.get(
      { project: q.project, zone: q.zone, instance: q.instance },
      { timeout: Math.max(1, deadline.until - Date.now()) },
    );
    return instance;
  };
  const probe = open === undefined ? probeUrlOf(endpoint, COMPUTE_URL) : undefined;
  try {
    const instance = await withDeadline(
      lookup(),
      {
        ...deadline,
        ...(probe !== undefined && { url: probe }),
        timedOut: isTimeout,
        late: tooLate,
      },
      env,
    );
    if (instance === undefined) throw tooLate(undefined);
    return checkedVm(instance, q, vm);
  } catch (e) {
    throw explain(e, vm, env);
  } finally {
    await close();
  }
}

/** The VM as answered, refused when it is not the one asked for. */
function checkedVm(
  instance: { id?: unknown; name?: unknown; status?: unknown; lastStartTimestamp?: unknown },
  q: VmQuery,
  vm: string,
): ReferenceVm {
  const id = instance.id === undefined || instance.id === null ? '' : String(instance.id);
  const name = typeof instance.name === 'string' ? instance.name : '';
  if (!/^[0-9]+$/.test(id) || name === '' || (isInstanceId(q.instance) ? id !== q.instance : name !== q.instance)) {
    throw new CliError(
      `Compute Engine answered about VM ${name || '(no name)'} (id ${id || 'none'}) when asked about ${vm}; refusing to use it, ` +
        `check ${COMPUTE_API_ENDPOINT}`,
    );
  }
  const started = instance.lastStartTimestamp;
  return {
    project: q.project,
    zone: q.zone,
    id,
    name,
    ...(typeof instance.status === 'string' && { status: instance.status }),
    ...(typeof started === 'string' && started !== '' && !Number.isNaN(Date.parse(started)) && { lastStartTimestamp: started }),
  };
}

/** Whether Compute Engine's error says it did not answer in time, or could not be reached. */
function isTimeout(e: unknown): boolean {
  if (e instanceof CliError || networkFailure(e) !== undefined) return false;
  const code = errorCode(e);
  return code === Code.DEADLINE_EXCEEDED || code === Code.UNAVAILABLE;
}

/** Turns a failed `instances.get` into a sentence that says what to do. */
function explain(e: unknown, vm: string, env: NodeJS.ProcessEnv): Error {
  if (e instanceof CliError) return e;
  const network = networkFailure(e, env);
  if (network !== undefined) {
    return new ComputeUnanswered(`could not ask Compute Engine about ${vm}: ${networkSentence(network)}`, networkReason(network));
  }
  const detail = describeError(e).replace(/\.$/, '');
  switch (errorCode(e)) {
    case Code.NOT_FOUND:
    case 404:
      return new CliError(`Compute Engine has no ${vm} (${detail}); check the name or id, the zone and the project`);
    case Code.PERMISSION_DENIED:
    case 403:
      return new ComputeUnanswered(
        `Compute Engine refused to describe ${vm} (${detail}); the caller needs compute.instances.get there, ` +
          `for example through roles/compute.viewer`,
        'it refused instances.get: permission denied',
      );
  }
  const hint = credentialsHint(e);
  if (hint !== '' || errorCode(e) === Code.UNAUTHENTICATED) {
    return new ComputeUnanswered(
      `could not ask Compute Engine about ${vm}: ${authDetail(e)}${hint}`,
      'no usable Application Default Credentials',
    );
  }
  return new ComputeUnanswered(`could not ask Compute Engine about ${vm}: ${detail}`, detail);
}
