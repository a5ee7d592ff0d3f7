import type { AuthClient } from 'google-auth-library';
import { ApiEndpoint, RESOURCE_MANAGER_API_ENDPOINT, SECURITY_CENTER_API_ENDPOINT } from '../../function/contract';
import { Code, errorCode } from '../../function/core/api-errors';
import type { FindingSink, QuarantineControl } from '../../function/core/ports';
import { apiEndpoint, probeUrlOf, standInProblem } from '../baselines/endpoints';
import { CliError, deadlineIn, explainFailure, withDeadline } from '../common';
import { checkedCredentials } from '../credentials';
import { VmRef, vmText } from './options';

/*
 * What a release does outside Firestore, through the function's own adapters (the ports
 * QuarantineControl and FindingSink): remove the quarantine's tag binding from the VM, then set
 * its finding INACTIVE. Each is safe to repeat; each failure becomes one sentence that says the
 * ledger was left as it was and what to do. RESOURCE_MANAGER_API_ENDPOINT and
 * SECURITY_CENTER_API_ENDPOINT point them at other endpoints, by the function's own rule.
 */

/** What the release has to undo: the quarantine's tag value, the finding to set INACTIVE. */
export interface ControlsNeeded {
  readonly quarantine?: string;
  readonly finding?: string;
}

/** What it undid. */
export interface ReleaseSteps {
  /** A tag binding was removed (false: the VM carried none, or there was no quarantine). */
  readonly unbound: boolean;
  /** The finding was set INACTIVE now. */
  readonly deactivated: boolean;
}

/** The ports a release calls, opened for the endpoints in use, and how to close their clients. */
export interface ReleasePorts {
  readonly quarantine?: QuarantineControl;
  readonly findings?: FindingSink;
  close(): Promise<void>;
}

/**
 * The function's own adapters (the tools share them, ADR 0031) over the tools' clients: each
 * client created on first use with the credentials the tool checked (none for a plain-HTTP
 * stand-in), and closed by `close`.
 */
async function openPorts(
  needs: ControlsNeeded,
  endpoints: { readonly resourceManager?: ApiEndpoint; readonly securityCenter?: ApiEndpoint },
  authClient: AuthClient | undefined,
  timeoutMs: number,
): Promise<ReleasePorts> {
  const clients = await import('../clients.js');
  const opened: { close(): Promise<unknown> }[] = [];
  const kept = async <C extends { close(): Promise<unknown> }>(created: Promise<C>): Promise<C> => {
    const client = await created;
    opened.push(client);
    return client;
  };
  let quarantine: QuarantineControl | undefined;
  if (needs.quarantine !== undefined) {
    const { ResourceManagerQuarantine } = await import('../../function/adapters/tag-quarantine.js');
    const endpoint = endpoints.resourceManager;
    quarantine = new ResourceManagerQuarantine(
      (zone) => kept(clients.openTagBindingsClient(zone, endpoint, authClient)),
      () => kept(clients.openProjectsClient(endpoint, authClient)),
      timeoutMs,
    );
  }
  let findings: FindingSink | undefined;
  if (needs.finding !== undefined) {
    const { SecurityCenterFindings } = await import('../../function/adapters/scc-findings.js');
    findings = new SecurityCenterFindings(() => kept(clients.openSecurityCenterClient(endpoints.securityCenter, authClient)), timeoutMs);
  }
  return {
    ...(quarantine !== undefined && { quarantine }),
    ...(findings !== undefined && { findings }),
    // Closing may fail for the reason a call did; that call's error is the one to report.
    close: async () => void (await Promise.all(opened.map((c) => c.close().catch(() => undefined)))),
  };
}

/** Where the APIs are, unless the variables name other endpoints. */
const RESOURCE_MANAGER_URL = 'https://cloudresourcemanager.googleapis.com';
const SECURITY_CENTER_URL = 'https://securitycenter.googleapis.com';

/** How the end of a failure sentence says that the ledger is untouched and what comes next. */
const UNTOUCHED =
  'nothing was recorded: the VM stays contained in the ledger; run the command again once this is fixed (repeating it is safe)';

/** One API the release calls: its variable, its endpoint, and what it is for. */
interface Api {
  readonly variable: string;
  readonly endpoint: ApiEndpoint | undefined;
  readonly url: string;
  readonly service: string;
}

/** `could not <doing>: <why>; <advice>; <untouched>`, for an error of one of the calls. */
function failure(doing: string, e: unknown, env: NodeJS.ProcessEnv, denied: string, api: Api, before = ''): CliError {
  if (e instanceof CliError) return new CliError(`${e.message}; ${before}${UNTOUCHED}`);
  const advice =
    errorCode(e) === Code.PERMISSION_DENIED
      ? `; ${denied}`
      : api.endpoint !== undefined
        ? `; check ${api.variable} (now ${env[api.variable]})`
        : '';
  return new CliError(`could not ${doing}: ${explainFailure(e, env)}${advice}; ${before}${UNTOUCHED}`);
}

