/**
 * The JMAP API endpoint (RFC 8620 §3): one POST, a Request object in, a Response out.
 *
 * Order of checks, each answered with its RFC error:
 * 1. size over maxSizeRequest -> request-level `limit` (checked before the body is read);
 * 2. a Content-Type other than application/json, not UTF-8 JSON, or nested deeper than
 *    allowed -> `notJSON` / `notRequest` (checked after the capped read, so a request holds
 *    its maxConcurrentRequests slot until its body is in, whatever its headers say);
 * 3. not a Request object (§3.3) -> `notRequest`;
 * 4. a `using` capability we do not know -> `unknownCapability`;
 * 5. more than maxCallsInRequest calls -> `limit`;
 * then every call in order: references resolved (§3.7), the method looked up among those
 * whose capability is in `using` (`unknownMethod` otherwise) and run. A method's failure is
 * an `error` response for that call only; the next calls still run (§3.6.2).
 *
 * @module
 */
import type { Account } from "../../../storage/mod.ts";
import type { ServerDeps } from "../../../core/deps.ts";
import { log } from "../../../lib/log.ts";
import { readBody } from "../body.ts";
import { MethodError, problem } from "./errors.ts";
import { isObject, type JsonObject, parseJson } from "./json.ts";
import type { JmapLimits } from "./limits.ts";
import { type JmapMethod, MAX_RESPONSE_BYTES, type MethodContext } from "./context.ts";
import { type Invocation, resolveReferences } from "./refs.ts";
import type { RecordLocks } from "./records.ts";
import type { PushHub } from "./push.ts";
import { CAPABILITIES, sessionState } from "./session.ts";

/** Runs one API request for `account`. */
export async function handleApi(
  req: Request,
  opts: {
    deps: ServerDeps;
    account: Account;
    limits: JmapLimits;
    methods: ReadonlyMap<string, JmapMethod>;
    requestId: string;
    locks: RecordLocks;
    push: PushHub;
    client: { ip: string; secure: boolean };
  },
): Promise<Response> {
  const { limits } = opts;
  const body = await readBody(req, limits.maxSizeRequest);
  if (body === null) {
    return problem(400, "limit", `the request is larger than ${limits.maxSizeRequest} octets`, {
      limit: "maxSizeRequest",
    });
  }
  // RFC 8620 §3.6.1: notJSON is also "the content type of the request was not application/json".
  if (!isJsonContentType(req.headers.get("content-type"))) {
    return problem(400, "notJSON", "the request's Content-Type must be application/json");
  }
  const parsed = parseJson(body, limits.maxJsonDepth);
  if (!parsed.ok) {
    return parsed.why === "notJSON"
      ? problem(400, "notJSON", "the request is not valid UTF-8 JSON")
      : problem(400, "notRequest", `the request nests deeper than ${limits.maxJsonDepth}`);
  }
  const request = parsed.value;
  const why = notRequest(request);
  if (why) return problem(400, "notRequest", why);
  const r = request as JsonObject & { using: string[]; methodCalls: Invocation[] };
  const unknown = r.using.find((c) => !CAPABILITIES.has(c));
  if (unknown !== undefined) {
    return problem(400, "unknownCapability", `unknown capability ${unknown.slice(0, 200)}`);
  }
  if (r.methodCalls.length > limits.maxCallsInRequest) {
    return problem(400, "limit", `more than ${limits.maxCallsInRequest} method calls`, {
      limit: "maxCallsInRequest",
    });
  }
  const using = new Set(r.using);
  const createdIds = new Map<string, string>(
    isObject(r.createdIds) ? Object.entries(r.createdIds as Record<string, string>) : [],
  );
  const ctx: MethodContext = {
    deps: opts.deps,
    account: opts.account,
    limits,
    createdIds,
    followUps: [],
    locks: opts.locks,
    push: opts.push,
    client: opts.client,
    responseLeft: MAX_RESPONSE_BYTES,
  };
  const responses: Invocation[] = [];
  for (const [name, args, callId] of r.methodCalls) {
    responses.push([...await runCall(ctx, opts, { name, args, callId, using, responses })]);
    for (const [n, a] of ctx.followUps.splice(0)) responses.push([n, a, callId]);
  }
  const out: Record<string, unknown> = {
    methodResponses: responses,
    sessionState: sessionState(opts.account, limits),
  };
  // RFC 8620 §3.4: createdIds is in the response only if it was in the request.
  if (r.createdIds !== undefined) out.createdIds = Object.fromEntries(createdIds);
  return Response.json(out);
}

async function runCall(
  ctx: MethodContext,
  opts: { methods: ReadonlyMap<string, JmapMethod>; requestId: string },
  call: {
    name: string;
    args: JsonObject;
    callId: string;
    using: ReadonlySet<string>;
    responses: readonly Invocation[];
  },
): Promise<Invocation> {
  const error = (e: MethodError): Invocation => ["error", e.toArgs(), call.callId];
  const method = opts.methods.get(call.name);
  // RFC 8620 §3.6.2: a method of a capability not in `using` is unknown too.
  if (!method || !call.using.has(method.capability)) {
    return error(new MethodError("unknownMethod", `unknown method ${call.name.slice(0, 100)}`));
  }
  try {
    const args = resolveReferences(call.args, call.responses);
    return [call.name, await method.run(ctx, args), call.callId];
  } catch (e) {
    if (e instanceof MethodError) return error(e);
    log.error("jmap", `${call.name} failed: ${(e as Error).message}`, {
      session: opts.requestId,
      user: ctx.account.email,
    });
    return error(new MethodError("serverFail"));
  }
}

/** True for `application/json`, with or without parameters (RFC 8259 §11 defines none). */
export function isJsonContentType(header: string | null): boolean {
  if (header === null) return false;
  const semicolon = header.indexOf(";");
  const type = (semicolon < 0 ? header : header.slice(0, semicolon)).trim().toLowerCase();
  return type === "application/json";
}

/** Why `v` is not a Request object (RFC 8620 §3.3), or null when it is one. */
function notRequest(v: unknown): string | null {
  if (!isObject(v)) return "the request must be a JSON object";
  for (const k of Object.keys(v)) {
    if (k !== "using" && k !== "methodCalls" && k !== "createdIds") {
      return `unknown request property ${k.slice(0, 100)}`;
    }
  }
  if (!Array.isArray(v.using) || !v.using.every((c) => typeof c === "string")) {
    return "using must be a list of capability strings";
  }
  if (!Array.isArray(v.methodCalls)) return "methodCalls must be a list";
  for (const c of v.methodCalls) {
    if (
      !Array.isArray(c) || c.length !== 3 || typeof c[0] !== "string" || !isObject(c[1]) ||
      typeof c[2] !== "string"
    ) {
      return "each method call is [name, arguments object, call id]";
    }
  }
  if (v.createdIds !== undefined) {
    if (!isObject(v.createdIds)) return "createdIds must be an object";
    if (!Object.values(v.createdIds).every((x) => typeof x === "string")) {
      return "createdIds values must be ids";
    }
  }
  return null;
}
