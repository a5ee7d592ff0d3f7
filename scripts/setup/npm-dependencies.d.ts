import type { SetupOptions, SetupResult } from './types';

/** How to run npm: the npm running this process's script (`npm_execpath`), else `npm` from PATH. */
export declare function npmCommand(env?: NodeJS.ProcessEnv): [command: string, args: string[]];

/**
 * Whether `root`'s node_modules is the tree its package-lock.json asks for: `missing`, `stale`
 * (older than package-lock.json and different, or without npm's record of it) or `current`.
 */
export declare function npmDependenciesState(root: string): 'missing' | 'stale' | 'current';

/** Runs `npm ci` in `root` unless its dependencies are current. */
export declare function ensureNpmDependencies(options: SetupOptions & { readonly root: string }): SetupResult;