/**
 * Removes the quarantine's tag binding from the VM and sets its finding INACTIVE, as `needs` asks,
 * within `seconds`. Rejects with a {@link CliError} saying what failed; nothing is written to the
 * ledger here, so a failure leaves it as it was.
 */
export async function releaseControls(env: NodeJS.ProcessEnv, seconds: number, vm: VmRef, needs: ControlsNeeded): Promise<ReleaseSteps> {
  if (needs.quarantine === undefined && needs.finding === undefined) return { unbound: false, deactivated: false };
  const deadline = deadlineIn(seconds);
  const tagDoing = `remove the quarantine tag ${needs.quarantine ?? ''} from ${vmText(vm)}`;
  const findingDoing = `set the finding ${needs.finding ?? ''} INACTIVE`;
  const rm: Api = {
    variable: RESOURCE_MANAGER_API_ENDPOINT,
    endpoint: needs.quarantine !== undefined ? apiEndpoint(env, RESOURCE_MANAGER_API_ENDPOINT) : undefined,
    url: RESOURCE_MANAGER_URL,
    service: 'Resource Manager',
  };
  const scc: Api = {
    variable: SECURITY_CENTER_API_ENDPOINT,
    endpoint: needs.finding !== undefined ? apiEndpoint(env, SECURITY_CENTER_API_ENDPOINT) : undefined,
    url: SECURITY_CENTER_URL,
    service: 'Security Command Center',
  };
  const used = [
    ...(needs.quarantine !== undefined ? [{ api: rm, doing: tagDoing }] : []),
    ...(needs.finding !== undefined ? [{ api: scc, doing: findingDoing }] : []),
  ];
  // A plain-HTTP override is a local stand-in: said at once when nothing listens there.
  for (const { api, doing } of used) {
    const absent = await standInProblem(env, api.variable, api.endpoint);
    if (absent !== undefined) throw new CliError(`could not ${doing}: ${absent}; ${UNTOUCHED}`);
  }
  // Credentials only for a Google endpoint: a stand-in takes none.
  let authClient: AuthClient | undefined;
  if (used.some(({ api }) => api.endpoint?.protocol !== 'http')) {
    try {
      ({ authClient } = await checkedCredentials(env, used[0]!.doing, deadline));
    } catch (e) {
      throw failure(used[0]!.doing, e, env, '', used[0]!.api);
    }
  }
  const ports = await openPorts(
    needs,
    {
      ...(rm.endpoint !== undefined && { resourceManager: rm.endpoint }),
      ...(scc.endpoint !== undefined && { securityCenter: scc.endpoint }),
    },
    authClient,
    Math.max(1000, deadline.until - Date.now()),
  );
  const within = <T>(work: Promise<T>, api: Api, doing: string) =>
    withDeadline(
      work,
      {
        ...deadline,
        service: api.service,
        what: `when asked to ${doing}`,
        advice: `check the network, ${api.variable} and your credentials, or allow more time (--timeout)`,
        ...(probeUrlOf(api.endpoint, api.url) !== undefined && { url: probeUrlOf(api.endpoint, api.url)! }),
      },
      env,
    );
  try {
    let unbound = false;
    if (needs.quarantine !== undefined) {
      const target = { projectId: vm.projectId, zone: vm.zone, id: vm.instanceId };
      try {
        unbound = await within(ports.quarantine!.unbind(target, needs.quarantine), rm, tagDoing);
      } catch (e) {
        // The adapter reads the project's number first (projects.get), then lists and deletes the binding.
        const needed =
          (e as { call?: unknown }).call === 'getProject'
            ? `resourcemanager.projects.get on project ${vm.projectId} (to read its number)`
            : `roles/resourcemanager.tagUser on ${needs.quarantine} (releasePrincipals grants it) and compute.instances.listTagBindings and compute.instances.deleteTagBinding on project ${vm.projectId}`;
        throw failure(tagDoing, e, env, `the principal of your credentials needs ${needed}`, rm);
      }
    }
    if (needs.finding !== undefined) {
      try {
        await within(ports.findings!.deactivate(needs.finding), scc, findingDoing);
      } catch (e) {
        throw failure(
          findingDoing,
          e,
          env,
          `the principal of your credentials needs securitycenter.findings.setState on ${needs.finding} (roles/securitycenter.findingsEditor on its source: releasePrincipals grants it)`,
          scc,
          needs.quarantine !== undefined ? `the quarantine tag is off the VM, but ` : '',
        );
      }
    }
    return { unbound, deactivated: needs.finding !== undefined };
  } finally {
    await ports.close();
  }
}
