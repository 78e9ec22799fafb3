/**
 * Outbound TLS policies end to end: MTA-STS (RFC 8461), DANE (RFC 7672) and the TLS-RPT
 * report (RFC 8460). Sender A (denomail) delivers to destination B (denomail with a
 * certificate from a test CA for mx.b.test) for several domains whose MX all point at B;
 * DNS comes from the loopback server (AD bit and TLSA on the names that need them); the
 * MTA-STS policies are served by a small HTTPS server in the test (Deno.serve with a
 * certificate from the same CA, trusted by A through `[delivery] tls_ca_file`).
 */
import assert from "node:assert/strict";
import { createHash, X509Certificate } from "node:crypto";
import { python, startTestServer, type TestServer } from "./harness.ts";
import { startDnsServer, type TestDnsServer, type ZoneEntry } from "./lib/dns_server.ts";
import { freePort, inbox, startSender, SUBMIT_PY, waitFor } from "./lib/outbound_fixture.ts";
import { startTestCa, type TestCa } from "./lib/test_ca.ts";
import { sendTlsReports } from "../core/reports/tlsrpt.ts";
import { createResolver } from "../core/dns.ts";
import { reportAttachment } from "./lib/report_mail.ts";

const sha256 = (b: Uint8Array) => new Uint8Array(createHash("sha256").update(b).digest());

/** SUBMIT_PY with MAIL FROM ... REQUIRETLS (RFC 8689), over STARTTLS. */
const REQUIRETLS_PY = SUBMIT_PY.replace(
  "s.sendmail(frm, to, body.encode())",
  's.sendmail(frm, to, body.encode(), mail_options=["REQUIRETLS"])',
);

