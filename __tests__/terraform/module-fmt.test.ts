import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MODULES } from '../../scripts/terraform-module/spec';
import { TERRAFORM_BINARY } from '../../testkit/terraform/workspace';
import { REPO_ROOT } from '../support/paths';
import { describeWithTerraform } from '../support/terraform';

/*
 * The HCL a reader copies, the module READMEs' snippets and examples/terraform, is as
 * `terraform fmt` writes it: pasted into a configuration whose CI runs `terraform fmt -check`, it
 * passes.
 */

const EXAMPLE_DIR = join(REPO_ROOT, 'examples', 'terraform');
const READMES = [...MODULES.map((m) => join('terraform', m.dir, 'README.md')), join('examples', 'terraform', 'README.md')];

/** The ```hcl blocks of a Markdown file. */
function hclBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```hcl\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/** What `terraform fmt` makes of a text. */
function formatted(hcl: string): string {
  const run = spawnSync(TERRAFORM_BINARY!, ['fmt', '-no-color', '-'], { input: hcl, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`terraform fmt failed: ${run.stderr}`);
  return run.stdout;
}

describeWithTerraform('HCL a reader copies, as terraform fmt writes it', () => {
  it.each(READMES)('%s: each hcl snippet', (readme) => {
    const blocks = hclBlocks(readFileSync(join(REPO_ROOT, readme), 'utf8'));
    expect(blocks.map((b) => formatted(b))).toEqual(blocks);
  });

  it('the module READMEs have hcl snippets: the usage and the moved block', () => {
    for (const m of MODULES) {
      expect({ module: m.dir, blocks: hclBlocks(readFileSync(join(REPO_ROOT, 'terraform', m.dir, 'README.md'), 'utf8')).length }).toEqual({
        module: m.dir,
        blocks: 2,
      });
    }
  });

  it.each(readdirSync(EXAMPLE_DIR).filter((f) => f.endsWith('.tf')))('examples/terraform/%s', (file) => {
    const text = readFileSync(join(EXAMPLE_DIR, file), 'utf8');
    expect(formatted(text)).toBe(text);
  });
});
