import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic';
import { App, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { build } from 'esbuild';
import type { Io } from '../../../cli/common';
import { BIN, COMMAND_FLAGS, COMMAND_USAGE, run } from '../../../cli/integrity-module';
import { MODULE_SOURCES, ModuleSource, MovedError, MovedOptions, logicalId, movedBlocks } from '../../../cli/module/moved';
import { PACKAGE_NAME, packageHome, readModules } from '../../../cli/module/package';
import { IntegrityResponder, IntegrityResponderProps } from '../../../lib';
import { loadFunctionBundle } from '../../../lib/function-bundle';
import { PACKAGE_NAME as LIB_PACKAGE_NAME } from '../../../lib/bundle/sources';
import { StandIns, startStandIns, workspace } from '../../../testkit/terraform/workspace';
import { REPO_ROOT } from '../../support/paths';
import { itWithTerraform } from '../../support/terraform';

const PROJECT = 'sec-ops-1234';
const MODULES = readModules(REPO_ROOT);
const FOLDER = { scope: 'folders/5550001', organizationId: '4242' };
const ORGANIZATION = { scope: 'organizations/4242' };
/** The choices that make the module's counted resources exist in a stack: the APIs, the baseline database and its policy. */
const COUNTED = { enableApis: true, requireBaselineApproval: true };

type Json = Record<string, any>;

/** A synthesized stack, as `cdktf synth` writes it: the file and its content. */
interface Synthesized {
  readonly file: string;
  readonly plan: Json;
}

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'svir-moved-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Synthesizes a stack `security` the way `cdktf synth` does (App.synth, with each resource's `//` metadata). */
function synthesized(compose: (stack: TerraformStack) => void, stackId = 'security'): Synthesized {
  const outdir = mkdtempSync(join(work, 'cdktf.out-'));
  const app = new App({ outdir, stackTraces: false });
  const stack = new TerraformStack(app, stackId);
  new GoogleProvider(stack, 'google', { project: PROJECT });
  compose(stack);
  app.synth();
  const file = join(outdir, 'stacks', stackId, 'cdk.tf.json');
  return { file, plan: JSON.parse(readFileSync(file, 'utf8')) as Json };
}

/** A stack holding one responder at `path` (construct ids, the last one the responder's), with `props`. */
function withResponder(path: readonly string[], props: Partial<IntegrityResponderProps> = {}) {
  return (stack: TerraformStack) => {
    let scope: Construct = stack;
    for (const id of path.slice(0, -1)) scope = new Construct(scope, id);
    new IntegrityResponder(scope, path[path.length - 1]!, { projectId: PROJECT, ...props });
  };
}

/** The plan without cdktf's `//` metadata, as a user who strips it has it. */
function withoutMetadata(plan: Json): Json {
  return JSON.parse(JSON.stringify(plan, (key, value: unknown) => (key === '//' ? undefined : value))) as Json;
}

