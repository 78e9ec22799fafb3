/**
 * Result references (RFC 8620 §3.7): an argument `#name` whose value is
 * `{ resultOf, name, path }` takes its value from an earlier response of the same request,
 * at a JSON Pointer (RFC 6901) extended with `*` (map over an array, flattening arrays).
 *
 * References can only point at responses already made, so they cannot loop; the work one
 * reference can cause is still bounded: the path's length, and the number of values a
 * `*` expansion may produce.
 *
 * @module
 */
import { invalidArguments, MethodError } from "./errors.ts";
import { isObject, type JsonObject } from "./json.ts";

/** A response already made: [name, arguments, callId]. */
export type Invocation = [string, JsonObject, string];

const MAX_PATH_LENGTH = 1024;
const MAX_PATH_TOKENS = 32;
/** Most values a reference may expand to (ids fed to the next call). */
const MAX_VALUES = 100_000;

const bad = (why: string) => new MethodError("invalidResultReference", why);

/**
 * Replaces every `#name` argument by the value it refers to. `foo` and `#foo` together are
 * invalidArguments (§3.7); any failure to resolve is invalidResultReference.
 */
export function resolveReferences(args: JsonObject, responses: readonly Invocation[]): JsonObject {
  const out: JsonObject = Object.create(null);
  for (const [key, value] of Object.entries(args)) {
    if (!key.startsWith("#")) {
      out[key] = value;
      continue;
    }
    const name = key.slice(1);
    if (Object.hasOwn(args, name)) {
      throw invalidArguments(`both ${name} and #${name} given`);
    }
    if (
      !isObject(value) || typeof value.resultOf !== "string" || typeof value.name !== "string" ||
      typeof value.path !== "string"
    ) {
      throw bad(`#${name} is not a ResultReference`);
    }
    const source = responses.find((r) => r[2] === value.resultOf);
    if (!source) throw bad(`no response with call id ${value.resultOf.slice(0, 100)}`);
    if (source[0] !== value.name) throw bad(`call ${source[2]} answered ${source[0]}`);
    out[name] = evaluate(source[1], value.path);
  }
  return out;
}

/** RFC 8620 §3.7: JSON Pointer with the `*` array wildcard. */
export function evaluate(root: unknown, path: string): unknown {
  if (path.length > MAX_PATH_LENGTH) throw bad("path too long");
  if (path === "") return root;
  if (!path.startsWith("/")) throw bad("path must start with /");
  const tokens = path.slice(1).split("/").map((t) => t.replaceAll("~1", "/").replaceAll("~0", "~"));
  if (tokens.length > MAX_PATH_TOKENS) throw bad("path too deep");
  let count = 0;
  const walk = (value: unknown, i: number): unknown => {
    if (i === tokens.length) return value;
    const token = tokens[i];
    if (Array.isArray(value)) {
      if (token === "*") {
        const out: unknown[] = [];
        for (const item of value) {
          const r = walk(item, i + 1);
          // "If the result of applying the rest of the pointer tokens to each item was
          // itself an array, the contents of this array are added to the output."
          count += Array.isArray(r) ? r.length : 1;
          if (count > MAX_VALUES) throw bad("reference expands to too many values");
          // Counted first, and copied by a loop: a spread of some 120,000 items throws.
          if (Array.isArray(r)) { for (const x of r) out.push(x); }
          else out.push(r);
        }
        return out;
      }
      if (!/^(0|[1-9][0-9]{0,8})$/.test(token) || Number(token) >= value.length) {
        throw bad(`no element ${token.slice(0, 20)}`);
      }
      return walk(value[Number(token)], i + 1);
    }
    if (isObject(value) && Object.hasOwn(value, token)) return walk(value[token], i + 1);
    throw bad(`path ${path.slice(0, 100)} not found`);
  };
  return walk(root, 0);
}
