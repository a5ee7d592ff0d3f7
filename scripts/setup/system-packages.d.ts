import type { SetupOptions, SetupResult } from './types';

/** Where the Google Cloud CLI's Debian packages install the SDK, unless GOOGLE_CLOUD_SDK_ROOT says otherwise. */
export declare const DEFAULT_SDK_ROOT: string;

/** Google's instructions for adding the Google Cloud CLI apt repository, which ships the emulator packages. */
export declare const GOOGLE_CLOUD_CLI_APT: string;

/** The launchers of the Firestore and Pub/Sub emulators in the SDK that `env` names. */
export declare function emulatorPaths(env?: NodeJS.ProcessEnv): { readonly firestore: string; readonly pubsub: string };

/** A system package the emulators need and this machine lacks. */
export interface MissingRequirement {
  readonly id: 'firestore' | 'pubsub' | 'java';
  /** As a sentence names it: `the Firestore emulator`, `Java`. */
  readonly label: string;
  /** The Debian package that provides it. */
  readonly debianPackage: string;
  /** The Google Cloud CLI component that provides it, for installs without apt. */
  readonly sdkComponent?: string;
  /** Where it was looked for (the emulators). */
  readonly path?: string;
}

/** What the emulator tests and the demo need that is not here: the emulators, or a `java` that runs. */
export declare function missingRequirements(env?: NodeJS.ProcessEnv): MissingRequirement[];

/** The missing requirements with their Debian packages and paths, as one clause. */
export declare function describeMissing(missing: readonly MissingRequirement[]): string;

/**
 * Installs the missing requirements with apt-get when this process is root (`isRoot`, by default
 * its uid) or may use `sudo -n`; else, or when apt-get has no such packages, or when
 * GOOGLE_CLOUD_SDK_ROOT names another SDK than the one the packages install
 * (`packagedSdkRoot`, by default {@link DEFAULT_SDK_ROOT}), the result names what to install and how.
 */
export declare function ensureSystemPackages(
  options: SetupOptions & { readonly isRoot?: boolean; readonly packagedSdkRoot?: string },
): SetupResult;
