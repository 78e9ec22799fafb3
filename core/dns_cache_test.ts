import assert from "node:assert/strict";
import { DnsCache, NEGATIVE_TTL_MS } from "./dns_cache.ts";

class Negative extends Error {}
const isNeg = (e: unknown) => e instanceof Negative;

Deno.test("dns cache: answers kept for their TTL, then asked again", async () => {
  let now = 1_000;
  const cache = new DnsCache(100, () => now);
  let asked = 0;
  const fetch = () => Promise.resolve({ value: ++asked, ttlMs: 5_000 });
  assert.equal(await cache.lookup("A x", fetch, isNeg), 1);
  now += 4_999;
  assert.equal(await cache.lookup("A x", fetch, isNeg), 1);
  now += 2;
  assert.equal(await cache.lookup("A x", fetch, isNeg), 2);
});

Deno.test("dns cache: negative answers kept briefly, failures never, TTL 0 never", async () => {
  let now = 0;
  const cache = new DnsCache(100, () => now);
  let asked = 0;
  const neg = () => (asked++, Promise.reject(new Negative("nxdomain")));
  await assert.rejects(cache.lookup("A n", neg, isNeg), Negative);
  await assert.rejects(cache.lookup("A n", neg, isNeg), Negative);
  assert.equal(asked, 1);
  now += NEGATIVE_TTL_MS + 1;
  await assert.rejects(cache.lookup("A n", neg, isNeg), Negative);
  assert.equal(asked, 2);

  const temp = () => (asked++, Promise.reject(new Error("timeout")));
  await assert.rejects(cache.lookup("A t", temp, isNeg));
  await assert.rejects(cache.lookup("A t", temp, isNeg));
  assert.equal(asked, 4);

  const zero = () => (asked++, Promise.resolve({ value: "v", ttlMs: 0 }));
  await cache.lookup("A z", zero, isNeg);
  await cache.lookup("A z", zero, isNeg);
  assert.equal(asked, 6);
});

Deno.test("dns cache: one query for lookups in flight; bounded size, oldest out", async () => {
  const cache = new DnsCache(3);
  let asked = 0;
  const slow = () =>
    new Promise<{ value: number; ttlMs: number }>((r) =>
      setTimeout(() => r({ value: ++asked, ttlMs: 60_000 }), 5)
    );
  const all = await Promise.all(Array.from({ length: 50 }, () => cache.lookup("A s", slow, isNeg)));
  assert.deepEqual(new Set(all), new Set([1]));
  for (const k of ["a", "b", "c", "d"]) {
    await cache.lookup(k, () => Promise.resolve({ value: k, ttlMs: 60_000 }), isNeg);
  }
  assert.equal(cache.size, 3);
  let refetched = false;
  await cache.lookup(
    "A s",
    () => (refetched = true, Promise.resolve({ value: 0, ttlMs: 1 })),
    isNeg,
  );
  assert.ok(refetched, "the oldest entry was dropped");
});
