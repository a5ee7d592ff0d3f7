import type { Logger, Severity } from './ports';

const RANK: Record<Severity, number> = { DEBUG: 0, INFO: 1, NOTICE: 2, WARNING: 3, ERROR: 4, CRITICAL: 5 };

/** Lowest severity written; parsed from `LOG_LEVEL`. */
export type LogLevel = 'debug' | 'info' | 'notice' | 'warning' | 'error';

/** Levels accepted in `LOG_LEVEL`. */
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'notice', 'warning', 'error'];

/**
 * Writes one JSON object per line; Cloud Logging reads `severity` and `message` from it and
 * keeps the other fields as `jsonPayload`.
 */
export function jsonLogger(level: LogLevel = 'debug', write: (line: string) => void = (l) => process.stdout.write(l)): Logger {
  const min = RANK[level.toUpperCase() as Severity];
  return {
    log(severity, message, fields = {}) {
      if (RANK[severity] < min) return;
      write(`${JSON.stringify({ severity, message, ...fields })}\n`);
    },
  };
}
