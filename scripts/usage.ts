import { basename } from 'node:path';

/**
 * What every project script does before any work: `--help` prints the usage (exit 0); an
 * argument it does not take prints the usage on stderr (exit 2). Returns the arguments.
 */
export function handleArguments(usage: string, accepted: readonly string[] = []): string[] {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(usage);
    process.exit(0);
  }
  const unknown = args.find((a) => !accepted.includes(a));
  if (unknown !== undefined) {
    process.stderr.write(`${basename(process.argv[1] ?? 'script', '.ts')}: unknown argument '${unknown}'\n\n${usage}`);
    process.exit(2);
  }
  return args;
}
