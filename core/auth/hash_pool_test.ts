import assert from "node:assert/strict";
import { hashPassword } from "../auth.ts";
import { HashPool, HashPoolBusy } from "./hash_pool.ts";

const stored = (await hashPassword("right")).split(" ")[0];

Deno.test("hash pool: verifies and hashes in workers; a bad hash is a wrong password", async () => {
  const pool = new HashPool({ size: 2 });
  try {
    assert.equal(await pool.verify(stored, "right"), true);
    assert.equal(await pool.verify(stored, "wrong"), false);
    assert.equal(await pool.verify("$argon2id$garbage", "right"), false);
    assert.equal(await pool.verify("plain", "right"), false);
    const made = await pool.hash("pw");
    assert.match(made, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.equal(await pool.verify(made, "pw"), true);
  } finally {
    pool.close();
  }
});

Deno.test("hash pool: the event loop keeps turning while 20 hashes run; the queue is bounded", async () => {
  const pool = new HashPool({ size: 2, maxQueue: 30 });
  try {
    await pool.verify(stored, "warm-up"); // workers started and wasm compiled
    let worst = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const t = performance.now();
      worst = Math.max(worst, t - last - 10);
      last = t;
    }, 10);
    const runs = Array.from({ length: 20 }, (_, i) => pool.verify(stored, `guess ${i}`));
    await assert.rejects(
      Promise.all(Array.from({ length: 20 }, () => pool.verify(stored, "x"))),
      HashPoolBusy,
    );
    assert.deepEqual(await Promise.all(runs), new Array(20).fill(false));
    clearInterval(timer);
    // On the main thread the 20 hashes would block it for seconds in one piece.
    assert.ok(worst < 750, `event loop stalled ${worst.toFixed(0)} ms`);
  } finally {
    pool.close();
  }
});
