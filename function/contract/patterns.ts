/*
 * The shapes of identifiers the construct, the function and the tools check, as regular
 * expressions declared once.
 */

/** A Google Cloud project id, optionally domain-scoped (`example.com:project`), as regular-expression text. */
export const PROJECT_ID_TEXT = '(?:[a-z][a-z0-9.-]{0,61}[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]';

/** Google Cloud project ids, optionally domain-scoped (`example.com:project`). */
export const PROJECT_ID = new RegExp(`^${PROJECT_ID_TEXT}$`);

/** A Compute Engine zone, like `us-central1-a`. */
export const ZONE = /^[a-z]+-[a-z]+[0-9]{1,2}-[a-z]$/;

/** A Compute Engine instance name (RFC 1035 label). */
export const INSTANCE_NAME = /^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/;

/** A Compute instance id: a uint64 in decimal, without leading zeros (one id, one spelling, as for boot counters). */
export const INSTANCE_ID = /^(?:0|[1-9][0-9]{0,19})$/;

/** The largest unsigned 64-bit integer: the bound of instance ids and boot counters. */
export const UINT64_MAX = 18446744073709551615n;

/**
 * `key=value` of a GCE label: the key a lowercase letter then up to 62 lowercase letters,
 * digits, `_` or `-`; the value up to 63 of those.
 */
export const EXEMPT_LABEL = /^[a-z][a-z0-9_-]{0,62}=[a-z0-9_-]{0,63}$/;

/** Firestore database ids: `(default)` or 4–63 lowercase letters, digits and hyphens. */
export const DATABASE_ID = /^(?:\(default\)|[a-z][a-z0-9-]{2,61}[a-z0-9])$/;

/**
 * Top-level collection ids, in parts that Terraform's `regex()` (RE2: no lookahead, at most 1000
 * repetitions) can test one by one: the characters (no slash), the length, and the ids Firestore
 * reserves (`__…__`, `.` and `..`).
 */
export const COLLECTION_ID_PARTS = { characters: /^[^/]+$/, maxLength: 1500, reserved: [/^__.*__$/, /^\.\.?$/] } as const;

/** Top-level collection ids: no slash, not `.` or `..`, not `__…__` (the parts above, in one pattern). */
export const COLLECTION_ID = new RegExp(
  `^${COLLECTION_ID_PARTS.reserved.map((r) => `(?!${r.source.slice(1)})`).join('')}${COLLECTION_ID_PARTS.characters.source.slice(1, -2)}{1,${COLLECTION_ID_PARTS.maxLength}}$`,
);
