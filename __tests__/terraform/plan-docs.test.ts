import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { renderPlans } from '../../scripts/terraform-plans';
import { REPO_ROOT } from '../support/paths';
import { describeWithTerraform } from '../support/terraform';

describeWithTerraform('docs/plan: the plan a reviewer reads', () => {
  it('is what the real terraform plans for the default, the organization and the playbook configurations now', async () => {
    const pages = await renderPlans();
    expect(
      Object.keys(pages)
        .map((p) => relative(REPO_ROOT, p))
        .sort(),
    ).toEqual(['docs/plan/default.md', 'docs/plan/organization.md', 'docs/plan/playbook.md']);
    const stale = Object.entries(pages)
      .filter(([path, text]) => !existsSync(path) || readFileSync(path, 'utf8') !== text)
      .map(([path]) => relative(REPO_ROOT, path));
    // Regenerate with `npm run docs` (or `npx tsx scripts/terraform-plans.ts`) and review the diff.
    expect(stale).toEqual([]);
    for (const text of Object.values(pages)) expect(text).toMatch(/^\*\*Plan: \d+ to add, 0 to change, 0 to destroy\.\*\*$/m);
  }, 60000);
});
