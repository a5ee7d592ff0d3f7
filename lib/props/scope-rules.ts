import { Token } from 'cdktf';
import { MAX_EXCLUDED_PROJECTS, PROJECT_ID, SETTINGS, scopeKindOf } from '../../function/contract';
import { IntegrityResponderPropsError, show } from '../errors';
import { needsOrganization } from './playbook-rules';
import { check, checkProp } from './rules';
import type { ResolvedProps } from './resolved';

/**
 * How many projects `excludedProjects` may name: {@link MAX_EXCLUDED_PROJECTS}, one fewer while
 * the responder's own project is left out too (it takes one of the places).
 */
export function excludedProjectPlaces(watchResponderProject: boolean): number {
  return watchResponderProject ? MAX_EXCLUDED_PROJECTS : MAX_EXCLUDED_PROJECTS - 1;
}

/**
 * Checks the props that say where the watched VMs are: `scope`, and the props that apply to a
 * folder or organization scope only (`excludedProjects`, `watchResponderProject`, `organizationId`).
 */
export function scopeProps(r: ResolvedProps): void {
  checkProp(r, 'scope');
  // A token project id makes the default scope `projects/${token}`: judged by its prefix.
  const scope = scopeKindOf(r.scope);
  if (scope === undefined) {
    throw new IntegrityResponderPropsError(
      "scope must spell out its kind, as 'projects/<id>', 'folders/<number>' or 'organizations/<number>' (the kind decides which resources are created), and only the id after the slash may be a Terraform value; got one Terraform value for the whole scope",
    );
  }
  if (!Array.isArray(r.excludedProjects)) {
    throw new IntegrityResponderPropsError(`excludedProjects must be a list of project ids, got ${show(r.excludedProjects)}`);
  }
  if (scope.kind === 'project') {
    if (r.watchResponderProject) {
      throw new IntegrityResponderPropsError(
        `watchResponderProject applies to a folder or organization scope only; scope is '${r.scope}', which watches exactly the project it names`,
      );
    }
    if (r.excludedProjects.length > 0) {
      throw new IntegrityResponderPropsError(
        `excludedProjects applies to a folder or organization scope only; scope is '${r.scope}' (leave excludedProjects out, or widen the scope)`,
      );
    }
    if (r.organizationId !== undefined) {
      // A project scope's quarantine tag key and findings source live in an organization all the same.
      if (!needsOrganization(r)) {
        throw new IntegrityResponderPropsError(
          `organizationId applies to a folder scope only, or to a project scope whose containment lists 'quarantine' or that sets raiseFindings; scope is '${r.scope}'`,
        );
      }
      checkProp(r, 'organizationId');
    }
    return;
  }
  // A list token is checked by Terraform at plan (exclusionPreconditions in lib/scope.ts).
  if (Token.isUnresolved(r.excludedProjects)) return organizationProps(r, scope);
  r.excludedProjects.forEach((id, i) => check(`excludedProjects[${i}]`, id, PROJECT_ID, SETTINGS.projectId.hint));
  const places = excludedProjectPlaces(r.watchResponderProject);
  if (r.excludedProjects.length > places) {
    const own = r.watchResponderProject ? '' : ` besides the responder's own project '${r.projectId}', which is left out too`;
    throw new IntegrityResponderPropsError(
      `excludedProjects may name at most ${places} projects${own} (the IAM condition that leaves them out allows at most 12 logical operators, and the function at most ${MAX_EXCLUDED_PROJECTS} excluded projects), got ${r.excludedProjects.length}; move them out of the scope's folder, or scope a folder that does not hold them`,
    );
  }
  const duplicate = r.excludedProjects.find((id, i) => r.excludedProjects.indexOf(id) !== i);
  if (duplicate !== undefined) throw new IntegrityResponderPropsError(`excludedProjects names '${duplicate}' twice`);
  if (r.excludedProjects.includes(r.projectId)) {
    throw new IntegrityResponderPropsError(
      `excludedProjects must not name the responder's own project '${r.projectId}': a folder or organization scope leaves it out unless watchResponderProject is true`,
    );
  }
  organizationProps(r, scope);
}

/** A folder scope needs the number of its organization; an organization scope takes none but its own. */
function organizationProps(r: ResolvedProps, scope: { readonly kind: string; readonly id: string }): void {
  if (scope.kind === 'folder') {
    if (r.organizationId === undefined) {
      throw new IntegrityResponderPropsError(
        `scope '${r.scope}' needs organizationId, the number of the organization the folder belongs to: the runtime's custom role is created there (IAM has no folder-level custom roles)`,
      );
    }
    checkProp(r, 'organizationId');
  } else if (
    r.organizationId !== undefined &&
    !Token.isUnresolved(r.organizationId) &&
    !Token.isUnresolved(scope.id) &&
    r.organizationId !== scope.id
  ) {
    throw new IntegrityResponderPropsError(
      `organizationId '${r.organizationId}' differs from the scope's organization '${scope.id}'; leave organizationId out for an organization scope`,
    );
  }
}
