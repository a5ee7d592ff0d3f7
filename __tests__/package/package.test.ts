import { REPO_ROOT } from '../support/paths';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PACKAGE_NAME } from '../../lib/bundle/sources';
import {
  CDKTF_INIT_TSCONFIG,
  Consumer,
  ConsumerSynth,
  PackReport,
  TWO_RESPONDERS_APP,
  createConsumer,
  inConsumer,
  packPackage,
  placeExample,
  scrubPlan,
  sha256,
  synthConsumer,
  typecheckConsumerApps,
} from '../../testkit/consumer';
import { synthesizeExampleStack } from '../../testkit/harness';
import { startStandIns, StandIns, TERRAFORM_BINARY, workspace } from '../../testkit/terraform/workspace';
import { itWithTerraform, resourceCount } from '../support/terraform';

// The package as a platform team gets it: `npm pack`, installed into a project made like
// `cdktf init --template=typescript`, with the peers of this checkout linked in (the
// registry's lowest and highest peer versions are `npm run test:peers`).

const root = REPO_ROOT;
const examples = readdirSync(join(root, 'examples'), { withFileTypes: true })
  // examples/terraform is an HCL stack: __tests__/terraform/module-terraform.test.ts plans it.
  .filter((e) => e.isDirectory() && existsSync(join(root, 'examples', e.name, 'cdktf.json')))
  .map((e) => e.name)
  .sort();

