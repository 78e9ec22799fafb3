import assert from "node:assert/strict";
import {
  ConnectionClosedError,
  DeadlineError,
  ShutdownError,
  TimeoutError,
} from "../connection.ts";
import { BadCommands, commandFailure, endReason } from "./errors.ts";
import { SessionOutput } from "./output.ts";

const dec = new TextDecoder();

/** A connection stand-in that records each write. */
function fakeConn(pendingInput = 0) {
  const writes: string[] = [];
  return {
    writes,
    pendingInput,
    closed: false,
    write(data: string | Uint8Array): Promise<void> {
      writes.push(typeof data === "string" ? data : dec.decode(data));
      return Promise.resolve();
    },
  };
}

Deno.test("session output: batched in order, bounded, large batches unjoined", async () => {
  const conn = fakeConn(5);
  const out = new SessionOutput(conn, 8);
  out.send("a\r\n");
  out.send(new TextEncoder().encode("b\r\n"));
  assert.equal(out.size, 6);
  assert.equal(out.due, false, "the client is still pipelining and the queue is small");
  await out.flush();
  assert.deepEqual(conn.writes, ["a\r\nb\r\n"], "one write per batch");
  await out.flush();
  assert.equal(conn.writes.length, 1, "nothing queued, nothing written");
  await out.write("0123456789");
  assert.deepEqual(conn.writes.slice(1), ["0123456789"], "a full queue is written at once");
  out.send("x".repeat(20));
  out.send("y".repeat(20));
  await out.flush();
  assert.deepEqual(conn.writes.slice(2), ["x".repeat(20), "y".repeat(20)]);
  out.send("dropped");
  out.discard();
  await out.flush();
  assert.equal(conn.writes.length, 4);
});

Deno.test("session errors: what ends the connection passes, the rest is the protocol's", () => {
  class Typed extends Error {}
  const isTyped = (e: unknown): e is Typed => e instanceof Typed;
  const conn = fakeConn() as unknown as Parameters<typeof commandFailure>[1];
  const typed = new Typed("x");
  assert.equal(commandFailure(typed, conn, isTyped, () => new Typed("no")), typed);
  assert.equal(commandFailure(new Error("bug"), conn, isTyped, () => typed), typed);
  for (const e of [new TimeoutError(), new ShutdownError(), new ConnectionClosedError()]) {
    assert.throws(() => commandFailure(e, conn, isTyped, () => typed));
  }
  assert.equal(endReason(new DeadlineError()), "too_slow");
  assert.equal(endReason(new TimeoutError()), "idle");
  assert.equal(endReason(new ShutdownError()), "shutdown");
  assert.equal(endReason(new ConnectionClosedError()), "closed");
  assert.equal(endReason(new Error("bug")), "error");
  const bad = new BadCommands(3);
  assert.deepEqual([bad.count(), bad.count(), bad.count()], [false, false, true]);
});
