import { FolderIamMember } from '@cdktf/provider-google/lib/folder-iam-member';
import { LoggingFolderSink } from '@cdktf/provider-google/lib/logging-folder-sink';
import { LoggingOrganizationSink } from '@cdktf/provider-google/lib/logging-organization-sink';
import { LoggingProjectSink } from '@cdktf/provider-google/lib/logging-project-sink';
import { OrganizationIamCustomRole } from '@cdktf/provider-google/lib/organization-iam-custom-role';
import { OrganizationIamMember } from '@cdktf/provider-google/lib/organization-iam-member';
import { ProjectIamCustomRole } from '@cdktf/provider-google/lib/project-iam-custom-role';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import type { ITerraformDependable } from 'cdktf';
import type { Construct } from 'constructs';
import { Scope, scopeKindOf } from '../function/contract';
import { INTEGRITY_LOG_ID } from '../function/parse';
import type { ResolvedProps } from './props';

/** A log sink of any level of the resource hierarchy: all three expose the identity that writes. */
export type IntegritySink = LoggingProjectSink | LoggingFolderSink | LoggingOrganizationSink;
/** The runtime's Compute role: a project role for a project scope, an organization role otherwise. */
export type InstanceRole = ProjectIamCustomRole | OrganizationIamCustomRole;

/** The runtime's Compute role where the VMs live, and its binding. */
export interface ScopeAccess {
  readonly scope: Scope;
  readonly instanceRole: InstanceRole;
  /** The binding of {@link instanceRole} to the runtime identity, at the scope's node. */
  readonly instanceGrant: ITerraformDependable;
}

/**
 * Sink filter of a folder or organization scope: the integrity log of every project below.
 * `log_id()` matches the log id exactly in any project (a `logName:` match would be a
 * substring match); cloud.google.com/logging/docs/view/logging-query-language#functions.
 */
export const AGGREGATED_SINK_FILTER = `resource.type="gce_instance" AND log_id("${decodeURIComponent(INTEGRITY_LOG_ID)}")`;

/** Filter of a project sink: that project's integrity log. */
export function projectSinkFilter(project: string): string {
  return `resource.type="gce_instance" AND logName="projects/${project}/logs/${INTEGRITY_LOG_ID}"`;
}

/**
 * IAM condition of a folder or organization binding that leaves excluded projects out.
 * Compute Engine resource names in conditions start with `projects/<project id>/`
 * (cloud.google.com/iam/docs/conditions-resource-attributes#resource-name). For a resource type
 * that does not carry a name (zone operations), `resource.name` is empty, so the negation
 * keeps waiting on operations working everywhere; the actions themselves are excluded.
 */
export function exclusionCondition(excluded: readonly string[]): string {
  return `!(${[...excluded]
    .sort()
    .map((p) => `resource.name.startsWith("projects/${p}/")`)
    .join(' || ')})`;
}

