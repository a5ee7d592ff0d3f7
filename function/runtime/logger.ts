import type { LogLevel } from '../contract';
import type { Logger, Severity } from '../core/ports';

const RANK: Record<Severity, number> = { DEBUG: 0, INFO: 1, NOTICE: 2, WARNING: 3, ERROR: 4, CRITICAL: 5 };

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
