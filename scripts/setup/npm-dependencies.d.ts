import type { SetupOptions, SetupResult } from './types';

/** How to run npm: the npm running this process's script (`npm_execpath`), else `npm` from PATH. */
export declare function npmCommand(env?: NodeJS.ProcessEnv): [command: string, args: string[]];

/** The time since `started` (a `Date.now()`), as setup prints it: `12.3s`. */
export declare function seconds(started: number): string;

/**
 * Runs `npm ci` with `args` before its usual options, in `cwd`, its output shown: how long it
 * took, or the sentence to print naming `where` (` in tools/runtime-node`) and `again`.
 */
export declare function npmCi(options: {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly args?: readonly string[];
  readonly where?: string;
  readonly again: string;
}): { readonly ok: true; readonly took: string } | { readonly ok: false; readonly problem: string };

/**
 * Whether `root`'s node_modules is the tree its package-lock.json asks for: `missing`, `stale`
 * (older than package-lock.json and different, or without npm's record of it) or `current`.
 */
export declare function npmDependenciesState(root: string): 'missing' | 'stale' | 'current';

/** Runs `npm ci` in `root` unless its dependencies are current. */
export declare function ensureNpmDependencies(options: SetupOptions & { readonly root: string }): SetupResult;
