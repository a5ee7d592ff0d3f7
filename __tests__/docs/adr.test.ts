import { REPO_ROOT } from '../support/paths';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// Every decision record says where it stands and since when, and names the records that changed it.

const ADR_DIR = join(REPO_ROOT, 'docs', 'adr');
const adrs = readdirSync(ADR_DIR)
  .filter((f) => /^\d{4}-.+\.md$/.test(f))
  .sort()
  .map((file) => ({ file, text: readFileSync(join(ADR_DIR, file), 'utf8') }));
const numbers = new Set(adrs.map((a) => a.file.slice(0, 4)));

describe('the decision records', () => {
  it('are found', () => {
    expect(adrs.length).toBeGreaterThanOrEqual(27);
  });

  it.each(adrs.map((a) => [a.file, a.text] as const))('%s has a status with its date under its title', (file, text) => {
    const [title, blank, status] = text.split('\n');
    expect({ file, title: /^# \d{4} — \S/.test(title!), blank }).toEqual({ file, title: true, blank: '' });
    expect(status).toMatch(/^Status: (Accepted|Proposed|Rejected|Superseded by ADR \d{4}) \(\d{4}-\d{2}-\d{2}[;)]/);
  });

  it.each(adrs.map((a) => [a.file, a.text] as const))('%s names only records that exist in its status', (_file, text) => {
    const status = text.split('\n')[2]!;
    for (const [, n] of status.matchAll(/ADR (\d{4})/g)) expect(numbers).toContain(n);
  });
});
