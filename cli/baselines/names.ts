/** What the baseline tool is called on the command line; its subcommands name it in messages. */
export const BASELINES_BIN = 'integrity-baselines';
