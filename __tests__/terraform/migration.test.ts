import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { App, LocalBackend, TerraformStack } from 'cdktf';
import { IntegrityResponder, IntegrityResponderProps } from '../../lib';
import { REPO_ROOT } from '../support/paths';
import { describeWithTerraform, resourceCount } from '../support/terraform';
import { startStandIns, StandIns, workspace } from '../../testkit/terraform/workspace';
import { placeModuleTree } from '../../testkit/terraform/module-tree';

/*
 * docs/migrating-from-cdktf.md, step by step, with the real Terraform against the stand-ins
 * (ADR 0029): a CDKTF stack is applied (in memory), its state backed up with
 * `terraform state pull`, the tool writes `moved.tf` (`integrity-module moved --plan …`), the
 * configuration becomes a root module calling the package's Terraform module, and
 * `terraform init` and `terraform plan` must move every resource and change only what the
 * page says: the source object replaced (its local path is ForceNew), the function updated.
 */

const PROJECT = 'sec-ops-1234';
const PROVIDERS = [
  'terraform {\n  required_providers {',
  '    google      = { source = "hashicorp/google", version = "6.50.0" }',
  '    google-beta = { source = "hashicorp/google-beta", version = "6.50.0" }',
  '    time        = { source = "hashicorp/time", version = "0.13.1" }',
  '  }\n}',
  `provider "google" {\n  project = "${PROJECT}"\n  region  = "us-central1"\n}`,
].join('\n');

interface Scenario {
  readonly props: Partial<IntegrityResponderProps>;
  /** The module (relative to the repository) and its inputs for the same settings, as HCL lines. */
  readonly module: string;
  readonly inputs: readonly string[];
  /** What the plan must change besides the moves, by address inside the module. */
  readonly changes: Readonly<Record<string, string>>;
  readonly summary: string;
}

const OBJECT = 'google_storage_bucket_object.Responder_SourceObject_C919C8FB';
const FUNCTION = 'google_cloudfunctions2_function.Responder_Function_73C2D4D9';
const SINK = 'google_logging_organization_sink.Responder_Sink_86F16188';

const SCENARIOS: Record<string, Scenario> = {
  'a project with the APIs enabled and the two-person rule': {
    props: { enableApis: true, requireBaselineApproval: true },
    module: 'terraform',
    inputs: [`project_id = "${PROJECT}"`, 'enable_apis = true', 'require_baseline_approval = true'],
    changes: { [OBJECT]: 'delete,create', [FUNCTION]: 'update' },
    summary: 'Plan: 1 to add, 1 to change, 1 to destroy.',
  },
  'an organization with excluded projects, suspending': {
    props: { scope: 'organizations/4242', excludedProjects: ['lab-sandbox-1', 'lab-sandbox-2'], failureAction: 'suspend' },
    module: 'terraform/modules/organization',
    inputs: [
      `project_id = "${PROJECT}"`,
      'organization_id = "4242"',
      'excluded_projects = ["lab-sandbox-1", "lab-sandbox-2"]',
      'failure_action = "suspend"',
    ],
    // The module's sink writes the exclusions from a set: the same ones, in another order (ADR 0030).
    changes: { [OBJECT]: 'delete,create', [FUNCTION]: 'update', [SINK]: 'update' },
    summary: 'Plan: 1 to add, 2 to change, 1 to destroy.',
  },
};

/** The tool as a user runs it (`npx integrity-module moved --plan … --out moved.tf`), from this checkout. */
function integrityModuleMoved(plan: string, dir: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      [require.resolve('tsx/cli'), join(REPO_ROOT, 'cli', 'integrity-module.ts'), 'moved', '--plan', plan, '--out', 'moved.tf'],
      { cwd: dir, encoding: 'utf8' },
      (error, _stdout, stderr) =>
        error ? reject(new Error(`integrity-module moved failed: ${stderr}`)) : resolve(readFileSync(join(dir, 'moved.tf'), 'utf8')),
    ),
  );
}

