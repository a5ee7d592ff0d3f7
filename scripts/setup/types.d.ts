/** Progress lines of a setup step (scripts/setup/index.js prints them). */
export interface SetupLog {
  /** Something that was already there: printed only once some step had work to do. */
  found(line: string): void;
  /** Something being done, or done: always printed. */
  act(line: string): void;
}

/** What a setup step ended with: done, or the sentence that tells a person what to do. */
export type SetupResult = { readonly ok: true } | { readonly ok: false; readonly problem: string };

/** What every setup step takes. */
export interface SetupOptions {
  /** The environment: PATH for the programs it runs, GOOGLE_CLOUD_SDK_ROOT, npm's variables. */
  readonly env?: NodeJS.ProcessEnv;
  /** The command to run once the problem is fixed, e.g. `npm test`. */
  readonly again: string;
  readonly log: SetupLog;
}
