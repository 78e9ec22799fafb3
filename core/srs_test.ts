import assert from "node:assert/strict";
import { isSrs, MAX_AGE_DAYS, Srs } from "./srs.ts";

const DAY = 86_400_000;

Deno.test("srs: forward and reverse, case-insensitive, forged and expired refused", () => {
  const srs = new Srs(new TextEncoder().encode("0123456789abcdef0123456789abcdef"));
  const now = Date.UTC(2026, 11, 6);
  const a = srs.forward("alice@example.org", "a.test", now)!;
  assert.match(a, /^SRS0=[^=]{4}=[A-Z2-7]{2}=example\.org=alice@a\.test$/);
  const local = a.slice(0, a.lastIndexOf("@"));
  assert.ok(isSrs(local));
  assert.equal(srs.reverse(local, now), "alice@example.org");
  assert.equal(srs.reverse(local.toLowerCase(), now + 3 * DAY), "alice@example.org");
  assert.equal(
    srs.reverse(local.replace("=alice", "=mallory"), now),
    null,
    "hash covers the address",
  );
  assert.equal(srs.reverse(local, now + (MAX_AGE_DAYS + 1) * DAY), null, "expired");
  const other = new Srs(new TextEncoder().encode("another secret of enough length!"));
  assert.equal(other.reverse(local, now), null, "another secret");
  assert.equal(
    srs.forward(`${"x".repeat(60)}@example.org`, "a.test", now),
    null,
    "local part > 64",
  );
  assert.equal(srs.forward("no-at-sign", "a.test", now), null);
  assert.equal(srs.reverse("alice", now), null);
});
