import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { TerraformStack, Testing } from 'cdktf';
import { IntegrityResponder, IntegrityResponderProps } from '../../lib';
import { loadFunctionBundle } from '../../lib/function-bundle';
import { MODULES } from '../../scripts/terraform-module/spec';
import { PlannedResult, ShownPlan, StandIns, Workspace, startStandIns, workspace } from '../../testkit/terraform/workspace';
import { placeModuleTree } from '../../testkit/terraform/module-tree';
import { REPO_ROOT } from '../support/paths';
import { describeWithTerraform } from '../support/terraform';

/*
 * The generated module and its HCL example, handed to the real Terraform offline (the provider
 * stand-ins of ADR 0029): init, validate and plan; and what the example plans, resource by
 * resource and grant by grant (`terraform show -json`), is what the construct plans for the same
 * settings in a CDKTF stack.
 */

const EXAMPLE_DIR = join(REPO_ROOT, 'examples', 'terraform');
const SECURITY = 'sec-ops-1234';
const CHANNELS = ['projects/sec-ops-1234/notificationChannels/4242424242'];
const RESPONDER = 'Responder';

/** A workspace holding `files` and, beside them, the module tree with its function zip (as a release archive has it). */
function withModule(standIns: StandIns, files: Record<string, string>): Workspace {
  const ws = workspace(standIns, { files });
  placeModuleTree(ws.dir);
  return ws;
}

/** Init, validate and plan; each must succeed. */
async function planned(ws: Workspace): Promise<PlannedResult> {
  const init = await ws.init();
  expect(init.stderr).toBe('');
  const validated = await ws.validate();
  expect(validated.stdout + validated.stderr).toContain('Success! The configuration is valid.');
  const plan = await ws.plan();
  expect(plan.stderr).toBe('');
  return plan;
}

/** The function zip's path as the same words, wherever the configuration keeps it. */
function zipFile(path: unknown): string {
  expect(path).toMatch(/(^|\/)function\.zip$/);
  return '<function.zip>';
}

/** The planned creates of the responder's resources (under `module`, or at the root), by `<type>.<logical id>`: known and unknown values. */
function responderChanges(show: ShownPlan, module?: string): Record<string, { after: unknown; unknown: unknown }> {
  const found: Record<string, { after: unknown; unknown: unknown }> = {};
  for (const c of show.resource_changes ?? []) {
    if (c.mode !== 'managed' || c.module_address !== module || !c.name.startsWith(`${RESPONDER}_`)) continue;
    expect({ address: c.address, actions: c.change.actions }).toEqual({ address: c.address, actions: ['create'] });
    // The zip's path on the machine running Terraform differs; what is uploaded, its content, is named by its sha256.
    let after = c.type === 'google_storage_bucket_object' ? { ...c.change.after, source: zipFile(c.change.after!.source) } : c.change.after;
    // A list of excluded projects given as a Terraform value is a dynamic block over a set (ADR 0025): the same
    // exclusions as written-out projects give, in the set's order rather than the construct's.
    if (/^google_logging_\w+_sink$/.test(c.type) && Array.isArray(after?.exclusions)) {
      after = { ...after, exclusions: [...(after.exclusions as { name: string }[])].sort((a, b) => a.name.localeCompare(b.name)) };
    }
    found[`${c.type}.${c.name}`] = { after, unknown: c.change.after_unknown };
  }
  return found;
}

/** The construct's plan, through the same Terraform, for a stack built by `build`. */
async function constructPlan(standIns: StandIns, build: (stack: TerraformStack) => void): Promise<ShownPlan> {
  const stack = new TerraformStack(Testing.app(), 'construct');
  build(stack);
  const json = Testing.synth(stack);
  const doc = JSON.parse(json) as { resource: { google_storage_bucket_object: Record<string, { source: string }> } };
  const ws = workspace(standIns, { files: { 'cdk.tf.json': json } });
  for (const object of Object.values(doc.resource.google_storage_bucket_object)) {
    mkdirSync(dirname(join(ws.dir, object.source)), { recursive: true });
    copyFileSync(loadFunctionBundle(REPO_ROOT).zipPath, join(ws.dir, object.source));
  }
  return (await planned(ws)).show!;
}

/** A stack like the example's: its google provider (and the deployer's, aliased, when `deployer` is given), one responder. */
function exampleStack(props: Partial<IntegrityResponderProps>, deployer?: { region: string; account: string }) {
  return (stack: TerraformStack) => {
    new GoogleProvider(stack, 'google', { project: SECURITY, region: 'us-central1' });
    const aliased =
      deployer &&
      new GoogleProvider(stack, 'deployer', {
        alias: 'deployer',
        project: SECURITY,
        region: deployer.region,
        impersonateServiceAccount: deployer.account,
      });
    new IntegrityResponder(stack, RESPONDER, {
      projectId: SECURITY,
      notificationChannels: CHANNELS,
      ...(aliased && { providers: { google: aliased } }),
      ...props,
    });
  };
}

