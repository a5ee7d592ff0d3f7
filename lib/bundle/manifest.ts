/**
 * Version of `@google-cloud/functions-framework` the source zip declares. The Cloud Functions
 * build installs it; a test keeps it equal to the version the project is tested against.
 */
export const FUNCTIONS_FRAMEWORK_VERSION = '5.0.5';

/** Oldest Node.js major the bundle is compiled for (the oldest runtime the construct accepts). */
export const MIN_NODE_MAJOR = 22;

/** One file stored in the source zip. */
interface FunctionBundleFile {
  /** Path inside the zip. */
  readonly name: string;
  readonly bytes: number;
  /** SHA-256 of the file's contents, hex. */
  readonly sha256: string;
}

/** What `npm run build:function` records next to the zip. */
export interface FunctionBundleManifest {
  /** File name of the zip inside `dist/bundle/`. */
  readonly zipFile: string;
  /** SHA-256 of the zip, hex: names the storage object, so a new handler is a new object. */
  readonly zipSha256: string;
  readonly zipBytes: number;
  /** Size of the bundled `index.js`. */
  readonly bundleBytes: number;
  /**
   * Every file in the zip, in stored order: what {@link zipSha256} covers (the code, the
   * manifest and lockfile the Cloud Functions build installs from, and its npm settings).
   */
  readonly files: readonly FunctionBundleFile[];
  /** CloudEvent function the bundle registers. */
  readonly entryPoint: string;
  /** {@link sourcesHash} of the inputs the bundle was built from. */
  readonly sourcesHash: string;
}
