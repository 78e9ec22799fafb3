/**
 * RFC 8461 §5 caching against a real HTTPS server (a test CA): the policy is fetched once
 * per TXT id, refetched when the id changes, kept when a refetch fails or the TXT record
 * disappears, and forgotten after max_age; fetch failures are reported by type.
 */
import assert from "node:assert/strict";
import { lookupSts, type StsDeps } from "./mta_sts.ts";
import { DnsError, type DnsResolver } from "../dns.ts";
import type { Store } from "../../storage/mod.ts";
import { startTestCa } from "../../tests/lib/test_ca.ts";

Deno.test("MTA-STS policy cache (RFC 8461 §5)", async () => {
  const ca = await startTestCa();
  const web = await ca.issue("web", ["mta-sts.d.test"]);
  let body = "version: STSv1\nmode: enforce\nmx: mx.d.test\nmax_age: 100\n";
  let status = 200;
  let fetches = 0;
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: await Deno.readTextFile(web.certFile),
    key: await Deno.readTextFile(web.keyFile),
    onListen() {},
  }, () => {
    fetches++;
    return new Response(body, { status, headers: { "content-type": "text/plain" } });
  });
  let txt: string[] | null = ["v=STSv1; id=one"];
  const dns = {
    txt: () => txt ? Promise.resolve(txt) : Promise.reject(new DnsError("nxdomain", "gone")),
    a: () => Promise.resolve(["127.0.0.1"]),
    aaaa: () => Promise.reject(new DnsError("nodata", "none")),
    mx: () => Promise.reject(new DnsError("nodata", "none")),
  } as DnsResolver;
  const kv = new Map<string, string>();
  const store = {
    kvGet: (ns: string, k: string) => Promise.resolve(kv.get(`${ns}/${k}`) ?? null),
    kvSet: (ns: string, k: string, v: string) => Promise.resolve(void kv.set(`${ns}/${k}`, v)),
  } as unknown as Store;
  let now = 1_000_000;
  const deps: StsDeps = {
    dns,
    store,
    now: () => now,
    ca: [ca.caPem],
    httpsPort: server.addr.port,
    timeoutMs: 10_000,
  };
  try {
    const first = await lookupSts(deps, "d.test");
    assert.equal(first.policy?.mode, "enforce");
    assert.equal((await lookupSts(deps, "d.test")).policy?.mode, "enforce");
    assert.equal(fetches, 1, "same id: the cached policy");
    // A new id: refetched.
    body = "version: STSv1\nmode: testing\nmx: mx.d.test\nmax_age: 100\n";
    txt = ["v=STSv1; id=two"];
    assert.equal((await lookupSts(deps, "d.test")).policy?.mode, "testing");
    assert.equal(fetches, 2);
    // Another id whose fetch fails: the cached policy stays, the error is reported.
    txt = ["v=STSv1; id=three"];
    status = 500;
    const failed = await lookupSts(deps, "d.test");
    assert.equal(failed.policy?.mode, "testing");
    assert.equal(failed.error, "sts-policy-fetch-error");
    // An invalid policy: reported as such, the cached one stays.
    status = 200;
    body = "version: STSv1\nmode: bogus\n";
    const invalid = await lookupSts(deps, "d.test");
    assert.equal(invalid.error, "sts-policy-invalid");
    assert.equal(invalid.policy?.mode, "testing");
    // The TXT record gone: the cached policy until max_age, then none.
    txt = null;
    assert.equal((await lookupSts(deps, "d.test")).policy?.mode, "testing");
    now += 101_000;
    assert.equal((await lookupSts(deps, "d.test")).policy, null);
    // A certificate the fetcher does not trust: sts-webpki-invalid.
    txt = ["v=STSv1; id=four"];
    const untrusted = await lookupSts({ ...deps, ca: [] }, "d.test");
    assert.equal(untrusted.policy, null);
    assert.equal(untrusted.error, "sts-webpki-invalid");
  } finally {
    await server.shutdown();
    await ca.close();
  }
});
