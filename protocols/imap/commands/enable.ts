/**
 * ENABLE (RFC 5161, RFC 9051 §6.3.1): IMAP4rev2, CONDSTORE and QRESYNC (RFC 7162 §3.1,
 * §3.2.3), UTF8=ACCEPT (RFC 6855 §3); unknown ones are ignored as RFC 5161 §3.1 requires.
 *
 * @module
 */
import { command } from "../context.ts";
import { untagged } from "../response.ts";

/** Extensions ENABLE turns on. */
const ENABLEABLE = new Set(["IMAP4REV2", "CONDSTORE", "QRESYNC", "UTF8=ACCEPT"]);

/** RFC 5161 §3.1: ENABLE 1*(SP capability). */
export const ENABLE = command({
  parse(r) {
    const caps: string[] = [];
    do {
      r.space();
      caps.push(r.atom("a capability"));
    } while (!r.atEnd());
    return caps;
  },
  run(ctx, caps) {
    const done: string[] = [];
    for (const cap of caps) {
      const upper = cap.toUpperCase();
      // RFC 5161 §3.1: the ENABLED response lists only what this command newly enabled.
      if (ENABLEABLE.has(upper) && !ctx.enabled.has(upper)) {
        ctx.enable(upper);
        done.push(cap);
      }
    }
    ctx.send(untagged(`ENABLED${done.map((c) => " " + c).join("")}`));
    return Promise.resolve();
  },
});
