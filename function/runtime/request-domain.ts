/**
 * Leaves the `domain` the Functions Framework runs each request in, so that the event's own
 * asynchronous work is made outside it (ADR 0017).
 *
 * The framework wraps every request in `domain.create()` … `d.run()` (`function_wrappers.js` of
 * @google-cloud/functions-framework 5). Inside a domain, Node binds every promise and callback
 * made to it and enters and leaves it around each of them (lib/domain.js, its async hook): under
 * a storm of reports that was a fifth of the function's CPU per event. Nothing here relies on
 * the domain: the handler is promise-based and its failures reach the framework as the rejection
 * of the function's promise, as before. What changes is a callback that throws outside any
 * promise: instead of a 500 for its request, the framework's `uncaughtException` handler ends the
 * instance; either way Pub/Sub redelivers what was not acknowledged.
 *
 * `domain.exit()` pops the active domain off Node's domain stack and changes nothing else
 * (nodejs.org/api/domain.html#domainexit); outside a domain this does nothing.
 */
export function leaveRequestDomain(): void {
  (process as { domain?: { exit(): void } | null }).domain?.exit();
}
