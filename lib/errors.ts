/**
 * Thrown for an invalid prop: names the construct (its path in the app), the prop, the value
 * received and what is allowed.
 */
export class IntegrityResponderPropsError extends Error {
  constructor(
    /** What is wrong, without the construct's path. */
    readonly detail: string,
    /** Path of the construct in the app, e.g. `security/IntegrityResponder`. */
    readonly constructPath?: string,
  ) {
    super(`IntegrityResponder${constructPath !== undefined ? ` at '${constructPath}'` : ''}: ${detail}`);
    this.name = 'IntegrityResponderPropsError';
  }
}

/** A value as an error message quotes it. */
export function show(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}