describeWithTerraform('leaving CDKTF: a deployed stack moved into the Terraform module (docs/migrating-from-cdktf.md)', () => {
  let standIns: StandIns;
  const projects: string[] = [];
  beforeAll(async () => {
    standIns = await startStandIns();
  });
  afterAll(async () => {
    await standIns.close();
    for (const project of projects) rmSync(project, { recursive: true, force: true });
  });

  it.each(Object.keys(SCENARIOS))('%s: every resource moved, only the source object and the function changed', async (name) => {
    const scenario = SCENARIOS[name]!;
    // The stack as `cdktf synth` writes it (with the construct paths in its metadata), its state
    // in a backend of its own that the HCL configuration below reads too.
    const project = mkdtempSync(join(tmpdir(), 'svir-cdktf-'));
    projects.push(project);
    const state = join(project, 'terraform.security.tfstate');
    const app = new App({ outdir: join(project, 'cdktf.out') });
    const stack = new TerraformStack(app, 'security');
    new LocalBackend(stack, { path: state });
    new GoogleProvider(stack, 'google', { project: PROJECT, region: 'us-central1' });
    new IntegrityResponder(stack, 'IntegrityResponder', { projectId: PROJECT, ...scenario.props });
    app.synth();
    const stackDir = join(project, 'cdktf.out', 'stacks', 'security');
    const synthesized = readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8');
    expect(synthesized).toContain('"path": "security/IntegrityResponder/Topic"');
    const ws = workspace(standIns, { from: stackDir });

    // Deployed by CDKTF (to the stand-ins' memory), and the state backed up.
    expect((await ws.init()).code).toBe(0);
    const applied = await ws.run(['apply', '-auto-approve', '-input=false', '-no-color', '-lock=false']);
    expect(applied.stderr).toBe('');
    const backup = await ws.run(['state', 'pull']);
    const resources = resourceCount(JSON.parse(synthesized) as never);
    expect((JSON.parse(backup.stdout) as { resources: { mode: string }[] }).resources.filter((r) => r.mode === 'managed')).toHaveLength(
      resources,
    );

    // The tool's moved blocks, then a root module in HCL instead of the synthesized stack.
    const moved = await integrityModuleMoved(join(ws.dir, 'cdk.tf.json'), ws.dir);
    expect(moved).toContain(scenario.module);
    rmSync(join(ws.dir, 'cdk.tf.json'));
    rmSync(join(ws.dir, 'assets'), { recursive: true, force: true });
    // The module as the package ships it, zip included, beside the configuration.
    placeModuleTree(ws.dir);
    const source = `./${scenario.module}`;
    writeFileSync(
      join(ws.dir, 'main.tf'),
      `terraform {\n  backend "local" {\n    path = "${state}"\n  }\n}\n\n${PROVIDERS}\n\nmodule "integrity_responder" {\n  source = "${source}"\n${scenario.inputs.map((l) => `  ${l}`).join('\n')}\n}\n`,
    );
    // The backend block is new to this directory's configuration: init takes the same state over.
    const reinit = await ws.run(['init', '-input=false', '-no-color', '-migrate-state', '-force-copy']);
    expect(reinit.code).toBe(0);
    // The same state, at the stack's addresses, before anything moves.
    const listed = await ws.run(['state', 'list']);
    expect(listed.stdout.split('\n').filter((a) => a.startsWith('google_') || a.startsWith('time_'))).toHaveLength(resources);
    const planned = await ws.plan();
    expect(planned.stderr).toBe('');
    expect(planned.summary).toBe(scenario.summary);
    const managed = planned.show!.resource_changes!.filter((c) => c.mode === 'managed');
    // Every resource of the stack is one of the module's, reached by a move.
    expect(managed).toHaveLength(resources);
    expect(managed.filter((c) => (c as { previous_address?: string }).previous_address === undefined).map((c) => c.address)).toEqual([]);
    // Terraform says so of each: "has moved to" when nothing else changes, "(moved from …)" on a change.
    expect((planned.stdout.match(/has moved to module\.integrity_responder\.|\(moved from /g) ?? []).length).toBe(resources);
    const changed = Object.fromEntries(
      managed
        .filter((c) => c.change.actions.join(',') !== 'no-op')
        .map((c) => [c.address.replace(/^module\.integrity_responder\./, ''), c.change.actions.join(',')]),
    );
    expect(changed).toEqual(scenario.changes);
    // The function's update is its build reading the new object's generation, and nothing else:
    // a setting of the stack that the module call did not carry over would show here.
    const fn = managed.find((c) => c.address === `module.integrity_responder.${FUNCTION}`)!;
    const { before, after, after_unknown: unknown } = fn.change as unknown as Record<'before' | 'after' | 'after_unknown', any>;
    expect(unknown.build_config[0].source[0].storage_source[0].generation).toBe(true);
    const withoutGeneration = (value: any) => {
      const copy = JSON.parse(JSON.stringify(value));
      delete copy.build_config[0].source[0].storage_source[0].generation;
      return copy;
    };
    expect(withoutGeneration({ ...before, ...after })).toEqual(withoutGeneration(before));
    // The sink's update, where there is one, is its exclusions' order and nothing else.
    const sink = managed.find((c) => c.address === `module.integrity_responder.${SINK}`);
    if (sink !== undefined && sink.change.actions.includes('update')) {
      const { before, after } = sink.change as unknown as Record<'before' | 'after', { exclusions: { name: string }[] }>;
      const byName = (e: { name: string }[]) => [...e].sort((a, b) => a.name.localeCompare(b.name));
      expect({ ...after, exclusions: byName(after.exclusions) }).toEqual({ ...before, exclusions: byName(before.exclusions) });
      expect(after.exclusions).not.toEqual(before.exclusions);
    }
  });
});
