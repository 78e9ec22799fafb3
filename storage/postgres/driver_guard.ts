/**
 * A workaround for the PostgreSQL driver under Deno (see `guardDriverWriteAfterClose`).
 *
 * @module
 */
import { log } from "../../lib/log.ts";

let guarded = false;

/**
 * postgres@3.4.10 under Deno: when the database drops a connection, a write the driver had
 * scheduled with setImmediate may still run after the socket is gone and throw
 * "Cannot read properties of null (reading 'write')" from a timer — an uncaught exception
 * that would end the process (every node would die with its database). The query it
 * belonged to fails by the connection's close anyway; only that exception is swallowed
 * (logged), so that the pool reconnects once the database is back.
 */
export function guardDriverWriteAfterClose(): void {
  if (guarded) return;
  guarded = true;
  globalThis.addEventListener("error", (ev) => {
    const e = (ev as ErrorEvent).error;
    if (
      e instanceof TypeError && e.message === "Cannot read properties of null (reading 'write')" &&
      String(e.stack).includes("Immediate")
    ) {
      ev.preventDefault();
      log.warn("storage", "postgres: a write on a closed connection was dropped");
    }
  });
}
