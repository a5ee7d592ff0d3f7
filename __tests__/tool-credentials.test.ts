import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool } from '../testkit/tools';

// The operator tools against real Firestore with no credentials at all: one sentence saying what
// to set up, never the client library's stack trace (the credential lookup fails outside the call
// the tool awaits).

describe('the operator tools without credentials', () => {
  const home = mkdtempSync(join(tmpdir(), 'no-credentials-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));
  // Nothing that could lead the Google clients to credentials or an emulator.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, METADATA_SERVER_DETECTION: 'none' };

  it.each([
    ['integrity-baselines', ['list', '--project', 'fleet-prod-1234', '--timeout', '20']],
    ['integrity-baselines', ['show', 'sha256-bc71b5ae5a6d', '--project', 'fleet-prod-1234', '--timeout', '20']],
    ['integrity-baselines', ['import-legacy', '--dry-run', '--project', 'fleet-prod-1234', '--timeout', '20']],
    ['integrity-budget', ['show', '--project', 'fleet-prod-1234', '--timeout', '20']],
    ['integrity-budget', ['reset', '--reason', 'test', '--project', 'fleet-prod-1234', '--timeout', '20']],
  ] as const)('%s %j says in one sentence what to set up', (tool, args) => {
    const r = runTool(tool, args, { env, timeoutMs: 40_000 });
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 1, stdout: '' });
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^${tool}: .*credentials.*gcloud auth application-default login`)),
    ]);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});
