/**
 * JSON from clients: UTF-8 only (I-JSON, RFC 7493), nesting bounded, and every object built
 * with a null prototype so that keys such as `__proto__` or `constructor` are plain data
 * and lookups never reach Object.prototype.
 *
 * @module
 */

/** Why a text is refused. */
export type JsonRefusal = "notJSON" | "tooDeep";

/** A JSON object as parsed here: no prototype. */
export type JsonObject = { [key: string]: unknown };

/**
 * Parses `bytes`, or returns why not. Nesting deeper than `maxDepth` is refused before
 * parsing, so a hostile document cannot exhaust the stack.
 */
export function parseJson(
  bytes: Uint8Array,
  maxDepth: number,
): { ok: true; value: unknown } | { ok: false; why: JsonRefusal } {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return { ok: false, why: "notJSON" };
  }
  if (depthOf(text) > maxDepth) return { ok: false, why: "tooDeep" };
  try {
    return { ok: true, value: JSON.parse(text, nullPrototype) };
  } catch {
    return { ok: false, why: "notJSON" };
  }
}

function nullPrototype(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  // JSON.parse made "__proto__" an own data property; assigning it onto a prototype-less
  // object keeps it one (there is no __proto__ setter to call).
  return Object.assign(Object.create(null), value);
}

/** The deepest nesting of arrays and objects in a JSON text (strings skipped). */
function depthOf(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return max;
}

/** True for a parsed JSON object (not an array, not null). */
export function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** A fresh prototype-less object with the given entries (for responses built from data). */
export function dataObject(entries: Iterable<[string, unknown]> = []): JsonObject {
  const o: JsonObject = Object.create(null);
  for (const [k, v] of entries) o[k] = v;
  return o;
}
