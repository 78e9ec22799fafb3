import assert from "node:assert/strict";
import { MaildropLocks } from "./maildrop_lock.ts";

Deno.test("pop3 maildrop locks", () => {
  const locks = new MaildropLocks();
  const other = new MaildropLocks();
  const r1 = locks.tryAcquire(1);
  assert.ok(r1);
  assert.equal(locks.tryAcquire(1), null);
  assert.ok(other.tryAcquire(1), "another server is another table");
  assert.ok(locks.tryAcquire(2));
  r1();
  r1(); // idempotent
  assert.equal(locks.isLocked(1), false);
  assert.ok(locks.tryAcquire(1));
});
