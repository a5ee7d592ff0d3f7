// Names shared by the storm benchmark and its port of the tutorial's function. Kept apart from
// tutorial-port.ts so that the bench can read them without loading that module's clients.

/** Entry points the port registers: the tutorial as written, and with its clients kept per process. */
export const TUTORIAL_TARGETS = {
  /** Clients created (and discarded) per event, as the tutorial's Python does. */
  perEvent: 'relearnIfKnownGood',
  /** The same algorithm with one Firestore and one Compute client per process. */
  reusedClients: 'relearnIfKnownGoodReusedClients',
} as const;

/** The collection the tutorial keeps its known-good measurements in. */
export const TUTORIAL_COLLECTION = 'known_good_measurements';
