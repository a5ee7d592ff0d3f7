import { PROJECT_LEVEL_GRANTS, RESPONDER_COMPUTE_PERMISSIONS } from '../../lib';

type Plan = { resource?: Record<string, Record<string, Record<string, any>>> };

const PRIMITIVE = /^roles\/(owner|editor|viewer)$/;
const PUBLIC = /^(allUsers|allAuthenticatedUsers)$/;
const DEFAULT_COMPUTE_SA = /-compute@developer\.gserviceaccount\.com|\$\{data\.google_compute_default_service_account/;
const AUTHORITATIVE = /_iam_(binding|policy)$/;

/**
 * What a security reviewer checks in the plan, as code: returns every violation found.
 * Every IAM resource is walked; nothing is assumed about which ones the construct creates.
 */
export function reviewPlan(plan: Plan): string[] {
  const problems: string[] = [];
  const resources = Object.entries(plan.resource ?? {}).flatMap(([type, byId]) =>
    Object.entries(byId).map(([id, body]) => ({ type, id, body, at: `${type}.${id}` })),
  );
  const serviceAccounts = resources.filter((r) => r.type === 'google_service_account').map((r) => r.id);
  const customRoles = resources.filter((r) => r.type === 'google_project_iam_custom_role');

  for (const { type, body, at } of resources) {
    const text = JSON.stringify(body);
    if (DEFAULT_COMPUTE_SA.test(text)) problems.push(`${at} refers to the default compute service account`);
    if (AUTHORITATIVE.test(type)) problems.push(`${at} is an authoritative IAM resource (${type}); only *_iam_member is allowed`);
    if (/_iam_member$/.test(type)) {
      const role = String(body.role);
      const member = String(body.member);
      if (PRIMITIVE.test(role)) problems.push(`${at} grants the primitive role ${role}`);
      if (PUBLIC.test(member)) problems.push(`${at} grants ${role} to ${member}`);
      if (type === 'google_project_iam_member') {
        const custom = customRoles.find((c) => role === `\${google_project_iam_custom_role.${c.id}.name}`);
        const documented = PROJECT_LEVEL_GRANTS.find((g) => (custom ? g.role === 'custom' : g.role === role));
        if (!documented) problems.push(`${at} grants ${role} project-wide, which is not in the documented list`);
        else if (documented.conditioned && !body.condition?.expression)
          problems.push(`${at} grants ${role} project-wide without its IAM condition`);
      }
    }
    for (const key of ['service_account', 'service_account_email']) {
      for (const value of findAll(body, key)) {
        if (!serviceAccounts.some((sa) => String(value).startsWith(`\${google_service_account.${sa}.`)))
          problems.push(`${at} runs as ${String(value)}, not a service account of this plan`);
      }
    }
    if (type === 'google_storage_bucket') {
      if (body.uniform_bucket_level_access !== true) problems.push(`${at} lacks uniform bucket-level access`);
      if (body.public_access_prevention !== 'enforced') problems.push(`${at} does not enforce public access prevention`);
    }
    if (type === 'google_cloudfunctions2_function') {
      if (body.service_config?.ingress_settings !== 'ALLOW_INTERNAL_ONLY')
        problems.push(`${at} accepts traffic from outside (ingress ${body.service_config?.ingress_settings})`);
      // An identity left out is the default compute service account.
      for (const [path, value] of [
        ['build_config.service_account', body.build_config?.service_account],
        ['service_config.service_account_email', body.service_config?.service_account_email],
        ['event_trigger.service_account_email', body.event_trigger?.service_account_email],
      ] as const) {
        if (value === undefined) problems.push(`${at} leaves ${path} unset, so the default compute service account would be used`);
      }
    }
  }
  for (const { at, body } of customRoles) {
    const actual = [...(body.permissions as string[])].sort();
    if (JSON.stringify(actual) !== JSON.stringify([...RESPONDER_COMPUTE_PERMISSIONS].sort())) {
      problems.push(`${at} holds ${actual.join(', ')}; documented: ${RESPONDER_COMPUTE_PERMISSIONS.join(', ')}`);
    }
  }
  return problems;
}

function findAll(value: unknown, key: string): unknown[] {
  if (Array.isArray(value)) return value.flatMap((v) => findAll(v, key));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => (k === key ? [v] : findAll(v, key)));
  }
  return [];
}
