import { REPO_ROOT } from '../support/paths';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CliError, withDeadline } from '../../cli/common';
import { networkFailure, networkSentence } from '../../cli/network';
import { integrityEntry } from '../../testkit/fixtures';
import { LoopbackCredentials, startLoopbackCredentials } from '../../testkit/loopback-clients';
import { runTool, runToolAsync } from '../../testkit/tools';

// The operator tools against real Firestore when the credentials or the network fail: one
// sentence saying what is wrong and what to do, never the client library's stack trace (the
// credential lookup fails outside the call the tool awaits), and never a login for a network.

const root = REPO_ROOT;
const P = ['--project', 'fleet-prod-1234', '--timeout', '20'];

/** Every command of both tools that talks to Google, with arguments that get it there. */
const COMMANDS = [
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
  ['integrity-containment', ['list', ...P]],
  ['integrity-containment', ['show', 'fleet-prod-1234/us-central1-a/4617930134256183721', ...P]],
  ['integrity-containment', ['release', 'fleet-prod-1234/us-central1-a/4617930134256183721', '--reason', 'test', ...P]],
] as const;

const scratch = mkdtempSync(join(tmpdir(), 'tool-credentials-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function keyFile(name: string, content: unknown): string {
  const path = join(scratch, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

// Nothing that could lead the Google clients to credentials or an emulator.
const bare: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: scratch, METADATA_SERVER_DETECTION: 'none' };

/** The one line a tool printed on stderr, checked to be alone and no stack trace. */
function oneLine(r: { status: number | null; stdout: string; stderr: string }): string {
  expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 1, stdout: '' });
  expect(r.stderr).not.toMatch(/^\s+at /m);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe('the operator tools without credentials', () => {
  it.each(COMMANDS)('%s %j says in one sentence what to set up', (tool, args) => {
    // A late-boot report for capture to read from standard input (it asks for credentials before reading it).
    const r = runTool(tool, args, { env: bare, timeoutMs: 40_000, input: JSON.stringify(integrityEntry()) });
    expect(oneLine(r)).toMatch(new RegExp(`^${tool}: .*credentials.*gcloud auth application-default login`));
  });
});

describe('the operator tools when the network fails', () => {
  // Workload identity federation: its token exchange goes to the token_url the file names, here
  // a host that no DNS resolves (.invalid is reserved for that).
  const unresolvable = keyFile('federation.json', {
    type: 'external_account',
    audience: '//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/ci/providers/gh',
    subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
    token_url: 'https://sts.nonexistent.invalid/v1/token',
    credential_source: { file: keyFile('subject-token', 'a-subject-token') },
  });
  const sentence = (host: string) =>
    `the network failed: ${host} could not be resolved \\(DNS: (ENOTFOUND|EAI_AGAIN)\\); check the network connection, any proxy \\(HTTPS_PROXY\\) and DNS$`;

  // Side by side: each waits on the resolver, and they share nothing.
  it.concurrent.each(COMMANDS)(
    '%s %j names the host DNS could not resolve and what to check, in the one sentence of both tools',
    async (tool, args) => {
      const r = await runToolAsync(tool, args, {
        env: { ...bare, GOOGLE_APPLICATION_CREDENTIALS: unresolvable },
        timeoutMs: 40_000,
        input: JSON.stringify(integrityEntry()),
      });
      const line = oneLine(r);
      expect(line).toMatch(new RegExp(`^${tool}: could not [^:]+: ${sentence('sts\\.nonexistent\\.invalid')}`));
      expect(line).not.toMatch(/login|GOOGLE_APPLICATION_CREDENTIALS/);
    },
  );

  it('names the proxy when it is the host that does not resolve', async () => {
    const user = keyFile('user.json', {
      type: 'authorized_user',
      client_id: 'x.apps.googleusercontent.com',
      client_secret: 's',
      refresh_token: 'r',
    });
    const r = await runToolAsync('integrity-budget', ['show', ...P], {
      env: { ...bare, GOOGLE_APPLICATION_CREDENTIALS: user, HTTPS_PROXY: 'http://proxy.nonexistent.invalid:3128' },
    });
    expect(oneLine(r)).toMatch(
      new RegExp(
        `^integrity-budget: could not read the action budget in integrity-responder-decisions in project fleet-prod-1234: ` +
          sentence('the proxy proxy\\.nonexistent\\.invalid:3128 \\(HTTPS_PROXY\\)'),
      ),
    );
  });

  describe('with credentials that work', () => {
    let credentials: LoopbackCredentials;
    beforeAll(async () => {
      credentials = await startLoopbackCredentials(mkdtempSync(join(scratch, 'loopback-')));
    });
    afterAll(() => credentials.close());

    it('names the cause a connection finds when Firestore does not answer in time, instead of hiding it behind the deadline', async () => {
      // The token comes from the loopback stand-in (the auth library also asks the metadata
      // server for its universe: not through the proxy either); Firestore's calls go through a
      // proxy that refuses them, which the client retries until the deadline.
      // 4 s: on a loaded machine the token alone can take most of 2 s, and the sentence would then be about it.
      const r = await runToolAsync('integrity-budget', ['show', '--project', 'fleet-prod-1234', '--timeout', '4'], {
        env: {
          ...bare,
          GOOGLE_APPLICATION_CREDENTIALS: credentials.file,
          HTTPS_PROXY: 'http://127.0.0.1:1',
          NO_PROXY: '127.0.0.1,169.254.169.254',
        },
      });
      expect(oneLine(r)).toBe(
        'integrity-budget: Firestore did not answer within 4 s when asked to read the action budget in integrity-responder-decisions ' +
          'in project fleet-prod-1234: the network failed: the proxy 127.0.0.1:1 (HTTPS_PROXY) refused the connection (ECONNREFUSED); ' +
          'check the network connection, any proxy (HTTPS_PROXY) and DNS',
      );
      expect(credentials.requests).toContain('POST /sts');
    });

    it.each([
      ['integrity-budget', ['show']],
      ['integrity-baselines', ['list']],
      ['integrity-baselines', ['decisions']],
      ['integrity-baselines', ['decisions', '--instance', 'canary-1', '--zone', 'europe-west1-b']],
    ] as const)('%s %j asks for one token a run: the credentials checked serve its Google clients', async (tool, args) => {
      // As above: Google's APIs answer nothing through the refusing proxy, within the one deadline.
      const before = credentials.requests.length;
      const r = await runToolAsync(tool, [...args, '--project', 'fleet-prod-1234', '--timeout', '4'], {
        env: {
          ...bare,
          GOOGLE_APPLICATION_CREDENTIALS: credentials.file,
          HTTPS_PROXY: 'http://127.0.0.1:1',
          NO_PROXY: '127.0.0.1,169.254.169.254',
        },
      });
      expect(oneLine(r)).toMatch(/did not answer within 4 s/);
      expect(credentials.requests.slice(before).filter((q) => q === 'POST /sts')).toHaveLength(1);
    });

    it('records the principal the credentials act as: what both tools record against Firestore', async () => {
      const script =
        `require(${JSON.stringify(join(root, 'cli', 'principal.ts'))})` +
        `.resolveActor(undefined, process.env, { doing: 'reset the action budget', option: '--by', seconds: 10 })` +
        `.then((a) => process.stdout.write(JSON.stringify(a)), (e) => process.stdout.write(e.message))`;
      const { stdout } = await promisify(execFile)(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
        cwd: root,
        timeout: 20_000,
        env: { ...bare, GOOGLE_APPLICATION_CREDENTIALS: credentials.file },
      });
      expect(JSON.parse(stdout)).toEqual({ name: credentials.principal, from: 'credentials' });
    });
  });

  it('reads a real DNS failure, with its host, out of the error that carries it', async () => {
    const error: unknown = await fetch('https://nonexistent.invalid/').catch((e: unknown) => e);
    const found = networkFailure(error, {});
    expect(found).toEqual({ host: 'nonexistent.invalid', kind: 'unresolved', code: expect.stringMatching(/^(ENOTFOUND|EAI_AGAIN)$/) });
    expect(networkSentence(found!)).toMatch(new RegExp(sentence('nonexistent\\.invalid')));
    expect(networkFailure(new Error('7 PERMISSION_DENIED: Missing or insufficient permissions.'), {})).toBeUndefined();
  });

  it('says after a deadline what a connection finds wrong with the host', async () => {
    const never = new Promise<never>(() => undefined);
    const late = (url?: string) =>
      withDeadline(
        never,
        { seconds: 1, service: 'Firestore', what: 'when asked to list x', advice: 'check the network', ...(url !== undefined && { url }) },
        {},
      );
    await expect(late('https://nonexistent.invalid')).rejects.toThrow(
      new RegExp(`^Firestore did not answer within 1 s when asked to list x: ${sentence('nonexistent\\.invalid')}`),
    );
    await expect(late()).rejects.toThrow(new CliError('Firestore did not answer within 1 s when asked to list x; check the network'));
  });
});

