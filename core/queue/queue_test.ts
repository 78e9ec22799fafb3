/** Unit tests of the pure parts of outbound delivery: no network. */
import assert from "node:assert/strict";
import { mxHosts, orderMx } from "./mx.ts";
import { buildDsn, countReceived, decodeXtext, wantsNotice } from "./dsn.ts";
import { fromDomain } from "./dkim.ts";
import { owedNotices } from "./notices.ts";
import { DnsError, type DnsResolver } from "../dns.ts";
import { DeliveryError } from "./failure.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test("queue: pure helpers", async (t) => {
  await t.step("MX order: preference first, equal preferences shuffled", () => {
    const recs = [
      { preference: 20, exchange: "c" },
      { preference: 10, exchange: "a" },
      { preference: 10, exchange: "b" },
    ];
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const o = orderMx(recs).map((h) => h.host);
      assert.equal(o[2], "c");
      seen.add(o.join(","));
    }
    assert.deepEqual([...seen].sort(), ["a,b,c", "b,a,c"]);
  });

  await t.step("mxHosts: implicit MX, null MX, NXDOMAIN, temporary", async () => {
    const fake = (mx: DnsResolver["mx"]): DnsResolver => ({
      mx,
      a: () => Promise.resolve([]),
      aaaa: () => Promise.resolve([]),
      txt: () => Promise.resolve([]),
    });
    const nodata = fake(() => Promise.reject(new DnsError("nodata", "none")));
    assert.deepEqual(await mxHosts("x.test", nodata), [{ host: "x.test", preference: 0 }]);
    const nul = fake(() => Promise.resolve([{ preference: 0, exchange: "" }]));
    await assert.rejects(
      mxHosts("x.test", nul),
      (e) => e instanceof DeliveryError && e.permanent && e.status === "5.1.10",
    );
    const nx = fake(() => Promise.reject(new DnsError("nxdomain", "nx")));
    await assert.rejects(mxHosts("x.test", nx), (e) => e instanceof DeliveryError && e.permanent);
    const tmp = fake(() => Promise.reject(new DnsError("temp", "servfail")));
    await assert.rejects(mxHosts("x.test", tmp), (e) => e instanceof DeliveryError && !e.permanent);
    assert.deepEqual(await mxHosts("[127.0.0.1]", tmp), [{ host: "127.0.0.1", preference: 0 }]);
  });

  await t.step("NOTIFY (RFC 3461 §4.1)", () => {
    const r = (notify?: string[]) => ({
      address: "x@y",
      status: "pending" as const,
      dsn: notify ? { notify } : {},
    });
    assert.equal(wantsNotice(r(), "failed"), true);
    assert.equal(wantsNotice(r(["NEVER"]), "failed"), false);
    assert.equal(wantsNotice(r(["SUCCESS"]), "failed"), false);
    assert.equal(wantsNotice(r(["SUCCESS", "FAILURE"]), "failed"), true);
    assert.equal(wantsNotice(r(["FAILURE"]), "delayed"), false);
    assert.equal(decodeXtext("a+2Bb@c"), "a+b@c");
  });

  await t.step("DSN: RET=HDRS returns the header only; ORCPT and ENVID", () => {
    const original = enc.encode("Subject: hi\r\nFrom: a@a.test\r\n\r\nSECRET BODY\r\n");
    const dsn = dec.decode(buildDsn({
      hostname: "mx.a.test",
      sender: "a@a.test",
      recipients: [{
        address: "b@b.test",
        orcpt: "rfc822;B+2Btag@b.test",
        action: "failed",
        status: "5.1.1",
        diagnostic: "550 5.1.1 nope",
        remoteMta: "mx.b.test",
      }],
      original,
      ret: "HDRS",
      envid: "ENV+2B1",
      arrivalDate: 0,
      now: 0,
    }));
    assert.match(dsn, /Content-Type: text\/rfc822-headers/);
    assert.ok(!dsn.includes("SECRET BODY"));
    assert.match(dsn, /Original-Recipient: rfc822; B\+tag@b\.test/);
    assert.match(dsn, /Original-Envelope-Id: ENV\+1/);
    assert.match(dsn, /Reporting-MTA: dns; mx\.a\.test/);
    assert.match(dsn, /^Auto-Submitted: auto-replied/m);
  });

  await t.step("DSN: delay warning (RFC 3464 §2.3.3, §2.3.9)", () => {
    const dsn = dec.decode(buildDsn({
      hostname: "mx.a.test",
      sender: "a@a.test",
      recipients: [{
        address: "b@b.test",
        action: "delayed",
        status: "4.4.2",
        diagnostic: "451 4.4.2 connection refused",
        willRetryUntil: Date.UTC(2030, 0, 6),
      }],
      original: enc.encode("Subject: hi\r\n\r\nbody\r\n"),
      ret: "HDRS",
      arrivalDate: 0,
      now: 0,
    }));
    assert.match(dsn, /^Subject: Delayed Mail/m);
    assert.match(dsn, /^Action: delayed\r$/m);
    assert.match(dsn, /^Status: 4\.4\.2\r$/m);
    assert.match(dsn, /^Will-Retry-Until: Sun, 6 Jan 2030 00:00:00 \+0000\r$/m);
  });

  await t.step("owed notices read from queue meta; malformed ones ignored", () => {
    const good = { action: "failed", recipients: [{ address: "b@b.test" }], at: 1 };
    assert.deepEqual(owedNotices({ notices: [good] }), [good]);
    assert.deepEqual(owedNotices({}), []);
    assert.deepEqual(owedNotices({ notices: "x" }), []);
    assert.deepEqual(
      owedNotices({ notices: [null, { ...good, action: "x" }, { ...good, recipients: [] }] }),
      [],
    );
  });

  await t.step("Received counting and From domain", () => {
    const msg = enc.encode(
      'Received: a\r\nreceived: b\r\nFrom: "X" <x@Example.TEST>\r\n\r\nReceived: body\r\n',
    );
    assert.equal(countReceived(msg), 2);
    assert.equal(fromDomain(msg), "example.test");
  });
});
