import { ComputeFirewallPolicy } from '@cdktf/provider-google/lib/compute-firewall-policy';
import { ComputeFirewallPolicyAssociation } from '@cdktf/provider-google/lib/compute-firewall-policy-association';
import { ComputeFirewallPolicyRule } from '@cdktf/provider-google/lib/compute-firewall-policy-rule';
import { FirestoreDocument } from '@cdktf/provider-google/lib/firestore-document';
import { ProjectIamCustomRole } from '@cdktf/provider-google/lib/project-iam-custom-role';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import { SccV2OrganizationSource } from '@cdktf/provider-google/lib/scc-v2-organization-source';
import { SccV2OrganizationSourceIamMember } from '@cdktf/provider-google/lib/scc-v2-organization-source-iam-member';
import { TagsTagKey } from '@cdktf/provider-google/lib/tags-tag-key';
import { TagsTagValue } from '@cdktf/provider-google/lib/tags-tag-value';
import { TagsTagValueIamMember } from '@cdktf/provider-google/lib/tags-tag-value-iam-member';
import { Annotations, Token } from 'cdktf';
import type { ITerraformDependable } from 'cdktf';
import type { Construct } from 'constructs';
import {
  BASELINE_POLICY_COLLECTION,
  EvidenceStep,
  FunctionSettings,
  NONE,
  PLAYBOOK_SETTINGS,
  QUARANTINE_TAG_KEY,
  QUARANTINE_TAG_VALUE,
  RELEASE_POLICY_DOCUMENT,
  SETTINGS,
  formatEvidenceSteps,
  scopeKindOf,
} from '../function/contract';
import { ledgerOnly } from './databases';
import type { ResolvedProps } from './props';
import {
  QUARANTINE_RULE_COUNT,
  evidenceStepsOf,
  existingQuarantinePolicyOf,
  firewallPolicyParentOf,
  lists,
  playbookOrganization,
} from './props/playbook-rules';
import { exclusionsOf } from './scope';
import { customRoleId } from './tokens';

/*
 * What the containment playbook needs besides the runtime's Compute role (ADR 0031): the
 * forensics project's evidence role, the quarantine's secure tag and hierarchical firewall
 * policy, the Security Command Center source, the release policy, and the release principals'
 * access to the decision ledger. Each is created only when
 * the props ask for it; without a playbook this file adds nothing to the plan.
 */

/**
 * What the runtime may do in the forensics project: create a snapshot (`snapshots.insert`),
 * label it as it is created, read back the one it created under the same name, and wait for the
 * global operation. Not `compute.snapshots.useReadOnly`, which lets a principal restore a
 * snapshot's data into a project of its own (cloud.google.com/compute/docs/disks/snapshot-best-practices),
 * nor `list` or `delete`: the evidence outlives the responder's access to it.
 */
export const EVIDENCE_PERMISSIONS: readonly string[] = [
  'compute.globalOperations.get',
  'compute.snapshots.create',
  'compute.snapshots.get',
  'compute.snapshots.setLabels',
];

/**
 * What the runtime's Compute role gains where the VMs live for each evidence step. A snapshot
 * taken into another project needs `compute.disks.createSnapshot` on the source disk (zonal and
 * regional disks alike). A quarantine binds a tag value to the VM and lists the VM's bindings to
 * find the one an earlier delivery made (cloud.google.com/resource-manager/docs/tags/tags-creating-and-managing:
 * `createTagBinding` and `listTagBindings` of the resource type), and names the VM by its
 * project's number in the binding's parent, read with `resourcemanager.projects.get`. Never
 * `deleteTagBinding`: the function never removes a binding (the release tool does, with the
 * release principal's own credentials), and the runtime, a tag user of the value, could
 * otherwise lift every quarantine of the scope.
 */
export const EVIDENCE_SCOPE_PERMISSIONS: Readonly<Record<EvidenceStep, readonly string[]>> = {
  snapshot: ['compute.disks.createSnapshot'],
  quarantine: ['compute.instances.createTagBinding', 'compute.instances.listTagBindings', 'resourcemanager.projects.get'],
};

