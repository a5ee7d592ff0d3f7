// `npm run setup:runtime-node`, and the Jest global setup: installs the Node.js binary of the
// function runtime's major into tools/runtime-node (docs/adr/0004) when it is missing.
// `npm test` and `npm run demo` install it too, with the rest of what they need (scripts/setup).
const { join } = require('node:path');
const { ensureRuntimeNode } = require('./setup/runtime-node');

if (process.argv.includes('--help')) {
  process.stdout.write(
    'usage: node scripts/install-runtime-node.js\n\nInstalls tools/runtime-node (the Node.js binary of the function runtime) from its lockfile, when it is missing.\n',
  );
  process.exit(0);
}
const say = (line) => process.stderr.write(`${line}\n`);
const result = ensureRuntimeNode({ root: join(__dirname, '..'), again: 'the tests that need it', log: { found: () => {}, act: say } });
// Where no binary is packaged, only the tests that run the shipped bundle need one: they say so.
if (!result.ok) say(result.problem);
process.exitCode = result.ok || result.unsupported ? 0 : 1;
