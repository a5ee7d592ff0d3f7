// The project's npm dependencies: installed with `npm ci` when node_modules is missing or
// older than package-lock.json. Plain Node and built-ins only: it runs before node_modules
// exists (docs/adr/0026).
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync, readFileSync, statSync } = require('node:fs');
const { basename, join } = require('node:path');

/**
 * How to run npm: the npm running this script when there is one (an npm lifecycle script), else
 * `npm` from PATH. Another package manager's execpath is not npm.
 */
function npmCommand(env = process.env) {
  const execpath = env.npm_execpath;
  return execpath && /^npm(-cli\.js)?$/.test(basename(execpath)) ? [process.execPath, [execpath]] : ['npm', []];
}

/** The time since `started` (a `Date.now()`), as setup prints it: `12.3s`. */
function seconds(started) {
  return `${((Date.now() - started) / 1000).toFixed(1)}s`;
}

/**
 * Runs `npm ci` with `args` before its usual options, in `cwd`, its output shown. Returns how
 * long it took, or the sentence to print: `where` names the install in it (` in tools/runtime-node`),
 * `again` is the command to run afterwards.
 */
function npmCi({ env = process.env, cwd, args = [], where = '', again }) {
  const started = Date.now();
  const [cmd, npmArgs] = npmCommand(env);
  const ci = spawnSync(cmd, [...npmArgs, 'ci', ...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, env, stdio: 'inherit' });
  if (ci.status !== 0) {
    const why = ci.error ? ci.error.message : ci.signal ? `killed by ${ci.signal}` : `exit ${ci.status}`;
    return { ok: false, problem: `setup: npm ci${where} failed (${why}), its output is above: fix that and run ${again} again.` };
  }
  return { ok: true, took: seconds(started) };
}

function packages(file) {
  return JSON.parse(readFileSync(file, 'utf8')).packages ?? {};
}

/**
 * Whether the tree npm recorded in node_modules/.package-lock.json is the one package-lock.json
 * asks for: the same version at every path, nothing extra, nothing missing but optional
 * packages (those for other platforms are never installed).
 */
function sameTree(wanted, installed) {
  for (const [path, entry] of Object.entries(wanted)) {
    if (path === '') continue;
    const have = installed[path];
    if (have === undefined) {
      if (entry.optional) continue;
      return false;
    }
    if (have.version !== entry.version || Boolean(have.link) !== Boolean(entry.link)) return false;
  }
  return Object.keys(installed).every((path) => path in wanted);
}

/**
 * `missing` (no node_modules), `stale` (node_modules older than package-lock.json and not the
 * tree it asks for, or without npm's record of it) or `current`. The usual answer costs two
 * `stat`s; the lockfiles are read only when package-lock.json is the newer one.
 */
function npmDependenciesState(root) {
  if (!existsSync(join(root, 'node_modules'))) return 'missing';
  const lock = join(root, 'package-lock.json');
  const record = join(root, 'node_modules', '.package-lock.json');
  if (!existsSync(record)) return 'stale';
  if (statSync(record).mtimeMs >= statSync(lock).mtimeMs) return 'current';
  // A checkout or a merge rewrites package-lock.json without changing it as often as it changes it.
  return sameTree(packages(lock), packages(record)) ? 'current' : 'stale';
}

/** Runs `npm ci` in `root` when its dependencies are not current; on failure, the sentence to print. */
function ensureNpmDependencies({ root, env = process.env, again, log }) {
  const state = npmDependenciesState(root);
  if (state === 'current') {
    log.found('setup: npm dependencies: found');
    return { ok: true };
  }
  log.act(
    state === 'missing'
      ? 'setup: installing npm dependencies (npm ci)…'
      : 'setup: node_modules is older than package-lock.json: installing npm dependencies again (npm ci)…',
  );
  const ci = npmCi({ env, cwd: root, again });
  if (!ci.ok) return ci;
  log.act(`setup: npm dependencies: installed (${ci.took})`);
  return { ok: true };
}

module.exports = { npmCommand, npmCi, seconds, npmDependenciesState, ensureNpmDependencies };
