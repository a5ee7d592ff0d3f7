import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ProviderStandIn, startProviderStandIn } from './provider-stand-in';
import { loadSchemas, SCHEMA_DIR } from './schema';

/*
 * The real Terraform, offline, on a configuration: every provider it needs answered by a stand-in
 * serving that provider's published schemas (provider-stand-in.ts). Usage:
 *
 *   const providers = await startStandIns();             // once per test file (beforeAll)
 *   const ws = workspace(providers, { from: stackDir });  // or { files: { 'main.tf': '…' } }
 *   await ws.init(); const v = await ws.validate(); const p = await ws.plan();
 *   await providers.close();                              // afterAll
 *
 * Nothing is downloaded: `init` installs no provider (every one is attached, "unmanaged"), and a
 * provider without a stand-in fails `init` as it would without a registry. Commands run with
 * execFile, never a *Sync call: the stand-ins answer from this process's event loop.
 */

/** The terraform binary: $TERRAFORM, else the first `terraform` on PATH; undefined when there is none. */
export const TERRAFORM_BINARY: string | undefined = (() => {
  if (process.env.TERRAFORM !== undefined && process.env.TERRAFORM !== '') return process.env.TERRAFORM;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, 'terraform'))) return join(dir, 'terraform');
  }
  return undefined;
})();

/** `terraform version`'s first line, or undefined without a binary. */
export function terraformVersion(): string | undefined {
  if (TERRAFORM_BINARY === undefined) return undefined;
  return execFileSync(TERRAFORM_BINARY, ['version'], {
    encoding: 'utf8',
    env: { ...quietEnv(), TF_CLI_CONFIG_FILE: '/dev/null' },
    stdio: 'pipe',
  }).split('\n')[0];
}

/** The stand-ins of every provider with a schema fixture, running. */
export interface StandIns {
  readonly providers: readonly ProviderStandIn[];
  /** The value of TF_REATTACH_PROVIDERS that attaches all of them. */
  readonly reattach: string;
  /** Directories of the workspaces made with them, removed by close(). */
  readonly workspaces: string[];
  /** Stops the stand-ins and removes their workspaces. */
  close(): Promise<void>;
}

/** Starts one stand-in per provider fixture in testkit/terraform/schemas (or `dir`). */
export async function startStandIns(dir: string = SCHEMA_DIR): Promise<StandIns> {
  const providers = await Promise.all([...loadSchemas(dir).values()].map(startProviderStandIn));
  const workspaces: string[] = [];
  return {
    providers,
    reattach: JSON.stringify(Object.fromEntries(providers.map((p) => [p.provider, p.reattach]))),
    workspaces,
    close: async () => {
      await Promise.all(providers.map((p) => p.close()));
      for (const made of workspaces.splice(0)) rmSync(made, { recursive: true, force: true });
    },
  };
}

/** What one terraform command did. */
export interface TerraformResult {
  readonly args: readonly string[];
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A plan, as Terraform printed and recorded it. */
export interface PlannedResult extends TerraformResult {
  /** The plan's summary line, e.g. "Plan: 41 to add, 0 to change, 0 to destroy." */
  readonly summary: string | undefined;
  /** `terraform show -json` of the saved plan (undefined when the plan failed). */
  readonly show: ShownPlan | undefined;
}

/** The parts of `terraform show -json <plan>` the tests read. */
export interface ShownPlan {
  readonly format_version: string;
  readonly terraform_version: string;
  readonly resource_changes?: {
    readonly address: string;
    readonly module_address?: string;
    readonly mode: 'managed' | 'data';
    readonly type: string;
    readonly name: string;
    readonly index?: number | string;
    readonly provider_name: string;
    readonly change: {
      readonly actions: string[];
      readonly after: Record<string, unknown> | null;
      readonly after_unknown?: Record<string, unknown>;
    };
  }[];
  readonly [key: string]: unknown;
}

/** A directory Terraform runs in, attached to the stand-ins. */
export interface Workspace {
  readonly dir: string;
  run(args: readonly string[]): Promise<TerraformResult>;
  init(): Promise<TerraformResult>;
  validate(): Promise<TerraformResult>;
  /** `terraform plan -out`, then `terraform show -json` of that plan. */
  plan(variables?: Readonly<Record<string, string>>): Promise<PlannedResult>;
}

function quietEnv(): NodeJS.ProcessEnv {
  return { ...process.env, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1', NO_COLOR: '1' };
}

/** A copy of a configuration (a synthesized stack's directory, or files given here) to run Terraform in. */
export function workspace(standIns: StandIns, source: { from: string } | { files: Readonly<Record<string, string>> }): Workspace {
  if (TERRAFORM_BINARY === undefined) throw new Error('no terraform binary: set $TERRAFORM or put terraform on PATH');
  const binary = TERRAFORM_BINARY;
  const dir = mkdtempSync(join(tmpdir(), 'svir-terraform-'));
  standIns.workspaces.push(dir);
  if ('from' in source) cpSync(source.from, dir, { recursive: true, filter: (path) => !/[\\/]\.terraform([\\/]|$)/.test(path) });
  else for (const [name, text] of Object.entries(source.files)) writeFileSync(join(dir, name), text);
  const cliConfig = join(dir, '.terraformrc-empty');
  writeFileSync(cliConfig, '');
  const env = { ...quietEnv(), TF_REATTACH_PROVIDERS: standIns.reattach, TF_CLI_CONFIG_FILE: cliConfig };
  const run = (args: readonly string[]): Promise<TerraformResult> =>
    new Promise((resolve) =>
      execFile(binary, [...args], { cwd: dir, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
        resolve({ args, code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      ),
    );
  return {
    dir,
    run,
    init: () => run(['init', '-input=false', '-no-color']),
    validate: () => run(['validate', '-no-color']),
    async plan(variables = {}) {
      const vars = Object.entries(variables).flatMap(([k, v]) => ['-var', `${k}=${v}`]);
      const planned = await run(['plan', '-input=false', '-no-color', '-lock=false', '-refresh=false', '-out=tfplan', ...vars]);
      const summary = /^(Plan: .*|No changes\..*)$/m.exec(planned.stdout)?.[1];
      if (planned.code !== 0) return { ...planned, summary, show: undefined };
      const shown = await run(['show', '-json', 'tfplan']);
      if (shown.code !== 0) throw new Error(`terraform show -json failed: ${shown.stderr}`);
      return { ...planned, summary, show: JSON.parse(shown.stdout) as ShownPlan };
    },
  };
}
