/** The activity ring: classification of log events, bounds, filters, hourly counts. */
import assert from "node:assert/strict";
import { ActivityLog } from "./activity.ts";
import { log } from "../lib/log.ts";

Deno.test("activity: log events become events, counted per hour", () => {
  let now = Date.UTC(2026, 0, 1, 10, 30);
  const a = new ActivityLog(1000, () => now);
  const untap = log.addTap(a.observe);
  try {
    log.debug("smtp", "accepted", {
      id: "M1",
      ip: "192.0.2.1",
      from: "a@x.test",
      to: "b@y.test,c@y.test",
      size: 10,
    });
    log.debug("smtp", "accepted", {
      id: "M2",
      ip: "192.0.2.1",
      from: "s@x.test",
      to: "b@y.test",
      mailbox: "Junk",
    });
    log.debug("smtp", "accepted", {
      id: "M3",
      ip: "::1",
      from: "b@y.test",
      to: "z@far.test",
      user: "b@y.test",
    });
    log.debug("smtp", "refused", {
      ip: "192.0.2.2",
      cmd: "RCPT",
      address: "n@y.test",
      reply: "550 5.1.1",
      text: "No such user here",
    });
    log.debug("smtp", "refused", {
      ip: "192.0.2.2",
      cmd: "RCPT",
      address: "n@far.test",
      reply: "550 5.7.1",
      text: "Relaying denied",
    });
    log.debug("smtp", "refused", {
      ip: "192.0.2.3",
      cmd: "DATA",
      plugin: "spam",
      reply: "550 5.7.1",
      text: "Looks like spam",
    });
    log.debug("smtp", "refused", {
      ip: "192.0.2.3",
      cmd: "RCPT",
      plugin: "policy",
      reply: "550 5.7.1",
      text: "no",
    });
    log.debug("smtp", "refused", {
      ip: "192.0.2.4",
      cmd: "AUTH",
      login: "b@y.test",
      reply: "535 5.7.8",
      text: "bad",
    });
    log.debug("pop3", "login failed", {
      ip: "192.0.2.4",
      login: "b@y.test",
      how: "USER",
      reason: "invalid",
    });
    log.debug("auth", "address throttled after failed logins", {
      ip: "192.0.2.4",
      account: "b@y.test",
      failures: 10,
      wait_ms: 4000,
    });
    log.debug("queue", "done", {
      id: 5,
      message: "M3",
      to: "z@far.test,w@far.test",
      delivered: 2,
      failed: 0,
      pending: 0,
    });
    log.debug("queue", "bounce sent", {
      id: 6,
      message: "M4",
      to: "b@y.test",
      recipients: "q@far.test",
    });
    log.debug("smtp", "connect", { ip: "192.0.2.9" }); // not activity
  } finally {
    untap();
  }
  log.debug("smtp", "accepted", { id: "M9" }); // after the tap is gone: not seen
  const all = a.query({ limit: 100 });
  assert.deepEqual(all.map((e) => e.kind), [
    "bounce_sent",
    "delivered",
    "throttled",
    "login_failed",
    "login_failed",
    "refused",
    "refused",
    "refused",
    "refused",
    "submitted",
    "spam",
    "received",
  ]);
  assert.deepEqual(
    a.query({ kind: "refused", limit: 10 }).map((e) => e.reason),
    ["plugin", "spam", "relay", "unknown_recipient"],
  );
  assert.equal(a.query({ address: "C@Y.TEST", limit: 10 })[0].message, "M1");
  assert.equal(a.query({ ip: "192.0.2.4", limit: 10 }).length, 3);
  assert.equal(a.query({ message: "M3", limit: 10 }).length, 2);
  const page = a.query({ limit: 2 });
  assert.equal(a.query({ limit: 100, before: page[1].id })[0].id, page[1].id - 1);
  const h = a.hourly(24);
  assert.equal(h.length, 24);
  assert.deepEqual(
    { ...h[23], hour: 0 },
    { hour: 0, in: 2, out: 2, spam: 2, refused: 4, loginFailed: 2 },
  );
  // An hour later the counts move one slot left.
  now += 3_600_000;
  assert.equal(a.hourly(24)[22].refused, 4);
  assert.equal(a.hourly(24)[23].refused, 0);
});

Deno.test("activity: the ring keeps the newest CAPACITY events", () => {
  const a = new ActivityLog(3);
  for (let i = 0; i < 5; i++) {
    a.add({
      kind: "refused",
      protocol: "smtp",
      ip: "",
      addresses: [],
      message: `m${i}`,
      detail: "",
    });
  }
  assert.deepEqual(a.query({ limit: 10 }).map((e) => e.message), ["m4", "m3", "m2"]);
  // Hourly counts are kept apart from the ring: all five are counted.
  assert.equal(a.hourly(1)[0].refused, 5);
});