interface AccessInputs {
  readonly props: ResolvedProps;
  /** Projects of a folder or organization scope the runtime must not act in: the excluded ones, and the responder's own unless it is watched. */
  readonly excluded: readonly string[];
  /** `serviceAccount:…` of the runtime identity. */
  readonly runtimeMember: string;
  readonly description: string;
  readonly permissions: string[];
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * Creates the runtime's Compute role and its binding for the scope: a project role and binding
 * for `projects/P`; an organization role bound at the folder or organization otherwise, under a
 * condition that leaves the excluded projects out (docs/adr/0009).
 */
export function grantScope(c: Construct, inputs: AccessInputs): ScopeAccess {
  const { props: p, runtimeMember, description, permissions, dependsOn } = inputs;
  const scope = scopeKindOf(p.scope)!;
  const roleId = `${p.namePrefix.replace(/-/g, '_')}_instances`;
  const title = `Integrity responder ${p.namePrefix}: act on instances`;

  if (scope.kind === 'project') {
    const instanceRole = new ProjectIamCustomRole(c, 'InstanceRole', {
      project: scope.id,
      roleId,
      title,
      description,
      permissions,
      stage: 'GA',
      dependsOn,
    });
    const instanceGrant = new ProjectIamMember(c, 'RuntimeActsOnInstances', {
      project: scope.id,
      role: instanceRole.name,
      member: runtimeMember,
    });
    return { scope, instanceRole, instanceGrant };
  }

  const excluded = [...inputs.excluded].sort();
  const orgId = scope.kind === 'organization' ? scope.id : p.organizationId!;
  const instanceRole = new OrganizationIamCustomRole(c, 'InstanceRole', {
    orgId,
    roleId,
    title,
    description,
    permissions,
    stage: 'GA',
    dependsOn,
  });
  const condition =
    excluded.length > 0
      ? {
          condition: {
            title: `${p.namePrefix} scope without excluded projects`,
            description: `Not in ${excluded.join(', ')}`,
            expression: exclusionCondition(excluded),
          },
        }
      : {};
  const binding = { role: instanceRole.name, member: runtimeMember, ...condition };
  const instanceGrant =
    scope.kind === 'folder'
      ? new FolderIamMember(c, 'RuntimeActsOnInstances', { folder: `folders/${scope.id}`, ...binding })
      : new OrganizationIamMember(c, 'RuntimeActsOnInstances', { orgId: scope.id, ...binding });
  return { scope, instanceRole, instanceGrant };
}

interface SinkInputs {
  readonly props: ResolvedProps;
  /** `pubsub.googleapis.com/projects/…/topics/…` */
  readonly destination: string;
  /**
   * In a folder or organization scope, a project whose integrity log the sink leaves out by its
   * log name, whatever its entries claim to be about: the responder's own, where its build
   * identity can write log entries (docs/adr/0023).
   */
  readonly unwatchedProject?: string;
  /**
   * What the sink waits for: the subscription that delivers its topic among them, so that no
   * entry it exports reaches a topic without subscriptions (docs/adr/0023).
   */
  readonly dependsOn: ITerraformDependable[];
}

/**
 * Creates the sink exporting the scope's integrity log: a project sink for `projects/P`; an
 * aggregated sink (`include_children`, never `intercept_children`: the projects' own sinks keep
 * their entries) with one exclusion per excluded project otherwise (docs/adr/0009), and one for
 * the integrity log of the project it must not watch.
 */
export function exportScope(c: Construct, inputs: SinkInputs): IntegritySink {
  const { props: p, destination, dependsOn } = inputs;
  const scope = scopeKindOf(p.scope)!;
  const name = `${p.namePrefix}-integrity`;
  const description = 'Shielded VM integrity reports for the integrity responder';
  if (scope.kind === 'project') {
    return new LoggingProjectSink(c, 'Sink', {
      project: scope.id,
      name,
      description,
      filter: projectSinkFilter(scope.id),
      destination,
      uniqueWriterIdentity: true,
      dependsOn,
    });
  }
  // Exclusion names: letters, digits, `_`, `-` and `.` (a domain-scoped id's `:` is not one).
  const exclusions = [
    ...(inputs.unwatchedProject !== undefined
      ? [
          {
            name: 'skip-responder-project',
            description: `The responder's own project ${inputs.unwatchedProject}: its build identity can write log entries there`,
            // By log name: an entry written there is left out whatever resource it names.
            filter: `logName="projects/${inputs.unwatchedProject}/logs/${INTEGRITY_LOG_ID}"`,
          },
        ]
      : []),
    ...[...p.excludedProjects].sort().map((project) => ({
      name: `skip-${project.replace(/[^A-Za-z0-9_.-]/g, '_')}`,
      description: `Project ${project} is excluded from the responder's scope`,
      filter: `resource.labels.project_id="${project}"`,
    })),
  ];
  const config = {
    name,
    description,
    filter: AGGREGATED_SINK_FILTER,
    destination,
    includeChildren: true,
    interceptChildren: false,
    ...(exclusions.length > 0 && { exclusions }),
    dependsOn,
  };
  return scope.kind === 'folder'
    ? new LoggingFolderSink(c, 'Sink', { folder: `folders/${scope.id}`, ...config })
    : new LoggingOrganizationSink(c, 'Sink', { orgId: scope.id, ...config });
}
