import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { TerraformStack, Testing } from 'cdktf';
import { IntegrityResponder, IntegrityResponderProps } from '../lib';
import { ShownPlan, startStandIns, terraformVersion, workspace } from '../testkit/terraform/workspace';
import { loadSchemas } from '../testkit/terraform/schema';
import { handleArguments } from './usage';

const USAGE = `usage: npx tsx scripts/terraform-plans.ts [--check]

Writes docs/plan/<configuration>.md: what \`terraform plan\` shows a reviewer for the default, the
organization and the containment playbook configurations, produced by the real terraform on this
machine against stand-ins serving the pinned providers' published schemas (testkit/terraform/), with the resource list of
\`terraform show -json\`. Content hashes of the function zip are written as <sha256>.

  --check   compare with the committed files instead of writing them; exit 1 naming the ones
            that differ (__tests__/terraform/plan-docs.test.ts runs the same comparison)
`;

const ROOT = join(__dirname, '..');
export const PLAN_DIR = join(ROOT, 'docs', 'plan');
const PROJECT = 'fleet-prod-1234';

/** The configurations whose plan is written out, with what each shows a reviewer. */
export const PLANNED: Record<string, { title: string; props: Partial<IntegrityResponderProps>; code: string }> = {
  default: {
    title: 'one project, every default',
    props: {},
    code: `new IntegrityResponder(stack, 'Responder', { projectId: '${PROJECT}' });`,
  },
  organization: {
    title: 'every project of an organization',
    props: { scope: 'organizations/4242', excludedProjects: ['lab-sandbox-1'] },
    code: `new IntegrityResponder(stack, 'Responder', {\n  projectId: '${PROJECT}',\n  scope: 'organizations/4242',\n  excludedProjects: ['lab-sandbox-1'],\n});`,
  },
  playbook: {
    title: 'an organization with the whole containment playbook',
    props: {
      scope: 'organizations/4242',
      // The forensics project is left out of the scope, as forensicsProjectId advises (the construct warns otherwise).
      excludedProjects: ['lab-sandbox-1', 'fleet-forensics-7'],
      containment: ['snapshot', 'quarantine', 'stop'],
      forensicsProjectId: 'fleet-forensics-7',
      raiseFindings: true,
      releasePrincipals: ['group:incident-response@example.com'],
      requireReleaseApproval: true,
    },
    code: [
      `new IntegrityResponder(stack, 'Responder', {`,
      `  projectId: '${PROJECT}',`,
      `  scope: 'organizations/4242',`,
      `  // the forensics project stays out of what is watched`,
      `  excludedProjects: ['lab-sandbox-1', 'fleet-forensics-7'],`,
      `  containment: ['snapshot', 'quarantine', 'stop'],`,
      `  forensicsProjectId: 'fleet-forensics-7',`,
      `  raiseFindings: true,`,
      `  releasePrincipals: ['group:incident-response@example.com'],`,
      `  requireReleaseApproval: true,`,
      `});`,
    ].join('\n'),
  },
};

function synth(props: Partial<IntegrityResponderProps>): string {
  const stack = new TerraformStack(Testing.app(), 'review');
  new GoogleProvider(stack, 'google', { project: PROJECT, region: 'us-central1' });
  new IntegrityResponder(stack, 'Responder', { projectId: PROJECT, ...props });
  return Testing.synth(stack);
}

const scrub = (text: string): string => text.replace(/[0-9a-f]{64}/g, '<sha256>');

/** One row per planned resource: what `terraform show -json` lists. */
function resourceTable(plan: ShownPlan): string {
  // A value known only after apply is shown by what it refers to, from the plan's configuration.
  const configured = new Map(
    (
      (
        plan.configuration as {
          root_module?: { resources?: { address: string; expressions?: Record<string, { references?: string[] }> }[] };
        }
      )?.root_module?.resources ?? []
    ).map((r) => [r.address, r.expressions ?? {}]),
  );
  const rows = (plan.resource_changes ?? []).map((c) => {
    const after = c.change.after ?? {};
    const unknown = c.change.after_unknown ?? {};
    const value = (key: string): string | undefined => {
      if (typeof after[key] === 'string' && after[key] !== '') return after[key];
      if (unknown[key] !== true) return undefined;
      const refs = configured.get(c.address)?.[key]?.references;
      return refs?.[0] !== undefined ? `(${refs[0]})` : '(known after apply)';
    };
    const what = c.type.endsWith('_iam_member')
      ? `${value('role') ?? ''} → ${value('member') ?? ''}`
      : c.type === 'google_compute_firewall_policy_rule'
        ? `${String(after.action)} ${String(after.direction).toLowerCase()}, priority ${String(after.priority)}`
        : (['display_name', 'name', 'short_name', 'document_id', 'account_id', 'role_id', 'repository_id', 'service', 'create_duration']
            .filter((key) => typeof after[key] === 'string' && after[key] !== '')
            .map(value)[0] ?? '');
    const provider = c.provider_name.replace('registry.terraform.io/', '');
    return `| \`${c.address}\` | ${c.change.actions.join(', ')} | ${provider} | ${scrub(what).replace(/\|/g, '\\|')} |`;
  });
  return ['| address | action | provider | name (role → member for a grant) |', '|---|---|---|---|', ...rows].join('\n');
}

