// Installs the Node.js binary of the function runtime's major into tools/runtime-node (see
// docs/adr/0004). Runs as the root postinstall; a no-op where the package is not present
// (installed as a dependency) or the platform has no such binary.
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const dir = join(__dirname, '..', 'tools', 'runtime-node');
if (!existsSync(join(dir, 'package-lock.json'))) process.exit(0);
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.warn(`runtime-node: no packaged Node binary for ${process.platform}-${process.arch}; tests that need the runtime's major will ask for one`);
  process.exit(0);
}
const npm = process.env.npm_execpath;
const [cmd, args] = npm ? [process.execPath, [npm]] : ['npm', []];
execFileSync(cmd, [...args, 'ci', '--prefix', dir, '--no-audit', '--no-fund', '--loglevel=error'], { stdio: 'inherit' });
