/**
 * The shape of an admin API route and of the call its handler gets.
 *
 * @module
 */
import type { AdminContext } from "../../../core/admin/context.ts";
import type { ServerDeps } from "../../../core/deps.ts";
import type { JsonObject } from "../jmap/json.ts";
import type { ServerGauges } from "../ops.ts";
import { stringField } from "./request.ts";

/** One authorized admin request, as a route handler sees it. */
export interface AdminCall {
  ctx: AdminContext;
  params: Record<string, string>;
  body: JsonObject;
  url: URL;
  deps: ServerDeps;
  gauges: ServerGauges;
  started: number;
}

export interface AdminRoute {
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  /** The CLI command doing the same (README, "Admin API"). */
  cli: string;
  handle(call: AdminCall): Promise<Response>;
}

export const ok = (value: unknown, status = 200) => Response.json(value, { status });

/** The body's password, given to the shared operation as the CLI's prompt would be. */
export const passwordOf = (body: JsonObject) => () =>
  Promise.resolve(stringField(body, "password") ?? "");