/** The moved blocks of an HCL text, in their order. */
function blocksOf(text: string): { from: string; to: string }[] {
  const blocks = [...text.matchAll(/^moved \{\n {2}from = (\S+)\n {2}to {3}= (\S+)\n\}$/gm)].map((m) => ({ from: m[1]!, to: m[2]! }));
  // Every line is a comment, a blank, or part of a block: nothing else slipped in.
  expect(text.split('\n').filter((l) => !/^(#.*|moved \{|\s+(from|to)\s+= \S+|\}|)$/.test(l))).toEqual([]);
  expect(text.match(/^moved \{$/gm)?.length ?? 0).toBe(blocks.length);
  return blocks;
}

/** `<type>.<id>` of every resource (not data source) whose construct path is below `path` in the plan. */
function resourcesBelow(plan: Json, path: string): string[] {
  return Object.entries(plan.resource as Json)
    .flatMap(([type, byId]) =>
      Object.entries(byId as Json)
        .filter(([, body]) => (body['//'].metadata.path as string).startsWith(`${path}/`))
        .map(([id]) => `${type}.${id}`),
    )
    .sort();
}

/**
 * Each block goes to a resource the module declares, of the same type, indexed `[0]` exactly when
 * the module counts it; and comes from the stack's resource at the same construct path below the
 * responder as the module's below `Responder`.
 */
function expectEachInModule(blocks: { from: string; to: string }[], plan: Json, source: ModuleSource, responderPath: string, name: string) {
  const module = (MODULES[source] as Json).resource as Json;
  for (const { from, to } of blocks) {
    const [fromType, fromId] = from.split('.') as [string, string];
    const m = new RegExp(`^module\\.${name}\\.([a-z0-9_]+)\\.(Responder_[A-Za-z0-9_]+)(\\[0\\])?$`).exec(to);
    expect({ to, matches: m !== null }).toEqual({ to, matches: true });
    const [, type, id, index] = m!;
    expect({ from, type }).toEqual({ from, type: fromType });
    const declared = module[type!]?.[id!];
    expect({ to, declared: declared !== undefined, counted: declared?.count !== undefined }).toEqual({
      to,
      declared: true,
      counted: index !== undefined,
    });
    const below = (plan.resource[fromType][fromId]['//'].metadata.path as string).slice(`security/${responderPath}/`.length);
    expect({ from, module: id }).toEqual({ from, module: logicalId(['Responder', ...below.split('/')]) });
  }
}

/** `movedBlocks` on a synthesized plan with this checkout's modules. */
const movedOf = (plan: Json, options?: MovedOptions) => movedBlocks(plan, MODULES, options);

/** The MovedError `fn` throws. */
function movedError(fn: () => unknown): MovedError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(MovedError);
  return thrown as MovedError;
}

describe('movedBlocks', () => {
  it('moves every resource of a responder nested in another construct into the project module, [0] where the module counts', () => {
    const { plan } = synthesized(withResponder(['Security', 'IntegrityResponder'], COUNTED));
    const result = movedOf(plan);
    const blocks = blocksOf(result.text);
    expect(result.source).toBe('terraform');
    expect(result.responder).toBe('Security/IntegrityResponder');
    expect(blocks.map((b) => b.from).sort()).toEqual(resourcesBelow(plan, 'security/Security/IntegrityResponder'));
    expect(result.moved).toBe(blocks.length);
    expectEachInModule(blocks, plan, 'terraform', 'Security/IntegrityResponder', 'integrity_responder');
    // Every resource the module declares has its block: the stack made each counted one exist.
    expect(blocks.length).toBe(Object.values((MODULES.terraform as Json).resource as Json).flatMap((r) => Object.keys(r)).length);
    expect(result.text).not.toContain('//');
    const topic = Object.keys(plan.resource.google_pubsub_topic).find((id) => /^Security_IntegrityResponder_Topic_[0-9A-F]{8}$/.test(id));
    expect(blocks).toContainEqual({
      from: `google_pubsub_topic.${topic}`,
      to: 'module.integrity_responder.google_pubsub_topic.Responder_Topic_952B14F0',
    });
    expect(blocks.filter((b) => b.to.endsWith('[0]')).map((b) => b.to.split('.')[3]!.replace(/\[0\]$/, ''))).toEqual(
      expect.arrayContaining(['Responder_ApiPubsub_08EFC8C4', 'Responder_BaselinePolicy_617DE364', 'Responder_BaselineDatabase_393D3DE7']),
    );
  });

  it("maps a responder with the module's own construct id at the root of its stack onto the same logical ids", () => {
    const { plan } = synthesized(withResponder(['Responder'], COUNTED));
    const blocks = blocksOf(movedOf(plan, { module: 'responder' }).text);
    expect(blocks.length).toBeGreaterThan(40);
    for (const { from, to } of blocks) expect(to.replace(/\[0\]$/, '')).toBe(`module.responder.${from}`);
  });

  it.each<[string, Partial<IntegrityResponderProps>, ModuleSource, string]>([
    ['a folder', FOLDER, 'terraform/modules/folder', 'google_logging_folder_sink'],
    ['an organization', ORGANIZATION, 'terraform/modules/organization', 'google_logging_organization_sink'],
  ])('picks the module of %s scope by the sink, and maps each resource into it', (_scope, props, source, sinkType) => {
    const { plan } = synthesized(withResponder(['Platform', 'Watch', 'Fleet'], { ...props, ...COUNTED }));
    const result = movedOf(plan, { module: 'fleet' });
    const blocks = blocksOf(result.text);
    expect(result.source).toBe(source);
    expect(blocks.map((b) => b.from).sort()).toEqual(resourcesBelow(plan, 'security/Platform/Watch/Fleet'));
    expectEachInModule(blocks, plan, source, 'Platform/Watch/Fleet', 'fleet');
    expect(blocks.map((b) => b.to)).toContain('module.fleet.' + sinkType + '.Responder_Sink_86F16188');
    expect(result.text).toContain(`source = "./node_modules/${PACKAGE_NAME}/${source}"`);
    expect(result.text).toContain(
      `# From a remote or absolute source, write it as <terraform folder>//${source.slice('terraform/'.length)}: `,
    );
  });

  it('moves only what exists: a responder without the counted choices has no block for them', () => {
    const { plan } = synthesized(withResponder(['Security', 'IntegrityResponder'], { responseMode: 'shutdown' }));
    const result = movedOf(plan);
    const blocks = blocksOf(result.text);
    expect(blocks.map((b) => b.from).sort()).toEqual(resourcesBelow(plan, 'security/Security/IntegrityResponder'));
    expect(blocks.filter((b) => /Api|Baseline/.test(b.to))).toEqual([]);
    expectEachInModule(blocks, plan, 'terraform', 'Security/IntegrityResponder', 'integrity_responder');
  });

  describe('in a stack of two responders and other resources', () => {
    let plan: Json;
    beforeAll(() => {
      plan = synthesized((stack) => {
        withResponder(['Fleet', 'Responder'], { namePrefix: 'fleet' })(stack);
        withResponder(['Appliances', 'Responder'], { namePrefix: 'appliances', ...ORGANIZATION })(stack);
        new PubsubTopic(stack, 'Audit', { name: 'audit' });
        new PubsubTopic(new Construct(stack, 'Fleet2'), 'Topic', { name: 'fleet2' });
      }).plan;
    });

    it('refuses to choose, listing the construct paths to pick from, as a usage error', () => {
      const e = movedError(() => movedOf(plan));
      expect({ problem: e.problem, usage: e.usage, names: e.names }).toEqual({
        problem: 'several-responders',
        usage: true,
        names: ['Appliances/Responder', 'Fleet/Responder'],
      });
      expect(e.message).toBe(
        'this stack holds 2 IntegrityResponders: pick one with --responder, one of: Appliances/Responder, Fleet/Responder (and give each its own --module name)',
      );
    });

    it('moves each by its construct path, with or without the stack name, into its own module, and no resource twice', () => {
      const fleet = movedOf(plan, { responder: 'Fleet/Responder', module: 'fleet' });
      const appliances = movedOf(plan, { responder: 'security/Appliances/Responder/', module: 'appliances' });
      expect([fleet.source, appliances.source]).toEqual(['terraform', 'terraform/modules/organization']);
      const fleetBlocks = blocksOf(fleet.text);
      const applianceBlocks = blocksOf(appliances.text);
      expect(fleetBlocks.map((b) => b.from).sort()).toEqual(resourcesBelow(plan, 'security/Fleet/Responder'));
      expect(applianceBlocks.map((b) => b.from).sort()).toEqual(resourcesBelow(plan, 'security/Appliances/Responder'));
      expectEachInModule(fleetBlocks, plan, 'terraform', 'Fleet/Responder', 'fleet');
      expectEachInModule(applianceBlocks, plan, 'terraform/modules/organization', 'Appliances/Responder', 'appliances');
    });

    it("names the stack's other resources and the other responder in the header, and moves none of them", () => {
      const { text } = movedOf(plan, { responder: 'Fleet/Responder' });
      const header = text.slice(0, text.indexOf('\nmoved {'));
      expect(header).toContain(
        '# Other IntegrityResponders of this stack, each moved by a run of its own into its own module call:\n#   Appliances/Responder\n',
      );
      const audit = Object.keys(plan.resource.google_pubsub_topic).filter((id) => /^(Audit|Fleet2_Topic_[0-9A-F]{8})$/.test(id));
      expect(audit).toHaveLength(2);
      expect(header).toContain(
        `# Left where they are, not the responder's:\n${audit
          .map((id) => `#   google_pubsub_topic.${id}`)
          .sort()
          .join('\n')}\n`,
      );
      expect(header).not.toMatch(/Appliances_Responder_/);
      expect(blocksOf(text).some((b) => /Audit|Fleet2|Appliances/.test(b.from))).toBe(false);
    });

    it('says which responders there are when --responder names none of them', () => {
      const e = movedError(() => movedOf(plan, { responder: 'Fleet' }));
      expect({ problem: e.problem, usage: e.usage }).toEqual({ problem: 'unknown-responder', usage: true });
      expect(e.message).toBe(
        "no IntegrityResponder at 'Fleet' in this stack; --responder takes one of: Appliances/Responder, Fleet/Responder",
      );
    });

    it('finds them by their logical ids in a plan without construct paths, and refuses --responder there', () => {
      const bare = withoutMetadata(plan);
      const e = movedError(() => movedBlocks(bare, MODULES));
      expect({ problem: e.problem, names: e.names }).toEqual({
        problem: 'several-responders',
        names: ['Appliances_Responder', 'Fleet_Responder'],
      });
      expect(e.message).toMatch(/pick one with --responder-id, one of: Appliances_Responder, Fleet_Responder/);
      const paths = movedError(() => movedBlocks(bare, MODULES, { responder: 'Fleet/Responder' }));
      expect({ problem: paths.problem, usage: paths.usage }).toEqual({ problem: 'no-construct-paths', usage: true });
      expect(paths.message).toMatch(
        /^this plan has no construct paths .*: name the responder by its logical ids with --responder-id, one of: Appliances_Responder, Fleet_Responder$/,
      );
      // The same blocks as from the paths.
      const byId = movedBlocks(bare, MODULES, { responderId: 'Appliances_Responder', module: 'appliances' });
      expect(blocksOf(byId.text)).toEqual(blocksOf(movedOf(plan, { responder: 'Appliances/Responder', module: 'appliances' }).text));
      expect(byId.responder).toBe('Appliances_Responder_*');
    });
  });

  it('works without construct paths on the only responder, matching the readable part of its logical ids', () => {
    const { plan } = synthesized(withResponder(['Security', 'IntegrityResponder'], { ...FOLDER, ...COUNTED }));
    const bare = movedBlocks(withoutMetadata(plan), MODULES);
    expect(bare.source).toBe('terraform/modules/folder');
    expect(blocksOf(bare.text)).toEqual(blocksOf(movedOf(plan).text));
  });

  it('fails naming each resource of the responder the module has no counterpart for, and prints nothing', () => {
    const { plan } = synthesized((stack) => {
      withResponder(['Security', 'IntegrityResponder'])(stack);
      const responder = stack.node.findAll().find((c) => c instanceof IntegrityResponder)!;
      new PubsubTopic(responder, 'Extra', { name: 'extra' });
    });
    const extra = Object.keys(plan.resource.google_pubsub_topic).find((id) => id.includes('Extra'))!;
    const e = movedError(() => movedOf(plan));
    expect({ problem: e.problem, usage: e.usage, names: e.names }).toEqual({
      problem: 'unmatched',
      usage: false,
      names: [`google_pubsub_topic.${extra} (Security/IntegrityResponder/Extra)`],
    });
    expect(e.message).toMatch(
      /^1 resource\(s\) of the IntegrityResponder Security\/IntegrityResponder have no counterpart in the module terraform: /,
    );
  });

  it('fails when the module and the stack come from different versions of the construct', () => {
    const { plan } = synthesized(withResponder(['Security', 'IntegrityResponder']));
    // A module in which the topic has another construct id, as a later version might have.
    const module = JSON.parse(JSON.stringify(MODULES.terraform)) as Json;
    module.resource.google_pubsub_topic.Responder_EventsTopic_00000000 = module.resource.google_pubsub_topic.Responder_Topic_952B14F0;
    delete module.resource.google_pubsub_topic.Responder_Topic_952B14F0;
    const e = movedError(() => movedBlocks(plan, { ...MODULES, terraform: module }));
    expect(e.problem).toBe('unmatched');
    expect(e.names).toEqual([
      expect.stringMatching(/^google_pubsub_topic\.Security_IntegrityResponder_Topic_[0-9A-F]{8} \(Security\/IntegrityResponder\/Topic\)$/),
    ]);
    // With construct paths gone, the readable parts tell the same.
    expect(movedError(() => movedBlocks(withoutMetadata(plan), { ...MODULES, terraform: module })).names).toEqual([
      expect.stringMatching(/^google_pubsub_topic\.Security_IntegrityResponder_Topic_[0-9A-F]{8}$/),
    ]);
  });

  it('says so when the stack holds no responder, or is not a synthesized stack', () => {
    const { plan } = synthesized((stack) => new PubsubTopic(stack, 'Topic', { name: 'alone' }));
    const none = movedError(() => movedOf(plan));
    expect({ problem: none.problem, usage: none.usage }).toEqual({ problem: 'no-responder', usage: false });
    expect(none.message).toMatch(/^no IntegrityResponder in this stack: none of its resources is a log sink /);
    for (const notAStack of [[], 'x', { stacks: {} }]) expect(movedError(() => movedOf(notAStack as Json)).problem).toBe('not-a-stack');
  });

  it.each(['1responder', 'integrity responder', 'a.b', ''])('refuses the module name %j as a usage error', (name) => {
    const e = movedError(() => movedOf({ resource: {} }, { module: name }));
    expect({ problem: e.problem, usage: e.usage }).toEqual({ problem: 'bad-option', usage: true });
    expect(e.message).toMatch(/^--module must be the module call's name/);
  });
});

describe('logicalId', () => {
  it("is cdktf's logical id for the same construct path, with Default, Resource and repeated names", () => {
    const app = new App({ outdir: mkdtempSync(join(work, 'ids-')), stackTraces: false });
    const stack = new TerraformStack(app, 'ids');
    new GoogleProvider(stack, 'google', {});
    const paths = [
      ['Topic'],
      ['Responder', 'Topic'],
      ['A', 'Default', 'Topic'],
      ['A', 'Resource'],
      ['Alerting', 'Alerting'],
      ['SecurityTopic', 'Topic', 'x'],
      ['with-dash', 'with space', 'Topic'],
      ['x'.repeat(150), 'y'.repeat(150)],
    ];
    for (const path of paths) {
      let scope: Construct = stack;
      for (const id of path.slice(0, -1)) scope = (scope.node.tryFindChild(id) as Construct | undefined) ?? new Construct(scope, id);
      const topic = new PubsubTopic(scope, path[path.length - 1]!, { name: 't' });
      expect({ path, id: logicalId(path) }).toEqual({ path, id: stack.getLogicalId(topic) });
    }
  });
});

describe('the package the tool reads its modules from', () => {
  it('is found from the tool in a checkout, with its name and version', () => {
    const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
    expect(PACKAGE_NAME).toBe(LIB_PACKAGE_NAME);
    expect(packageHome(join(REPO_ROOT, 'cli', 'module'))).toEqual({ root: REPO_ROOT, version: manifest.version });
    expect(Object.keys(MODULES)).toEqual([...MODULE_SOURCES]);
  });
});

/** The tool's run, its output collected. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: Io = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), readStdin: () => '', env: {} };
  const code = await run(args, io);
  return { code, stdout, stderr };
}

describe(BIN, () => {
  let nested: Synthesized;
  let two: Synthesized;
  beforeAll(() => {
    nested = synthesized(withResponder(['Security', 'IntegrityResponder'], COUNTED));
    two = synthesized((stack) => {
      withResponder(['Fleet'], { namePrefix: 'fleet' })(stack);
      withResponder(['Appliances'], { namePrefix: 'appliances' })(stack);
    });
  });

  it('answers --help with its command', async () => {
    const r = await cli(['--help']);
    expect(r).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
    expect(r.stdout).toMatch(/^usage: integrity-module <command>/);
    expect(r.stdout).toMatch(/\n {2}moved {4}the moved blocks/);
  });

  it('lists in moved --help every option it takes and nothing else', async () => {
    const r = await cli(['moved', '--help']);
    expect(r).toEqual({ code: 0, stderr: '', stdout: COMMAND_USAGE.moved });
    const documented = [...r.stdout.matchAll(/^ {2}(?:-[a-z], )?--([a-z][a-z-]*)/gm)].map((m) => m[1]!).sort();
    expect(documented).toEqual([...Object.keys(COMMAND_FLAGS.moved), 'help'].sort());
  });

  it('prints the moved blocks on stdout, and what it did on stderr', async () => {
    const r = await cli(['moved', '--plan', nested.file, '--module', 'responder']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(movedOf(nested.plan, { module: 'responder' }).text);
    expect(r.stderr).toMatch(
      /^integrity-module: \d+ moved blocks for the IntegrityResponder Security\/IntegrityResponder into module.responder \(source: shielded-vm-integrity-responder\/terraform\)\n$/,
    );
  });

  it("takes the stack's folder for its cdk.tf.json", async () => {
    const r = await cli(['moved', '--plan', join(nested.file, '..')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(movedOf(nested.plan).text);
  });

  it.each<[string[], string]>([
    [['moved'], "integrity-module: moved needs --plan FILE: the stack's cdk.tf.json, from cdktf.out/stacks/<stack>/"],
    [['moved', 'cdk.tf.json'], "integrity-module: moved takes no arguments, got 'cdk.tf.json' (the stack is --plan FILE)"],
    [['moved', '--plan', ' '], 'integrity-module: --plan must not be blank'],
    [['moved', '--plan', 'x', '--responder', 'A', '--responder-id', 'A'], 'integrity-module: give --responder or --responder-id, not both'],
    [['moved', '--plna', 'x'], "integrity-module: unknown option '--plna'"],
  ])('refuses %j with a usage error in one line and where the options are', async (args, message) => {
    expect(await cli(args)).toEqual({ code: 2, stdout: '', stderr: `${message}\nrun 'integrity-module moved --help' for its options\n` });
  });

  it('refuses to choose between two responders, listing them, with exit code 2', async () => {
    expect(await cli(['moved', '--plan', two.file])).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'integrity-module: this stack holds 2 IntegrityResponders: pick one with --responder, one of: Appliances, Fleet (and give each its own --module name)\n' +
        "run 'integrity-module moved --help' for its options\n",
    });
    const r = await cli(['moved', '--plan', two.file, '--responder', 'Appliances', '--module', 'appliances']);
    expect(r.code).toBe(0);
    expect(blocksOf(r.stdout).every((b) => /^\S+\.Appliances_/.test(b.from) && b.to.startsWith('module.appliances.'))).toBe(true);
    expect(await cli(['moved', '--plan', two.file, '--responder', 'Fleet', '--module', 'a b'])).toEqual(
      expect.objectContaining({ code: 2, stderr: expect.stringMatching(/^integrity-module: --module must be the module call's name/) }),
    );
  });

  it('fails with exit code 1 and prints nothing when a resource of the responder has no place in the module', async () => {
    const plan = JSON.parse(JSON.stringify(nested.plan)) as Json;
    const [id, topic] = Object.entries(plan.resource.google_pubsub_topic as Json).find(([i]) => i.includes('DeadLetterTopic'))!;
    plan.resource.google_pubsub_topic[`${id}x`] = { ...topic, '//': { metadata: { path: 'security/Security/IntegrityResponder/Added' } } };
    const file = join(mkdtempSync(join(work, 'edited-')), 'cdk.tf.json');
    writeFileSync(file, JSON.stringify(plan));
    const r = await cli(['moved', '--plan', file]);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 1, stdout: '' });
    expect(r.stderr).toBe(
      `integrity-module: ${file}: 1 resource(s) of the IntegrityResponder Security/IntegrityResponder have no counterpart in the module terraform: ` +
        `google_pubsub_topic.${id}x (Security/IntegrityResponder/Added). A stack synthesized by another version of the construct than this ` +
        `module's: synthesize it again with this version. A resource added inside the responder: keep it in your own configuration, its moved ` +
        `block written by hand (this is the module of shielded-vm-integrity-responder ${packageHome(REPO_ROOT).version})\n`,
    );
  });

  it('fails with exit code 1 on a plan it cannot read, saying what to pass', async () => {
    const missing = join(work, 'cdktf.out', 'stacks', 'nope', 'cdk.tf.json');
    expect(await cli(['moved', '--plan', missing])).toEqual({
      code: 1,
      stdout: '',
      stderr: `integrity-module: cannot read --plan ${missing}: no such file; 'cdktf synth' writes each stack to cdktf.out/stacks/<stack>/cdk.tf.json\n`,
    });
    const notJson = join(mkdtempSync(join(work, 'bad-')), 'cdk.tf.json');
    writeFileSync(notJson, 'resource "x" {}');
    const r = await cli(['moved', '--plan', notJson]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`^integrity-module: --plan ${notJson} is not JSON \\(.*\\): pass the cdk\\.tf\\.json 'cdktf synth' wrote\\n$`),
    );
    const notAStack = join(mkdtempSync(join(work, 'bad-')), 'manifest.json');
    writeFileSync(notAStack, '{"stacks": {}}');
    expect((await cli(['moved', '--plan', notAStack])).stderr).toBe(
      `integrity-module: ${notAStack}: this is not a stack synthesized by cdktf: it has neither 'resource' nor 'terraform' at its top; pass cdktf.out/stacks/<stack>/cdk.tf.json\n`,
    );
  });

  it('runs as a command from its entry, exit codes included', () => {
    const entry = (args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'cli', 'integrity-module.ts'), ...args], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        env: { PATH: process.env.PATH },
      });
    const ok = entry(['moved', '--plan', nested.file]);
    expect({ status: ok.status, stderr: ok.stderr }).toEqual({
      status: 0,
      stderr: expect.stringMatching(/^integrity-module: \d+ moved blocks/),
    });
    expect(ok.stdout).toBe(movedOf(nested.plan).text);
    const several = entry(['moved', '--plan', two.file]);
    expect({ status: several.status, stdout: several.stdout }).toEqual({ status: 2, stdout: '' });
    expect(several.stderr).toMatch(/pick one with --responder, one of: Appliances, Fleet/);
    const missing = entry(['moved', '--plan', join(work, 'none.json')]);
    expect({ status: missing.status, stderr: missing.stderr }).toEqual({ status: 1, stderr: expect.stringMatching(/cannot read --plan/) });
  });

  it('reads the modules of the installed package it is bundled into, found from dist/bin', async () => {
    // An installed package: its manifest, its terraform/ folder and dist/bin/commands.js, bundled as
    // the package build bundles it, in a folder the checkout is not above.
    const installed = join(mkdtempSync(join(work, 'node_modules-')), PACKAGE_NAME);
    mkdirSync(join(installed, 'dist', 'bin'), { recursive: true });
    writeFileSync(join(installed, 'package.json'), JSON.stringify({ name: PACKAGE_NAME, version: '9.9.9-installed' }));
    for (const source of MODULE_SOURCES) {
      mkdirSync(join(installed, source), { recursive: true });
      copyFileSync(join(REPO_ROOT, source, 'main.tf.json'), join(installed, source, 'main.tf.json'));
    }
    await build({
      absWorkingDir: REPO_ROOT,
      entryPoints: ['cli/commands.ts'],
      outfile: join(installed, 'dist', 'bin', 'commands.js'),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      logLevel: 'warning',
    });
    const bin = join(installed, 'dist', 'bin', 'integrity-module.js');
    writeFileSync(bin, `'use strict';\nrequire('./commands.js').COMMANDS['integrity-module']();\n`);
    const runBin = (plan: string) =>
      spawnSync(process.execPath, [bin, 'moved', '--plan', plan], { cwd: work, encoding: 'utf8', env: { PATH: process.env.PATH } });

    const ok = runBin(nested.file);
    expect({ status: ok.status, stderr: ok.stderr }).toEqual({
      status: 0,
      stderr: expect.stringMatching(/^integrity-module: \d+ moved blocks/),
    });
    expect(ok.stdout).toBe(movedOf(nested.plan).text);
    // Its version, in what it says when the stack does not fit the module, is the installed one.
    const plan = JSON.parse(JSON.stringify(nested.plan)) as Json;
    plan.resource.google_pubsub_topic.Added = { name: 'a', '//': { metadata: { path: 'security/Security/IntegrityResponder/Added' } } };
    const edited = join(mkdtempSync(join(work, 'edited-')), 'cdk.tf.json');
    writeFileSync(edited, JSON.stringify(plan));
    const skew = runBin(edited);
    expect({ status: skew.status, stdout: skew.stdout }).toEqual({ status: 1, stdout: '' });
    expect(skew.stderr).toMatch(/\(this is the module of shielded-vm-integrity-responder 9\.9\.9-installed\)\n$/);
    // Without its modules, it says where it looked.
    rmSync(join(installed, 'terraform', 'modules', 'folder', 'main.tf.json'));
    const broken = runBin(nested.file);
    expect({ status: broken.status, stdout: broken.stdout }).toEqual({ status: 1, stdout: '' });
    expect(broken.stderr).toContain(
      `integrity-module: cannot read the module terraform/modules/folder of ${PACKAGE_NAME} at ${join(installed, 'terraform', 'modules', 'folder', 'main.tf.json')}: `,
    );
  }, 60000);
});

