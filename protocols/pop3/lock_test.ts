import assert from "node:assert/strict";
import { MaildropLocks } from "./lock.ts";

Deno.test("pop3 maildrop locks", () => {
  const locks = new MaildropLocks();
  const a = {}, b = {};
  const r1 = locks.tryAcquire(a, 1);
  assert.ok(r1);
  assert.equal(locks.tryAcquire(a, 1), null);
  assert.ok(locks.tryAcquire(b, 1), "another store is another scope");
  assert.ok(locks.tryAcquire(a, 2));
  r1();
  r1(); // idempotent
  assert.equal(locks.isLocked(a, 1), false);
  assert.ok(locks.tryAcquire(a, 1));
});
