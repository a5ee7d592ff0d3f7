import { REPO_ROOT } from '../support/paths';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { API_REPORT, REFERENCE_DIR, compareGenerated, staleMessage } from '../../scripts/docs-drift';

const root = REPO_ROOT;

/** Writes a tree laid out like the repository: path relative to the root → content. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'svir-docs-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

describe('the committed API reference', () => {
  it('matches what npm run docs generates from the TSDoc of lib/', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'docs.ts'), '--check'], {
      cwd: root,
      encoding: 'utf8',
    });
    // On a stale reference the output names the files and says to run `npm run docs`.
    expect(`${r.stdout}${r.stderr}`).toMatch(/match the TSDoc of lib\/ \(/);
    expect(r.status).toBe(0);
  }, 120000);
});

describe('the staleness check', () => {
  const page = `${REFERENCE_DIR}/interfaces/IntegrityResponderProps.md`;
  const committedFiles = {
    [`${REFERENCE_DIR}/README.md`]: '# index\n',
    [page]: '# Props\n\n| `region?` | Region of the function. |\n',
    [API_REPORT]: 'export interface IntegrityResponderProps {}\n',
  };
  const dirs: string[] = [];
  const trees = (generated: Record<string, string>) => {
    dirs.push(tree(committedFiles), tree(generated));
    return compareGenerated(dirs[dirs.length - 2]!, dirs[dirs.length - 1]!);
  };
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('finds nothing when the generated files equal the committed ones', () => {
    expect(trees(committedFiles)).toEqual([]);
  });

  it('names a page whose TSDoc changed, with the first line that differs', () => {
    expect(trees({ ...committedFiles, [page]: '# Props\n\n| `region?` | Region of everything. |\n' })).toEqual([
      {
        path: page,
        change: 'changed',
        line: { number: 3, committed: '| `region?` | Region of the function. |', generated: '| `region?` | Region of everything. |' },
      },
    ]);
  });

  it('names the committed page of a symbol no longer exported, and the page of a new one', () => {
    const { [page]: _dropped, ...rest } = committedFiles;
    expect(trees({ ...rest, [`${REFERENCE_DIR}/functions/fingerprint.md`]: '# fingerprint\n' })).toEqual([
      { path: `${REFERENCE_DIR}/functions/fingerprint.md`, change: 'added' },
      { path: page, change: 'removed' },
    ]);
  });

  it('names an API report that changed', () => {
    expect(trees({ ...committedFiles, [API_REPORT]: 'export interface IntegrityResponderProps { region?: string }\n' })).toEqual([
      expect.objectContaining({ path: API_REPORT, change: 'changed' }),
    ]);
  });

  it('says which files differ and to run npm run docs', () => {
    const message = staleMessage([{ path: page, change: 'removed' }]);
    expect(message).toContain(`removed ${page}`);
    expect(message).toContain('Run `npm run docs` and commit docs/reference/');
  });
});
