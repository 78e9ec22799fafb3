import assert from "node:assert/strict";
import { LEASE_MS, MaildropLocks } from "./maildrop_lock.ts";
import { MemoryLeases } from "../storage/memory_leases.ts";
import type { Store } from "../storage/mod.ts";

/** The Store's lease methods over one table, as two nodes on one database would share. */
function leaseStore(): Store {
  const m = new MemoryLeases();
  return {
    tryLease: (name: string, holder: string, now: number, until: number) =>
      Promise.resolve(m.tryLease(name, holder, now, until)),
    renewLeases: (names: string[], holder: string, until: number) =>
      Promise.resolve(m.renew(names, holder, until)),
    releaseLease: (name: string, holder: string) => Promise.resolve(m.release(name, holder)),
  } as unknown as Store;
}

Deno.test("pop3 maildrop locks hold across servers sharing a store", async () => {
  let now = 1_000_000;
  const store = leaseStore();
  const a = new MaildropLocks(store, { node: "a", now: () => now });
  const b = new MaildropLocks(store, { node: "b", now: () => now });
  const r1 = await a.tryAcquire(1);
  assert.ok(r1);
  assert.equal(await a.tryAcquire(1), null, "same server");
  assert.equal(await b.tryAcquire(1), null, "another node");
  const r2 = await b.tryAcquire(2);
  assert.ok(r2);
  await r1();
  await r1(); // idempotent
  assert.equal(a.isLocked(1), false);
  const r3 = await b.tryAcquire(1);
  assert.ok(r3, "free once released");
  await r3();
  await r2();
  // A node that dies keeps its lock only until the lease runs out.
  const dead = new MaildropLocks(store, { node: "dead", now: () => now });
  const r4 = await dead.tryAcquire(3);
  assert.ok(r4);
  assert.equal(await a.tryAcquire(3), null);
  now += LEASE_MS + 1;
  const r5 = await a.tryAcquire(3);
  assert.ok(r5, "taken over after the lease");
  await r5();
  await r4(); // the dead node's late release leaves the new holder alone
});
