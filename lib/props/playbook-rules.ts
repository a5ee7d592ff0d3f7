import { Fn, Token } from 'cdktf';
import { ContainmentStep, EvidenceStep, EVIDENCE_STEPS, FailureAction, playbookProblem, scopeKindOf } from '../../function/contract';
import { IntegrityResponderPropsError, show } from '../errors';
import type { ResolvedProps } from './resolved';

/*
 * The rules of the containment playbook's props (ADR 0031): the steps, what each step needs
 * (a forensics project for `snapshot`, an organization and a place for the firewall policy for
 * `quarantine`), and who may release a contained VM.
 */

/** A firewall policy's parent, and the node it is associated with: a folder or an organization. */
const POLICY_PARENT = /^(?:folders|organizations)\/[1-9][0-9]{0,19}$/;

/** What `quarantineFirewallPolicy` may put before the policy's numeric id. */
const POLICY_PATH = 'locations/global/firewallPolicies/';

/** The quarantine's rules: ingress and egress, each for IPv4 and IPv6, at consecutive priorities. */
export const QUARANTINE_RULE_COUNT = 4;

/**
 * The lowest priority (the largest number) a rule of a firewall policy may take: "an integer from
 * 0 to 2,147,483,547" (cloud.google.com/firewall/docs/firewall-policies-rule-details#priority);
 * the priorities below it hold the policy's predefined goto_next rules
 * (cloud.google.com/firewall/docs/pre-defined-rules).
 */
const LOWEST_RULE_PRIORITY = 2_147_483_547;

/** The range of `quarantineRulePriority`, the first of the rules' priorities: the last rule must fit too. */
export const QUARANTINE_RULE_PRIORITY = {
  kind: 'integer',
  min: 0,
  max: LOWEST_RULE_PRIORITY - (QUARANTINE_RULE_COUNT - 1),
  default: 0,
} as const;

/**
 * A release principal: someone named, or a group of them. A user, a group, a service account (an
 * automation that runs the release tool), one federated identity (`principal://`, a workforce or
 * workload pool's subject), or a workforce pool's group, the group of an organization that signs
 * its people in through an identity provider of its own
 * (cloud.google.com/iam/docs/principal-identifiers). Each gets `tagUser` on the quarantine value,
 * with which it can lift any quarantine: never a domain or another principal set (a whole pool,
 * an attribute value, every service account of a project or organization), which can hold the
 * watched projects' admins.
 */
const RELEASE_PRINCIPAL =
  /^(?:(?:user|group|serviceAccount):[^\s@:/]+@[^\s@:/]+\.[^\s@:/]+|principal:\/\/\S+|principalSet:\/\/iam\.googleapis\.com\/locations\/global\/workforcePools\/[^/\s]+\/group\/[^/\s]+)$/;
/** A member IAM names by an email address, and one of each kind for the error that refuses another name. */
const EMAIL_KIND = /^(user|group|serviceAccount):/;
const EMAIL_EXAMPLES: Record<string, string> = {
  user: 'user:ana@example.com',
  group: 'group:incident-response@example.com',
  serviceAccount: 'serviceAccount:release-bot@fleet-ops.iam.gserviceaccount.com',
};
/** What a release principal may be, in words. */
const RELEASE_PRINCIPAL_HINT =
  "user:, group:, serviceAccount:, principal:// or a workforce pool's group, principalSet://iam.googleapis.com/locations/global/workforcePools/<pool>/group/<group>";
const PUBLIC = ['allUsers', 'allAuthenticatedUsers'];
/** Why a domain or a wide principal set is refused, and what to name instead. */
const WIDE_RELEASERS =
  "would get tagUser on the quarantine tag value, and so could lift any quarantine: the watched projects' admins among them. Name a group of responders instead, such as 'group:incident-response@example.com'";

/**
 * The playbook of the props as given: `containment`, or the failure action alone. When both are
 * given they must agree: the last step is the failure action.
 */
export function playbookOf(
  containment: readonly ContainmentStep[] | undefined,
  failureAction: FailureAction | undefined,
  defaultAction: FailureAction,
): {
  readonly containment: readonly ContainmentStep[];
  readonly failureAction: FailureAction;
} {
  if (containment === undefined) {
    const action = failureAction ?? defaultAction;
    return { containment: [action], failureAction: action };
  }
  if (!Array.isArray(containment)) {
    throw new IntegrityResponderPropsError(`containment must be a list of steps, got ${show(containment)}`);
  }
  const problem = playbookProblem(containment);
  if (problem !== undefined) throw new IntegrityResponderPropsError(`containment is not a playbook: ${problem}; got ${show(containment)}`);
  const last = containment[containment.length - 1] as FailureAction;
  if (failureAction !== undefined && failureAction !== last) {
    throw new IntegrityResponderPropsError(
      `containment ends with '${last}' but failureAction is '${failureAction}': the last step is the failure action, so they must agree (leave failureAction out)`,
    );
  }
  return { containment: [...containment], failureAction: last };
}

