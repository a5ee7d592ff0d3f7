import { FolderIamMember } from '@cdktf/provider-google/lib/folder-iam-member';
import { LoggingFolderSink } from '@cdktf/provider-google/lib/logging-folder-sink';
import { LoggingOrganizationSink, LoggingOrganizationSinkExclusions } from '@cdktf/provider-google/lib/logging-organization-sink';
import { LoggingProjectSink } from '@cdktf/provider-google/lib/logging-project-sink';
import { OrganizationIamCustomRole } from '@cdktf/provider-google/lib/organization-iam-custom-role';
import { OrganizationIamMember } from '@cdktf/provider-google/lib/organization-iam-member';
import { ProjectIamCustomRole } from '@cdktf/provider-google/lib/project-iam-custom-role';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import type { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic';
import { PubsubTopicIamMember } from '@cdktf/provider-google/lib/pubsub-topic-iam-member';
import { Fn, IResolvable, ITerraformDependable, Op, Precondition, TerraformIterator, Token } from 'cdktf';
import type { Construct } from 'constructs';
import {
  MAX_EXCLUDED_PROJECTS,
  NO_EXCLUDED_PROJECTS,
  PROJECT_ID,
  Scope,
  formatExcludedProjects,
  scopeKindOf,
  INTEGRITY_LOG_ID,
} from '../function/contract';
import { allMatch, customRoleId, isEmpty } from './tokens';
import { planErrorMessage } from './props/rules';
import { excludedProjectPlaces } from './props/scope-rules';
import type { ResolvedProps } from './props';

/** A log sink of any level of the resource hierarchy: all three expose the identity that writes. */
export type IntegritySink = LoggingProjectSink | LoggingFolderSink | LoggingOrganizationSink;
/** The runtime's Compute role: a project role for a project scope, an organization role otherwise. */
export type InstanceRole = ProjectIamCustomRole | OrganizationIamCustomRole;

/** The runtime's Compute role where the VMs live, and its binding. */
interface ScopeAccess {
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

// The filters and conditions naming a project, each written once as a format() string: filled
// in by fill() for a written-out project, by Terraform's format() or formatlist() for a token
// (a token written into a conditional would not have its quotes escaped).
/** A project's integrity log (`%s`: the project, then the log id): by log name, whatever resource its entries name. */
const INTEGRITY_LOG_FORMAT = 'logName="projects/%s/logs/%s"';
/** Log entries about a resource of a project. */
const PROJECT_ENTRIES_FORMAT = 'resource.labels.project_id="%s"';
/** In an IAM condition, a Compute Engine resource of a project. */
const PROJECT_RESOURCE_FORMAT = 'resource.name.startsWith("projects/%s/")';

/** `format` with each `%s` replaced by the next of `values`, as Terraform's `format()` does. */
function fill(format: string, ...values: string[]): string {
  return format.split('%s').reduce((text, part, i) => text + values[i - 1] + part);
}

/** The integrity log of a written-out project. */
const integrityLogFilter = (project: string) => fill(INTEGRITY_LOG_FORMAT, project, INTEGRITY_LOG_ID);

/** Filter of a project sink: that project's integrity log. */
function projectSinkFilter(project: string): string {
  return `resource.type="gce_instance" AND ${integrityLogFilter(project)}`;
}

/**
 * The projects a folder or organization scope leaves out: `excludedProjects` and, unless it is
 * watched, the responder's own. A list, or a list token when `excludedProjects` is one; then
 * everything derived from it is built with Terraform functions.
 */
interface Exclusions {
  /** Every project left out. */
  readonly projects: readonly string[];
  /** The responder's own project, when it is left out. */
  readonly unwatchedProject?: string;
  /** Whether {@link projects} is a Terraform value, known only at plan. */
  readonly token: boolean;
}

/**
 * The {@link Exclusions} of resolved props. In a folder or organization scope the responder's
 * own project is left out unless asked for: its build identity can write log entries there
 * (docs/adr/0023).
 */
export function exclusionsOf(p: ResolvedProps): Exclusions {
  const aggregated = scopeKindOf(p.scope)!.kind !== 'project';
  const unwatchedProject = aggregated && !p.watchResponderProject ? p.projectId : undefined;
  const own = unwatchedProject !== undefined ? [unwatchedProject] : [];
  const common = { ...(unwatchedProject !== undefined && { unwatchedProject }) };
  return Token.isUnresolved(p.excludedProjects)
    ? { ...common, token: true, projects: Token.asList(Fn.concat([p.excludedProjects, own])) }
    : { ...common, token: false, projects: [...p.excludedProjects, ...own] };
}

/** The function's `EXCLUDED_PROJECTS`: `none`, or the project ids sorted and joined by commas. */
export function excludedProjectsSetting(ex: Exclusions): string {
  if (!ex.token) return formatExcludedProjects(ex.projects);
  return Token.asString(Fn.conditional(isEmpty(ex.projects), NO_EXCLUDED_PROJECTS, Fn.join(',', Fn.sort([...ex.projects]))));
}

/**
 * For a list token, what the construct checks of a written-out `excludedProjects`, as
 * preconditions Terraform evaluates at plan: each element a project id (one by one, so that no
 * element can hide a comma-joined list), within the limit of the function's `EXCLUDED_PROJECTS`
 * (which counts the responder's project too), each once and never the responder's own.
 */
function exclusionPreconditions(ex: Exclusions, p: ResolvedProps, constructPath: string): Precondition[] {
  if (!ex.token) return [];
  const message = (detail: string) => planErrorMessage(detail, constructPath);
  const own = ex.unwatchedProject !== undefined ? " besides the responder's own project, which is left out too" : '';
  return [
    {
      condition: allMatch(PROJECT_ID, ex.projects),
      errorMessage: message(`excludedProjects must hold project ids, each matching ${PROJECT_ID}`),
    },
    {
      // The responder's own project, when left out, is one of the list (the function's EXCLUDED_PROJECTS holds both).
      condition: Op.lte(Fn.lengthOf(ex.projects), MAX_EXCLUDED_PROJECTS),
      errorMessage: message(`excludedProjects may name at most ${excludedProjectPlaces(p.watchResponderProject)} projects${own}`),
    },
    {
      condition: Op.eq(Fn.lengthOf(Fn.distinct([...ex.projects])), Fn.lengthOf(ex.projects)),
      errorMessage: message(
        "excludedProjects must name each project once, and not the responder's own project (a folder or organization scope leaves it out unless watchResponderProject is true)",
      ),
    },
  ];
}

/**
 * IAM condition of a folder or organization binding that leaves excluded projects out.
 * Compute Engine resource names in conditions start with `projects/<project id>/`
 * (cloud.google.com/iam/docs/conditions-resource-attributes#resource-name). For a resource type
 * that does not carry a name (zone operations), `resource.name` is empty, so the negation
 * keeps waiting on operations working everywhere; the actions themselves are excluded.
 */
function exclusionCondition(excluded: readonly string[]): string {
  return `!(${[...excluded]
    .sort()
    .map((p) => fill(PROJECT_RESOURCE_FORMAT, p))
    .join(' || ')})`;
}

/** {@link exclusionCondition} of a list token, by Terraform. */
function exclusionConditionOfToken(projects: readonly string[]): string {
  return `!(${Fn.join(' || ', Fn.formatlist(Fn.rawString(PROJECT_RESOURCE_FORMAT), [Fn.sort([...projects])]))})`;
}

interface AccessInputs {
  readonly props: ResolvedProps;
  /** Projects of a folder or organization scope the runtime must not act in: the excluded ones, and the responder's own unless it is watched. */
  readonly exclusions: Exclusions;
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
  const roleId = customRoleId(p.namePrefix, 'instances');
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

  const ex = inputs.exclusions;
  // Checks Terraform makes at plan of an `excludedProjects` token, named after the responder.
  const preconditions = exclusionPreconditions(ex, p, c.node.path);
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
  const conditionTitle = `${p.namePrefix} scope without excluded projects`;
  const excluded = [...ex.projects].sort();
  const condition =
    !ex.token && excluded.length > 0
      ? { condition: { title: conditionTitle, description: `Not in ${excluded.join(', ')}`, expression: exclusionCondition(excluded) } }
      : {};
  const binding = {
    role: instanceRole.name,
    member: runtimeMember,
    ...condition,
    ...(preconditions.length > 0 && { lifecycle: { precondition: preconditions } }),
  };
  const instanceGrant =
    scope.kind === 'folder'
      ? new FolderIamMember(c, 'RuntimeActsOnInstances', { folder: `folders/${scope.id}`, ...binding })
      : new OrganizationIamMember(c, 'RuntimeActsOnInstances', { orgId: scope.id, ...binding });
  if (ex.token) {
    // The condition exists only when some project is left out; its block is repeated zero or
    // one time (the provider's typed condition takes no dynamic block).
    instanceGrant.addOverride('dynamic.condition', {
      for_each: Fn.conditional(isEmpty(ex.projects), [], ['excluded']),
      content: {
        title: conditionTitle,
        description: `Not in ${Fn.join(', ', Fn.sort([...ex.projects]))}`,
        expression: exclusionConditionOfToken(ex.projects),
      },
    });
  }
  return { scope, instanceRole, instanceGrant };
}

interface SinkInputs {
  readonly props: ResolvedProps;
  /** The topic the sink exports to; its writer identity is granted to publish there. */
  readonly topic: PubsubTopic;
  /**
   * In a folder or organization scope, the projects the sink leaves out. The responder's own
   * (`unwatchedProject`), where its build identity can write log entries, is left out by its
   * integrity log's name, whatever its entries claim to be about (docs/adr/0023); the others by
   * the project their entries name.
   */
  readonly exclusions: Exclusions;
  /**
   * What the sink waits for: the subscription that delivers its topic among them, so that no
   * entry it exports reaches a topic without subscriptions (docs/adr/0023).
   */
  readonly dependsOn: ITerraformDependable[];
}

/**
 * Creates the sink exporting the scope's integrity log, and its writer identity's grant to
 * publish to the topic (that identity exists only with the sink, so the grant follows it).
 */
export function exportScope(c: Construct, inputs: SinkInputs): IntegritySink {
  const { props: p, topic } = inputs;
  const sink = createSink(c, inputs, `pubsub.googleapis.com/${topic.id}`);
  new PubsubTopicIamMember(c, 'SinkPublishesToTopic', {
    project: p.projectId,
    topic: topic.name,
    role: 'roles/pubsub.publisher',
    member: sink.writerIdentity,
  });
  return sink;
}

/**
 * A project sink for `projects/P`; an aggregated sink (`include_children`, never
 * `intercept_children`: the projects' own sinks keep their entries) with one exclusion per
 * excluded project otherwise (docs/adr/0009), and one for the integrity log of the project it
 * must not watch.
 */
function createSink(c: Construct, inputs: SinkInputs, destination: string): IntegritySink {
  const { props: p, dependsOn } = inputs;
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
  const ex = inputs.exclusions;
  const config = {
    name,
    description,
    filter: AGGREGATED_SINK_FILTER,
    destination,
    includeChildren: true,
    interceptChildren: false,
    ...(ex.token ? { exclusions: exclusionsOfToken(ex) } : literalExclusions(ex)),
    dependsOn,
  };
  return scope.kind === 'folder'
    ? new LoggingFolderSink(c, 'Sink', { folder: `folders/${scope.id}`, ...config })
    : new LoggingOrganizationSink(c, 'Sink', { orgId: scope.id, ...config });
}

// Exclusion names: letters, digits, `_`, `-` and `.` (a domain-scoped id's `:` is not one).
const NOT_IN_EXCLUSION_NAME = /[^A-Za-z0-9_.-]/g;
const OWN_PROJECT_EXCLUSION = 'skip-responder-project';
const ownProjectDescription = (project: string) => `The responder's own project ${project}: its build identity can write log entries there`;
const excludedDescription = (project: string) => `Project ${project} is excluded from the responder's scope`;

function literalExclusions(ex: Exclusions): { exclusions?: LoggingOrganizationSinkExclusions[] } {
  const own = ex.unwatchedProject;
  const exclusions = [
    ...(own !== undefined
      ? [{ name: OWN_PROJECT_EXCLUSION, description: ownProjectDescription(own), filter: integrityLogFilter(own) }]
      : []),
    ...ex.projects
      .filter((project) => project !== own)
      .sort()
      .map((project) => ({
        name: `skip-${project.replace(NOT_IN_EXCLUSION_NAME, '_')}`,
        description: excludedDescription(project),
        filter: fill(PROJECT_ENTRIES_FORMAT, project),
      })),
  ];
  return exclusions.length > 0 ? { exclusions } : {};
}

/** The sink's exclusions for a list token: one dynamic block per project, named and filtered as {@link literalExclusions} does. */
function exclusionsOfToken(ex: Exclusions): IResolvable {
  const each = TerraformIterator.fromList([...ex.projects]);
  const project = Token.asString(each.value);
  const excluded = {
    name: `skip-${Fn.replace(project, `/${NOT_IN_EXCLUSION_NAME.source}/`, '_')}`,
    description: excludedDescription(project),
    filter: Fn.format(Fn.rawString(PROJECT_ENTRIES_FORMAT), [project]),
  };
  const own = ex.unwatchedProject;
  if (own === undefined) return each.dynamic(excluded);
  const isOwn = Op.eq(project, own);
  return each.dynamic({
    name: Fn.conditional(isOwn, OWN_PROJECT_EXCLUSION, excluded.name),
    description: Fn.conditional(isOwn, ownProjectDescription(project), excluded.description),
    filter: Fn.conditional(isOwn, Fn.format(Fn.rawString(INTEGRITY_LOG_FORMAT), [project, INTEGRITY_LOG_ID]), excluded.filter),
  });
}