/** Every grant and custom role of a set of planned changes: who gets what, where, on which condition; which permissions. */
function iam(changes: Record<string, { after: unknown }>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(changes)
      .filter(([address]) => /_iam_(member|custom_role)\./.test(address))
      .map(([a, c]) => [a, c.after]),
  );
}

describeWithTerraform('the Terraform module and its HCL example, planned by Terraform (offline)', () => {
  let standIns: StandIns;
  beforeAll(async () => {
    standIns = await startStandIns();
  });
  afterAll(() => standIns.close());

  it('each module plans, at its defaults, the resources the construct plans', async () => {
    const calls = MODULES.map((m) => {
      const required = m.inputs.filter((i) => !i.choice && i.required).map((i) => i.variable);
      const values: Record<string, string> = { project_id: SECURITY, folder_id: '5550001', organization_id: '4242' };
      return [
        `module "${m.kind}" {`,
        `  source = "./terraform${m.dir === '' ? '' : `/${m.dir}`}"`,
        `  name_prefix = "${m.kind.slice(0, 3)}-responder"`,
        ...required.map((v) => `  ${v} = "${values[v]}"`),
        '}',
      ].join('\n');
    });
    const ws = withModule(standIns, { 'main.tf': calls.join('\n\n') });
    const plan = await planned(ws);
    const scopes = {
      project: {},
      folder: { scope: 'folders/5550001', organizationId: '4242' },
      organization: { scope: 'organizations/4242' },
    };
    for (const m of MODULES) {
      const construct = await constructPlan(standIns, (stack) => {
        new GoogleProvider(stack, 'google', {});
        new IntegrityResponder(stack, RESPONDER, { projectId: SECURITY, namePrefix: `${m.kind.slice(0, 3)}-responder`, ...scopes[m.kind] });
      });
      expect({ module: m.kind, changes: responderChanges(plan.show!, `module.${m.kind}`) }).toEqual({
        module: m.kind,
        changes: responderChanges(construct),
      });
    }
  });

  it('examples/terraform plans, for each module call, the resources and IAM the construct plans for the same settings', async () => {
    const main = readFileSync(join(EXAMPLE_DIR, 'main.tf'), 'utf8');
    // The example names the module by its place in the repository; here the tree sits beside it.
    const ws = withModule(standIns, { 'main.tf': main.replace(/"\.\.\/\.\.\/terraform/g, '"./terraform') });
    const plan = await planned(ws);
    const fleet = await constructPlan(
      standIns,
      exampleStack({ scope: 'projects/fleet-prod-1234', namePrefix: 'fleet-integrity', failureAction: 'suspend' }),
    );
    const organization = await constructPlan(
      standIns,
      exampleStack(
        {
          region: 'europe-west1',
          namePrefix: 'org-integrity',
          scope: 'organizations/800000000001',
          excludedProjects: ['lab-sandbox-1', 'lab-sandbox-2'],
          enforcement: 'dry-run',
          requireBaselineApproval: true,
          labels: { team: 'security' },
        },
        { region: 'europe-west1', account: 'integrity-deployer@sec-ops-1234.iam.gserviceaccount.com' },
      ),
    );
    for (const [call, construct] of [
      ['module.fleet', fleet],
      ['module.organization', organization],
    ] as const) {
      const module = responderChanges(plan.show!, call);
      const expected = responderChanges(construct);
      expect(Object.keys(module).sort()).toEqual(Object.keys(expected).sort());
      expect(iam(module)).toEqual(iam(expected));
      expect(module).toEqual(expected);
    }
    // What the example says of itself: suspended, not stopped; the sandboxes left out of the organization's binding.
    const fleetRole = Object.values(iam(responderChanges(plan.show!, 'module.fleet'))).find((r) => (r as any).permissions) as any;
    expect(fleetRole.permissions).toContain('compute.instances.suspend');
    expect(fleetRole.permissions).not.toContain('compute.instances.stop');
    const binding = Object.entries(iam(responderChanges(plan.show!, 'module.organization'))).find(([a]) =>
      a.startsWith('google_organization_iam_member.Responder_RuntimeActsOnInstances'),
    )![1] as any;
    expect(binding.condition[0].expression).toContain('lab-sandbox-2');
  });

  it('says, at plan, where function.zip must be: a submodule called by an absolute path, and a root module without its zip', async () => {
    const ws = withModule(standIns, {});
    rmSync(join(ws.dir, 'terraform', 'function.zip'));
    // An absolute path fetches the submodule's folder alone; `./terraform` is the root module, its zip removed.
    writeFileSync(
      join(ws.dir, 'main.tf'),
      [
        `module "organization" {\n  source = "${join(ws.dir, 'terraform', 'modules', 'organization')}"\n  project_id = "${SECURITY}"\n  organization_id = "4242"\n}`,
        `module "root" {\n  source = "./terraform"\n  project_id = "${SECURITY}"\n}`,
      ].join('\n'),
    );
    expect((await ws.init()).code).toBe(0);
    expect((await ws.validate()).stdout).toContain('Success! The configuration is valid.');
    const plan = await ws.plan();
    expect(plan.code).not.toBe(0);
    const said = plan.stderr.replace(/\s+/g, ' ');
    expect(said).toContain('function.zip is missing: this submodule uploads the one at the root of the module tree');
    expect(said).toContain('"<module root>//modules/organization"');
    expect(said).toContain('function.zip is missing from the module root');
    expect(said.match(/--with-zip/g)).toHaveLength(2);
    expect(said).not.toContain('Call to function');
  });

  it('says, at validate, which variable is wrong and how: a scope input given with its prefix, an excluded project that is no project id', async () => {
    const organization = './terraform/modules/organization';
    const ws = withModule(standIns, {
      'main.tf': [
        `module "project" {\n  source = "./terraform"\n  project_id = "${SECURITY}"\n  watched_project_id = "projects/fleet-1234"\n}`,
        `module "organization" {\n  source = "${organization}"\n  project_id = "${SECURITY}"\n  organization_id = "organizations/4242"\n}`,
        `module "excluded" {\n  source = "${organization}"\n  project_id = "${SECURITY}"\n  organization_id = "4242"\n  name_prefix = "excluded"\n  excluded_projects = ["Sandbox_1"]\n}`,
      ].join('\n'),
    });
    expect((await ws.init()).code).toBe(0);
    const validated = await ws.validate();
    expect(validated.code).not.toBe(0);
    const said = validated.stderr.replace(/\s+/g, ' ');
    expect(said).toContain("watched_project_id must be a Google Cloud project id such as 'fleet-prod-1234', without 'projects/'");
    expect(said).toContain(
      "organization_id must be the organization's number, digits only such as '800000000001', without 'organizations/'.",
    );
    expect(said).toContain('excluded_projects has an element that does not match');
    expect(said.match(/Invalid value for variable/g)).toHaveLength(3);
    expect(said).not.toMatch(/scope must match|at most/);
  });

  it('outputs the databases by reference, and no baseline database in the shutdown mode', async () => {
    const ws = withModule(standIns, {
      'main.tf': [
        `module "relearn" {\n  source = "./terraform"\n  project_id = "${SECURITY}"\n  name_prefix = "relearn"\n}`,
        `module "shutdown" {\n  source = "./terraform"\n  project_id = "${SECURITY}"\n  name_prefix = "shutdown"\n  response_mode = "shutdown"\n}`,
        ...['relearn', 'shutdown'].flatMap((m) =>
          ['baseline_database', 'ledger_database'].map((o) => `output "${m}_${o}" {\n  value = module.${m}.${o}\n}`),
        ),
      ].join('\n'),
    });
    const show = (await planned(ws)).show as ShownPlan & {
      output_changes: Record<string, { after: unknown; after_unknown: unknown }>;
      configuration: { root_module: { module_calls: Record<string, any> } };
    };
    const outputs = Object.fromEntries(Object.entries(show.output_changes).map(([name, c]) => [name, c.after]));
    expect(outputs).toEqual({
      relearn_baseline_database: 'relearn-baselines',
      relearn_ledger_database: 'relearn-decisions',
      shutdown_baseline_database: null,
      shutdown_ledger_database: 'shutdown-decisions',
    });
    // A caller that uses them waits for the databases they name.
    const references = (o: string) =>
      show.configuration.root_module.module_calls.relearn.module.outputs[o].expression.references as string[];
    expect(references('ledger_database')).toContain('google_firestore_database.Responder_LedgerDatabase_CC41B944');
    expect(references('baseline_database')).toContain('google_firestore_database.Responder_BaselineDatabase_393D3DE7');
  });

  it('refuses, at plan, a combination the construct refuses, with its sentence', async () => {
    const ws = withModule(standIns, {
      'main.tf': `module "m" {\n  source = "./terraform"\n  project_id = "${SECURITY}"\n  response_mode = "shutdown"\n  require_baseline_approval = true\n}\n`,
    });
    expect((await ws.init()).code).toBe(0);
    const plan = await ws.plan();
    expect(plan.code).not.toBe(0);
    expect(plan.stderr.replace(/\s+/g, ' ')).toContain("require_baseline_approval applies to response_mode 'relearn-if-known-good' only");
  });
});

describe('examples/terraform', () => {
  it('calls the root module and the organization submodule by their place in the repository', () => {
    const main = readFileSync(join(EXAMPLE_DIR, 'main.tf'), 'utf8');
    expect([...main.matchAll(/^\s*source\s*=\s*"(\.[^"]+)"/gm)].map((m) => m[1])).toEqual([
      '../../terraform',
      '../../terraform/modules/organization',
    ]);
  });
});
