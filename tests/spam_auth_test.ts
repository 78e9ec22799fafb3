/**
 * builtin:auth through the real plugin host and a loopback DNS server: SPF, DKIM and DMARC
 * pass and fail, the Authentication-Results header, DMARC p=reject / p=quarantine and their
 * options, ARC override by a trusted sealer, authenticated sessions, DNS failures.
 */
import assert from "node:assert/strict";
import { startDnsServer } from "./lib/dns_server.ts";
import { addr, dkimSigned, eml, startPluginHost, testDkimKey } from "./spam_helpers.ts";
import { parseAuthNote } from "../plugins/builtin/auth/results.ts";
import { dmarcAction, lastArcSealer, readAuthOptions } from "../plugins/builtin/auth/mod.ts";
import { authResultsValue, fromAddresses } from "../plugins/builtin/auth/verify.ts";
import { cachedDns } from "../plugins/builtin/auth/resolver.ts";

const IP_OK = "192.0.2.10";
const IP_BAD = "203.0.113.66";

function message(from: string, subject = "hello", body = "Just checking in.") {
  return eml([
    `From: Sender <${from}>`,
    "To: rcpt@example.test",
    `Subject: ${subject}`,
    "Date: Mon, 02 Jun 2025 10:00:00 +0000",
    `Message-ID: <${crypto.randomUUID()}@${from.split("@")[1]}>`,
    "",
    body,
  ]);
}

Deno.test("auth: pure helpers", () => {
  assert.equal(authResultsValue("mx.example.test", []), "mx.example.test; none");
  assert.equal(authResultsValue("a b", ["spf=pass"]), '"a b"; spf=pass');
  assert.deepEqual(
    fromAddresses([["From", "A <a@x.test>, b@y.test"], ["To", "c@z.test"], [
      "from",
      "team: d@x.test;",
    ]]),
    { addresses: ["a@x.test", "b@y.test", "d@x.test"], fields: 2 },
  );
  assert.equal(
    lastArcSealer(["i=1; a=rsa-sha256; d=one.test; s=x", "i=2; d=Two.test; s=y; cv=pass"]),
    "two.test",
  );
  const o = readAuthOptions({ arc_trusted_sealers: ["lists.test"] });
  const fail = {
    spf: "fail",
    dkim: "none",
    dkimAligned: false,
    dmarc: "fail",
    policy: "reject",
    arc: "pass",
  };
  assert.equal(dmarcAction(fail, o, "lists.test"), "none");
  assert.equal(dmarcAction(fail, o, "other.test"), "reject");
  assert.equal(dmarcAction({ ...fail, policy: "quarantine" }, o, null), "quarantine");
  assert.equal(dmarcAction({ ...fail, dmarc: "pass" }, o, null), "none");
  assert.equal(dmarcAction(fail, readAuthOptions({ dmarc_reject: "junk" }), null), "quarantine");
  assert.throws(() => readAuthOptions({ dmarc_reject: "bounce" }), /dmarc_reject/);
});

Deno.test("auth: DNS answers are reused, failures are not", async () => {
  let asked = 0;
  let fail = true;
  const dns = cachedDns({
    resolve: (name) => {
      asked++;
      if (name === "bad.test" && fail) return Promise.reject(new Error("SERVFAIL"));
      return Promise.resolve([`v=spf1 -all ${name}`]);
    },
  }, 60_000);
  assert.deepEqual(await dns.resolve("a.test", "TXT"), ["v=spf1 -all a.test"]);
  await dns.resolve("A.test", "TXT");
  assert.equal(asked, 1);
  await dns.resolve("a.test", "A");
  assert.equal(asked, 2);
  await assert.rejects(dns.resolve("bad.test", "TXT"));
  fail = false;
  assert.deepEqual(await dns.resolve("bad.test", "TXT"), ["v=spf1 -all bad.test"]);
  assert.equal(asked, 4);
});

