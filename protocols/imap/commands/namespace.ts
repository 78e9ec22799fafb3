/**
 * NAMESPACE (RFC 2342, RFC 9051 §6.3.10): one personal namespace, no others.
 *
 * @module
 */
import { noArgs } from "../context.ts";
import { untagged } from "../response.ts";

/** RFC 9051 §6.3.10. */
export const NAMESPACE = noArgs((ctx) => {
  ctx.send(untagged(`NAMESPACE (("" "/")) NIL NIL`));
  return Promise.resolve();
});