/**
 * What a release principal may do in the decision ledger, the one database the containment tool
 * works on (cloud.google.com/firestore/docs/security/iam, "Required permissions for API methods"):
 * read documents (`get`, `batchGet`) and query the instance documents (`runQuery` takes
 * `datastore.entities.get` and `datastore.entities.list`) for `list` and `show`; update a
 * document that exists (a commit whose precondition says it exists, or when it was last updated,
 * takes `datastore.entities.update`) to record a release or its request; begin and roll back a
 * transaction (`datastore.databases.get`, which reads and writes no document). Never
 * `datastore.entities.create` or `delete`: the tool creates no document and erases no record.
 */
export const RELEASE_LEDGER_PERMISSIONS: readonly string[] = [
  'datastore.databases.get',
  'datastore.entities.get',
  'datastore.entities.list',
  'datastore.entities.update',
];

/** Both address families, in the order the rules are written. */
const FAMILIES = [
  { name: 'Ipv4', everything: '0.0.0.0/0' },
  { name: 'Ipv6', everything: '::/0' },
] as const;

/**
 * The quarantine's rules: all traffic to and from a VM carrying the tag value is denied, in each
 * direction and address family (one rule each, so no rule has to mix IPv4 and IPv6 ranges), at
 * consecutive priorities from `quarantineRulePriority` (by default 0, the highest; each rule's
 * must be unique, cloud.google.com/firewall/docs/firewall-policies-rule-details#priority). A
 * policy the construct creates holds these rules alone, and they match only quarantined VMs.
 */
const QUARANTINE_RULES = (['INGRESS', 'EGRESS'] as const).flatMap((direction, d) =>
  FAMILIES.map((family, f) => ({
    id: `QuarantineDenies${direction === 'INGRESS' ? 'Ingress' : 'Egress'}${family.name}`,
    direction,
    offset: d * FAMILIES.length + f,
    range: family.everything,
  })),
);
if (QUARANTINE_RULES.length !== QUARANTINE_RULE_COUNT) throw new Error('the quarantine rules and their priority range disagree');

/** The function's settings of the containment playbook. */
export type PlaybookSettings = Pick<FunctionSettings, (typeof PLAYBOOK_SETTINGS)[number]>;

/** The playbook's resources, those the props asked for. */
export interface Playbook {
  /** With `snapshot`, the forensics project's evidence role. */
  readonly evidenceRole?: ProjectIamCustomRole;
  /** With `quarantine`, the secure tag value the function binds to a VM it contains. */
  readonly quarantineTagValue?: TagsTagValue;
  /** With `quarantine` and no `quarantineFirewallPolicy`, the hierarchical firewall policy created for the rules. */
  readonly quarantinePolicy?: ComputeFirewallPolicy;
  /** With `quarantine`, the rules that deny the tagged VMs all traffic; none otherwise. */
  readonly quarantineRules: ComputeFirewallPolicyRule[];
  /** With `raiseFindings`, the Security Command Center source the findings are raised in. */
  readonly findingsSource?: SccV2OrganizationSource;
  /** With `requireReleaseApproval`, the release policy document in the decision ledger. */
  readonly releasePolicy?: FirestoreDocument;
  /** With `releasePrincipals`, the custom role each holds on the decision ledger's database. */
  readonly releaseRole?: ProjectIamCustomRole;
  /** The runtime's grants and what the function's steps rely on, for the IAM wait before the function. */
  readonly grants: ITerraformDependable[];
  /** The function's playbook settings. */
  readonly settings: PlaybookSettings;
}

interface PlaybookInputs {
  readonly props: ResolvedProps;
  /** `serviceAccount:…` of the runtime identity. */
  readonly runtimeMember: string;
  /** The decision ledger, which holds the release policy. */
  readonly ledgerDatabaseId: string;
  readonly ledgerDatabase: ITerraformDependable;
  readonly dependsOn?: ITerraformDependable[];
}

