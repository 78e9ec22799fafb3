/**
 * `dns check DOMAIN` against a loopback DNS server: each record of `dns` looked up through
 * `[dns] nameserver` and compared the way receivers read it (tags, hosts), one line each,
 * exit 1 while any is missing or wrong, exit 0 once the zone is right.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cli } from "./lib/server_process.ts";
import { startDnsServer, type ZoneEntry } from "./lib/dns_server.ts";
import { configFromObject } from "../core/config.ts";
import { ensureTlsFiles } from "../core/tls.ts";

/** "NAME TYPE" -> status, from the check's output lines. */
function statuses(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const m = /^(OK|MISSING|WRONG) (\S+) (\S+) /.exec(line);
    if (m) out.set(`${m[2]} ${m[3]}`, m[1]);
  }
  return out;
}

Deno.test("cli: dns check compares the published records with the complete set", async () => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-dnscheck-" });
  const dns = await startDnsServer();
  const path = join(dir, "denomail.toml");
  await Deno.writeTextFile(
    path,
    `hostname = "mx.a.test"\ndata_dir = "${dir}/data"\n[dns]\nnameserver = "${dns.nameserver}"\n`,
  );
  try {
    const gen = await cli(["dkim", "generate", "a.test", "--selector", "s1", "--config", path]);
    assert.equal(gen.code, 0, gen.stderr);
    await ensureTlsFiles(configFromObject({ hostname: "mx.a.test", data_dir: `${dir}/data` }, dir));

    // The complete set, as `dns` prints it.
    const printed = await cli(["dns", "a.test", "--config", path]);
    assert.equal(printed.code, 0, printed.stderr);
    const want = new Map<string, string>();
    for (const line of printed.stdout.split("\n")) {
      const m = /^(\S+)\t(\S+)\t(.*)$/.exec(line);
      if (m) want.set(`${m[1]} ${m[2]}`, m[3]);
    }
    for (
      const key of [
        "a.test. MX",
        "a.test. TXT",
        "s1._domainkey.a.test. TXT",
        "_dmarc.a.test. TXT",
        "_mta-sts.a.test. TXT",
        "mta-sts.a.test. CNAME",
        "_smtp._tls.a.test. TXT",
        "autoconfig.a.test. CNAME",
        "autodiscover.a.test. CNAME",
        "_submission._tcp.a.test. SRV",
        "_submissions._tcp.a.test. SRV",
        "_imap._tcp.a.test. SRV",
        "_imaps._tcp.a.test. SRV",
        "_pop3s._tcp.a.test. SRV",
        "_25._tcp.mx.a.test. TLSA",
      ]
    ) assert.ok(want.has(key), `dns prints ${key}:\n${printed.stdout}`);
    assert.match(want.get("_dmarc.a.test. TXT")!, /rua=mailto:postmaster@a\.test/);
    assert.match(want.get("_25._tcp.mx.a.test. TLSA")!, /^3 1 1 [0-9a-f]{64}$/);
    assert.equal(want.get("_imaps._tcp.a.test. SRV"), "0 1 993 mx.a.test.");
    const unquote = (s: string) => s.replace(/^"|"$/g, "").replaceAll('" "', "");
    const dkim = unquote(want.get("s1._domainkey.a.test. TXT")!);
    const tlsa = want.get("_25._tcp.mx.a.test. TLSA")!;

    const zone: Record<string, ZoneEntry> = {
      // MX compared by host; SPF by what it allows (another TXT at the name is not SPF's).
      "a.test": {
        MX: [{ preference: 5, exchange: "mx.a.test" }],
        TXT: ["google-site-verification=x", "v=spf1 a:mx.a.test ip4:192.0.2.9 ~all"],
      },
      "mx.a.test": { A: ["192.0.2.9"] },
      // DKIM: same key, without v= and with folded spaces.
      "s1._domainkey.a.test": { TXT: [dkim.replace("v=DKIM1; ", "").replace("p=", "p= ")] },
      // DMARC: p=none is weaker than the policy to publish.
      "_dmarc.a.test": { TXT: ["v=DMARC1; p=none; rua=mailto:postmaster@a.test"] },
      // MTA-STS: any valid id is fine; the host by its address instead of a CNAME.
      "_mta-sts.a.test": { TXT: ["v=STSv1; id=20240101"] },
      "mta-sts.a.test": { A: ["192.0.2.9"] },
      // _smtp._tls missing; autoconfig pointing elsewhere; autodiscover right.
      "autoconfig.a.test": { CNAME: "old-host.a.test" },
      "autodiscover.a.test": { CNAME: "MX.A.TEST." },
      "_submission._tcp.a.test": { SRV: ["0 1 2587 mx.a.test"] },
      "_submissions._tcp.a.test": { SRV: ["10 5 465 mx.a.test"] },
      "_imaps._tcp.a.test": { SRV: ["0 1 993 mx.a.test"] },
      "_25._tcp.mx.a.test": { TLSA: [tlsa.replace(/[0-9a-f]{4}$/, "0000")] },
    };
    for (const [k, v] of Object.entries(zone)) dns.zone.set(k, v);

    const bad = await cli(["dns", "check", "a.test", "--config", path]);
    assert.equal(bad.code, 1, bad.stdout + bad.stderr);
    assert.match(bad.stderr, /records are not as they should be/);
    const s = statuses(bad.stdout);
    assert.equal(s.size, want.size, bad.stdout);
    const expect: Record<string, string> = {
      "a.test. MX": "OK",
      "a.test. TXT": "OK",
      "s1._domainkey.a.test. TXT": "OK",
      "_dmarc.a.test. TXT": "WRONG",
      "_mta-sts.a.test. TXT": "OK",
      "mta-sts.a.test. CNAME": "OK",
      "_smtp._tls.a.test. TXT": "MISSING",
      "autoconfig.a.test. CNAME": "WRONG",
      "autodiscover.a.test. CNAME": "OK",
      "_submission._tcp.a.test. SRV": "WRONG",
      "_submissions._tcp.a.test. SRV": "OK",
      "_imaps._tcp.a.test. SRV": "OK",
      "_imap._tcp.a.test. SRV": "MISSING",
      "_pop3s._tcp.a.test. SRV": "MISSING",
      "_25._tcp.mx.a.test. TLSA": "WRONG",
    };
    for (const [k, v] of Object.entries(expect)) assert.equal(s.get(k), v, `${k}\n${bad.stdout}`);
    // A WRONG/MISSING line carries the value to publish.
    assert.ok(
      bad.stdout.includes(`WRONG _dmarc.a.test. TXT ${want.get("_dmarc.a.test. TXT")}`),
      bad.stdout,
    );
    assert.ok(bad.stdout.includes(`WRONG _25._tcp.mx.a.test. TLSA ${tlsa}`), bad.stdout);

    // Two SPF records are a permanent error (RFC 7208 §4.5), however right each is.
    dns.zone.set("a.test", {
      MX: [{ preference: 5, exchange: "mx.a.test" }],
      TXT: ["v=spf1 mx -all", "v=spf1 mx -all"],
    });
    // Fix everything else: exit 0 once all is right.
    dns.zone.set("_dmarc.a.test", {
      TXT: ["v=DMARC1; p=reject; rua=mailto:postmaster@a.test,mailto:x@y.test"],
    });
    dns.zone.set("_smtp._tls.a.test", { TXT: ["v=TLSRPTv1;rua=mailto:postmaster@a.test"] });
    dns.zone.set("autoconfig.a.test", { CNAME: "mx.a.test" });
    dns.zone.set("_submission._tcp.a.test", { SRV: ["0 1 587 mx.a.test"] });
    dns.zone.set("_imap._tcp.a.test", { SRV: ["0 1 143 mx.a.test"] });
    dns.zone.set("_pop3s._tcp.a.test", { SRV: ["0 1 995 mx.a.test"] });
    dns.zone.set("_25._tcp.mx.a.test", { TLSA: [tlsa] });
    const spf = await cli(["dns", "check", "a.test", "--config", path]);
    assert.equal(spf.code, 1);
    assert.equal(statuses(spf.stdout).get("a.test. TXT"), "WRONG", spf.stdout);
    dns.zone.set("a.test", {
      MX: [{ preference: 5, exchange: "mx.a.test" }],
      TXT: ["v=spf1 mx -all"],
    });
    const good = await cli(["dns", "check", "a.test", "--config", path]);
    assert.equal(good.code, 0, good.stdout + good.stderr);
    assert.ok([...statuses(good.stdout).values()].every((v) => v === "OK"), good.stdout);

    const usage = await cli(["dns", "check", "--config", path]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /missing argument DOMAIN/);
  } finally {
    await dns.close();
    await Deno.remove(dir, { recursive: true });
  }
});
