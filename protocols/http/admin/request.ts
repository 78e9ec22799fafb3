/**
 * The admin API's request side: the CSRF rule, the bounded JSON body, typed field reads,
 * and how the shared admin errors become HTTP answers.
 *
 * Invariants:
 * - A state-changing request (anything but GET/HEAD) must say `Content-Type:
 *   application/json`: an HTML form cannot send that cross-site without a CORS preflight,
 *   which this API never grants; together with credentials only in the Authorization
 *   header (no cookies), no other site can make an admin's browser change anything.
 * - A body is read up to MAX_BODY bytes, parsed as UTF-8 JSON with bounded nesting into
 *   prototype-less objects (../jmap/json.ts), and must be an object.
 * - Error messages are those of core/admin (the CLI's words, without "denomail: ").
 *
 * @module
 */
import { UsageError } from "../../../core/admin/errors.ts";
import { StoreError } from "../../../storage/mod.ts";
import { readBody } from "../body.ts";
import { isJsonContentType } from "../jmap/api.ts";
import { isObject, type JsonObject, parseJson } from "../jmap/json.ts";

/** Largest request body (a user with a password is well under 1 KiB). */
export const MAX_BODY = 64 * 1024;

/** Deepest JSON nesting accepted (the bodies are flat objects, an array of targets at most). */
const MAX_DEPTH = 4;

/** A JSON error answer: `{"error": message, "type": kind}`. */
export function jsonError(status: number, type: string, message: string): Response {
  return Response.json({ error: message, type }, { status });
}

/** The body as an object, or the answer refusing it. GET/HEAD have none. */
export async function readJsonBody(
  req: Request,
): Promise<{ ok: true; body: JsonObject } | { ok: false; response: Response }> {
  if (req.method === "GET" || req.method === "HEAD") {
    return { ok: true, body: Object.create(null) };
  }
  if (!isJsonContentType(req.headers.get("content-type"))) {
    await req.body?.cancel().catch(() => {});
    return {
      ok: false,
      response: jsonError(415, "notJSON", "the request's Content-Type must be application/json"),
    };
  }
  const bytes = await readBody(req, MAX_BODY);
  if (bytes === null) {
    return {
      ok: false,
      response: jsonError(413, "tooLarge", `the request body is larger than ${MAX_BODY} bytes`),
    };
  }
  if (bytes.length === 0) return { ok: true, body: Object.create(null) };
  const parsed = parseJson(bytes, MAX_DEPTH);
  if (!parsed.ok || !isObject(parsed.value)) {
    return {
      ok: false,
      response: jsonError(400, "notJSON", "the request body must be a JSON object"),
    };
  }
  return { ok: true, body: parsed.value };
}

/** A string field (absent -> undefined; a number is taken as its decimal text). */
export function stringField(body: JsonObject, name: string): string | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  throw new UsageError(`${name} must be a string`);
}

/** A boolean field (absent -> false). */
export function booleanField(body: JsonObject, name: string): boolean {
  const v = body[name];
  if (v === undefined || v === null) return false;
  if (typeof v !== "boolean") throw new UsageError(`${name} must be true or false`);
  return v;
}

/** A list of strings given as an array or as "a,b" text; returned as "a,b" (the CLI's form). */
export function listField(body: JsonObject, name: string): string | undefined {
  const v = body[name];
  if (Array.isArray(v)) {
    if (!v.every((x) => typeof x === "string")) throw new UsageError(`${name} must be strings`);
    return v.join(",");
  }
  return stringField(body, name);
}

const USAGE_STATUS = { invalid: 400, not_found: 404, exists: 409 } as const;
const STORE_STATUS = { invalid: 400, not_found: 404, exists: 409, in_use: 409, quota: 400 };

/** The answer for an error of the shared operations; null for anything else (a 500). */
export function errorResponse(e: unknown): Response | null {
  if (e instanceof UsageError) return jsonError(USAGE_STATUS[e.kind], e.kind, e.message);
  if (e instanceof StoreError) return jsonError(STORE_STATUS[e.code], e.code, e.message);
  return null;
}
