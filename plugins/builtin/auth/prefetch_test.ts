/** What the auth plugin asks the DNS service for up front, and the per-message memo. */
import assert from "node:assert/strict";
import { memoDns, prefetchNames, treeWalkNames } from "./prefetch.ts";
import type { DnsType } from "../../sdk.ts";

Deno.test("DMARC tree walk names (RFC 9989 §4.10): each parent, long names jump", () => {
  assert.deepEqual(treeWalkNames("Mail.Example.COM."), [
    "_dmarc.mail.example.com",
    "_dmarc.example.com",
    "_dmarc.com",
  ]);
  const long = treeWalkNames("a.b.c.d.e.f.g.h.i.example.org");
  assert.equal(long[0], "_dmarc.a.b.c.d.e.f.g.h.i.example.org");
  assert.equal(long[1], "_dmarc.e.f.g.h.i.example.org"); // the last seven labels
  assert.equal(long.at(-1), "_dmarc.org");
  assert.equal(long.length, 8);
});

Deno.test("prefetch: SPF domain (HELO for the null sender), DKIM keys, author walk", () => {
  const headers: [string, string][] = [
    ["DKIM-Signature", "v=1; a=rsa-sha256; d=Sender.Example;\r\n s=sel1; bh=x; b=y"],
    ["From", "Someone <someone@news.sender.example>"],
  ];
  assert.deepEqual(prefetchNames({ sender: "bounce@Sender.Example", headers }), [
    ["sender.example", "TXT"],
    ["sel1._domainkey.sender.example", "TXT"],
    ["_dmarc.news.sender.example", "TXT"],
    ["_dmarc.sender.example", "TXT"],
    ["_dmarc.example", "TXT"],
  ]);
  assert.deepEqual(prefetchNames({ sender: "", helo: "MX.Sender.Example", headers: [] }), [
    ["mx.sender.example", "TXT"],
  ]);
  // Several author mailboxes: no single domain to walk, nothing guessed.
  assert.deepEqual(
    prefetchNames({ sender: "", headers: [["From", "a@x.example, b@y.example"]] }),
    [],
  );
});

Deno.test("memo: one lookup per name and type; failures are shared, never unhandled", async () => {
  const asked: string[] = [];
  const dns = memoDns({
    resolve(name: string, type: DnsType) {
      asked.push(`${type} ${name}`);
      return name === "bad.example"
        ? Promise.reject(new Error("SERVFAIL"))
        : Promise.resolve([name]);
    },
  });
  dns.prefetch([["a.example", "TXT"], ["bad.example", "TXT"], ["A.example", "TXT"]]);
  assert.deepEqual(await dns.resolve("a.example", "TXT"), ["a.example"]);
  await assert.rejects(dns.resolve("bad.example", "TXT"), /SERVFAIL/);
  await dns.resolve("a.example", "MX");
  assert.deepEqual(asked, ["TXT a.example", "TXT bad.example", "MX a.example"]);
});