/** The pages, by path, as the real terraform plans the configurations now. */
export async function renderPlans(): Promise<Record<string, string>> {
  const version = terraformVersion();
  if (version === undefined) throw new Error('no terraform binary: set $TERRAFORM or put terraform on PATH');
  const schemas = [...loadSchemas().values()].map((s) => `${s.provider.replace('registry.terraform.io/', '')} ${s.version}`).join(', ');
  const standIns = await startStandIns();
  try {
    const pages: Record<string, string> = {};
    for (const [name, { title, props, code }] of Object.entries(PLANNED)) {
      const ws = workspace(standIns, { files: { 'cdk.tf.json': synth(props) } });
      const init = await ws.init();
      if (init.code !== 0) throw new Error(`terraform init failed for ${name}: ${init.stderr}`);
      const planned = await ws.plan();
      if (planned.code !== 0 || planned.show === undefined) throw new Error(`terraform plan failed for ${name}: ${planned.stderr}`);
      const text = planned.stdout.slice(planned.stdout.indexOf('Terraform used the selected providers')).trimEnd();
      pages[join(PLAN_DIR, `${name}.md`)] = [
        `# The plan you will review: ${title}`,
        '',
        '<!-- Generated by `npx tsx scripts/terraform-plans.ts` (part of `npm run docs`); do not edit. -->',
        '',
        `What \`terraform plan\` prints for a stack holding one responder, and the resource list of`,
        '`terraform show -json` for the same plan. The stack:',
        '',
        '```ts',
        `new GoogleProvider(stack, 'google', { project: '${PROJECT}', region: 'us-central1' });`,
        code,
        '```',
        '',
        `Planned by ${version} with ${schemas}. The providers are stand-ins that serve those`,
        "releases' published schemas (testkit/terraform/, docs/adr/0029-terraform-offline.md): what",
        'Terraform prints from the configuration and the schemas is as on Google Cloud. What a real',
        'provider reads or fills in at plan differs: the project number is fixed here, defaults the',
        'provider\'s SDK sets (a bucket\'s `storage_class = "STANDARD"`) are absent, and values it computes',
        'at plan (`effective_labels`, `terraform_labels`, with its own `goog-terraform-provisioned` label)',
        'show as `(known after apply)`.',
        'Content hashes of the function zip are written `<sha256>`. How to read it: [deploying](../deploying.md#deploy-and-review-the-plan).',
        '',
        `**${planned.summary}**`,
        '',
        '## Resources',
        '',
        resourceTable(planned.show),
        '',
        '## `terraform plan`',
        '',
        '```text',
        scrub(text),
        '```',
        '',
      ].join('\n');
    }
    return pages;
  } finally {
    await standIns.close();
  }
}

async function main(): Promise<void> {
  const check = handleArguments(USAGE, ['--check']).includes('--check');
  const pages = await renderPlans();
  const stale = Object.entries(pages).filter(([path, text]) => !existsSync(path) || readFileSync(path, 'utf8') !== text);
  if (check) {
    if (stale.length > 0) {
      process.stderr.write(
        `terraform-plans: stale: ${stale.map(([p]) => relative(ROOT, p)).join(', ')}; run npx tsx scripts/terraform-plans.ts\n`,
      );
      process.exitCode = 1;
    } else process.stdout.write(`terraform-plans: ${Object.keys(pages).length} pages match\n`);
    return;
  }
  mkdirSync(PLAN_DIR, { recursive: true });
  for (const [path, text] of Object.entries(pages)) writeFileSync(path, text);
  process.stdout.write(
    `terraform-plans: wrote ${Object.keys(pages)
      .map((p) => relative(ROOT, p))
      .join(', ')}\n`,
  );
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`terraform-plans: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