Deno.test("auth plugin: SPF, DKIM, DMARC against a test DNS server", async (t) => {
  const good = testDkimKey("good.test");
  const dns = await startDnsServer({
    "good.test": { TXT: [`v=spf1 ip4:${IP_OK} -all`] },
    [good.name]: { TXT: [good.txt] },
    "_dmarc.good.test": { TXT: ["v=DMARC1; p=reject"] },
    "quar.test": { TXT: [`v=spf1 ip4:${IP_OK} -all`] },
    "_dmarc.quar.test": { TXT: ["v=DMARC1; p=quarantine"] },
    "soft.test": { TXT: [`v=spf1 ~all`] },
    "broken.test": { servfail: true },
    "_dmarc.broken.test": { servfail: true },
  });
  const h = await startPluginHost(
    [{ name: "auth", module: "builtin:auth", options: { authserv_id: "mx.example.test" } }],
    { nameserver: dns.nameserver },
  );
  const data = (raw: Uint8Array, sender: string, ip: string, user?: string) =>
    h.host.run("data", {
      session: {
        id: "a1",
        remoteIp: ip,
        tls: false,
        helo: "client.test",
        ...(user ? { user } : {}),
      },
      sender: addr(sender),
      recipients: [addr("rcpt@example.test")],
      message: raw,
    });
  const arHeader = (raw: Uint8Array | undefined) => {
    const text = new TextDecoder().decode(raw);
    const m = /^Authentication-Results: (.*)$/m.exec(text);
    assert.ok(m, `no Authentication-Results in\n${text.slice(0, 400)}`);
    return m[1];
  };
  try {
    await t.step("pass: SPF pass, DKIM pass (aligned), DMARC pass", async () => {
      const raw = await dkimSigned(message("alice@good.test"), good);
      const out = await data(raw, "alice@good.test", IP_OK);
      assert.equal(out.action, "continue", JSON.stringify(out.results));
      const ar = arHeader(out.message);
      assert.match(ar, /^mx\.example\.test; /);
      assert.match(ar, /dkim=pass/);
      assert.match(ar, /spf=pass/);
      assert.match(ar, /dmarc=pass/);
      const s = parseAuthNote(out.results[0].note)!;
      assert.deepEqual([s.spf, s.dkim, s.dkimAligned, s.dmarc], ["pass", "pass", true, "pass"]);
    });
    await t.step("fail: SPF fail + unsigned + DMARC p=reject -> 550 5.7.1", async () => {
      const out = await data(message("mallory@good.test"), "mallory@good.test", IP_BAD);
      assert.deepEqual([out.action, out.code, out.enhanced], ["reject", 550, "5.7.1"]);
      assert.match(out.text ?? "", /DMARC/);
      const s = parseAuthNote(out.results[0].note)!;
      assert.deepEqual([s.spf, s.dkim, s.dmarc, s.policy], ["fail", "none", "fail", "reject"]);
    });
    await t.step(
      "fail: DKIM body changed after signing -> dkim=fail, SPF alone passes DMARC",
      async () => {
        const signed = new TextDecoder().decode(await dkimSigned(message("bob@good.test"), good));
        const tampered = new TextEncoder().encode(signed.replace("Just checking", "Send money"));
        const out = await data(tampered, "bob@good.test", IP_OK);
        assert.equal(out.action, "continue");
        const ar = arHeader(out.message);
        assert.match(ar, /dkim=(fail|neutral)/);
        assert.match(ar, /dmarc=pass/);
      },
    );
    await t.step("fail: DKIM key missing from DNS, SPF fail -> reject", async () => {
      const other = testDkimKey("good.test", "nokey");
      const raw = await dkimSigned(message("carol@good.test"), other);
      const out = await data(raw, "carol@good.test", IP_BAD);
      assert.equal(out.action, "reject");
      const s = parseAuthNote(out.results[0].note)!;
      assert.notEqual(s.dkim, "pass");
    });
    await t.step("p=quarantine failure -> Junk, later plugins still run", async () => {
      const out = await data(message("x@quar.test"), "x@quar.test", IP_BAD);
      assert.equal(out.action, "continue");
      assert.equal(out.mailbox, "Junk");
      assert.match(arHeader(out.message), /dmarc=fail/);
    });
    await t.step("softfail and no DMARC record", async () => {
      const out = await data(message("y@soft.test"), "y@soft.test", IP_BAD);
      assert.equal(out.action, "continue");
      assert.equal(out.mailbox, undefined);
      const s = parseAuthNote(out.results[0].note)!;
      assert.deepEqual([s.spf, s.dmarc], ["softfail", "none"]);
    });
    await t.step("DNS failure -> temperror, never a plugin failure", async () => {
      const out = await data(message("z@broken.test"), "z@broken.test", IP_BAD);
      assert.equal(out.action, "continue");
      assert.equal(out.results[0].error, undefined);
      assert.match(arHeader(out.message), /spf=temperror/);
    });
    await t.step("authenticated session: auth=pass, no DNS checks", async () => {
      const out = await data(message("me@good.test"), "me@good.test", IP_BAD, "me@good.test");
      assert.equal(out.action, "continue");
      assert.equal(arHeader(out.message), "mx.example.test; auth=pass smtp.auth=me@good.test");
    });
  } finally {
    await h.stop();
    await dns.close();
  }
});

Deno.test("auth plugin: dmarc_reject = quarantine files in Junk instead", async () => {
  const dns = await startDnsServer({
    "good.test": { TXT: [`v=spf1 ip4:${IP_OK} -all`] },
    "_dmarc.good.test": { TXT: ["v=DMARC1; p=reject"] },
  });
  const h = await startPluginHost(
    [{ name: "auth", module: "builtin:auth", options: { dmarc_reject: "quarantine" } }],
    { nameserver: dns.nameserver },
  );
  try {
    const out = await h.host.run("data", {
      session: { id: "a2", remoteIp: IP_BAD, tls: false, helo: "client.test" },
      sender: addr("m@good.test"),
      recipients: [addr("rcpt@example.test")],
      message: message("m@good.test"),
    });
    assert.deepEqual([out.action, out.mailbox], ["continue", "Junk"]);
  } finally {
    await h.stop();
    await dns.close();
  }
});
