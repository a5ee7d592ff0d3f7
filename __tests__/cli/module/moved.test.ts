import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { PubsubTopic } from '@cdktf/provider-google/lib/pubsub-topic';
import { App, LocalBackend, TerraformStack, TerraformVariable } from 'cdktf';
import { Construct } from 'constructs';
import { build } from 'esbuild';
import type { Io } from '../../../cli/common';
import { BIN, COMMAND_FLAGS, COMMAND_USAGE, run } from '../../../cli/integrity-module';
import { MODULE_SOURCES, ModuleSource, MovedError, MovedOptions, logicalId, movedBlocks } from '../../../cli/module/moved';
import { PACKAGE_NAME, packageHome, readModules } from '../../../cli/module/package';
import { FIXED } from '../../../scripts/terraform-module/spec';
import { IntegrityResponder, IntegrityResponderProps } from '../../../lib';
import { loadFunctionBundle } from '../../../lib/function-bundle';
import { PACKAGE_NAME as LIB_PACKAGE_NAME } from '../../../lib/bundle/sources';
import { StandIns, startStandIns, workspace } from '../../../testkit/terraform/workspace';
import { placeModuleTree } from '../../../testkit/terraform/module-tree';
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

/** The file's last lines: a comment, then a local that reads an output of the module call `name`. */
const GUARD =
  /\n\n# Fails 'terraform validate' and 'plan' unless this configuration calls module "([^"]+)":\n(?:#.*\n)+locals \{\n {2}moved_into_\1 = module\.\1\.topic\n\}\n$/;

