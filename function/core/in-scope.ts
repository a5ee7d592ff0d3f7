import type { Scope } from '../contract';

/** Why an entry's project is outside what a responder watches. */
export interface ScopeRejection {
  /** `foreign-project`: outside a project scope; `excluded-project`: excluded from a folder or organization scope. */
  readonly code: 'foreign-project' | 'excluded-project';
  readonly detail: string;
}

/**
 * Whether a responder may act on an entry about `projectId`. A project scope admits its own
 * project only. A folder or organization scope admits any project but the excluded ones: the
 * function does not ask Resource Manager where a project lives; the aggregated sink only
 * forwards entries from the node's descendants, and the runtime's role is bound at that node,
 * so a Compute call about any other project is refused by IAM (docs/adr/0009).
 */
export function scopeRejection(projectId: string, scope: Scope | undefined, excluded: readonly string[] = []): ScopeRejection | undefined {
  if (scope === undefined) return undefined;
  if (scope.kind === 'project') {
    return projectId === scope.id
      ? undefined
      : { code: 'foreign-project', detail: `the entry is about project ${projectId}, this responder watches projects/${scope.id}` };
  }
  return excluded.includes(projectId)
    ? {
        code: 'excluded-project',
        detail: `project ${projectId} is excluded from this responder's scope ${scope.kind === 'folder' ? 'folders' : 'organizations'}/${scope.id}`,
      }
    : undefined;
}