describe('the operator tools with a credentials file they cannot use', () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const serviceAccount = {
    type: 'service_account',
    project_id: 'fleet-prod-1234',
    private_key_id: 'k1',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: 'ops@fleet-prod-1234.iam.gserviceaccount.com',
    client_id: '1',
  };
  const named = (path: string) =>
    `the credentials file named by GOOGLE_APPLICATION_CREDENTIALS \\(${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\) could not be used: `;
  const advice =
    "; point GOOGLE_APPLICATION_CREDENTIALS at a service-account or authorized-user JSON key, or unset it to use 'gcloud auth application-default login'$";

  it.each([
    [
      'a service-account key whose private key is not one',
      { ...serviceAccount, private_key: '-----BEGIN PRIVATE KEY-----\nnotakey\n-----END PRIVATE KEY-----\n' },
      'its private_key is not a readable PEM private key \\(.*DECODER.*\\)',
    ],
    ['a file that is not JSON', '{"type": "service_account",', 'it is not a service-account or authorized-user JSON key \\(.*JSON.*\\)'],
    [
      'a JSON file of another kind',
      { installed: { client_id: 'x' } },
      'it is not a service-account or authorized-user JSON key \\(its type is null\\)',
    ],
    [
      'an authorized-user key without its refresh token',
      { type: 'authorized_user', client_id: 'x', client_secret: 's' },
      'the authorized-user key has no refresh_token',
    ],
  ])('names %s and why, at once, for every command', async (name, content, why) => {
    const path = keyFile(`${name.replace(/\W+/g, '-')}.json`, content);
    for (const [tool, args] of [COMMANDS[4], COMMANDS[3], COMMANDS[13]] as const) {
      const r = await runToolAsync(tool, args, { env: { ...bare, GOOGLE_APPLICATION_CREDENTIALS: path } });
      expect(oneLine(r)).toMatch(new RegExp(`^${tool}: could not [^:]+: ${named(path)}${why}${advice}`));
      // Before any request: the Firestore client would retry a bad key for seconds.
      expect(r.ms).toBeLessThan(5000);
    }
  });

  it('says that the file GOOGLE_APPLICATION_CREDENTIALS names does not exist, rather than to set it', () => {
    const r = runTool('integrity-baselines', ['list', ...P], { env: { ...bare, GOOGLE_APPLICATION_CREDENTIALS: '/nonexistent/key.json' } });
    expect(oneLine(r)).toBe(
      'integrity-baselines: could not list the baselines of integrity-responder-baselines/known_good_measurements in project fleet-prod-1234: ' +
        "GOOGLE_APPLICATION_CREDENTIALS names /nonexistent/key.json, which does not exist; point it at a service-account or authorized-user JSON key, or unset it to use 'gcloud auth application-default login'",
    );
  });

  it("names the file 'gcloud auth application-default login' wrote when it is the one that cannot be used", () => {
    const gcloud = mkdtempSync(join(scratch, 'gcloud-'));
    writeFileSync(join(gcloud, 'application_default_credentials.json'), '{ not json');
    const r = runTool('integrity-budget', ['show', ...P], { env: { ...bare, CLOUDSDK_CONFIG: gcloud } });
    expect(oneLine(r)).toMatch(
      new RegExp(
        `: the Application Default Credentials file ${gcloud}/application_default_credentials\\.json could not be used: .*; run 'gcloud auth application-default login' again$`,
      ),
    );
  });
});
