import assert from "node:assert/strict";
import { Pacer, yieldToEventLoop } from "./yield.ts";

/** Busy work for `ms` milliseconds, with no await inside. */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* busy */ }
}

Deno.test("yield: a paced loop lets a timer run while it works", async () => {
  let fired = -1;
  const started = performance.now();
  setTimeout(() => fired = performance.now() - started, 0);
  const pace = new Pacer(5);
  for (let i = 0; i < 40; i++) {
    spin(1);
    await pace.tick();
  }
  const total = performance.now() - started;
  assert.ok(fired >= 0, "the timer never ran during the loop");
  assert.ok(fired < total, `the timer ran only after the loop (${fired} of ${total} ms)`);
});

Deno.test("yield: awaiting a settled promise is not a yield, yieldToEventLoop is", async () => {
  let fired = false;
  setTimeout(() => fired = true, 0);
  spin(2);
  await Promise.resolve();
  assert.equal(fired, false, "microtasks alone do not run timers");
  await yieldToEventLoop();
  assert.equal(fired, true);
});

Deno.test("yield: tick returns at once while the slice lasts", async () => {
  const pace = new Pacer(60_000);
  assert.equal(pace.due, false);
  let fired = false;
  const timer = setTimeout(() => fired = true, 0);
  await pace.tick();
  assert.equal(fired, false);
  clearTimeout(timer);
});
