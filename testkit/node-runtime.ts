import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { packageRoot } from '../lib/bundle/sources';
import { runtimeNodeBinary, runtimeNodePackaged } from '../scripts/setup/runtime-node';

/**
 * Path of a Node.js binary of the given major: the one running the tests when it matches,
 * else the binary in tools/runtime-node, which `npm test`, `npm run demo` and
 * `npm run setup:runtime-node` install (scripts/setup/runtime-node.js).
 */
export function nodeBinary(major: number): string {
  if (Number(process.versions.node.split('.')[0]) === major) return process.execPath;
  const candidate = runtimeNodeBinary(packageRoot(__dirname));
  if (!existsSync(candidate)) {
    throw new Error(
      runtimeNodePackaged()
        ? `no Node.js ${major} binary: this process runs ${process.version} and ${candidate} is missing: run \`npm run setup:runtime-node\` (npm test and npm run demo install it when it is missing)`
        : `no Node.js ${major} binary: this process runs ${process.version} and none is packaged for ${process.platform}-${process.arch}: run this with Node.js ${major}`,
    );
  }
  const version = execFileSync(candidate, ['--version'], { encoding: 'utf8' }).trim();
  if (version.split('.')[0] !== `v${major}`) {
    throw new Error(`the plan's runtime needs Node.js ${major}, but ${candidate} is ${version}: update tools/runtime-node/package.json`);
  }
  return candidate;
}

/** Node major of a Cloud Run functions runtime id such as `nodejs24`. */
export function runtimeMajor(runtime: string): number {
  const m = /^nodejs(\d+)$/.exec(runtime);
  if (!m) throw new Error(`not a Node.js runtime: ${runtime}`);
  return Number(m[1]);
}