/** The steps of a playbook taken before the stop or suspend, in their order. */
export function evidenceStepsOf(containment: readonly ContainmentStep[]): EvidenceStep[] {
  return EVIDENCE_STEPS.filter((s) => containment.includes(s));
}

/** Whether the playbook lists a step. */
export const lists = (r: ResolvedProps, step: EvidenceStep): boolean => r.containment.includes(step);

/** Whether the responder needs an organization of its own for the playbook: its tag key or findings source lives there. */
export function needsOrganization(r: ResolvedProps): boolean {
  return lists(r, 'quarantine') || r.raiseFindings;
}

/**
 * The organization of the quarantine's tag key and the findings source: the scope's for an
 * organization scope, `organizationId` otherwise.
 */
export function playbookOrganization(r: ResolvedProps): string {
  const scope = scopeKindOf(r.scope)!;
  return scope.kind === 'organization' ? scope.id : r.organizationId!;
}

/**
 * Where the quarantine's firewall policy is created and associated: `firewallPolicyParent`, or by
 * default the scope's folder or organization, and for a project scope its organization.
 */
export function firewallPolicyParentOf(r: ResolvedProps): string {
  const scope = scopeKindOf(r.scope)!;
  if (r.firewallPolicyParent !== undefined) return r.firewallPolicyParent;
  return scope.kind === 'project' ? `organizations/${r.organizationId!}` : r.scope;
}

/**
 * The existing policy of `quarantineFirewallPolicy` as its rules name it: the numeric id, the form
 * the provider's own examples give a rule (the policy resource's `name`), which it also passes to
 * the operation it waits for. A Terraform value loses the path at apply instead.
 */
export function existingQuarantinePolicyOf(r: ResolvedProps): string | undefined {
  const policy = r.quarantineFirewallPolicy;
  if (policy === undefined) return undefined;
  if (Token.isUnresolved(policy)) return Fn.replace(policy, `/^${POLICY_PATH}/`, '');
  return policy.startsWith(POLICY_PATH) ? policy.slice(POLICY_PATH.length) : policy;
}

/** Why evidence must not lie in a watched project, and where to take it instead. */
const EVIDENCE_OUTSIDE =
  'its admins could read or delete the evidence of their own VMs, and whoever writes logs there can make the responder act; take the snapshots into a project outside the watched scope';

/**
 * The one project the construct knows to be watched that `forensicsProjectId` must not name,
 * with why: a project scope's project, or the responder's own where `watchResponderProject` puts
 * it in a folder or organization scope. Any other project of a folder or organization scope is
 * the operator's to keep the evidence out of (outside the scope, or in `excludedProjects`): the
 * construct cannot see which projects a folder holds.
 */
export function watchedForensics(r: ResolvedProps): { readonly project: string; readonly why: string } | undefined {
  const scope = scopeKindOf(r.scope)!;
  if (scope.kind === 'project') return { project: scope.id, why: `is the project scope '${r.scope}' watches: ${EVIDENCE_OUTSIDE}` };
  if (r.watchResponderProject) {
    return {
      project: r.projectId,
      why: `is the responder's own project, which watchResponderProject puts in the watched scope '${r.scope}': ${EVIDENCE_OUTSIDE}, or leave watchResponderProject false`,
    };
  }
  return undefined;
}

