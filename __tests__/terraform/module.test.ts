import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFunctionBundle } from '../../lib/function-bundle';
import { everyPoint } from '../../scripts/terraform-module/choices';
import { ModuleTree, drift, moduleTree } from '../../scripts/terraform-module/files';
import { STRENGTH } from '../../scripts/terraform-module/module';
import * as contract from '../../function/contract';
import { memberDocs } from '../../scripts/terraform-module/docs';
import { MODULES, ModuleSpec } from '../../scripts/terraform-module/spec';
import { REPO_ROOT } from '../support/paths';

/*
 * terraform/ is generated from the construct (scripts/terraform-module.ts): it must be what the
 * generator writes today, as docs/reference must be what TypeDoc writes (docs:check).
 */

const TERRAFORM_DIR = join(REPO_ROOT, 'terraform');

describe('terraform/, the module generated from the construct', () => {
  let tree: ModuleTree;
  beforeAll(async () => {
    tree = await moduleTree({ root: REPO_ROOT, fixed: {}, zipSha256: loadFunctionBundle(REPO_ROOT).zipSha256, strength: STRENGTH });
  }, 120_000);

  it('is what the generator writes today (npx tsx scripts/terraform-module.ts)', () => {
    expect(drift(TERRAFORM_DIR, tree.files)).toEqual([]);
  });

  it('holds the root module and one submodule per other scope kind, each with its configuration and README', () => {
    expect([...tree.files.keys()].sort()).toEqual(
      MODULES.flatMap((m) =>
        ['README.md', 'main.tf.json', 'outputs.tf.json', 'variables.tf.json', 'versions.tf.json'].map((f) => join(m.dir, f)),
      ).sort(),
    );
  });

  it('was found with far fewer synths than the combinations of its choices', () => {
    for (const m of tree.modules) {
      expect({ module: m.spec.kind, fewer: m.synths < everyPoint(m.choices).length / 10 }).toEqual({ module: m.spec.kind, fewer: true });
    }
  });

  it.each(MODULES.map((m) => [m.dir || 'the root module', m] as const))(
    "%s: the README's inputs table lists every variable, with its type, default and whether it is required",
    (_name, spec) => {
      const readme = tree.files.get(join(spec.dir, 'README.md'))!;
      const variables = (
        JSON.parse(tree.files.get(join(spec.dir, 'variables.tf.json'))!) as { variable: Record<string, Record<string, unknown>> }
      ).variable;
      const rows = [
        ...readme
          .slice(readme.indexOf('## Inputs'), readme.indexOf('## Outputs'))
          .matchAll(/^\| `(\w+)` \| .* \| `([^`]+)` \| (.+) \| (yes|no) \|$/gm),
      ];
      expect(rows.map(([, name, type, , required]) => ({ name, type, required }))).toEqual(
        Object.entries(variables).map(([name, v]) => ({ name, type: v.type, required: 'default' in v ? 'no' : 'yes' })),
      );
      const outputs = (JSON.parse(tree.files.get(join(spec.dir, 'outputs.tf.json'))!) as { output: Record<string, unknown> }).output;
      expect([...readme.slice(readme.indexOf('## Outputs')).matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1])).toEqual(Object.keys(outputs));
    },
  );
});

describe("terraform/, in the words of the module's reader", () => {
  let tree: ModuleTree;
  beforeAll(async () => {
    tree = await moduleTree({ root: REPO_ROOT, fixed: {}, zipSha256: loadFunctionBundle(REPO_ROOT).zipSha256, strength: STRENGTH });
  }, 120_000);

  const json = (spec: ModuleSpec, file: string) => JSON.parse(tree.files.get(join(spec.dir, file))!) as Record<string, any>;
  // The camelCase ones: a one-word prop (`region`, `labels`) is also a word, and its variable has its name.
  const props = [...memberDocs(REPO_ROOT, 'lib/props/props.ts', 'IntegrityResponderProps').keys()].filter((p) => /[A-Z]/.test(p));
  const constants = Object.keys(contract).filter((k) => /^[A-Z][A-Z0-9_]+$/.test(k));

  /** What a description says that a module's reader cannot act on: a prop, a constant, a function variable, docs/, the construct. */
  function jargon(text: string): string[] {
    return [
      // Not inside a path (`projects/<p>/notificationChannels/<id>`), where the word is Google's.
      ...props.filter((p) => new RegExp(`(?<![\\w/])${p}(?![\\w/])`).test(text)),
      ...constants.filter((c) => text.includes(`\`${c}\``)),
      ...[...text.matchAll(/`[A-Z][A-Z0-9_]+` variable|\bADR \d+|\bdocs\/|\bthe construct\b/gi)].map((m) => m[0]),
    ];
  }

  it.each(MODULES.map((m) => [m.dir || 'the root module', m] as const))(
    '%s: variable and output descriptions name no prop, constant, function variable, docs/ page or construct',
    (_name, spec) => {
      const described = [
        ...Object.entries(json(spec, 'variables.tf.json').variable as Record<string, { description: string }>),
        ...Object.entries(json(spec, 'outputs.tf.json').output as Record<string, { description: string }>),
      ];
      expect(described.map(([name, d]) => [name, jargon(d.description)] as const).filter(([, found]) => found.length > 0)).toEqual([]);
      const variables = json(spec, 'variables.tf.json').variable as Record<string, { description: string }>;
      expect(variables.enforcement!.description).toContain('one change of the `enforcement` input');
      expect(variables.stale_event_policy!.description).toContain('older than the report age limit, fixed at 3600 s in this module');
      if (spec.kind !== 'project') expect(variables.excluded_projects!.description).toContain('At most 10 in all');
    },
  );

  it.each(MODULES.map((m) => [m.dir || 'the root module', m] as const))(
    '%s: the README says the containment playbook is not in the module, and what its responder does instead',
    (_name, spec) => {
      const readme = tree.files.get(join(spec.dir, 'README.md'))!;
      const section = readme.slice(readme.indexOf('## Not in this module'), readme.indexOf('## Inputs'));
      expect(section).toMatch(/^## Not in this module\n\nThe containment playbook \(evidence snapshots/);
      expect(section).toContain('stops or suspends a VM, as `failure_action`');
      expect(readme.indexOf('## Not in this module')).toBeGreaterThan(readme.indexOf('## Fixed values'));
    },
  );

  it.each(MODULES.map((m) => [m.dir || 'the root module', m] as const))(
    '%s: the README links no docs/ page, and its fixed values are values with the --set that changes each',
    (_name, spec) => {
      const readme = tree.files.get(join(spec.dir, 'README.md'))!;
      expect(readme).not.toMatch(/docs\/|Construct prop/);
      const fixed = readme.slice(readme.indexOf('## Fixed values'), readme.indexOf('## Inputs'));
      const rows = [...fixed.matchAll(/^\| ([^|]+) \| ([^|]+) \| `--set (\w+)=<[^>]+>` \|$/gm)].map((m) => [m[3], m[2]]);
      expect(rows).toEqual([
        ['memoryMib', '256 MiB'],
        ['timeoutSeconds', '60 s'],
        ['maxEventAgeSeconds', '3600 s'],
        ['relearnMaxAgeSeconds', '300 s'],
        ['maxActionsPerWindow', '50'],
        ['actionWindowSeconds', '3600 s'],
        ['iamPropagationSeconds', '120 s'],
      ]);
    },
  );

  it.each(MODULES.map((m) => [m.dir || 'the root module', m] as const))(
    '%s: every validation and precondition message starts with the variable it blames (or function.zip), and no validation is written twice',
    (_name, spec) => {
      const variables = json(spec, 'variables.tf.json').variable as Record<
        string,
        { validation?: { condition: string; error_message: string }[] }
      >;
      // A message merged from several combinations is a conditional: each of its branches blames a variable.
      const blamedAll = (message: string) =>
        message.startsWith('${') ? [...message.matchAll(/[?:]\s*\(?"([\w.]+)/g)].map((m) => m[1]!) : [/^[\w.]+/.exec(message)![0]];
      const blamed = (message: string) => blamedAll(message).join();
      for (const [name, v] of Object.entries(variables)) {
        expect({ name, blamed: (v.validation ?? []).map((c) => blamed(c.error_message)) }).toEqual({
          name,
          blamed: (v.validation ?? []).map(() => name),
        });
        // A rule the generator states and the construct checks too is written once.
        const written = (v.validation ?? []).map((c) => JSON.stringify(c));
        expect({ name, written: new Set(written).size }).toEqual({ name, written: written.length });
      }
      const messages: string[] = [];
      const walk = (value: unknown): void => {
        if (Array.isArray(value)) value.forEach(walk);
        else if (value !== null && typeof value === 'object') {
          for (const [k, v] of Object.entries(value)) {
            if (k === 'precondition') messages.push(...(v as { error_message: string }[]).map((c) => c.error_message));
            else walk(v);
          }
        }
      };
      walk(json(spec, 'main.tf.json'));
      expect(messages.flatMap(blamedAll).filter((name) => !(name in variables) && name !== 'function.zip')).toEqual([]);
    },
  );

  it('says what is wrong with a scope input: its own name, and the prefix the module adds itself', () => {
    const scoped = MODULES.map((spec) => {
      const input = spec.inputs.find((i) => i.prop === 'scope')!.variable;
      const validation = json(spec, 'variables.tf.json').variable[input].validation as { error_message: string }[];
      return [input, validation.map((c) => c.error_message)];
    });
    expect(scoped).toEqual([
      ['watched_project_id', [expect.stringMatching(/^watched_project_id must be a Google Cloud project id .*, without 'projects\/'/)]],
      ['folder_id', ["folder_id must be the folder's number, digits only such as '345678901234', without 'folders/'."]],
      [
        'organization_id',
        ["organization_id must be the organization's number, digits only such as '800000000001', without 'organizations/'."],
      ],
    ]);
  });
});

describe('the drift check', () => {
  it('names a file that differs, one that is missing and a generated file the generator no longer writes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'terraform-module-'));
    try {
      const files = new Map([
        ['main.tf.json', '{}\n'],
        ['modules/folder/README.md', '# folder\n'],
        ['variables.tf.json', '{}\n'],
      ]);
      cpSync(TERRAFORM_DIR, dir, { recursive: true });
      for (const [path, content] of files) writeFileSync(join(dir, path), content);
      writeFileSync(join(dir, 'main.tf.json'), '{ "resource": {} }\n');
      unlinkSync(join(dir, 'variables.tf.json'));
      expect(drift(dir, files)).toEqual(
        expect.arrayContaining(['main.tf.json: differs', 'variables.tf.json: missing', 'outputs.tf.json: not generated any more']),
      );
      expect(readFileSync(join(dir, 'modules/folder/README.md'), 'utf8')).toBe('# folder\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
