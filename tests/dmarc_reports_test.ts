/**
 * DMARC aggregate reports end to end (RFC 7489 §7.2, Appendix C): B (denomail with
 * builtin:auth and `[reports] dmarc_aggregate`) receives a passing message from A (DKIM,
 * SPF) and a spoofed one straight from python smtplib; B's report run mails A's
 * postmaster the day's gzip'd XML (the unauthorized external rua is skipped, §7.1); the
 * XML parses back with the Appendix C elements; A reads the incoming report into its view
 * (`deno task cli dmarc report --domain a.test`).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { python, run, startTestServer, type TestServer } from "./harness.ts";
import { startDnsServer, type TestDnsServer } from "./lib/dns_server.ts";
import {
  dnsSettings,
  freePort,
  inbox,
  publishDkimKey,
  startSender,
  SUBMIT_PY,
  waitFor,
} from "./lib/outbound_fixture.ts";
import { reportAttachment } from "./lib/report_mail.ts";
import { child, parseXml, textAt } from "../core/reports/xml.ts";
import { dmarcSummary } from "../core/reports/dmarc_ingest.ts";
import type { Store } from "../storage/mod.ts";

async function mailbox(store: Store, email: string, name: string): Promise<string[]> {
  const acc = await store.getAccount(email);
  const mb = acc ? await store.getMailbox(acc.id, name) : null;
  if (!mb) return [];
  const out: string[] = [];
  for (const m of await store.listMessages(mb.id)) {
    out.push(new TextDecoder().decode(await store.readBlob(m.blobId)));
  }
  return out;
}

const SPOOF_PY = `
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20)
s.ehlo("evil.test")
s.sendmail("x@evil.test", ["bob@b.test"], b"From: <ceo@a.test>\\r\\nTo: <bob@b.test>\\r\\nSubject: spoofed\\r\\n\\r\\npay now\\r\\n")
s.quit()
`;

Deno.test("DMARC aggregate reports: sent, parsed back, received into the view", async () => {
  const aPort = freePort();
  const bPort = freePort();
  const dns: TestDnsServer = await startDnsServer({
    "a.test": {
      MX: [{ preference: 10, exchange: "mx.a.test" }],
      TXT: ["v=spf1 ip4:127.0.0.1 -all"],
    },
    "mx.a.test": { A: ["127.0.0.1"] },
    "_dmarc.a.test": {
      TXT: ["v=DMARC1; p=quarantine; rua=mailto:postmaster@a.test,mailto:agg@third.test"],
    },
    "b.test": { MX: [{ preference: 10, exchange: "mx.b.test" }] },
    "mx.b.test": { A: ["127.0.0.1"] },
    "evil.test": { A: ["192.0.2.1"] },
  });
  let a: TestServer | null = null;
  let b: TestServer | null = null;
  const cfgDir = await Deno.makeTempDir({ prefix: "denomail-dmarc-cli-" });
  try {
    a = await startSender(dns, bPort, {}, {
      listeners: { smtp: `127.0.0.1:${aPort}`, http: "127.0.0.1:0" },
    });
    await a.addUser("postmaster@a.test", "pw-secret");
    await a.store.setAdmin("postmaster@a.test", true);
    await publishDkimKey(dns, a.config.dataDir, "a.test", "s1");
    b = await startTestServer({
      hostname: "mx.b.test",
      dns: dnsSettings(dns),
      listeners: { smtp: `127.0.0.1:${bPort}` },
      delivery: { smtp_port: aPort, retry_schedule: ["1s"] },
      reports: { dmarc_aggregate: true, from: "postmaster@b.test", org_name: "b.test" },
      plugins: [{ name: "auth", module: "builtin:auth", options: { authserv_id: "mx.b.test" } }],
    });
    await b.addUser("bob@b.test", "pw-secret");
    await python(SUBMIT_PY, [String(a.port("submission")), "alice@a.test", "bob@b.test", "good"]);
    await python(SPOOF_PY, [String(bPort)]);
    await waitFor(
      async () => (await inbox(b!.store, "bob@b.test")).some((m) => m.includes("Subject: good")),
      "the signed message at B",
      30000,
    );
    const spoof = await waitFor(
      async () =>
        (await mailbox(b!.store, "bob@b.test", "Junk")).find((m) => m.includes("spoofed")),
      "the spoofed message in B's Junk (p=quarantine)",
      30000,
    );
    assert.match(spoof, /dmarc=fail/);

    // B's daily run, today included, by the CLI (serve's queue sends what it queues).
    // Counting is after the commit: wait until both messages are counted.
    const key = `${new Date().toISOString().slice(0, 10)}|a.test`;
    await waitFor(
      async () => {
        const rows = JSON.parse(await b!.store.kvGet("denomail:dmarc-agg", key) ?? "[]");
        return rows.length === 2;
      },
      "both messages counted",
      30000,
    );
    const bCfg = join(cfgDir, "b.toml");
    await Deno.writeTextFile(
      bCfg,
      `hostname = "mx.b.test"\ndata_dir = "${b.config.dataDir}"\n` +
        `[dns]\nnameserver = "${dns.nameserver}"\n` +
        `[reports]\ndmarc_aggregate = true\nfrom = "postmaster@b.test"\norg_name = "b.test"\n`,
    );
    const sent = await run("deno", [
      "run",
      "-A",
      "main.ts",
      "reports",
      "send",
      "--now",
      "--config",
      bCfg,
    ]);
    // agg@third.test is not authorized (RFC 7489 §7.1): only postmaster@a.test gets it.
    assert.match(sent.stdout, /^dmarc\t\d{4}-\d\d-\d\d\ta\.test\tpostmaster@a\.test$/m);
    assert.match(sent.stdout, /^1 report queued$/m);

    const report = await waitFor(
      async () =>
        (await inbox(a!.store, "postmaster@a.test")).find((m) =>
          m.includes("Report Domain: a.test")
        ),
      "the report at postmaster@a.test",
      30000,
    );
    assert.match(report, /Submitter: b\.test Report-ID: </);
    assert.match(report, /filename="b\.test!a\.test!\d+!\d+!/);
    const feedback = parseXml(await reportAttachment(report, "application/gzip"));
    assert.equal(feedback.name, "feedback");
    const meta = child(feedback, "report_metadata");
    assert.equal(textAt(meta, "org_name"), "b.test");
    assert.equal(textAt(meta, "email"), "postmaster@b.test");
    assert.ok(textAt(meta, "report_id"));
    assert.match(textAt(meta, "date_range", "begin"), /^\d+$/);
    const pub = child(feedback, "policy_published");
    assert.equal(textAt(pub, "domain"), "a.test");
    assert.equal(textAt(pub, "p"), "quarantine");
    for (const k of ["adkim", "aspf", "sp", "pct"]) {
      assert.ok(textAt(pub, k), `policy_published/${k}`);
    }
    const records = feedback.children.filter((c) => c.name === "record");
    const rows = records.map((r) => ({
      ip: textAt(r, "row", "source_ip"),
      count: textAt(r, "row", "count"),
      disposition: textAt(r, "row", "policy_evaluated", "disposition"),
      dkim: textAt(r, "row", "policy_evaluated", "dkim"),
      spf: textAt(r, "row", "policy_evaluated", "spf"),
      from: textAt(r, "identifiers", "header_from"),
      authDkim: textAt(r, "auth_results", "dkim", "result"),
      authSpfDomain: textAt(r, "auth_results", "spf", "domain"),
    }));
    rows.sort((x, y) => x.disposition < y.disposition ? -1 : 1);
    assert.deepEqual(rows, [
      {
        ip: "127.0.0.1",
        count: "1",
        disposition: "none",
        dkim: "pass",
        spf: "pass",
        from: "a.test",
        authDkim: "pass",
        authSpfDomain: "a.test",
      },
      {
        ip: "127.0.0.1",
        count: "1",
        disposition: "quarantine",
        dkim: "fail",
        spf: "fail",
        from: "a.test",
        authDkim: "",
        authSpfDomain: "evil.test",
      },
    ]);

    // A read the report sent to its postmaster into the view.
    const [summary] = await waitFor(
      async () => {
        const s = await dmarcSummary(a!.store, "a.test");
        return s.length ? s : null;
      },
      "the report in A's view",
      30000,
    );
    assert.equal(summary.reports, 1);
    assert.equal(summary.messages, 2);
    assert.equal(summary.pass, 1);
    assert.equal(summary.fail, 1);
    const api = await fetch(`http://127.0.0.1:${a.port("http")}/api/admin/dmarc?domain=a.test`, {
      headers: { authorization: `Basic ${btoa("postmaster@a.test:pw-secret")}` },
    });
    const view = await api.json();
    assert.equal(api.status, 200, JSON.stringify(view));
    assert.equal(view.domains[0].domain, "a.test");
    assert.equal(view.domains[0].fail, 1);
    const cfg = join(cfgDir, "denomail.toml");
    await Deno.writeTextFile(cfg, `hostname = "mx.a.test"\ndata_dir = "${a.config.dataDir}"\n`);
    const out = await run("deno", [
      "run",
      "-A",
      "main.ts",
      "dmarc",
      "report",
      "--domain",
      "a.test",
      "--config",
      cfg,
    ]);
    assert.match(out.stdout, /^a\.test\treports=1\tmessages=2\tpass=1\tfail=1\t/m);
    assert.match(out.stdout, /^ {2}127\.0\.0\.1\tmessages=2\tfail=1\tb\.test$/m);
  } finally {
    await a?.stop();
    await b?.stop();
    await dns.close();
    await Deno.remove(cfgDir, { recursive: true }).catch(() => {});
  }
});
