import type { SetupOptions, SetupResult } from './types';

/** What stands in for `process` when deciding whether the runtime's Node binary is needed. */
export interface RuntimeNodeProbes {
  /** The running Node's version, without the `v`. */
  readonly nodeVersion?: string;
  readonly platform?: string;
  readonly arch?: string;
}

/** Where tools/runtime-node stands, and the Node version it pins. */
export interface RuntimeNodeState {
  /**
   * `current`: installed, the pinned version; `missing`: to install; `this-node`: the running Node
   * is of that major already; `unsupported`: no such binary is packaged for this platform;
   * `none`: no tools/runtime-node in `root`.
   */
  readonly state: 'current' | 'missing' | 'this-node' | 'unsupported' | 'none';
  readonly dir: string;
  readonly major?: number;
  readonly version?: string;
}

/** Where tools/runtime-node's package puts the Node binary in `root`, installed or not. */
export declare function runtimeNodeBinary(root: string): string;

/** Whether a Node binary is packaged for the platform and architecture (by default this process's). */
export declare function runtimeNodePackaged(probes?: Pick<RuntimeNodeProbes, 'platform' | 'arch'>): boolean;

/** Where `root`'s tools/runtime-node stands. */
export declare function runtimeNodeState(options: RuntimeNodeProbes & { readonly root: string }): RuntimeNodeState;

/**
 * Installs tools/runtime-node from its lockfile when the binary is needed and missing. Where none
 * is packaged the result is not ok, with `unsupported` set.
 */
export declare function ensureRuntimeNode(
  options: SetupOptions & RuntimeNodeProbes & { readonly root: string },
): SetupResult | { readonly ok: false; readonly unsupported: true; readonly problem: string };
