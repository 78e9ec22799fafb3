/**
 * What a JMAP method gets, its signature, and the argument checks every method shares.
 *
 * Invariant: a method reads only the authenticated user's account. `requireAccount` is the
 * one gate: an accountId that is not the caller's own is `accountNotFound` (RFC 8620
 * §3.6.2), whether or not such an account exists, so ids of others reveal nothing.
 *
 * @module
 */
import type { ServerDeps } from "../../../core/deps.ts";
import type { Account } from "../../../storage/mod.ts";
import { invalidArguments, MethodError } from "./errors.ts";
import { accountIdOf } from "./ids.ts";
import type { JmapLimits } from "./limits.ts";
import { isObject, type JsonObject } from "./json.ts";
import type { RecordLocks } from "./records.ts";

/**
 * What a method may tell the push hub (push.ts implements it; declared here so that the
 * methods do not import the hub): a record type's /set reports its new state, and
 * PushSubscription/set makes the hub re-read the account's subscriptions.
 */
export interface PushNotifier {
  recordChanged(
    accountId: number,
    type: "Identity" | "EmailSubmission" | "VacationResponse",
    state: string,
  ): void;
  forget(accountId: number): void;
}

export interface MethodContext {
  deps: ServerDeps;
  /** The authenticated user: the only account a method may touch. */
  account: Account;
  limits: JmapLimits;
  /** Creation id -> id, for the request (RFC 8620 §3.3 createdIds). */
  createdIds: Map<string, string>;
  /** Responses a method adds after its own, same call id (RFC 8621 §7.5 implicit Email/set). */
  followUps: Array<[string, JsonObject]>;
  /** Serializes writes of the stored records (records.ts); one per server. */
  locks: RecordLocks;
  /** The server's push hub (push.ts), as the methods see it. */
  push: PushNotifier;
  /** The client's address and whether it came over TLS (submission's Received field). */
  client: { ip: string; secure: boolean };
  /** Bytes of JSON the request's responses may still take (chargeResponse). */
  responseLeft: number;
}

/**
 * Bytes of JSON one request's responses may hold (not announced). Emails of 10,000 parts
 * are ~8 MB of body-part JSON each, and a body value may be the whole message: without a
 * bound, one Email/get of 1,000 ids built gigabytes before the first byte went out.
 */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/**
 * Charges one object of a response to the request's budget; past it, requestTooLarge
 * (RFC 8620 §5.1: more than the server is willing to process in one call) so the client
 * asks for fewer `what` or properties.
 */
export function chargeResponse(ctx: MethodContext, value: unknown, what: string): void {
  ctx.responseLeft -= JSON.stringify(value)?.length ?? 0;
  if (ctx.responseLeft < 0) {
    throw new MethodError(
      "requestTooLarge",
      `the response would pass ${MAX_RESPONSE_BYTES >> 20} MB: ask for fewer ${what} or properties`,
    );
  }
}

/** One method: its capability (must be in `using`) and its body. */
export interface JmapMethod {
  capability: string;
  run(ctx: MethodContext, args: JsonObject): Promise<JsonObject>;
}

/** Refuses arguments the method does not know (RFC 8620 §3.6.2 invalidArguments). */
export function checkArgs(args: JsonObject, known: readonly string[]): void {
  for (const k of Object.keys(args)) {
    if (!known.includes(k)) throw invalidArguments(`unknown argument ${k.slice(0, 100)}`);
  }
}

/** The accountId argument, which must name the caller's own account. */
export function requireAccount(ctx: MethodContext, args: JsonObject): string {
  const id = args.accountId;
  if (typeof id !== "string") throw invalidArguments("accountId must be a string");
  if (id !== accountIdOf(ctx.account.id)) throw new MethodError("accountNotFound");
  return id;
}

/**
 * An optional list of ids (null/absent: null), at most `max` long, each id once. RFC 8620
 * §5.1: an id given twice is answered once. Before, Email/get of one id listed 1,000
 * times built 1,000 copies: a 100 KB message of 10,000 parts is ~5 MB of body-part JSON,
 * so one request asked for ~5 GB (found by mutational message fuzzing).
 */
export function idList(args: JsonObject, name: string, max: number): string[] | null {
  const v = args[name];
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) {
    throw invalidArguments(`${name} must be a list of ids`);
  }
  if (v.length > max) throw new MethodError("requestTooLarge", `more than ${max} ${name}`);
  return [...new Set(v as string[])];
}

/** An optional list of property names (null/absent: null). */
export function propertyList(args: JsonObject, name: string): string[] | null {
  const v = args[name];
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) {
    throw invalidArguments(`${name} must be a list of strings`);
  }
  return v as string[];
}

/** An optional integer in [min, max]. */
export function intArg(args: JsonObject, name: string, dflt: number, min: number): number {
  const v = args[name];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
    throw invalidArguments(`${name} must be an integer >= ${min}`);
  }
  return v;
}

/** An optional boolean. */
export function boolArg(args: JsonObject, name: string, dflt: boolean): boolean {
  const v = args[name];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== "boolean") throw invalidArguments(`${name} must be a boolean`);
  return v;
}

/** An optional string (null/absent: null). */
export function stringArg(args: JsonObject, name: string): string | null {
  const v = args[name];
  if (v === undefined || v === null) return null;
  if (typeof v !== "string") throw invalidArguments(`${name} must be a string`);
  return v;
}

/** An optional object (null/absent: null). */
export function objectArg(args: JsonObject, name: string): JsonObject | null {
  const v = args[name];
  if (v === undefined || v === null) return null;
  if (!isObject(v)) throw invalidArguments(`${name} must be an object`);
  return v;
}

/** Keeps only `properties` of `obj` (id always, RFC 8620 §5.1). */
export function pick(obj: JsonObject, properties: readonly string[]): JsonObject {
  const out: JsonObject = Object.create(null);
  out.id = obj.id;
  for (const p of properties) out[p] = obj[p];
  return out;
}

/** RFC 8620 §5.5 /query window arguments: position, anchor, anchorOffset, limit (null: none). */
export function windowArgs(args: JsonObject): {
  position: number;
  anchor: string | null;
  anchorOffset: number;
  limit: number | null;
} {
  const position = args.position ?? 0;
  if (typeof position !== "number" || !Number.isSafeInteger(position)) {
    throw invalidArguments("position must be an integer");
  }
  const anchor = stringArg(args, "anchor");
  const anchorOffset = args.anchorOffset ?? 0;
  if (typeof anchorOffset !== "number" || !Number.isSafeInteger(anchorOffset)) {
    throw invalidArguments("anchorOffset must be an integer");
  }
  const limit = args.limit === undefined || args.limit === null
    ? null
    : intArg(args, "limit", 0, 0);
  return { position, anchor, anchorOffset, limit };
}
