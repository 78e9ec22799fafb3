/**
 * LOGOUT (RFC 9051 §6.1.3).
 *
 * @module
 */
import { noArgs } from "../context.ts";
import { untagged } from "../response.ts";

/** RFC 9051 §6.1.3: BYE first, then the tagged OK; the session then closes. */
export const LOGOUT = noArgs((ctx) => {
  ctx.send(untagged("BYE denomail logging out"));
  ctx.logout();
  return Promise.resolve({ text: "LOGOUT completed" });
});
