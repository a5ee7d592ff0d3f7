/**
 * gRPC status codes. google-gax gives them to the errors of both transports: a gRPC call's own
 * status, or the one the REST transport maps the HTTP answer onto (404 → NOT_FOUND, …).
 */
export const Code = {
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** The `code` an error of a Google client carries, if it carries one. */
export function errorCode(e: unknown): unknown {
  return typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
}
