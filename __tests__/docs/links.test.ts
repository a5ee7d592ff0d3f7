import { REPO_ROOT } from '../support/paths';
import { join, relative } from 'node:path';
import { anchorsOf, brokenLinks, markdownUnder } from './markdown';

/*
 * Every relative link of README.md and docs/**\/*.md leads somewhere: to a file or directory of
 * the repository and, with a `#fragment` into a Markdown file, to a heading or an `<a id>` there,
 * as GitHub names them.
 */

const root = REPO_ROOT;

/** README.md and every Markdown file under docs/. */
const DOCUMENTS = [join(root, 'README.md'), ...markdownUnder(join(root, 'docs'))];

describe('the links of the README and docs/', () => {
  it('finds the documents', () => {
    expect(DOCUMENTS.map((d) => relative(root, d))).toEqual(
      expect.arrayContaining(['README.md', 'docs/how-it-decides.md', 'docs/reference/README.md', 'docs/adr/0024-generated-reference.md']),
    );
  });

  it.each(DOCUMENTS.map((d) => [relative(root, d), d]))('every relative link of %s resolves', (_name, file) => {
    expect(brokenLinks(file)).toEqual([]);
  });
});

describe('the link check', () => {
  const doc = join(root, 'docs', 'example.md');

  it('names a link to a file that does not exist', () => {
    expect(brokenLinks(doc, 'See [the runbook](operating/runbok.md).\n')).toEqual([
      { at: 'docs/example.md:1', target: 'operating/runbok.md', problem: 'docs/operating/runbok.md does not exist' },
    ]);
  });

  it('names a link to a heading that does not exist, and accepts one that does', () => {
    expect(brokenLinks(doc, '[a](how-it-decides.md#dry-run) [b](how-it-decides.md#dry-runs)\n')).toEqual([
      {
        at: 'docs/example.md:1',
        target: 'how-it-decides.md#dry-runs',
        problem: "docs/how-it-decides.md has no heading or anchor 'dry-runs'",
      },
    ]);
  });

  it('ignores links inside code and to other sites', () => {
    expect(brokenLinks(doc, '`[x](nowhere.md)`\n```\n[y](nowhere.md)\n```\n[z](https://example.com/nowhere)\n')).toEqual([]);
  });

  it('names headings as GitHub does', () => {
    expect([
      ...anchorsOf('# Managing baselines: `integrity-baselines`\n## Delivery, retries and dead letters\n## Notes\n## Notes\n'),
    ]).toEqual(['managing-baselines-integrity-baselines', 'delivery-retries-and-dead-letters', 'notes', 'notes-1']);
  });
});
