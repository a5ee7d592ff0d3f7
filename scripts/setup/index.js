// `npm test` and `npm run demo` run this first (their `pre` scripts): it installs what they need
// when it is missing and says what it did; where it cannot, it names what to install and exits 1.
// Plain Node and built-ins only: it runs before node_modules exists (docs/adr/0026).
'use strict';
const { basename, join } = require('node:path');
const { ensureSystemPackages } = require('./system-packages');
const { ensureNpmDependencies } = require('./npm-dependencies');
const { ensureRuntimeNode } = require('./runtime-node');

const USAGE = `usage: node scripts/setup <test|demo|pack>

Installs what \`npm test\` or \`npm run demo\` needs, when it is missing: the Firestore and Pub/Sub
emulators and Java (apt-get, as root or through sudo without a password), the npm dependencies
(npm ci, when node_modules is missing or older than package-lock.json) and the Node.js binary of
the function runtime (tools/runtime-node). Prints nothing when everything is there. Where it
cannot install something, it says what to install and exits 1. \`npm pack\` needs only the npm
dependencies.
`;

const AGAIN = { test: 'npm test', demo: 'npm run demo', pack: 'npm pack' };

/** What each command needs, the system packages first: when they cannot be installed, nothing else is worth waiting for. */
const STEPS = {
  test: [ensureSystemPackages, ensureNpmDependencies, ensureRuntimeNode],
  demo: [ensureSystemPackages, ensureNpmDependencies, ensureRuntimeNode],
  pack: [ensureNpmDependencies],
};

/**
 * Progress lines: what was found is printed only once something had to be done, so a run with
 * nothing to do prints nothing.
 */
function reporter(write) {
  const pending = [];
  let acting = false;
  return {
    found: (line) => (acting ? write(line) : pending.push(line)),
    act: (line) => {
      if (!acting) {
        acting = true;
        pending.splice(0).forEach(write);
      }
      write(line);
    },
  };
}

function main(argv) {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [mode, ...rest] = argv;
  if (!(mode in AGAIN) || rest.length > 0) {
    process.stderr.write(
      `${basename(__dirname)}: expected one argument, test, demo or pack${mode === undefined ? '' : `, got '${argv.join(' ')}'`}\n\n${USAGE}`,
    );
    return 2;
  }
  const root = join(__dirname, '..', '..');
  const common = { root, env: process.env, again: AGAIN[mode], log: reporter((line) => process.stderr.write(`${line}\n`)) };
  for (const step of STEPS[mode]) {
    const result = step(common);
    if (!result.ok) {
      process.stderr.write(`${result.problem}\n`);
      return 1;
    }
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