/** The first TypeScript block of the README's "Use it in your stack" section. */
function readmeSnippet(): string | undefined {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  return /```ts\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('## Use it in your stack')))?.[1];
}

describe('the published package', () => {
  let work: string;
  let report: PackReport;
  let consumer: Consumer;
  /** The apps the consumer runs: two responders at its root, the README's snippet, each example. */
  let apps: { twoResponders: string; readme: string; examples: Record<string, string> };
  /** Each app's synth, by app directory, as the tests below made it. */
  const synths = new Map<string, ConsumerSynth>();
  const synth = (dir: string): ConsumerSynth => {
    if (!synths.has(dir)) synths.set(dir, synthConsumer(consumer, dir, 'checked-apart'));
    return synths.get(dir)!;
  };
  /** Stand-ins of the pinned providers, for the real Terraform (none without a terraform binary). */
  let standIns: StandIns | undefined;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'svir-pack-'));
    const packed = packPackage(work);
    report = packed.report;
    consumer = createConsumer(packed.tarball, { kind: 'linked' });
    writeFileSync(join(consumer.dir, 'main.ts'), TWO_RESPONDERS_APP);
    const readme = join(consumer.dir, 'readme');
    mkdirSync(readme, { recursive: true });
    const snippet = readmeSnippet();
    if (snippet === undefined) throw new Error("README.md has no ```ts block under '## Use it in your stack'");
    writeFileSync(join(readme, 'main.ts'), snippet);
    writeFileSync(join(readme, 'tsconfig.json'), `${JSON.stringify(CDKTF_INIT_TSCONFIG, null, 2)}\n`);
    apps = {
      twoResponders: consumer.dir,
      readme,
      examples: Object.fromEntries(examples.map((e) => [e, placeExample(consumer, join(root, 'examples', e))])),
    };
    if (TERRAFORM_BINARY !== undefined) standIns = await startStandIns();
  }, 120000);

  afterAll(async () => {
    await standIns?.close();
    consumer?.remove();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ships compiled JavaScript with declarations, the prebuilt zip and its manifest, the bin and a LICENSE, and no sources', () => {
    const files = report.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'package.json',
        'LICENSE',
        'README.md',
        'CHANGELOG.md',
        'dist/lib/index.js',
        'dist/lib/index.d.ts',
        'dist/lib/integrity-responder.js',
        'dist/lib/integrity-responder.d.ts',
        'dist/bundle/function.zip',
        'dist/bundle/manifest.json',
        'dist/bin/integrity-baselines.js',
        'dist/bin/integrity-budget.js',
        'dist/bin/integrity-containment.js',
        'dist/bin/integrity-module.js',
        'dist/bin/commands.js',
        'terraform/README.md',
        'terraform/main.tf.json',
        'terraform/variables.tf.json',
        'terraform/function.zip',
        'terraform/modules/folder/main.tf.json',
        'terraform/modules/organization/main.tf.json',
      ]),
    );
    const unexpected = files.filter(
      (f) =>
        (f.endsWith('.ts') && !f.endsWith('.d.ts')) ||
        /^(tools|scripts|testkit|__tests__|examples|cli|function|lib)\//.test(f) ||
        f.includes('.partial'),
    );
    expect(unexpected).toEqual([]);
    process.stdout.write(
      `package: ${report.filename}, ${(report.size / 1e6).toFixed(2)} MB packed, ${(report.unpackedSize / 1e6).toFixed(2)} MB unpacked, ${files.length} files\n`,
    );
  });

  it('takes the framework as peers, installs no runtime dependency and runs no install script', () => {
    const manifest = JSON.parse(readFileSync(join(consumer.packageDir, 'package.json'), 'utf8'));
    expect(Object.keys(manifest.peerDependencies).sort()).toEqual([
      '@cdktf/provider-google',
      '@cdktf/provider-google-beta',
      '@cdktf/provider-time',
      'cdktf',
      'constructs',
    ]);
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(Object.keys(manifest.scripts ?? {}).filter((s) => /^(pre|post)?install$|^prepare$/.test(s))).toEqual([]);
    expect(manifest.exports['.']).toEqual({ types: './dist/lib/index.d.ts', default: './dist/lib/index.js' });
    expect(consumer.installLog).not.toMatch(/EBADENGINE|install-scripts|ERESOLVE/);
  });

  it('loads with a plain require, without tsx or esbuild anywhere in the consumer', () => {
    const out = inConsumer(consumer, process.execPath, [
      '-e',
      `const m = require('${PACKAGE_NAME}'); console.log(Object.keys(m).sort().join(' '))`,
    ]);
    expect(out).toMatch(/\bIntegrityResponder\b/);
    expect(out).toMatch(/\bbaselineDocument\b/);
    for (const absent of ['tsx', 'esbuild']) {
      const probe = spawnSync(process.execPath, ['-e', `require.resolve('${absent}')`], { cwd: consumer.dir });
      expect({ absent, status: probe.status }).toEqual({ absent, status: 1 });
    }
  });

  // What ts-node checks before it runs an app, for every app at once (the synths below only strip types).
  it("type-checks every app (two responders, the README's snippet, each example) under cdktf init's tsconfig", () => {
    expect(readmeSnippet()).toContain(`from '${PACKAGE_NAME}'`);
    const dirs = [apps.twoResponders, apps.readme, ...Object.values(apps.examples)];
    expect(typecheckConsumerApps(consumer, dirs)).toBe('');
  });

  it('synthesizes two responders under ES2018 strict with ts-node, uploading the zip the end-to-end tests serve', () => {
    const stack = synth(apps.twoResponders).stacks.security!;
    const functions = Object.values(
      (stack.plan.resource as Record<string, Record<string, { name: string }>>)['google_cloudfunctions2_function']!,
    );
    expect(functions.map((f) => f.name).sort()).toEqual(['integrity-responder-handler', 'strict-handler']);
    expect(stack.zipSha256s).toHaveLength(2);

    const served = synthesizeExampleStack();
    try {
      const e2eSha = sha256(readFileSync(served.zipPath));
      process.stdout.write(`package: consumer uploads ${stack.zipSha256s.join(', ')}; end-to-end tests serve ${e2eSha}\n`);
      expect(new Set(stack.zipSha256s)).toEqual(new Set([e2eSha]));
    } finally {
      served.remove();
    }
  });

  it("synthesizes the README's 'Use it in your stack' snippet as written", () => {
    expect(Object.keys(synth(apps.readme).stacks)).toEqual(['security']);
  });

  // The real Terraform on what a platform team's `cdktf synth` writes: each stack directory as is,
  // the uploaded zip included, planned offline against the pinned providers' published schemas.
  itWithTerraform.each(['two responders', "the README's snippet", ...examples.map((e) => `examples/${e}`)])(
    'validates and plans %s with Terraform',
    async (app) => {
      const dir =
        app === 'two responders'
          ? apps.twoResponders
          : app === "the README's snippet"
            ? apps.readme
            : apps.examples[app.slice('examples/'.length)]!;
      for (const [name, stack] of Object.entries(synth(dir).stacks)) {
        const ws = workspace(standIns!, { from: stack.dir });
        expect({ stack: name, init: (await ws.init()).code }).toEqual({ stack: name, init: 0 });
        const validated = await ws.validate();
        expect(`${name}: ${validated.stdout}${validated.stderr}`).toContain(`${name}: Success! The configuration is valid.`);
        const planned = await ws.plan();
        expect(`${name}: ${planned.summary ?? planned.stdout + planned.stderr}`).toBe(
          `${name}: Plan: ${resourceCount(stack.plan as never)} to add, 0 to change, 0 to destroy.`,
        );
      }
    },
    120000,
  );

  // The Terraform module as an HCL stack gets it from the package: the zip it uploads is the one
  // the construct uploads, and a root module calling it plans offline.
  itWithTerraform('ships the Terraform module with the zip the construct uploads, and a root module in HCL plans it', async () => {
    const installed = join(consumer.dir, 'node_modules', PACKAGE_NAME);
    expect(sha256(readFileSync(join(installed, 'terraform', 'function.zip')))).toBe(
      sha256(readFileSync(join(installed, 'dist', 'bundle', 'function.zip'))),
    );
    const ws = workspace(standIns!, { files: {} });
    const source = relative(ws.dir, join(installed, 'terraform'));
    writeFileSync(
      join(ws.dir, 'main.tf'),
      [
        'terraform {\n  required_providers {',
        '    google      = { source = "hashicorp/google", version = "6.50.0" }',
        '    google-beta = { source = "hashicorp/google-beta", version = "6.50.0" }',
        '    time        = { source = "hashicorp/time", version = "0.13.1" }',
        '  }\n}',
        'provider "google" {\n  project = "sec-ops-1234"\n}',
        `module "integrity_responder" {\n  source     = "${source}"\n  project_id = "sec-ops-1234"\n}`,
      ].join('\n'),
    );
    expect((await ws.init()).code).toBe(0);
    expect((await ws.validate()).stdout).toContain('Success! The configuration is valid.');
    const planned = await ws.plan();
    expect(planned.summary ?? planned.stderr).toMatch(/^Plan: \d+ to add, 0 to change, 0 to destroy\.$/);
    const object = planned.show!.resource_changes!.find((c) => c.type === 'google_storage_bucket_object')!;
    expect(object.change.after!.name).toBe(
      `integrity-responder/function-${sha256(readFileSync(join(installed, 'terraform', 'function.zip')))}.zip`,
    );
  });

  it('runs the integrity-module bin through npx', () => {
    expect(inConsumer(consumer, 'npx', ['integrity-module', '--help'])).toMatch(/^usage: integrity-module <command>/m);
    const bad = spawnSync('npx', ['integrity-module', 'moved'], { cwd: consumer.dir, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/moved needs --plan FILE/);
  });

  it('runs the integrity-baselines bin through npx', () => {
    expect(inConsumer(consumer, 'npx', ['integrity-baselines', '--help'])).toMatch(/^usage: integrity-baselines <command>/m);
    const bad = spawnSync('npx', ['integrity-baselines', 'capture', '--frob'], { cwd: consumer.dir, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown option '--frob'/);
  });

  it('runs the integrity-budget bin through npx, sharing one bundle with integrity-baselines', () => {
    expect(inConsumer(consumer, 'npx', ['integrity-budget', '--help'])).toMatch(/^usage: integrity-budget <command>/m);
    const bad = spawnSync('npx', ['integrity-budget', 'reset', '--project', 'fleet-prod-1234'], { cwd: consumer.dir, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/reset needs --reason TEXT/);
    const bins = report.files.filter((f) => f.path.startsWith('dist/bin/'));
    // The Firestore client is bundled once, in commands.js; each bin is a few bytes.
    expect(bins.filter((f) => f.size > 10_000).map((f) => f.path)).toEqual(['dist/bin/commands.js']);
  });

  it.each(examples)('synthesizes examples/%s from the package', (example) => {
    for (const [name, stack] of Object.entries(synth(apps.examples[example]!).stacks)) {
      expect(stack.zipSha256s.length).toBeGreaterThan(0);
      expect(scrubPlan(stack.plan, consumer.dir)).toMatchSnapshot(name);
    }
  });
});