describe('the moved blocks, to Terraform', () => {
  let standIns: StandIns | undefined;
  afterAll(() => standIns?.close());

  itWithTerraform(
    'each name a resource instance Terraform plans for the module call they name, and Terraform accepts them',
    async () => {
      standIns = await startStandIns();
      const { plan } = synthesized(withResponder(['Security', 'IntegrityResponder'], { ...ORGANIZATION, ...COUNTED }));
      const { text, source } = movedOf(plan);
      const ws = workspace(standIns, {
        files: {
          'moved.tf': text,
          'main.tf': [
            'module "integrity_responder" {',
            `  source = "./node_modules/${PACKAGE_NAME}/${source}"`,
            `  project_id = "${PROJECT}"`,
            '  organization_id = "4242"',
            '  enable_apis = true',
            '  require_baseline_approval = true',
            '}',
          ].join('\n'),
        },
      });
      const installed = join(ws.dir, 'node_modules', PACKAGE_NAME, 'terraform');
      cpSync(join(REPO_ROOT, 'terraform'), installed, { recursive: true });
      copyFileSync(loadFunctionBundle(REPO_ROOT).zipPath, join(installed, 'function.zip'));
      expect((await ws.init()).code).toBe(0);
      const planned = await ws.plan();
      expect(planned.stderr).toBe('');
      // No state yet, so nothing moves: every block's target is an instance the module plans, each one once, [0] included
      // (Terraform does not check a moved block's instance key against the configuration).
      const created = planned.show!.resource_changes!.filter((c) => c.mode === 'managed').map((c) => c.address);
      expect(created.sort()).toEqual(
        blocksOf(text)
          .map((b) => b.to)
          .sort(),
      );
    },
    120000,
  );
});
