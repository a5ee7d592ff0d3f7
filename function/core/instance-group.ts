import type { GROUP_ACTIONS } from '../contract';

/*
 * Managed instance groups (ADR 0010). A VM a group created carries the group's path in its
 * `created-by` metadata. Anyone allowed to set the VM's metadata can write that value, so it
 * only says which group to ask: the group's own `listManagedInstances` is the proof.
 */

/** Metadata key under which Compute Engine records the group that created a VM. */
export const CREATED_BY_KEY = 'created-by';

/** A managed instance group: zonal (`zones`) or regional (`regions`). */
export interface InstanceGroupRef {
  readonly projectId: string;
  readonly scope: 'zones' | 'regions';
  /** The zone or region of the group. */
  readonly location: string;
  readonly name: string;
}

/** What was done with a VM's group before containing it: one of the contract's {@link GROUP_ACTIONS}. */
export type GroupAction = (typeof GROUP_ACTIONS)[keyof typeof GROUP_ACTIONS];

// Project ids may be domain-scoped (`example.com:project`); names and locations are RFC 1035.
const CREATED_BY =
  /^(?:https:\/\/(?:www|compute)\.googleapis\.com\/compute\/v1\/)?projects\/([a-z0-9.:-]{1,100})\/(zones|regions)\/([a-z][a-z0-9-]{0,62})\/instanceGroupManagers\/([a-z](?:[a-z0-9-]{0,61}[a-z0-9])?)$/;

/**
 * The group a `created-by` value names, or undefined when it names none (absent, a VM created
 * by something else, or malformed). A full API URL is accepted as well as the path.
 */
export function parseCreatedBy(value: string | undefined): InstanceGroupRef | undefined {
  if (value === undefined) return undefined;
  const m = CREATED_BY.exec(value.trim());
  if (!m) return undefined;
  const [, projectId, scope, location, name] = m as unknown as [string, string, 'zones' | 'regions', string, string];
  return { projectId, scope, location, name };
}

/** `projects/P/zones/Z/instanceGroupManagers/N` (or `regions/R`): how log lines name a group. */
export function groupPath(g: InstanceGroupRef): string {
  return `projects/${g.projectId}/${g.scope}/${g.location}/instanceGroupManagers/${g.name}`;
}
