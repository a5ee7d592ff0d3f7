// The system packages the end-to-end tests and the demo need (the Firestore and Pub/Sub
// emulators of the Google Cloud CLI, and a Java runtime to run them): what is missing, and
// installing it with apt-get where this process may (root, or sudo without a password).
// Plain Node and built-ins only: it runs before node_modules exists (docs/adr/0026).
'use strict';
const { spawnSync } = require('node:child_process');
const { accessSync, constants, existsSync } = require('node:fs');
const { delimiter, join } = require('node:path');
const { seconds } = require('./npm-dependencies');

/** Where the Google Cloud CLI's Debian packages install the SDK. */
const DEFAULT_SDK_ROOT = '/usr/lib/google-cloud-sdk';
/** Google's page on installing the Google Cloud CLI, its apt repository section. */
const GOOGLE_CLOUD_CLI_APT = 'https://cloud.google.com/sdk/docs/install#deb';
/** Google's page on installing the Google Cloud CLI on any system. */
const GOOGLE_CLOUD_CLI = 'https://cloud.google.com/sdk/docs/install';

function emulatorPaths(env = process.env) {
  const root = env.GOOGLE_CLOUD_SDK_ROOT || DEFAULT_SDK_ROOT;
  return {
    firestore: join(root, 'platform', 'cloud-firestore-emulator', 'cloud_firestore_emulator'),
    pubsub: join(root, 'platform', 'pubsub-emulator', 'bin', 'cloud-pubsub-emulator'),
  };
}

const REQUIREMENTS = [
  {
    id: 'firestore',
    label: 'the Firestore emulator',
    debianPackage: 'google-cloud-cli-firestore-emulator',
    sdkComponent: 'cloud-firestore-emulator',
    path: (env) => emulatorPaths(env).firestore,
  },
  {
    id: 'pubsub',
    label: 'the Pub/Sub emulator',
    debianPackage: 'google-cloud-cli-pubsub-emulator',
    sdkComponent: 'pubsub-emulator',
    path: (env) => emulatorPaths(env).pubsub,
  },
  { id: 'java', label: 'Java', debianPackage: 'default-jre-headless' },
];

function javaRuns(env) {
  // The emulators' launchers start `java` from PATH.
  return spawnSync('java', ['-version'], { env, stdio: 'ignore' }).status === 0;
}

function missingRequirements(env = process.env) {
  return REQUIREMENTS.filter((r) => (r.path ? !existsSync(r.path(env)) : !javaRuns(env))).map((r) => ({
    id: r.id,
    label: r.label,
    debianPackage: r.debianPackage,
    sdkComponent: r.sdkComponent,
    path: r.path?.(env),
  }));
}

function describeMissing(missing) {
  const java = REQUIREMENTS.find((r) => r.id === 'java');
  const items = missing.map((m) => (m.id === 'java' ? 'Java' : `${m.label} (Debian package ${m.debianPackage}, ${m.path})`));
  return `${items.join('; ')} (the emulators run on Java: Debian package ${java.debianPackage})`;
}

