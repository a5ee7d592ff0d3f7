// The arguments of `npm run bench`. Some take a value, which scripts/usage.ts's flag-only
// handling does not cover; `--help` and a wrong argument behave as every project script's do.

/** The path the report is written to by `--write-report`, relative to the repository. */
export const REPORT_PATH = 'docs/figures.md';

/** What one run of the bench does. */
export interface BenchOptions {
  /** Only the storm section. */
  readonly stormOnly: boolean;
  /** Only the storm's budget section: ours with the action budget off, on and not reached, on and reached. */
  readonly budgetOnly: boolean;
  /** The short storm plan, for iterating: its figures are not to be quoted. */
  readonly quick: boolean;
  /** Where to write the Markdown report, relative to the repository's root (where npm runs scripts); none: stdout only. */
  readonly reportFile?: string;
  /**
   * Jest's own time of a whole `npx jest` run, in seconds, as its `Time:` line printed it. The bench
   * does not run the suite: it reports this figure as given, marked so.
   */
  readonly jestSeconds?: number;
  /** The arguments as given, for the report's header. */
  readonly argv: readonly string[];
}

/** An argument the bench does not take, or a value it cannot use: say which and print the usage. */
export class BenchUsageError extends Error {}

/**
 * Reads the bench's arguments. `--write-report` writes {@link REPORT_PATH}, which holds the
 * figures the documentation links to, so only a full run may write it; `--report-file <path>`
 * writes anywhere, whatever the run.
 */
export function parseBenchArguments(argv: readonly string[]): BenchOptions {
  let stormOnly = false;
  let budgetOnly = false;
  let quick = false;
  let writeReport = false;
  let reportFile: string | undefined;
  let jestSeconds: number | undefined;
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new BenchUsageError(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    switch (arg) {
      case '--storm-only':
        stormOnly = true;
        break;
      case '--budget-only':
        budgetOnly = true;
        break;
      case '--quick':
        quick = true;
        break;
      case '--write-report':
        writeReport = true;
        break;
      case '--report-file':
        reportFile = value(i++, arg);
        break;
      case '--jest-seconds': {
        const text = value(i++, arg);
        const seconds = Number(text);
        if (!/^\d+(\.\d+)?$/.test(text) || seconds <= 0) {
          throw new BenchUsageError(`--jest-seconds takes the seconds of Jest's "Time:" line, e.g. 128.4, got '${text}'`);
        }
        jestSeconds = seconds;
        break;
      }
      default:
        throw new BenchUsageError(`unknown argument '${arg}'`);
    }
  }
  if (writeReport && reportFile !== undefined) {
    throw new BenchUsageError(`--write-report writes ${REPORT_PATH}; --report-file names another file: give one of them`);
  }
  if (writeReport && (quick || stormOnly || budgetOnly)) {
    throw new BenchUsageError(
      `--write-report writes ${REPORT_PATH}, which the docs quote, and takes a full run only; ` +
        `a ${quick ? '--quick' : stormOnly ? '--storm-only' : '--budget-only'} run writes its report with --report-file <path>`,
    );
  }
  if (stormOnly && budgetOnly) throw new BenchUsageError('--storm-only and --budget-only: give one of them');
  return {
    stormOnly,
    budgetOnly,
    quick,
    ...(writeReport ? { reportFile: REPORT_PATH } : reportFile !== undefined ? { reportFile } : {}),
    ...(jestSeconds !== undefined ? { jestSeconds } : {}),
    argv,
  };
}
