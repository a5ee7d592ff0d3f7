import { Fn, Token } from 'cdktf';
import { MANAGED_BY_LABEL, PACKAGE_NAME } from '../function/contract';

/** Label the construct puts on every labelled resource (and the function on every evidence snapshot). */
export const MANAGED_BY = MANAGED_BY_LABEL;
/** Value of {@link MANAGED_BY}: the package's name. */
export const MANAGED_BY_VALUE = PACKAGE_NAME;
/**
 * Label the construct puts on every labelled resource, valued with the responder's
 * `namePrefix`: it tells the resources of two responders in one project apart.
 */
export const RESPONDER_LABEL = 'responder';

/**
 * The labels of a responder's resources: the user's, then {@link MANAGED_BY} and
 * {@link RESPONDER_LABEL}. A map given as a Terraform value (a variable) is merged by
 * Terraform, the construct's keys last, so they win.
 */
export function responderLabels(user: Record<string, string>, namePrefix: string): Record<string, string> {
  const own = { [MANAGED_BY]: MANAGED_BY_VALUE, [RESPONDER_LABEL]: namePrefix };
  return Token.isUnresolved(user) ? Token.asStringMap(Fn.merge([user, own])) : { ...user, ...own };
}
