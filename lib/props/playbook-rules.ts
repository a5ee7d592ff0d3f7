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
 * An IAM member that names someone: a user, group, service account, domain, or a workload or
 * workforce identity (`principal://`, `principalSet://`).
 */
const MEMBER = /^(?:(?:user|group|serviceAccount|domain):[^\s:]+|principal(?:Set)?:\/\/\S+)$/;
const PUBLIC = ['allUsers', 'allAuthenticatedUsers'];

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
    const why = lists(r, 'quarantine') ? "containment lists 'quarantine'" : 'raiseFindings is set';
    throw new IntegrityResponderPropsError(
      `${why}, which for a project scope needs organizationId: the organization that holds the quarantine's tag key and policy and the findings source (scope '${r.scope}' names none)`,
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
  r.releasePrincipals.forEach((member, i) => {
    if (Token.isUnresolved(member)) return;
    if (PUBLIC.includes(member)) {
      throw new IntegrityResponderPropsError(`releasePrincipals[${i}] is '${member}': releasing a contained VM is never public`);
    }
    if (typeof member !== 'string' || !MEMBER.test(member)) {
      throw new IntegrityResponderPropsError(
        `releasePrincipals[${i}] must be an IAM member such as 'group:incident-response@example.com' (user:, group:, serviceAccount:, domain:, principal:// or principalSet://), got ${show(member)}`,
      );
    }
  });
  const twice = r.releasePrincipals.find((m, i) => r.releasePrincipals.indexOf(m) !== i);
  if (twice !== undefined) throw new IntegrityResponderPropsError(`releasePrincipals names '${twice}' twice`);
}
