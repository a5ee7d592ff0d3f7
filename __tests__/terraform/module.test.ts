import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFunctionBundle } from '../../lib/function-bundle';
import { everyPoint } from '../../scripts/terraform-module/choices';
import { ModuleTree, drift, moduleTree } from '../../scripts/terraform-module/files';
import { STRENGTH } from '../../scripts/terraform-module/module';
import { MODULES } from '../../scripts/terraform-module/spec';
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
