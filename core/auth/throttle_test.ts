import assert from "node:assert/strict";
import { LoginThrottle } from "./throttle.ts";
import { clientKey, NetworkList, parseIp } from "./networks.ts";

/** A throttle on a fake clock that throttles everyone. */
function setup(limits: Record<string, unknown> = {}) {
  let t = 1_000_000;
  const clock = { now: () => t, advance: (ms: number) => (t += ms) };
  const th = new LoginThrottle({ exempt: [], ...limits }, clock.now);
  return { th, clock };
}

function tryFail(th: LoginThrottle, ip: string, account: string): boolean {
  const a = th.begin(ip, account);
  if (!a.ok) return false;
  a.attempt.fail();
  return true;
}

Deno.test("throttle: attempts are booked before the check, so parallel ones stop at the limit", () => {
  const { th } = setup({ maxFailuresPerAddress: 10 });
  // 60 attempts begin before any of them finishes (the old code checked before, recorded after).
  const admitted = [];
  for (let i = 0; i < 60; i++) {
    const a = th.begin("192.0.2.1", "bob@example.test");
    if (a.ok) admitted.push(a.attempt);
  }
  assert.equal(admitted.length, 10);
  for (const a of admitted) a.fail();
  assert.equal(th.begin("192.0.2.1", "alice@example.test").ok, false);
});

Deno.test("throttle: another account's success does not reset the address", () => {
  const { th, clock } = setup({ maxFailuresPerAddress: 10 });
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 9; i++) {
      const ok = tryFail(th, "192.0.2.1", "bob@example.test");
      if (round === 0) assert.ok(ok);
      else {
        // The 10th failure (first of round 1) makes the address wait; the rest are refused.
        assert.equal(ok, round === 1 && i === 0, `round ${round} guess ${i}`);
      }
    }
    const good = th.begin("192.0.2.1", "alice@example.test");
    if (round === 0) {
      assert.ok(good.ok);
      good.attempt.succeed();
    } else assert.equal(good.ok, false);
    clock.advance(10);
  }
});

Deno.test("throttle: a success forgives only that account's failures from that address", () => {
  const { th } = setup({ maxFailuresPerAddress: 5 });
  for (let i = 0; i < 3; i++) tryFail(th, "192.0.2.1", "alice@example.test");
  for (let i = 0; i < 1; i++) tryFail(th, "192.0.2.1", "bob@example.test");
  const a = th.begin("192.0.2.1", "alice@example.test");
  assert.ok(a.ok);
  a.attempt.succeed(); // alice mistyped three times: forgiven; bob's failure stays
  for (let i = 0; i < 3; i++) assert.ok(tryFail(th, "192.0.2.1", "carol@example.test"));
  // 1 (bob) + 3 (carol) = 4; the 5th failure makes the address wait.
  assert.ok(tryFail(th, "192.0.2.1", "carol@example.test"));
  assert.ok(th.blockedFor("192.0.2.1") > 0);
});

Deno.test("throttle: the wait grows (1 s, 2 s, 4 s, ...) up to ban_time, then is forgotten", () => {
  const { th, clock } = setup({ maxFailuresPerAddress: 3, banTimeMs: 10_000 });
  for (let i = 0; i < 3; i++) assert.ok(tryFail(th, "192.0.2.9", "x@example.test"));
  const waits = [th.blockedFor("192.0.2.9")];
  for (let i = 0; i < 5; i++) {
    clock.advance(waits.at(-1)! - 1);
    assert.equal(th.begin("192.0.2.9", "x@example.test").ok, false, "still waiting");
    clock.advance(1);
    assert.ok(tryFail(th, "192.0.2.9", "x@example.test"));
    waits.push(th.blockedFor("192.0.2.9"));
  }
  assert.deepEqual(waits, [1000, 2000, 4000, 8000, 10_000, 10_000]);
  // Past the limit, one attempt at a time: a second one may not start while one runs.
  clock.advance(10_000);
  const one = th.begin("192.0.2.9", "x@example.test");
  assert.ok(one.ok);
  assert.equal(th.begin("192.0.2.9", "x@example.test").ok, false);
  one.attempt.fail();
  // ban_time without a failure: the address starts over.
  clock.advance(10_001 + 10_000);
  assert.equal(th.blockedFor("192.0.2.9"), 0);
  for (let i = 0; i < 2; i++) assert.ok(tryFail(th, "192.0.2.9", "x@example.test"));
  assert.equal(th.blockedFor("192.0.2.9"), 0);
});