/** Checks the playbook's props once the scope's are checked (the organization they need comes from there). */
export function playbookProps(r: ResolvedProps): void {
  const steps = r.containment.map((s) => `'${s}'`).join(', ');
  const scope = scopeKindOf(r.scope)!;
  if (lists(r, 'snapshot')) {
    if (r.forensicsProjectId === undefined) {
      throw new IntegrityResponderPropsError(
        "containment lists 'snapshot', which needs forensicsProjectId: the project the evidence snapshots are created in (the runtime may create snapshots there, never read them)",
      );
    }
    const watched = watchedForensics(r);
    if (watched !== undefined && !Token.isUnresolved(watched.project) && r.forensicsProjectId === watched.project) {
      throw new IntegrityResponderPropsError(`forensicsProjectId '${r.forensicsProjectId}' ${watched.why}`);
    }
  } else if (r.forensicsProjectId !== undefined) {
    throw new IntegrityResponderPropsError(`forensicsProjectId applies to the 'snapshot' step only; containment is [${steps}]`);
  }
  for (const name of ['firewallPolicyParent', 'quarantineFirewallPolicy'] as const) {
    if (!lists(r, 'quarantine') && r[name] !== undefined) {
      throw new IntegrityResponderPropsError(`${name} applies to the 'quarantine' step only; containment is [${steps}]`);
    }
  }
  if (r.firewallPolicyParent !== undefined && r.quarantineFirewallPolicy !== undefined) {
    throw new IntegrityResponderPropsError(
      `firewallPolicyParent places the firewall policy the construct creates, and with quarantineFirewallPolicy it creates none: the rules go into that existing policy. Give one of the two (got ${show(r.firewallPolicyParent)} and ${show(r.quarantineFirewallPolicy)})`,
    );
  }
  if (r.firewallPolicyParent !== undefined) {
    if (scope.kind === 'organization') {
      throw new IntegrityResponderPropsError(
        `firewallPolicyParent applies to a project or folder scope: the quarantine policy of scope '${r.scope}' is created and associated there`,
      );
    }
    const kind = scopeKindOf(r.firewallPolicyParent);
    if (kind === undefined || kind.kind === 'project' || (!Token.isUnresolved(kind.id) && !POLICY_PARENT.test(r.firewallPolicyParent))) {
      throw new IntegrityResponderPropsError(
        `firewallPolicyParent must be 'folders/<number>' or 'organizations/<number>', a node above the watched VMs (only the number may be a Terraform value), got ${show(r.firewallPolicyParent)}`,
      );
    }
  }
  const policyParent = r.firewallPolicyParent === undefined ? undefined : scopeKindOf(r.firewallPolicyParent);
  if (
    policyParent?.kind === 'organization' &&
    r.organizationId !== undefined &&
    !Token.isUnresolved(policyParent.id) &&
    !Token.isUnresolved(r.organizationId) &&
    policyParent.id !== r.organizationId
  ) {
    throw new IntegrityResponderPropsError(
      `firewallPolicyParent '${r.firewallPolicyParent}' is another organization than organizationId '${r.organizationId}', the organization of the watched VMs, which holds the quarantine's tag key: a policy of another organization never applies to the watched VMs`,
    );
  }
  if (scope.kind === 'project' && needsOrganization(r) && r.organizationId === undefined) {
    const needs = [
      ...(lists(r, 'quarantine')
        ? [
            "containment lists 'quarantine', whose secure tag key is the organization's (and so is its firewall policy, unless firewallPolicyParent names a folder)",
          ]
        : []),
      ...(r.raiseFindings ? ["raiseFindings is set, and findings are raised in the organization's Security Command Center"] : []),
    ];
    throw new IntegrityResponderPropsError(
      `${needs.join('; ')}: a project scope needs organizationId, the number of the organization that holds project '${scope.id}'; set organizationId: '<number>' (scope '${r.scope}' names no organization)`,
    );
  }
  if (!Array.isArray(r.releasePrincipals)) {
    throw new IntegrityResponderPropsError(`releasePrincipals must be a list of IAM members, got ${show(r.releasePrincipals)}`);
  }
  if (r.releasePrincipals.length > 0 && !needsOrganization(r)) {
    throw new IntegrityResponderPropsError(
      `releasePrincipals applies with the 'quarantine' step or raiseFindings, whose tag value and findings source they are granted; containment is [${steps}] and raiseFindings is false`,
    );
  }
  if (r.requireReleaseApproval && !needsOrganization(r)) {
    throw new IntegrityResponderPropsError(
      `requireReleaseApproval applies with the 'quarantine' step or raiseFindings, the quarantine and the finding a release lifts and closes; containment is [${steps}] and raiseFindings is false, so there is nothing to release`,
    );
  }
  r.releasePrincipals.forEach((member, i) => {
    if (Token.isUnresolved(member)) {
      throw new IntegrityResponderPropsError(
        `releasePrincipals[${i}] must be written out, not a Terraform value: each release principal is a grant of its own, named after the member, and is checked for who it lets lift a quarantine`,
      );
    }
    if (PUBLIC.includes(member)) {
      throw new IntegrityResponderPropsError(`releasePrincipals[${i}] is '${member}': releasing a contained VM is never public`);
    }
    if (typeof member === 'string' && member.startsWith('domain:')) {
      throw new IntegrityResponderPropsError(
        `releasePrincipals[${i}] is '${member}': everyone with an account in the domain ${WIDE_RELEASERS}`,
      );
    }
    if (typeof member === 'string' && member.startsWith('principalSet:') && !RELEASE_PRINCIPAL.test(member)) {
      throw new IntegrityResponderPropsError(
        `releasePrincipals[${i}] is '${member}', a principal set that can be as wide as a domain (a whole pool, an attribute value, every service account of a project or organization): each identity in it ${WIDE_RELEASERS}, or a workforce pool's group (principalSet://iam.googleapis.com/locations/global/workforcePools/<pool>/group/<group>)`,
      );
    }
    const kind = typeof member === 'string' ? EMAIL_KIND.exec(member)?.[1] : undefined;
    if (kind !== undefined && !RELEASE_PRINCIPAL.test(member)) {
      throw new IntegrityResponderPropsError(
        `releasePrincipals[${i}] is '${member}': a ${kind}: member is named by its email address, such as '${EMAIL_EXAMPLES[kind]}'`,
      );
    }
    if (typeof member !== 'string' || !RELEASE_PRINCIPAL.test(member)) {
      throw new IntegrityResponderPropsError(
        `releasePrincipals[${i}] must be an IAM member such as 'group:incident-response@example.com' (${RELEASE_PRINCIPAL_HINT}), got ${show(member)}`,
      );
    }
  });
  const twice = r.releasePrincipals.find((m, i) => r.releasePrincipals.indexOf(m) !== i);
  if (twice !== undefined) throw new IntegrityResponderPropsError(`releasePrincipals names '${twice}' twice`);
}
