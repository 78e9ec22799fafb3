/**
 * IDLE (RFC 2177, RFC 9051 §6.3.13): report changes of the selected mailbox as they are
 * committed, until the client sends DONE.
 *
 * @module
 */
import { noArgs } from "../context.ts";
import { bad, ByeError } from "../errors.ts";
import { untagged } from "../response.ts";

/** RFC 2177 §3: "+ idling", updates as they happen, DONE ends it. */
export const IDLE = noArgs(async (ctx) => {
  ctx.send("+ idling\r\n");
  // Anything already pending is reported at once.
  await ctx.syncSelected(true);
  await ctx.flush();
  let chain: Promise<void> = Promise.resolve();
  let failure: unknown = null;
  const stop = ctx.onChange(() => {
    if (!ctx.selected?.dirty) return;
    // One sync at a time; each change queues a sync that reports everything pending.
    chain = chain.then(async () => {
      if (failure || !ctx.selected?.dirty) return;
      try {
        await ctx.syncSelected(true);
        await ctx.flush();
      } catch (e) {
        failure = e;
        // The mailbox went away (ByeError) or the write failed: end the session now
        // rather than wait for DONE.
        if (e instanceof ByeError) {
          await ctx.conn.write(untagged(`BYE ${e.message}`)).catch(() => {});
        }
        ctx.conn.destroy();
      }
    });
  });
  try {
    // RFC 9051 §5.4: the autologout timer applies while idling too (readLine's timeout).
    const line = await ctx.readLine(1024);
    if (line.trim().toUpperCase() !== "DONE") throw bad("Expected DONE");
  } finally {
    stop();
    await chain;
  }
  if (failure) throw failure;
  return { text: "IDLE terminated" };
});