/** A construct id part for an IAM member: the member with the characters a construct path keeps apart (`/`) replaced. */
const memberId = (member: string) => member.replace(/\//g, '_');

/** Creates what the listed steps, `raiseFindings` and `requireReleaseApproval` need; nothing without them. */
export function createPlaybook(c: Construct, inputs: PlaybookInputs): Playbook {
  const { props: p, runtimeMember, dependsOn } = inputs;
  warnOfPlaybookRisks(c, p);
  const grants: ITerraformDependable[] = [];
  const evidenceRole = lists(p, 'snapshot') ? takeEvidence(c, p, runtimeMember, grants, dependsOn) : undefined;
  const quarantine = lists(p, 'quarantine') ? quarantineTag(c, p, runtimeMember, grants, dependsOn) : undefined;
  const findingsSource = p.raiseFindings ? findings(c, p, runtimeMember, grants, dependsOn) : undefined;
  // Read by the containment tool (never by the function): a release takes two principals.
  const releasePolicy = p.requireReleaseApproval
    ? new FirestoreDocument(c, 'ReleasePolicy', {
        project: p.projectId,
        database: inputs.ledgerDatabaseId,
        collection: BASELINE_POLICY_COLLECTION,
        documentId: RELEASE_POLICY_DOCUMENT,
        fields: JSON.stringify({ requireApproval: { booleanValue: true } }),
        dependsOn: [inputs.ledgerDatabase],
      })
    : undefined;
  const releaseRole = p.releasePrincipals.length > 0 ? releaseLedger(c, p, inputs.ledgerDatabaseId, dependsOn) : undefined;
  return {
    evidenceRole,
    quarantineTagValue: quarantine?.value,
    quarantinePolicy: quarantine?.policy,
    quarantineRules: quarantine?.rules ?? [],
    findingsSource,
    releasePolicy,
    releaseRole,
    grants,
    settings: {
      containmentSteps: formatEvidenceSteps(evidenceStepsOf(p.containment)),
      forensicsProject: p.forensicsProjectId ?? NONE,
      snapshotRetentionDays: p.snapshotRetentionDays,
      quarantineTagValue: quarantine?.value.id ?? NONE,
      findingsSource: findingsSource?.name ?? NONE,
    },
  };
}

/**
 * What the construct cannot check and the props leave likely, said at synth: a forensics project
 * that may lie in the watched folder or organization, and a quarantine policy at a folder, below
 * the organization's own policy.
 */
function warnOfPlaybookRisks(c: Construct, p: ResolvedProps): void {
  const scope = scopeKindOf(p.scope)!;
  const forensics = p.forensicsProjectId;
  if (
    scope.kind !== 'project' &&
    lists(p, 'snapshot') &&
    forensics !== undefined &&
    !Token.isUnresolved(forensics) &&
    !Token.isUnresolved(p.excludedProjects) &&
    !exclusionsOf(p).projects.includes(forensics)
  ) {
    Annotations.of(c).addWarning(
      `forensicsProjectId '${forensics}' is not in excludedProjects of the ${scope.kind} scope '${p.scope}'. If that project is in the ` +
        `${scope.kind}, the runtime could contain the forensics project's own VMs, and whoever writes logs there could make the ` +
        `responder act. List it in excludedProjects, or keep it outside the scope`,
    );
  }
  const parent = lists(p, 'quarantine') && existingQuarantinePolicyOf(p) === undefined ? firewallPolicyParentOf(p) : undefined;
  if (parent !== undefined && scopeKindOf(parent)?.kind === 'folder') {
    const organization = playbookOrganization(p);
    const where = Token.isUnresolved(parent) ? 'a folder' : `'${parent}', a folder`;
    const instead = Token.isUnresolved(organization) ? 'organizations/<organizationId>' : `organizations/${organization}`;
    Annotations.of(c).addWarning(
      `the quarantine's firewall policy is created and associated at ${where}: Google evaluates the organization's policy ` +
        `first, and an allow rule there that matches a quarantined VM's traffic ends the evaluation before the folder's deny ` +
        `is reached (cloud.google.com/firewall/docs/firewall-policies-rule-eval-order). Set firewallPolicyParent: ` +
        `'${instead}', or quarantineFirewallPolicy to the organization's existing policy`,
    );
  }
}

/** The forensics project's evidence role and its binding to the runtime: create and label snapshots there, never read them. */
function takeEvidence(
  c: Construct,
  p: ResolvedProps,
  runtimeMember: string,
  grants: ITerraformDependable[],
  dependsOn?: ITerraformDependable[],
): ProjectIamCustomRole {
  const project = p.forensicsProjectId!;
  const role = new ProjectIamCustomRole(c, 'EvidenceRole', {
    project,
    roleId: customRoleId(p.namePrefix, 'evidence'),
    title: `Integrity responder ${p.namePrefix}: take evidence snapshots`,
    description:
      'Create and label evidence snapshots of watched disks, read back their metadata and wait for their operations; never restore their data, list or delete them.',
    permissions: [...EVIDENCE_PERMISSIONS],
    stage: 'GA',
    dependsOn,
  });
  grants.push(new ProjectIamMember(c, 'RuntimeTakesEvidence', { project, role: role.name, member: runtimeMember }));
  return role;
}

/**
 * The quarantine: a secure tag key of the organization (purpose `GCE_FIREWALL`, usable on every
 * network of the organization: `purpose_data` `organization = auto`,
 * cloud.google.com/firewall/docs/tags-firewalls-overview#specifications), its one value, the
 * runtime's right to bind it (`roles/resourcemanager.tagUser` on that value alone), and deny
 * rules for the tagged VMs in a hierarchical firewall policy, which lower levels cannot override
 * (cloud.google.com/firewall/docs/firewall-policies): the existing policy of
 * `quarantineFirewallPolicy`, or one created and associated at the scope's folder or organization.
 */
function quarantineTag(
  c: Construct,
  p: ResolvedProps,
  runtimeMember: string,
  grants: ITerraformDependable[],
  dependsOn?: ITerraformDependable[],
): { value: TagsTagValue; policy?: ComputeFirewallPolicy; rules: ComputeFirewallPolicyRule[] } {
  const key = new TagsTagKey(c, 'QuarantineTagKey', {
    parent: `organizations/${playbookOrganization(p)}`,
    // Tag keys share the organization's namespace (a key is `<organization>/<short name>`,
    // cloud.google.com/resource-manager/reference/rest/v3/tagKeys): the prefix keeps two
    // responders' apart. The firewall policy's `<prefix>-quarantine` is in another namespace.
    shortName: `${p.namePrefix}-${QUARANTINE_TAG_KEY}`,
    description: `Integrity responder ${p.namePrefix}: VMs contained after a failed integrity report`,
    purpose: 'GCE_FIREWALL',
    purposeData: { organization: 'auto' },
    dependsOn,
  });
  const value = new TagsTagValue(c, 'QuarantineTagValue', {
    parent: key.id,
    shortName: QUARANTINE_TAG_VALUE,
    description: 'Denied all traffic by the quarantine firewall policy; bound by the responder, removed by its release principals',
  });
  grants.push(
    new TagsTagValueIamMember(c, 'RuntimeBindsQuarantineTag', {
      tagValue: value.name,
      role: 'roles/resourcemanager.tagUser',
      member: runtimeMember,
    }),
  );
  for (const member of p.releasePrincipals) {
    new TagsTagValueIamMember(c, `ReleaserUnbindsQuarantineTag-${memberId(member)}`, {
      tagValue: value.name,
      role: 'roles/resourcemanager.tagUser',
      member,
    });
  }
  // A folder or organization holds one policy association at most: where it has one, the rules
  // go into that policy and nothing is associated (cloud.google.com/firewall/docs/using-firewall-policies).
  const existing = existingQuarantinePolicyOf(p);
  const parent = firewallPolicyParentOf(p);
  const policy =
    existing === undefined
      ? new ComputeFirewallPolicy(c, 'QuarantinePolicy', {
          parent,
          shortName: `${p.namePrefix}-quarantine`,
          description: `Integrity responder ${p.namePrefix}: denies all traffic to and from quarantined VMs`,
          dependsOn,
        })
      : undefined;
  const rules = QUARANTINE_RULES.map(
    (rule) =>
      new ComputeFirewallPolicyRule(c, rule.id, {
        firewallPolicy: policy?.name ?? existing!,
        priority: p.quarantineRulePriority + rule.offset,
        action: 'deny',
        direction: rule.direction,
        description: `Quarantine: deny all ${rule.direction.toLowerCase()} traffic of a VM carrying the quarantine tag`,
        // Each denied connection of a quarantined VM is evidence of what it tried.
        enableLogging: true,
        targetSecureTags: [{ name: value.id }],
        match: {
          ...(rule.direction === 'INGRESS' ? { srcIpRanges: [rule.range] } : { destIpRanges: [rule.range] }),
          layer4Configs: [{ ipProtocol: 'all' }],
        },
        dependsOn: policy === undefined ? dependsOn : undefined,
      }),
  );
  // The function binds the value only once the rules deny the traffic of a VM that carries it.
  grants.push(...rules);
  if (policy !== undefined) {
    grants.push(
      new ComputeFirewallPolicyAssociation(c, 'QuarantinePolicyAssociation', {
        firewallPolicy: policy.id,
        attachmentTarget: parent,
        name: `${p.namePrefix}-quarantine`,
      }),
    );
  }
  return { value, ...(policy !== undefined && { policy }), rules };
}

/**
 * The organization-level Security Command Center source of this responder (the v2 API's, the
 * one the function raises findings through) and the runtime's `roles/securitycenter.findingsEditor`
 * on that source alone, as Google grants it on a source
 * (cloud.google.com/security-command-center/docs/samples/securitycenter-set-source-iam).
 */
function findings(
  c: Construct,
  p: ResolvedProps,
  runtimeMember: string,
  grants: ITerraformDependable[],
  dependsOn?: ITerraformDependable[],
): SccV2OrganizationSource {
  const organization = playbookOrganization(p);
  const source = new SccV2OrganizationSource(c, 'FindingsSource', {
    organization,
    // Unique among the organization's sources, at most 32 characters: the prefix has at most 20.
    displayName: p.namePrefix,
    description: `Shielded VM integrity responder '${p.namePrefix}': VMs whose integrity reports failed, and what was done about them`,
    dependsOn,
  });
  const editor = (id: string, member: string) =>
    new SccV2OrganizationSourceIamMember(c, id, {
      organization,
      source: source.name,
      role: 'roles/securitycenter.findingsEditor',
      member,
    });
  grants.push(editor('RuntimeEditsFindings', runtimeMember));
  for (const member of p.releasePrincipals) editor(`ReleaserEditsFindings-${memberId(member)}`, member);
  return source;
}

/**
 * The release principals' access to the decision ledger, where `integrity-containment` lists and
 * shows containments and records releases: a custom role of {@link RELEASE_LEDGER_PERMISSIONS},
 * bound to each under the condition that keeps the runtime's ledger grant to the ledger's
 * database. The baselines, in a database of their own, stay out of reach.
 */
function releaseLedger(c: Construct, p: ResolvedProps, ledgerDatabaseId: string, dependsOn?: ITerraformDependable[]): ProjectIamCustomRole {
  const project = p.projectId;
  const role = new ProjectIamCustomRole(c, 'ReleaseRole', {
    project,
    roleId: customRoleId(p.namePrefix, 'release'),
    title: `Integrity responder ${p.namePrefix}: release contained VMs`,
    description: 'Read and query decision-ledger documents and update existing ones to record a release; never create or delete one.',
    permissions: [...RELEASE_LEDGER_PERMISSIONS],
    stage: 'GA',
    dependsOn,
  });
  for (const member of p.releasePrincipals) {
    new ProjectIamMember(c, `ReleaserRecordsReleases-${memberId(member)}`, {
      project,
      role: role.name,
      member,
      condition: ledgerOnly(p, ledgerDatabaseId),
    });
  }
  return role;
}

/**
 * The function's environment without the playbook's variables when the responder has no
 * playbook (each at its default): a responder configured as before keeps the environment, and
 * so the plan, it had; the function reads an absent playbook variable as its default.
 */
export function withoutUnusedPlaybook(env: Record<string, string>): Record<string, string> {
  const unused = PLAYBOOK_SETTINGS.every((key) => env[SETTINGS[key].env] === String(SETTINGS[key].default));
  if (!unused) return env;
  const names = new Set<string>(PLAYBOOK_SETTINGS.map((key) => SETTINGS[key].env));
  return Object.fromEntries(Object.entries(env).filter(([name]) => !names.has(name)));
}
