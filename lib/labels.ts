/** Label the construct puts on every labelled resource. */
export const MANAGED_BY = 'managed-by';
/** Value of {@link MANAGED_BY}. */
export const MANAGED_BY_VALUE = 'shielded-vm-integrity-responder';
