import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { integrityEntry } from '../testkit/fixtures';
import { runTool } from '../testkit/tools';

// The operator tools against real Firestore with no credentials at all: one sentence saying what
// to set up, never the client library's stack trace (the credential lookup fails outside the call
// the tool awaits).

describe('the operator tools without credentials', () => {
  const home = mkdtempSync(join(tmpdir(), 'no-credentials-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));
  // Nothing that could lead the Google clients to credentials or an emulator.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, METADATA_SERVER_DETECTION: 'none' };

  const P = ['--project', 'fleet-prod-1234', '--timeout', '20'];
  it.each([
    ['integrity-baselines', ['capture', '-', ...P]],
    ['integrity-baselines', ['capture', '--instance', 'canary-1', '--zone', 'europe-west1-b', ...P]],
    ['integrity-baselines', ['capture', '--instance', 'canary-1', '--zone', 'europe-west1-b', '--dry-run', ...P]],
    ['integrity-baselines', ['add', '--pcr', 'PCR_0=AAAA', '--pcr', 'PCR_4=AAAA', '--pcr', 'PCR_7=AAAA', '--note', 'x', ...P]],
    ['integrity-baselines', ['list', ...P]],
    ['integrity-baselines', ['show', 'sha256-bc71b5ae5a6d', ...P]],
    ['integrity-baselines', ['approve', 'sha256-bc71b5ae5a6d', ...P]],
    ['integrity-baselines', ['revoke', 'sha256-bc71b5ae5a6d', '--reason', 'test', ...P]],
    ['integrity-baselines', ['import-legacy', ...P]],
    ['integrity-baselines', ['import-legacy', '--dry-run', ...P]],
    ['integrity-baselines', ['decisions', ...P]],
    ['integrity-baselines', ['decisions', '--instance', 'canary-1', '--zone', 'europe-west1-b', ...P]],
    ['integrity-budget', ['show', ...P]],
    ['integrity-budget', ['reset', '--reason', 'test', ...P]],
  ] as const)('%s %j says in one sentence what to set up', (tool, args) => {
    // A late-boot report for capture to read from standard input (it asks for credentials before reading it).
    const r = runTool(tool, args, { env, timeoutMs: 40_000, input: JSON.stringify(integrityEntry()) });
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 1, stdout: '' });
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^${tool}: .*credentials.*gcloud auth application-default login`)),
    ]);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});
