/**
 * Header fields built to make a scan slow: long runs that a backtracking pattern would
 * rescan from every position (seconds each before the rules found addresses and domains
 * with linear scans). The helpers must still read ordinary values exactly as before.
 */
import assert from "node:assert/strict";
import { domainAtEnd, idLeftPart, parseMail } from "../plugins/builtin/spam/parse.ts";
import { tokenize } from "../plugins/builtin/spam/tokenize.ts";
import { addressesIn } from "../plugins/builtin/spam/rules/headers.ts";
import { scanMessage } from "../plugins/builtin/spam/score.ts";
import { readSpamOptions } from "../plugins/builtin/spam/options.ts";
import { fromDomain } from "../core/queue/dkim.ts";

Deno.test("spam helpers: Message-ID and Return-Path parts, addresses in a field", () => {
  assert.equal(domainAtEnd("<abc@Mail.Example.ORG>"), "mail.example.org");
  assert.equal(domainAtEnd("<a@b@c> \r\n"), "b@c");
  assert.equal(domainAtEnd("<a@b> trailing"), undefined);
  assert.equal(domainAtEnd("<>"), undefined);
  assert.equal(idLeftPart("<1234.abc@host>"), "1234.abc");
  assert.equal(idLeftPart("<x> <y@z>"), "y");
  assert.equal(idLeftPart("no angle@host"), undefined);
  assert.deepEqual(
    addressesIn(`"Joe" <joe+news@example.com>, ann@mail.example.org., bob@localhost`),
    ["joe+news@example.com", "ann@mail.example.org"],
  );
  const head = (from: string) => new TextEncoder().encode(`From: ${from}\r\n\r\nbody\r\n`);
  assert.equal(fromDomain(head(`Joe <joe@Example.COM.>`)), "example.com");
  assert.equal(fromDomain(head(`"a@b" <c@d.example>`)), "d.example");
  assert.equal(fromDomain(head(`plain@x.example`)), "x.example");
});

Deno.test("spam scan: crafted 100 KB header fields are scanned in linear time", async () => {
  const options = readSpamOptions({});
  const long = (s: string) => s.repeat(Math.ceil(100_000 / s.length)) + " x";
  const fields = [
    `Message-ID: ${long("@")}`,
    `Message-ID: ${long("<")}`,
    `Reply-To: ${long("a")}`,
    `To: ${long("a+b")}`,
    `Return-Path: ${long("@a")}`,
  ];
  for (const field of fields) {
    const raw = new TextEncoder().encode(
      `From: "Joe" <joe@example.com>\r\n${field}\r\nSubject: hi\r\n\r\nbody text\r\n`,
    );
    const t0 = performance.now();
    await scanMessage({ raw, env: { recipients: ["u+joe@example.org"] } }, {
      options,
      model: null,
    });
    tokenize(parseMail(raw)); // the Bayes tokens read Message-ID and Return-Path too
    // Linear: tens of ms on a slow machine; the old patterns took 4-15 s per field.
    assert.ok(performance.now() - t0 < 3000, `${field.slice(0, 14)} took too long`);
  }
  const t0 = performance.now();
  fromDomain(new TextEncoder().encode(`From: ${long("<")}\r\n\r\n`));
  assert.ok(performance.now() - t0 < 3000, "fromDomain took too long");
});
