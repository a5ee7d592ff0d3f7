/**
 * Name under which the CloudEvent function registers; the construct puts the same constant
 * into the function's `entry_point`, so the plan and the code cannot drift apart.
 */
export const ENTRY_POINT = 'respondToIntegrityEvent';