function listing(words) {
  return words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

function onPath(command, env) {
  for (const dir of (env.PATH || '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** Package names among `packages` that apt has an installation candidate for. */
function aptCandidates(packages, env) {
  const policy = spawnSync('apt-cache', ['policy', ...packages], { env, encoding: 'utf8' });
  const found = new Set();
  let current;
  for (const line of (policy.stdout || '').split('\n')) {
    const name = /^(\S+):$/.exec(line);
    if (name) current = name[1];
    const candidate = /^\s+Candidate:\s+(\S+)/.exec(line);
    if (candidate && current !== undefined && candidate[1] !== '(none)') found.add(current);
  }
  return found;
}

function tail(text, lines = 20) {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** What a person without apt-get installs instead, as one clause. */
function withoutApt(missing) {
  const parts = [];
  const components = missing.filter((m) => m.sdkComponent).map((m) => m.sdkComponent);
  if (components.length > 0)
    parts.push(
      `the Google Cloud CLI (${GOOGLE_CLOUD_CLI}) with \`gcloud components install ${components.join(' ')}\` ` +
        `(and GOOGLE_CLOUD_SDK_ROOT set to it unless it is ${DEFAULT_SDK_ROOT})`,
    );
  if (missing.some((m) => m.id === 'java')) parts.push('a Java runtime (17 or later)');
  return listing(parts);
}

function fromGoogle(packages) {
  return packages.some((p) => p.startsWith('google-cloud-cli-'));
}

/**
 * Installs the missing system packages where it can; where it cannot, returns the one sentence
 * a person needs. `again` is the command to run afterwards (`npm test`, `npm run demo`);
 * `packagedSdkRoot` is where the Debian packages put the SDK.
 */
function ensureSystemPackages({ env = process.env, isRoot = process.getuid?.() === 0, packagedSdkRoot = DEFAULT_SDK_ROOT, again, log }) {
  const missing = missingRequirements(env);
  if (missing.length === 0) {
    log.found('setup: Firestore and Pub/Sub emulators and Java: found');
    return { ok: true };
  }
  const labels = listing(missing.map((m) => m.label));
  const packages = missing.map((m) => m.debianPackage);
  const verb = missing.length === 1 ? 'is' : 'are';
  if (!onPath('apt-get', env)) {
    return {
      ok: false,
      problem: `setup: ${labels} ${verb} missing and there is no apt-get here: install ${withoutApt(missing)}, then run ${again} again.`,
    };
  }
  const sdkRoot = env.GOOGLE_CLOUD_SDK_ROOT || DEFAULT_SDK_ROOT;
  const emulators = missing.filter((m) => m.sdkComponent);
  if (sdkRoot !== packagedSdkRoot && emulators.length > 0) {
    // apt-get would install them where nothing looks.
    return {
      ok: false,
      problem: `setup: GOOGLE_CLOUD_SDK_ROOT names ${sdkRoot}, which lacks ${listing(emulators.map((m) => m.label))}: run \`gcloud components install ${emulators.map((m) => m.sdkComponent).join(' ')}\` with that SDK, or unset GOOGLE_CLOUD_SDK_ROOT so that ${again} installs the Debian packages into ${packagedSdkRoot}, then run ${again} again.`,
    };
  }
  // sudo resets the environment: the variable that keeps apt-get from asking questions goes on its command line.
  const sudo = isRoot
    ? []
    : spawnSync('sudo', ['-n', 'true'], { env, stdio: 'ignore' }).status === 0
      ? ['sudo', '-n', 'DEBIAN_FRONTEND=noninteractive']
      : undefined;
  if (sudo === undefined) {
    const source = fromGoogle(packages) ? ` (the emulators come from the Google Cloud CLI apt repository: ${GOOGLE_CLOUD_CLI_APT})` : '';
    return {
      ok: false,
      problem: `setup: ${labels} ${verb} missing and installing needs root: run \`sudo apt-get install ${packages.join(' ')}\`${source}, then ${again} again.`,
    };
  }
  const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args) => {
    const argv = [...sudo, ...args];
    return { command: argv.join(' '), ...spawnSync(argv[0], argv.slice(1), { env: aptEnv, encoding: 'utf8' }) };
  };
  const started = Date.now();
  log.act(`setup: installing ${labels} with apt-get (${packages.join(' ')})…`);
  // The package lists of a fresh machine are often empty or stale: read them first. A source
  // that cannot be read is reported; the others may still hold the packages.
  const update = run(['apt-get', 'update', '-qq']);
  if (update.status !== 0) log.act(failure(update, 'trying with the package lists as they are'));
  const candidates = aptCandidates(packages, aptEnv);
  const unknown = packages.filter((p) => !candidates.has(p));
  if (unknown.length > 0) {
    const how = fromGoogle(unknown)
      ? `add the Google Cloud CLI apt repository (${GOOGLE_CLOUD_CLI_APT}) and run ${again} again, which installs them`
      : `install a Java runtime (17 or later) with this system's package manager, then run ${again} again`;
    return { ok: false, problem: `setup: apt-get finds no ${listing(unknown)} in this machine's package sources: ${how}.` };
  }
  const install = run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...packages]);
  if (install.status !== 0) {
    return { ok: false, problem: failure(install, `fix that and run ${again} again`) };
  }
  const still = missingRequirements(env);
  if (still.length > 0) {
    const where = still.map((m) => (m.path ? `${m.label} is not at ${m.path}` : `${m.label} does not run (\`java -version\` on PATH)`));
    return {
      ok: false,
      problem: `setup: apt-get installed ${packages.join(' ')}, yet ${listing(where)}: check PATH, then run ${again} again.`,
    };
  }
  log.act(`setup: ${labels}: installed (${seconds(started)})`);
  return { ok: true };
}

/** Its output's last lines, then one sentence: what failed and what comes next. */
function failure(result, next) {
  const output = tail(`${result.stdout || ''}${result.stderr || ''}`);
  const why = result.error ? result.error.message : `exit ${result.status}`;
  return `${output ? `${output}\n` : ''}setup: \`${result.command}\` failed (${why}), its output is above: ${next}.`;
}

module.exports = { DEFAULT_SDK_ROOT, GOOGLE_CLOUD_CLI_APT, emulatorPaths, missingRequirements, describeMissing, ensureSystemPackages };
