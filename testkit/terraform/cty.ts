import { decode, encode, ExtensionCodec } from '@msgpack/msgpack';

/*
 * Terraform values on the provider protocol's wire: msgpack, shaped by the schema's type. Objects
 * are maps, lists and sets arrays, null is nil, and a value not known until apply is a msgpack
 * extension of type 0 (Terraform 1.6 and later may send type 12, an unknown carrying refinements
 * such as "not null"; read here as plainly unknown). A `dynamic` attribute is a two-element array
 * of its type (JSON bytes) and its value, which decoding and encoding here carry through unchanged.
 */

/** A value Terraform knows only after apply. */
export const UNKNOWN: unique symbol = Symbol('unknown');

/** One Terraform value as the stand-in handles it. */
export type CtyValue = null | boolean | number | bigint | string | Uint8Array | typeof UNKNOWN | CtyValue[] | { [key: string]: CtyValue };

const PLAIN_UNKNOWN = 0;
const REFINED_UNKNOWN = 12;

const codec = new ExtensionCodec();
codec.register({
  type: PLAIN_UNKNOWN,
  // The payload of an unknown is irrelevant; Terraform writes one zero byte.
  encode: (value) => (value === UNKNOWN ? new Uint8Array([0]) : null),
  decode: () => UNKNOWN,
});
codec.register({ type: REFINED_UNKNOWN, encode: () => null, decode: () => UNKNOWN });

/** The value in a DynamicValue's msgpack bytes. */
export function decodeValue(bytes: Uint8Array | undefined): CtyValue {
  if (bytes === undefined || bytes.length === 0) return null;
  return decode(bytes, { extensionCodec: codec, useBigInt64: true }) as CtyValue;
}

/** The msgpack bytes of a value for a DynamicValue. */
export function encodeValue(value: CtyValue): Uint8Array {
  return encode(value, { extensionCodec: codec, useBigInt64: true, ignoreUndefined: false });
}

/** Whether a value is an object (a map or an object type), as opposed to a list, null or a primitive. */
export function isObject(value: CtyValue): value is { [key: string]: CtyValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}