Deno.test("throttle: an account is slowed down past its limit, never refused", () => {
  const { th } = setup({ maxFailuresPerAddress: 1000, maxFailuresPerAccount: 3 });
  const delays: number[] = [];
  for (let i = 0; i < 12; i++) {
    const a = th.begin(`198.51.100.${i}`, "victim@example.test");
    assert.ok(a.ok);
    delays.push(a.attempt.delayMs);
    a.attempt.fail();
  }
  assert.deepEqual(delays, [0, 0, 0, 250, 500, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000]);
  // The owner, from anywhere, still gets in (after the wait).
  const owner = th.begin("203.0.113.5", "victim@example.test");
  assert.ok(owner.ok);
  owner.attempt.succeed();
});

Deno.test("throttle: exempt networks are never counted; [] exempts nobody", () => {
  const { th } = setup({ maxFailuresPerAddress: 2, exempt: ["127.0.0.0/8", "::1", "10.1.0.0/16"] });
  for (let i = 0; i < 50; i++) {
    assert.ok(tryFail(th, "127.0.0.1", "a@example.test"));
    assert.ok(tryFail(th, "::1", "a@example.test"));
    assert.ok(tryFail(th, "::ffff:10.1.2.3", "a@example.test"));
  }
  assert.equal(th.blockedFor("127.0.0.1"), 0);
  const strict = setup({ maxFailuresPerAddress: 2 }).th;
  tryFail(strict, "127.0.0.1", "a@example.test");
  tryFail(strict, "127.0.0.1", "a@example.test");
  assert.ok(strict.blockedFor("127.0.0.1") > 0);
});

Deno.test("throttle: cancel (never checked) does not count; IPv6 counts per /64", () => {
  const { th } = setup({ maxFailuresPerAddress: 2 });
  for (let i = 0; i < 5; i++) {
    const a = th.begin("192.0.2.1", "a@example.test");
    assert.ok(a.ok);
    a.attempt.cancel();
  }
  assert.equal(th.blockedFor("192.0.2.1"), 0);
  tryFail(th, "2001:db8:1:2::1", "a@example.test");
  tryFail(th, "2001:db8:1:2:ffff::9", "a@example.test");
  assert.ok(th.blockedFor("2001:db8:1:2::77") > 0);
  assert.equal(th.blockedFor("2001:db8:1:3::1"), 0);
});

Deno.test("networks: addresses, CIDR, mapped IPv4", () => {
  const nets = new NetworkList(["127.0.0.0/8", "::1", "2001:db8::/32", "192.0.2.7"]);
  assert.ok(nets.has("127.8.9.10"));
  assert.ok(nets.has("::ffff:127.0.0.1"));
  assert.ok(nets.has("::1"));
  assert.ok(nets.has("2001:db8:ffff::1"));
  assert.ok(nets.has("192.0.2.7"));
  assert.ok(!nets.has("192.0.2.8"));
  assert.ok(!nets.has("128.0.0.1"));
  assert.ok(!nets.has("::2"));
  assert.ok(!nets.has("not an address"));
  assert.equal(parseIp("1.2.3"), null);
  assert.equal(parseIp("1::2::3"), null);
  assert.equal(parseIp("256.1.1.1"), null);
  assert.equal(clientKey("::ffff:192.0.2.1"), "192.0.2.1");
  assert.equal(clientKey("2001:db8:0:1::5"), "2001:db8:0:1::/64");
  assert.throws(() => new NetworkList(["10.0.0.0/33"]));
});