Deno.test("outbound security: MTA-STS, DANE, TLS-RPT", async (t) => {
  const ca: TestCa = await startTestCa();
  const mx = await ca.issue("mx", ["mx.b.test"]);
  const policyDomains = ["sts.test", "bad.test", "notin.test", "testing.test", "dane.test"];
  const web = await ca.issue("web", policyDomains.map((d) => `mta-sts.${d}`));
  const policies: Record<string, string> = {
    "sts.test": "version: STSv1\r\nmode: enforce\r\nmx: *.b.test\r\nmax_age: 86400\r\n",
    "bad.test": "version: STSv1\r\nmode: enforce\r\nmx: mx.bad.test\r\nmax_age: 86400\r\n",
    "notin.test": "version: STSv1\r\nmode: enforce\r\nmx: mx.other.test\r\nmax_age: 86400\r\n",
    "testing.test": "version: STSv1\r\nmode: testing\r\nmx: mx.bad.test\r\nmax_age: 86400\r\n",
    // DANE takes precedence (RFC 8461 §2): this policy would refuse mx.dane.test.
    "dane.test": "version: STSv1\r\nmode: enforce\r\nmx: mx.other.test\r\nmax_age: 86400\r\n",
  };
  let fetches = 0;
  const https = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: await Deno.readTextFile(web.certFile),
    key: await Deno.readTextFile(web.keyFile),
    onListen() {},
  }, (req) => {
    const host = (req.headers.get("host") ?? "").replace(/:\d+$/, "").replace(/^mta-sts\./, "");
    const url = new URL(req.url);
    const p = policies[host];
    if (url.pathname !== "/.well-known/mta-sts.txt" || !p) {
      return new Response("no", { status: 404 });
    }
    fetches++;
    return new Response(p, { headers: { "content-type": "text/plain" } });
  });
  const bPort = freePort();
  const lo = { A: ["127.0.0.1"] };
  const zone: Record<string, ZoneEntry> = {
    "a.test": { MX: [{ preference: 10, exchange: "mx.a.test" }] },
    "mx.a.test": lo,
    "b.test": { MX: [{ preference: 10, exchange: "mx.b.test" }] },
    "mx.b.test": { ...lo, ad: true }, // signed: DANE-TA below applies to it
    "mx.bad.test": lo,
    "sts.test": { MX: [{ preference: 10, exchange: "mx.b.test" }] },
    "bad.test": { MX: [{ preference: 10, exchange: "mx.bad.test" }] },
    "notin.test": { MX: [{ preference: 10, exchange: "mx.b.test" }] },
    "testing.test": { MX: [{ preference: 10, exchange: "mx.bad.test" }] },
    "_smtp._tls.sts.test": { TXT: ["v=TLSRPTv1; rua=mailto:tlsrpt@b.test"] },
    "_smtp._tls.testing.test": { TXT: ["v=TLSRPTv1;rua=mailto:tlsrpt@b.test"] },
    "_smtp._tls.danebad.test": { TXT: ["v=TLSRPTv1; rua=mailto:tlsrpt@b.test"] },
    // DANE: signed MX (AD) and TLSA records.
    "dane.test": { ad: true, MX: [{ preference: 10, exchange: "mx.dane.test" }] },
    "mx.dane.test": { ...lo, ad: true },
    [`_${bPort}._tcp.mx.dane.test`]: {
      ad: true,
      TLSA: [{ usage: 3, selector: 1, matching: 1, data: sha256(mx.spki) }],
    },
    "danebad.test": { ad: true, MX: [{ preference: 10, exchange: "mx.danebad.test" }] },
    "mx.danebad.test": { ...lo, ad: true },
    [`_${bPort}._tcp.mx.danebad.test`]: {
      ad: true,
      TLSA: [{ usage: 3, selector: 1, matching: 1, data: new Uint8Array(32).fill(7) }],
    },
    // The same wrong record, but the resolver does not vouch for it: ignored.
    "danenoad.test": { MX: [{ preference: 10, exchange: "mx.danenoad.test" }] },
    "mx.danenoad.test": lo,
    [`_${bPort}._tcp.mx.danenoad.test`]: {
      TLSA: [{ usage: 3, selector: 1, matching: 1, data: new Uint8Array(32).fill(7) }],
    },
    // DANE-TA: the CA's certificate (usage 2, full cert, SHA-256); the name is checked.
    "danta.test": { ad: true, MX: [{ preference: 10, exchange: "mx.b.test" }] },
    [`_${bPort}._tcp.mx.b.test`]: {
      ad: true,
      TLSA: [{
        usage: 2,
        selector: 0,
        matching: 1,
        data: sha256(new Uint8Array(new X509Certificate(ca.caPem).raw)),
      }],
    },
  };
  for (const d of policyDomains) {
    zone[`_mta-sts.${d}`] = { TXT: ["v=STSv1; id=20260101T000000"] };
    zone[`mta-sts.${d}`] = lo;
  }
  const dns: TestDnsServer = await startDnsServer(zone);
  let a: TestServer | null = null;
  let b: TestServer | null = null;
  try {
    b = await startTestServer({
      hostname: "mx.b.test",
      listeners: { smtp: `127.0.0.1:${bPort}` },
      tls: { cert: mx.certFile, key: mx.keyFile },
    });
    const users = ["bob@b.test", "tlsrpt@b.test", "ok@sts.test", "x@bad.test", "x@notin.test"]
      .concat(["t@testing.test", "d@dane.test", "d@danebad.test", "d@danenoad.test"])
      .concat(["d@danta.test"]);
    for (const u of users) await b.addUser(u, "pw-secret");
    a = await startSender(dns, bPort, {
      retry_schedule: ["1h"],
      tls_ca_file: ca.caFile,
      mta_sts_https_port: https.addr.port,
    }, { reports: { tls_rpt: true, from: "postmaster@a.test" } });
    const submit = (to: string, subject: string) =>
      python(SUBMIT_PY, [String(a!.port("submission")), "alice@a.test", to, subject]);
    const delivered = (to: string, subject: string) =>
      waitFor(
        async () => (await inbox(b!.store, to)).some((m) => m.includes(subject)),
        `${subject} at ${to}`,
        30000,
      );
    const deferred = async (to: string) => {
      const e = await waitFor(
        async () =>
          (await a!.store.listQueue()).find((q) =>
            q.recipients.some((r) => r.address === to) && q.attempts > 0
          ),
        `a deferred attempt for ${to}`,
        30000,
      );
      const r = e.recipients.find((x) => x.address === to)!;
      assert.equal(r.status, "pending", "deferred, not bounced");
      assert.equal((await inbox(b!.store, to)).length, 0, "nothing reached B");
      return e.lastError ?? "";
    };

    await t.step("enforce + valid certificate for a listed MX -> delivered", async () => {
      await submit("ok@sts.test", "sts ok");
      await delivered("ok@sts.test", "sts ok");
    });

    await t.step("enforce + certificate not valid for the MX -> deferred, not sent", async () => {
      await submit("x@bad.test", "bad cert");
      const err = await deferred("x@bad.test");
      assert.match(err, /^451 4\.7\.5 mx\.bad\.test .*MTA-STS policy of bad\.test/);
    });

    await t.step("enforce + MX not in the policy -> deferred", async () => {
      await submit("x@notin.test", "not in policy");
      const err = await deferred("x@notin.test");
      assert.match(err, /4\.7\.5 mx\.b\.test is not an MX host of notin\.test's MTA-STS policy/);
    });

    await t.step("testing mode: delivered despite the bad certificate (reported)", async () => {
      await submit("t@testing.test", "testing mode");
      await delivered("t@testing.test", "testing mode");
    });

    await t.step("DANE-EE match -> delivered (and wins over MTA-STS)", async () => {
      await submit("d@dane.test", "dane match");
      await delivered("d@dane.test", "dane match");
    });

    await t.step("DANE-TA match (CA in the chain, name checked) -> delivered", async () => {
      await submit("d@danta.test", "dane ta");
      await delivered("d@danta.test", "dane ta");
    });

    await t.step("TLSA mismatch -> deferred", async () => {
      await submit("d@danebad.test", "dane mismatch");
      const err = await deferred("d@danebad.test");
      assert.match(err, /4\.7\.5 mx\.danebad\.test .*DANE policy of danebad\.test/);
    });

    await t.step("no AD bit -> TLSA ignored, delivered", async () => {
      await submit("d@danenoad.test", "dane no ad");
      await delivered("d@danenoad.test", "dane no ad");
    });

    const submitRequireTls = (to: string, subject: string) =>
      python(REQUIRETLS_PY, [String(a!.port("submission")), "alice@a.test", to, subject]);

    await t.step("REQUIRETLS + enforced MTA-STS + verified TLS -> delivered", async () => {
      await submitRequireTls("ok@sts.test", "requiretls ok");
      await delivered("ok@sts.test", "requiretls ok");
    });

    await t.step("REQUIRETLS without DNSSEC or MTA-STS for the MX -> deferred", async () => {
      await submitRequireTls("bob@b.test", "requiretls refused");
      const err = await deferred("bob@b.test");
      assert.match(err, /^451 4\.7\.30 mx\.b\.test .*REQUIRETLS: the MX of b\.test/);
    });

    await t.step("the policy is cached: fetched once per domain", async () => {
      const before = fetches;
      await submit("ok@sts.test", "sts again");
      await delivered("ok@sts.test", "sts again");
      assert.equal(fetches, before);
    });

    await t.step("the day's TLS-RPT reports parse back (RFC 8460 §4.4)", async () => {
      const sent = await sendTlsReports({
        config: a!.config,
        store: a!.store,
        router: a!.server.deps.router,
        dns: createResolver({ nameserver: { host: "127.0.0.1", port: dns.port }, timeoutMs: 2000 }),
        now: Date.now,
      }, { includeToday: true });
      assert.deepEqual(sent.map((s) => s.domain).sort(), [
        "danebad.test",
        "sts.test",
        "testing.test",
      ]);
      const reports = await waitFor(
        async () => {
          const m = await inbox(b!.store, "tlsrpt@b.test");
          return m.length === 3 ? m : null;
        },
        "three reports at tlsrpt@b.test",
        30000,
      );
      const byDomain = new Map<string, Record<string, unknown>>();
      for (const m of reports) {
        assert.match(m, /Content-Type: multipart\/report; report-type="tlsrpt"/);
        assert.match(m, /^TLS-Report-Submitter: /m);
        const json = JSON.parse(await reportAttachment(m, "application/tlsrpt+gzip"));
        byDomain.set(/^TLS-Report-Domain: (\S+)/m.exec(m)![1], json);
      }
      // deno-lint-ignore no-explicit-any
      const sts = byDomain.get("sts.test") as any;
      for (
        const k of ["organization-name", "date-range", "contact-info", "report-id", "policies"]
      ) {
        assert.ok(k in sts, `missing ${k}`);
      }
      assert.match(sts["date-range"]["start-datetime"], /^\d{4}-\d\d-\d\dT00:00:00Z$/);
      const p = sts.policies[0];
      assert.equal(p.policy["policy-type"], "sts");
      assert.equal(p.policy["policy-domain"], "sts.test");
      assert.deepEqual(p.policy["mx-host"], ["*.b.test"]);
      assert.ok(p.policy["policy-string"].includes("mode: enforce"));
      assert.equal(p.summary["total-successful-session-count"], 3);
      assert.equal(p.summary["total-failure-session-count"], 0);
      // deno-lint-ignore no-explicit-any
      const testing = byDomain.get("testing.test") as any;
      const tp = testing.policies[0];
      assert.equal(tp.summary["total-failure-session-count"], 1);
      assert.equal(tp["failure-details"][0]["result-type"], "certificate-host-mismatch");
      assert.equal(tp["failure-details"][0]["receiving-mx-hostname"], "mx.bad.test");
      assert.equal(tp["failure-details"][0]["receiving-ip"], "127.0.0.1");
      // deno-lint-ignore no-explicit-any
      const dane = (byDomain.get("danebad.test") as any).policies[0];
      assert.equal(dane.policy["policy-type"], "tlsa");
      assert.deepEqual(dane.policy["policy-string"], [`3 1 1 ${"07".repeat(32)}`]);
      assert.equal(dane.summary["total-successful-session-count"], 0);
      assert.ok(dane.summary["total-failure-session-count"] >= 1);
      assert.equal(dane["failure-details"][0]["result-type"], "tlsa-invalid");
    });
  } finally {
    await a?.stop();
    await b?.stop();
    await https.shutdown();
    await dns.close();
    await ca.close();
  }
});
