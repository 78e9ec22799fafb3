/** core/dns.ts against a DNS server on loopback: records, NXDOMAIN/NODATA vs temporary errors. */
import assert from "node:assert/strict";
import { createResolver, DnsError } from "../core/dns.ts";
import { startDnsServer } from "./lib/dns_server.ts";

const LONG_TXT = "v=DKIM1; k=rsa; p=" + "A".repeat(392);

Deno.test("dns: resolver honours [dns].nameserver", async (t) => {
  const dns = await startDnsServer({
    "b.test": {
      MX: [{ preference: 20, exchange: "mx2.b.test" }, { preference: 10, exchange: "mx1.b.test" }],
      TXT: ["v=spf1 -all"],
    },
    "mx1.b.test": { A: ["127.0.0.1"], AAAA: ["::1"] },
    "null.test": { MX: [{ preference: 0, exchange: "" }] },
    "k._domainkey.b.test": { TXT: [LONG_TXT] },
    "broken.test": { servfail: true },
    "silent.test": { drop: true },
  });
  const r = createResolver({ nameserver: { host: "127.0.0.1", port: dns.port }, timeoutMs: 600 });
  try {
    await t.step("MX, A, AAAA, TXT", async () => {
      const mx = await r.mx("b.test");
      assert.deepEqual(mx.sort((a, b) => a.preference - b.preference), [
        { preference: 10, exchange: "mx1.b.test" },
        { preference: 20, exchange: "mx2.b.test" },
      ]);
      assert.deepEqual(await r.a("mx1.b.test"), ["127.0.0.1"]);
      assert.deepEqual(await r.aaaa("mx1.b.test"), ["::1"]);
      assert.deepEqual(await r.txt("b.test"), ["v=spf1 -all"]);
    });
    await t.step("TXT longer than 255 octets is joined", async () => {
      assert.deepEqual(await r.txt("k._domainkey.b.test"), [LONG_TXT]);
    });
    await t.step("null MX reads as an empty exchange", async () => {
      assert.deepEqual(await r.mx("null.test"), [{ preference: 0, exchange: "" }]);
    });
    await t.step("NXDOMAIN and NODATA are permanent", async () => {
      await assert.rejects(
        r.mx("nope.test"),
        (e) => e instanceof DnsError && e.kind === "nxdomain",
      );
      await assert.rejects(r.mx("mx1.b.test"), (e) => e instanceof DnsError && e.kind === "nodata");
    });
    await t.step("SERVFAIL and timeouts are temporary", async () => {
      await assert.rejects(r.mx("broken.test"), (e) => e instanceof DnsError && e.kind === "temp");
      await assert.rejects(r.mx("silent.test"), (e) => e instanceof DnsError && !e.permanent);
    });
  } finally {
    await dns.close();
  }
});
