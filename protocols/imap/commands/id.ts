/**
 * ID (RFC 2971): the client may say who it is; we answer with our name.
 *
 * @module
 */
import { command } from "../context.ts";
import { ParseError } from "../errors.ts";
import { str } from "../response.ts";
import { untagged } from "../response.ts";

/** RFC 2971 §3.1: id-params-list = "(" *(string SP nstring) ")" / NIL (at most 30 pairs). */
export const ID = command({
  parse(r) {
    r.space();
    if (r.tryNil()) return null;
    const items = r.list(() => r.nstring());
    if (items.length % 2 !== 0 || items.length > 60) {
      throw new ParseError("ID takes up to 30 field/value pairs");
    }
    return items;
  },
  run(ctx) {
    ctx.send(
      untagged(`ID (${str("name")} ${str("denomail")} ${str("vendor")} ${str("denomail")})`),
    );
    return Promise.resolve();
  },
});