/** The moved blocks of an HCL text, in their order; the text ends with the guard of the module call they move into. */
function blocksOf(text: string): { from: string; to: string }[] {
  const guard = GUARD.exec(text);
  expect({ guard: guard !== null }).toEqual({ guard: true });
  const moves = text.slice(0, guard!.index + 1);
  const blocks = [...moves.matchAll(/^moved \{\n {2}from = (\S+)\n {2}to {3}= (\S+)\n\}$/gm)].map((m) => ({ from: m[1]!, to: m[2]! }));
  // Every line is a comment, a blank, or part of a block: nothing else slipped in.
  expect(moves.split('\n').filter((l) => !/^(#.*|moved \{|\s+(from|to)\s+= \S+|\}|)$/.test(l))).toEqual([]);
  expect(moves.match(/^moved \{$/gm)?.length ?? 0).toBe(blocks.length);
  // Into the module call the guard reads.
  for (const b of blocks) expect(b.to.startsWith(`module.${guard![1]}.`)).toBe(true);
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

/** The header of a moved.tf: its comment lines before the first block, without `# `. */
function headerOf(text: string): string[] {
  return text
    .slice(0, text.indexOf('\nmoved {'))
    .split('\n')
    .filter((l) => l.startsWith('#'))
    .map((l) => l.replace(/^# ?/, ''));
}

/** The module call the header suggests, as HCL: its lines without the comment marks. */
function suggestedCall(text: string): string {
  const header = headerOf(text);
  const start = header.findIndex((l) => /^ {2}module "[^"]+" \{$/.test(l));
  const end = header.indexOf('  }', start);
  expect({ start: start >= 0, end: end > start }).toEqual({ start: true, end: true });
  return header
    .slice(start, end + 1)
    .map((l) => l.slice(2))
    .join('\n');
}

/** The lines of the header after `title`, indented, up to the next blank line. */
function listAfter(text: string, title: string): string[] {
  const header = headerOf(text);
  const at = header.indexOf(title);
  if (at < 0) return [];
  const end = header.indexOf('', at);
  return header.slice(at + 1, end < 0 ? undefined : end).map((l) => l.trim());
}

/** The names of a wrapped list (`a, b,` on lines). */
const namesIn = (lines: readonly string[]) =>
  lines
    .join(' ')
    .split(/,\s*/)
    .filter((n) => n !== '');

/** The review's case (22b, finding 1): a project-scope responder in dry-run with a budget of 5, watching another project. */
const BUDGET: Partial<IntegrityResponderProps> = {
  namePrefix: 'proj',
  scope: 'projects/fleet-prod-1234',
  enforcement: 'dry-run',
  maxActionsPerWindow: 5,
};

/** A value other than the module's for each prop the module holds fixed. */
const FIXED_VALUES: Readonly<Record<(typeof FIXED)[number], number | 'unlimited'>> = {
  memoryMib: 512,
  timeoutSeconds: 120,
  maxEventAgeSeconds: 7200,
  relearnMaxAgeSeconds: 600,
  maxActionsPerWindow: 'unlimited',
  actionWindowSeconds: 600,
  iamPropagationSeconds: 30,
};

describe('a responder with a containment playbook', () => {
  const FULL = {
    ...ORGANIZATION,
    containment: ['snapshot', 'quarantine', 'stop'],
    forensicsProjectId: 'fleet-forensics-7',
    raiseFindings: true,
    releasePrincipals: ['group:incident-response@example.com', 'user:ana@example.com'],
    requireReleaseApproval: true,
  } as const;

  it.each<[string, Partial<IntegrityResponderProps>, string[]]>([
    [
      'the whole playbook over an organization',
      FULL,
      [
        'containment takes snapshot, quarantine before the stop',
        'raiseFindings raises findings in Security Command Center',
        'releasePrincipals grants group:incident-response@example.com, user:ana@example.com the release',
        'requireReleaseApproval writes the release policy into the decision ledger',
      ],
    ],
    [
      'a snapshot before the suspend',
      { containment: ['snapshot', 'suspend'], forensicsProjectId: 'fleet-forensics-7' },
      ['containment takes snapshot before the suspend'],
    ],
    [
      'a quarantine whose rules go into an existing policy',
      { ...FOLDER, containment: ['quarantine', 'stop'], quarantineFirewallPolicy: '123456789012' },
      ['containment takes quarantine before the stop'],
    ],
    ['findings alone', { ...ORGANIZATION, raiseFindings: true }, ['raiseFindings raises findings in Security Command Center']],
    [
      'the release approval beside findings (the construct refuses it with nothing to release)',
      { ...ORGANIZATION, raiseFindings: true, requireReleaseApproval: true },
      [
        'raiseFindings raises findings in Security Command Center',
        'requireReleaseApproval writes the release policy into the decision ledger',
      ],
    ],
  ])('refuses %s, naming each part and why the module cannot take it, with or without construct paths', (_name, props, parts) => {
    const { plan } = synthesized(withResponder(['Security', 'IntegrityResponder'], props));
    for (const doc of [plan, withoutMetadata(plan)]) {
      const e = movedError(() => movedOf(doc));
      expect({ problem: e.problem, usage: e.usage, names: e.names }).toEqual({ problem: 'playbook', usage: false, names: parts });
      expect(e.message).toMatch(/has a containment playbook, which the Terraform module has no place for: /);
      expect(e.message).toContain(`: ${parts.join('; ')}. The module's responder only stops or suspends: moved into it,`);
      expect(e.message).toMatch(
        /would be planned destroyed, and the function would lose the playbook's settings\. Keep this responder on the construct$/,
      );
    }
    expect(movedError(() => movedOf(plan)).message).toMatch(
      /^the IntegrityResponder Security\/IntegrityResponder has a containment playbook/,
    );
    expect(movedError(() => movedOf(withoutMetadata(plan))).message).toMatch(
      /^the IntegrityResponder Security_IntegrityResponder_\* has a containment playbook/,
    );
  });

  it('moves a responder whose containment is the stop or suspend alone, and a baseline policy of the name release', () => {
    for (const props of [
      { containment: ['suspend'] },
      { failureAction: 'suspend' },
      { namePrefix: 'release', requireBaselineApproval: true },
    ] as const) {
      const { plan } = synthesized(withResponder(['Security', 'IntegrityResponder'], props));
      expect(movedOf(plan).moved).toBeGreaterThan(0);
    }
  });

  it('refuses the playbook responder of a stack with two, and moves the other', () => {
    const { plan } = synthesized((stack) => {
      withResponder(['Fleet'], { namePrefix: 'fleet' })(stack);
      withResponder(['Forensic'], { namePrefix: 'forensic', containment: ['snapshot', 'stop'], forensicsProjectId: 'fleet-forensics-7' })(
        stack,
      );
    });
    expect(movedError(() => movedOf(plan, { responder: 'Forensic' })).names).toEqual(['containment takes snapshot before the stop']);
    expect(movedOf(plan, { responder: 'Fleet' }).moved).toBeGreaterThan(0);
  });
});

describe('what the move would change unseen', () => {
  it('refuses a stack whose action budget the module holds at another value, naming both values and the --set, dry-run or not', () => {
    const { plan } = synthesized(withResponder(['Sec', 'Proj'], BUDGET));
    const e = movedError(() => movedOf(plan));
    expect({ problem: e.problem, usage: e.usage, names: e.names }).toEqual({
      problem: 'fixed-values',
      usage: false,
      names: ['Function: service_config.environment_variables.MAX_ACTIONS_PER_WINDOW'],
    });
    expect(e.message).toBe(
      'the module terraform holds 1 value(s) fixed that the IntegrityResponder Sec/Proj has otherwise: ' +
        'Function: service_config.environment_variables.MAX_ACTIONS_PER_WINDOW is 5 in the stack, 50 in the module (maxActionsPerWindow). ' +
        'Moved into this module, they would change in place, hidden in the update of the function that every migration plans. ' +
        "Generate a module with the stack's values, from a checkout of the repository at this package's version: " +
        'npx tsx scripts/terraform-module.ts --out <dir> --with-zip --set maxActionsPerWindow=5, and call that module; or stay on the construct',
    );
    const enforcing = movedError(() => movedOf(synthesized(withResponder(['Sec', 'Proj'], { ...BUDGET, enforcement: 'enforce' })).plan));
    expect({ problem: enforcing.problem, message: enforcing.message }).toEqual({ problem: e.problem, message: e.message });
  });

  it('refuses a stack with more memory, and names each value that follows the timeout, with one --set for each prop', () => {
    const memory = movedError(() => movedOf(synthesized(withResponder(['Sec', 'Proj'], { memoryMib: 512 })).plan));
    expect(memory.names).toEqual(['Function: service_config.available_memory']);
    expect(memory.message).toContain('Function: service_config.available_memory is 512Mi in the stack, 256Mi in the module (memoryMib).');
    expect(memory.message).toContain('--with-zip --set memoryMib=512, and call that module');

    const several = movedError(() =>
      movedOf(synthesized(withResponder(['Sec', 'Proj'], { memoryMib: 512, timeoutSeconds: 120, maxActionsPerWindow: 5 })).plan),
    );
    expect(several.names).toEqual([
      'Function: service_config.available_memory',
      'Function: service_config.environment_variables.COMPUTE_TIMEOUT_SECONDS',
      'Function: service_config.environment_variables.MAX_ACTIONS_PER_WINDOW',
      'Function: service_config.timeout_seconds',
      'Subscription: ack_deadline_seconds',
    ]);
    expect(several.message).toContain('COMPUTE_TIMEOUT_SECONDS is 20 in the stack, 15 in the module (follows timeoutSeconds)');
    expect(several.message).toContain('Subscription: ack_deadline_seconds is 120 in the stack, 60 in the module (follows timeoutSeconds)');
    expect(several.message).toContain('--set memoryMib=512 --set timeoutSeconds=120 --set maxActionsPerWindow=5, and call');
  });

  it('knows where the construct writes every prop the module holds fixed, and reads each one back into its --set', () => {
    for (const prop of FIXED) {
      const value = FIXED_VALUES[prop];
      const e = movedError(() => movedOf(synthesized(withResponder(['Sec', 'Proj'], { [prop]: value })).plan));
      expect({ prop, problem: e.problem, sets: e.message.match(/--set [^\s,]+/g) }).toEqual({
        prop,
        problem: 'fixed-values',
        sets: [`--set ${prop}=${value}`],
      });
    }
    // With the module's values, nothing is refused.
    expect(() => movedOf(synthesized(withResponder(['Sec', 'Proj'], { memoryMib: 256, maxActionsPerWindow: 50 })).plan)).not.toThrow();
  });

  it('refuses a literal of the module no --set changes, saying to synthesize again, and in a plan without construct paths', () => {
    const { plan } = synthesized(withResponder(['Sec', 'Proj']));
    const module = JSON.parse(JSON.stringify(MODULES.terraform)) as Json;
    module.resource.google_cloudfunctions2_function.Responder_Function_73C2D4D9.description = 'Another version';
    for (const stack of [plan, withoutMetadata(plan)]) {
      const e = movedError(() => movedBlocks(stack, { ...MODULES, terraform: module }));
      expect({ problem: e.problem, names: e.names }).toEqual({ problem: 'fixed-values', names: ['Function: description'] });
      expect(e.message).toMatch(
        /: Function: description is Responds to .* in the stack, Another version in the module \(no --set changes it\)\. /,
      );
      expect(e.message).toMatch(
        /Stay on the construct\. A value no --set changes comes from another version of the construct than this module's: synthesize the stack again with this version$/,
      );
    }
  });

  it("lists the function's settings the module takes as inputs, and the module call they give, defaults left out", () => {
    const props: Partial<IntegrityResponderProps> = {
      ...ORGANIZATION,
      excludedProjects: ['lab-sandbox-1', 'lab-sandbox-2'],
      enforcement: 'dry-run',
      failureAction: 'suspend',
      namePrefix: 'org-integrity',
      labels: { team: 'security' },
      availableCpu: '1',
      maxInstanceRequestConcurrency: 4,
      exemptLabel: 'keep=me',
      requireBaselineApproval: true,
    };
    const { text, inputs } = movedOf(synthesized(withResponder(['Sec', 'Org'], props)).plan);
    const settings = listAfter(text, "plan's in-place update of the function changes them. The stack's function has:");
    expect(settings).toEqual(
      expect.arrayContaining(['ENFORCEMENT=dry-run', 'FAILURE_ACTION=suspend', 'EXEMPT_LABEL=keep=me', 'BASELINE_APPROVAL=two-person']),
    );
    // One line for each value of the module's function that reads a variable: the environment after the rest.
    const fn = (MODULES['terraform/modules/organization'] as Json).resource.google_cloudfunctions2_function.Responder_Function_73C2D4D9;
    const env = Object.entries(fn.service_config.environment_variables as Json).filter(([, v]) => /\$\{.*var\./.test(v as string));
    expect(settings.filter((l) => /^[A-Z]/.test(l)).map((l) => l.split('=')[0])).toEqual(env.map(([k]) => k));
    expect(settings.slice(0, -env.length).every((l) => /^[a-z]/.test(l))).toBe(true);
    expect(suggestedCall(text)).toBe(
      [
        'module "integrity_responder" {',
        `  source = "./node_modules/${PACKAGE_NAME}/terraform/modules/organization"`,
        '',
        `  project_id                       = "${PROJECT}"`,
        '  organization_id                  = "4242"',
        '  name_prefix                      = "org-integrity"',
        '  failure_action                   = "suspend"',
        '  enforcement                      = "dry-run"',
        '  require_baseline_approval        = true',
        '  exempt_label                     = "keep=me"',
        '  labels                           = { "team" = "security" }',
        '  available_cpu                    = "1"',
        '  max_instance_request_concurrency = 4',
        '',
        '  # and the inputs listed below, as your stack set them',
        '}',
      ].join('\n'),
    );
    expect(namesIn(listAfter(text, "Read back at the module's default, so left out above:"))).toEqual([
      'region',
      'response_mode',
      'instance_group_action',
      'baseline_collection',
      'runtime',
      'max_instance_count',
      'log_level',
      'stale_event_policy',
    ]);
    // What is not read back is listed, with the variables it reads; nothing is left out unsaid.
    expect(listAfter(text, 'Not read back into inputs (set the inputs named as the stack had them):')).toEqual([
      `EXCLUDED_PROJECTS=lab-sandbox-1,lab-sandbox-2,${PROJECT} (from var.watch_responder_project, var.excluded_projects, var.project_id)`,
      'FIRESTORE_DATABASE=org-integrity-baselines (from var.firestore_database_id, var.name_prefix)',
    ]);
    const unread = namesIn(listAfter(text, 'Inputs the function does not show, to set as your stack gave them to the construct:'));
    expect(unread).toEqual([
      'notification_channels',
      'enable_apis',
      'firestore_location_id',
      'firestore_delete_protection',
      'source_bucket_name',
      'max_delivery_attempts',
    ]);
    const variables = Object.keys((MODULES['terraform/modules/organization'] as Json).variable as Json);
    const named = new Set([...inputs.mapped.keys(), ...inputs.unmapped.flatMap((u) => u.reads), ...unread]);
    expect(variables.filter((v) => !named.has(v))).toEqual([]);
  });

  it('reads the watched project of a project scope back into nothing, and says so', () => {
    const { text, inputs } = movedOf(synthesized(withResponder(['Sec', 'Proj'], { ...BUDGET, maxActionsPerWindow: 50 })).plan);
    expect(headerOf(text)).toContain('  ENFORCEMENT=dry-run');
    expect(suggestedCall(text)).toBe(
      [
        'module "integrity_responder" {',
        `  source = "./node_modules/${PACKAGE_NAME}/terraform"`,
        '',
        `  project_id  = "${PROJECT}"`,
        '  name_prefix = "proj"',
        '  enforcement = "dry-run"',
        '',
        '  # and the inputs listed below, as your stack set them',
        '}',
      ].join('\n'),
    );
    expect(listAfter(text, 'Not read back into inputs (set the inputs named as the stack had them):')).toEqual([
      'FIRESTORE_DATABASE=proj-baselines (from var.firestore_database_id, var.name_prefix)',
      'SCOPE=projects/fleet-prod-1234 (from var.watched_project_id, var.project_id)',
    ]);
    expect(inputs.mapped.has('watched_project_id')).toBe(false);
  });

  it("never guesses: a setting that is the stack's own expression, or two settings that disagree, are listed and left out", () => {
    const { plan } = synthesized((stack) => {
      const enforcement = new TerraformVariable(stack, 'enforcement', { type: 'string' });
      withResponder(['Sec', 'Proj'], { namePrefix: 'proj', enforcement: enforcement.stringValue as 'enforce' })(stack);
    });
    const [id] = Object.keys(plan.resource.google_cloudfunctions2_function as Json);
    const fn = plan.resource.google_cloudfunctions2_function[id!];
    expect(fn.service_config.environment_variables.ENFORCEMENT).toBe('${var.enforcement}');
    fn.service_config.environment_variables.LEDGER_DATABASE = 'other-decisions';
    const { text, inputs } = movedOf(plan);
    expect(listAfter(text, 'Not read back into inputs (set the inputs named as the stack had them):')).toEqual([
      'ENFORCEMENT=${var.enforcement} (from var.enforcement)',
      'FIRESTORE_DATABASE=proj-baselines (from var.firestore_database_id, var.name_prefix)',
      `SCOPE=projects/${PROJECT} (from var.watched_project_id, var.project_id)`,
      'name_prefix: the settings give "proj" and "other"',
    ]);
    expect([inputs.mapped.has('enforcement'), inputs.mapped.has('name_prefix')]).toEqual([false, false]);
    expect(suggestedCall(text)).not.toMatch(/enforcement|name_prefix/);
  });

  it('ends the file with a line that reads an output of the module call, so that Terraform fails without one', () => {
    const { plan } = synthesized(withResponder(['Sec', 'Proj']));
    const result = movedOf(plan, { module: 'fleet-a' });
    expect(result.guard).toBe('  moved_into_fleet-a = module.fleet-a.topic');
    expect(result.text.endsWith(`locals {\n${result.guard}\n}\n`)).toBe(true);
    expect(blocksOf(result.text).length).toBe(result.moved);
    // A module without that output: another; without any, the module call itself.
    const terraform = JSON.parse(JSON.stringify(MODULES.terraform)) as Json;
    delete terraform.output.topic;
    expect(movedBlocks(plan, { ...MODULES, terraform }).guard).toBe(
      '  moved_into_integrity_responder = module.integrity_responder.baseline_collection',
    );
    delete terraform.output;
    expect(movedBlocks(plan, { ...MODULES, terraform }).guard).toBe('  moved_into_integrity_responder = module.integrity_responder');
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

  it('fails with exit code 1 and prints nothing on a stack whose responder has a containment playbook, saying why', async () => {
    const playbook = synthesized(withResponder(['Security', 'IntegrityResponder'], { ...ORGANIZATION, raiseFindings: true }));
    expect(await cli(['moved', '--plan', playbook.file])).toEqual({
      code: 1,
      stdout: '',
      stderr:
        `integrity-module: ${playbook.file}: the IntegrityResponder Security/IntegrityResponder has a containment playbook, which the ` +
        "Terraform module has no place for: raiseFindings raises findings in Security Command Center. The module's responder only stops " +
        "or suspends: moved into it, the playbook's resources (evidence role, quarantine tag and firewall rules, findings source, their " +
        "grants, the release policy) would be planned destroyed, and the function would lose the playbook's settings. Keep this " +
        'responder on the construct\n',
    });
  });

  describe('--out', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(work, 'out-'));
    });

    it('writes the file only, saying so on stderr, and refuses to replace it unless --force', async () => {
      const out = join(dir, 'moved.tf');
      const r = await cli(['moved', '--plan', nested.file, '--out', out]);
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: '' });
      expect(r.stderr).toMatch(
        new RegExp(`^integrity-module: \\d+ moved blocks for .* \\(source: ${PACKAGE_NAME}/terraform\\) written to ${out}\\n$`),
      );
      expect(readFileSync(out, 'utf8')).toBe(movedOf(nested.plan).text);

      expect(await cli(['moved', '--plan', nested.file, '--out', out, '--module', 'other'])).toEqual({
        code: 1,
        stdout: '',
        stderr: `integrity-module: --out ${out} exists: pass --force to replace it\n`,
      });
      expect(readFileSync(out, 'utf8')).toBe(movedOf(nested.plan).text);

      const forced = await cli(['moved', '--plan', nested.file, '--out', out, '--module', 'other', '--force']);
      expect({ code: forced.code, stdout: forced.stdout }).toEqual({ code: 0, stdout: '' });
      expect(readFileSync(out, 'utf8')).toBe(movedOf(nested.plan, { module: 'other' }).text);
      // Written beside it and renamed: nothing else is left in the folder.
      expect(readdirSync(dir)).toEqual(['moved.tf']);
    });

    it('writes nothing when the tool fails, and leaves a file --force would replace as it was', async () => {
      const budget = synthesized(withResponder(['Sec', 'Proj'], BUDGET));
      const out = join(dir, 'moved.tf');
      for (const args of [
        ['--plan', two.file],
        ['--plan', budget.file],
        ['--plan', join(dir, 'none.json')],
      ]) {
        const r = await cli(['moved', ...args, '--out', out]);
        expect({ args, failed: r.code !== 0, stdout: r.stdout, written: existsSync(out) }).toEqual({
          args,
          failed: true,
          stdout: '',
          written: false,
        });
      }
      writeFileSync(out, 'kept');
      expect((await cli(['moved', '--plan', budget.file, '--out', out, '--force'])).code).toBe(1);
      expect(readFileSync(out, 'utf8')).toBe('kept');
      expect(readdirSync(dir)).toEqual(['moved.tf']);
    });

    it.each<[string[], string]>([
      [['--force'], 'integrity-module: --force replaces the file of --out: give --out FILE'],
      [
        ['--out', 'moved.txt'],
        "integrity-module: --out must name a .tf file, got 'moved.txt': Terraform reads no other, and would plan without the moved blocks",
      ],
      [
        ['--out', 'moved.tf.json'],
        "integrity-module: --out must name a .tf file, got 'moved.tf.json': Terraform reads no other, and would plan without the moved blocks",
      ],
    ])('refuses %j as a usage error', async (args, message) => {
      // In the test's folder: a file written by mistake is seen there, and nowhere else.
      const at = (a: string) => (a.startsWith('moved.') ? join(dir, a) : a);
      expect(await cli(['moved', '--plan', nested.file, ...args.map(at)])).toEqual({
        code: 2,
        stdout: '',
        stderr: `${message.replace(/'(moved\.[^']*)'/, (_, f: string) => `'${at(f)}'`)}\nrun 'integrity-module moved --help' for its options\n`,
      });
      expect(readdirSync(dir)).toEqual([]);
    });

    it('refuses a folder, and says when the folder to write in is missing', async () => {
      const folder = join(dir, 'x.tf');
      mkdirSync(folder);
      expect(await cli(['moved', '--plan', nested.file, '--out', folder, '--force'])).toEqual({
        code: 1,
        stdout: '',
        stderr: `integrity-module: --out ${folder} is a folder: name the file to write, e.g. ${join(folder, 'moved.tf')}\n`,
      });
      const r = await cli(['moved', '--plan', nested.file, '--out', join(dir, 'missing', 'moved.tf')]);
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 1, stdout: '' });
      expect(r.stderr).toMatch(new RegExp(`^integrity-module: cannot write --out ${join(dir, 'missing', 'moved.tf')}: .*ENOENT`));
    });
  });

  it("fails with exit code 1 and prints nothing on the review's stack: dry-run, a budget of 5, naming the --set and the version", async () => {
    const budget = synthesized(withResponder(['Sec', 'Proj'], BUDGET));
    const r = await cli(['moved', '--plan', budget.file]);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 1, stdout: '' });
    expect(r.stderr).toBe(
      `integrity-module: ${budget.file}: the module terraform holds 1 value(s) fixed that the IntegrityResponder Sec/Proj has otherwise: ` +
        'Function: service_config.environment_variables.MAX_ACTIONS_PER_WINDOW is 5 in the stack, 50 in the module (maxActionsPerWindow). ' +
        'Moved into this module, they would change in place, hidden in the update of the function that every migration plans. ' +
        "Generate a module with the stack's values, from a checkout of the repository at this package's version: " +
        'npx tsx scripts/terraform-module.ts --out <dir> --with-zip --set maxActionsPerWindow=5, and call that module; or stay on the construct ' +
        `(this is the module of ${PACKAGE_NAME} ${packageHome(REPO_ROOT).version})\n`,
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
      for (const file of ['main.tf.json', 'variables.tf.json', 'outputs.tf.json']) {
        copyFileSync(join(REPO_ROOT, source, file), join(installed, source, file));
      }
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
      standIns ??= await startStandIns();
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

  itWithTerraform(
    'fail terraform validate when the configuration has no module call of the name they move into, and pass it when it has',
    async () => {
      standIns ??= await startStandIns();
      const { plan } = synthesized(withResponder(['Security', 'IntegrityResponder']));
      const { text } = movedOf(plan);
      const call = (name: string) =>
        `module "${name}" {\n  source     = "./node_modules/${PACKAGE_NAME}/terraform"\n  project_id = "${PROJECT}"\n}\n`;
      const validated = async (files: Record<string, string>) => {
        const ws = workspace(standIns!, { files: { 'moved.tf': text, ...files } });
        cpSync(join(REPO_ROOT, 'terraform'), join(ws.dir, 'node_modules', PACKAGE_NAME, 'terraform'), { recursive: true });
        expect((await ws.init()).code).toBe(0);
        return ws.validate();
      };
      // No call at all (the root module not written yet), and a call of another name (a wrong --module).
      for (const files of [{}, { 'main.tf': call('responder') }] as Record<string, string>[]) {
        const v = await validated(files);
        expect({ files, code: v.code }).toEqual({ files, code: 1 });
        expect(v.stderr).toContain('Reference to undeclared module');
        expect(v.stderr).toContain('module.integrity_responder.topic');
      }
      const v = await validated({ 'main.tf': call('integrity_responder') });
      expect({ code: v.code, stderr: v.stderr }).toEqual({ code: 0, stderr: '' });
    },
    120000,
  );

  itWithTerraform(
    "with the module call the header suggests, and the inputs it lists, move a deployed responder changing none of the function's settings",
    async () => {
      standIns ??= await startStandIns();
      const props: Partial<IntegrityResponderProps> = {
        ...ORGANIZATION,
        excludedProjects: ['lab-sandbox-1', 'lab-sandbox-2'],
        enforcement: 'dry-run',
        failureAction: 'suspend',
        namePrefix: 'org-integrity',
        region: 'europe-west1',
        labels: { team: 'security' },
        exemptLabel: 'keep=me',
        logLevel: 'info',
        staleEventPolicy: 'fail-open',
        availableCpu: '1',
        maxInstanceRequestConcurrency: 4,
        maxDeliveryAttempts: 10,
      };
      // Deployed by CDKTF to the stand-ins, its state in a backend the HCL configuration reads too.
      const project = mkdtempSync(join(work, 'cdktf-'));
      const state = join(project, 'terraform.security.tfstate');
      const app = new App({ outdir: join(project, 'cdktf.out'), stackTraces: false });
      const stack = new TerraformStack(app, 'security');
      new LocalBackend(stack, { path: state });
      new GoogleProvider(stack, 'google', { project: PROJECT, region: 'us-central1' });
      new IntegrityResponder(new Construct(stack, 'Sec'), 'Org', { projectId: PROJECT, ...props });
      app.synth();
      const ws = workspace(standIns, { from: join(project, 'cdktf.out', 'stacks', 'security') });
      expect((await ws.init()).code).toBe(0);
      expect((await ws.run(['apply', '-auto-approve', '-input=false', '-no-color', '-lock=false'])).stderr).toBe('');

      // The tool's file, and a root module whose call is the header's, with the inputs it lists as not shown.
      const out = join(project, 'moved.tf');
      const r = await cli(['moved', '--plan', join(ws.dir, 'cdk.tf.json'), '--out', out]);
      expect(r.code).toBe(0);
      const moved = readFileSync(out, 'utf8');
      expect(namesIn(listAfter(moved, 'Inputs the function does not show, to set as your stack gave them to the construct:'))).toEqual(
        expect.arrayContaining(['notification_channels', 'max_delivery_attempts']),
      );
      expect(listAfter(moved, 'Not read back into inputs (set the inputs named as the stack had them):')[0]).toMatch(/^EXCLUDED_PROJECTS=/);
      const source = `./${relative(ws.dir, join(placeModuleTree(ws.dir), 'modules', 'organization'))}`;
      const call = suggestedCall(moved)
        .replace(/^ {2}source = .*$/m, `  source = "${source}"`)
        .replace(/\n}$/, '\n  excluded_projects     = ["lab-sandbox-1", "lab-sandbox-2"]\n  max_delivery_attempts = 10\n}');
      rmSync(join(ws.dir, 'cdk.tf.json'));
      rmSync(join(ws.dir, 'assets'), { recursive: true, force: true });
      writeFileSync(join(ws.dir, 'moved.tf'), moved);
      writeFileSync(
        join(ws.dir, 'main.tf'),
        [
          `terraform {\n  backend "local" {\n    path = "${state}"\n  }\n}`,
          `provider "google" {\n  project = "${PROJECT}"\n  region  = "us-central1"\n}`,
          call,
        ].join('\n\n'),
      );
      expect((await ws.run(['init', '-input=false', '-no-color', '-migrate-state', '-force-copy'])).code).toBe(0);
      const planned = await ws.plan();
      expect(planned.stderr).toBe('');
      expect(planned.summary).toBe('Plan: 1 to add, 2 to change, 1 to destroy.');
      // The function's update is the new object's generation and nothing else: every setting carried over.
      const fn = planned.show!.resource_changes!.find(
        (c) => c.address === 'module.integrity_responder.google_cloudfunctions2_function.Responder_Function_73C2D4D9',
      )!;
      const { before, after } = fn.change as unknown as Record<'before' | 'after', any>;
      const withoutGeneration = (value: any) => {
        const copy = JSON.parse(JSON.stringify(value));
        delete copy.build_config[0].source[0].storage_source[0].generation;
        return copy;
      };
      expect(withoutGeneration({ ...before, ...after })).toEqual(withoutGeneration(before));
      expect(before.service_config[0].environment_variables).toEqual(
        expect.objectContaining({ ENFORCEMENT: 'dry-run', EXEMPT_LABEL: 'keep=me' }),
      );
    },
    180000,
  );
});
