import assert from "node:assert/strict";
import { domainPart, isDomainName, parseAddressList, splitMailbox } from "./address.ts";

const a = (
  name: string | null,
  mailbox: string | null,
  host: string | null,
  route: string | null = null,
) => ({
  name,
  route,
  mailbox,
  host,
});
const GROUP_END = a(null, null, null);

Deno.test("RFC 5322 address lists for ENVELOPE", async (t) => {
  const cases: [string, ReturnType<typeof a>[]][] = [
    ["user@example.com", [a(null, "user", "example.com")]],
    ["<user@example.com>", [a(null, "user", "example.com")]],
    ['"Doe, John" <john@example.com>', [a("Doe, John", "john", "example.com")]],
    ["John Q. Public <jqp@example.com>", [a("John Q. Public", "jqp", "example.com")]],
    ["jqp@example.com (John Q. Public)", [a("John Q. Public", "jqp", "example.com")]],
    ['"john\\"s"@example.com', [a(null, 'john"s', "example.com")]],
    ["first.last@sub.example.com", [a(null, "first.last", "sub.example.com")]],
    ["user@[192.0.2.1]", [a(null, "user", "[192.0.2.1]")]],
    ["<@relay1,@relay2:user@example.com>", [a(null, "user", "example.com", "@relay1,@relay2")]],
    ["a@b, , c@d,", [a(null, "a", "b"), a(null, "c", "d")]],
    [
      "Team: x@y.z, Q <q@y.z>; other@y.z",
      [
        a(null, "Team", null),
        a(null, "x", "y.z"),
        a("Q", "q", "y.z"),
        GROUP_END,
        a(null, "other", "y.z"),
      ],
    ],
    ["undisclosed-recipients:;", [a(null, "undisclosed-recipients", null), GROUP_END]],
    ["Unclosed: a@b", [a(null, "Unclosed", null), a(null, "a", "b"), GROUP_END]],
    ["user", [a(null, "user", "MISSING_DOMAIN")]],
    ["@example.com", [a(null, "MISSING_MAILBOX", "example.com")]],
    ["Display Name", [a("Display Name", "MISSING_MAILBOX", "MISSING_DOMAIN")]],
    ['"Only Quoted"', [a("Only Quoted", "MISSING_MAILBOX", "MISSING_DOMAIN")]],
    ["<>", [a(null, "MISSING_MAILBOX", "MISSING_DOMAIN")]],
    ["(just a comment)", []],
    ["", []],
    ["=?utf-8?q?J=C3=B6rg?= <j@example.de>", [a("=?utf-8?q?J=C3=B6rg?=", "j", "example.de")]],
    ["Name <user@example.com> trailing junk, b@c", [
      a("Name", "user", "example.com"),
      a(null, "b", "c"),
    ]],
    ["a@b c@d", [a(null, "a", "b")]],
    ["<unterminated@example.com", [a(null, "unterminated", "SYNTAX_ERROR")]],
    ['"unterminated <x@y>', [a("unterminated <x@y>", "MISSING_MAILBOX", "MISSING_DOMAIN")]],
  ];
  for (const [input, want] of cases) {
    await t.step(JSON.stringify(input), () => assert.deepEqual(parseAddressList(input), want));
  }
  // Malformed addresses, as Dovecot 2.3 reads them (compared over IMAP, issue 13 item 18).
  const dovecot: [string, ReturnType<typeof a>[]][] = [
    ['"" <>', [a(null, "MISSING_MAILBOX", "MISSING_DOMAIN")]],
    ['"" <yyyy@example.com>', [a(null, "yyyy", "example.com")]],
    ["<Undisclosed Recipients@example.com>", [a(null, "Undisclosed", "SYNTAX_ERROR")]],
    ["<Undisclosed-Recipient:;@example.com>", [a(null, "Undisclosed-Recipient", "SYNTAX_ERROR")]],
    ["<a@b c>", [a(null, "a", "SYNTAX_ERROR")]],
    ["<a@>", [a(null, "a", "SYNTAX_ERROR")]],
    ["<foo>", [a(null, "foo", "MISSING_DOMAIN")]],
    ["<@>", [a(null, "MISSING_MAILBOX", "MISSING_DOMAIN", "INVALID_ROUTE")]],
    ["A <a@x.org, B <b@y.org>", [a("A", "a", "SYNTAX_ERROR"), a("B", "b", "y.org")]],
    ["Joe <joe@example.org", [a("Joe", "joe", "SYNTAX_ERROR")]],
    ["john . smith @ example . org", [a(null, "john.smith", "example.org")]],
    ["(c1) user@example.org", [a(null, "user", "example.org")]],
    ["user@example.org (c2) (c3)", [a("c3", "user", "example.org")]],
    ["Group: <a@b>, broken <x@y ;", [
      a(null, "Group", null),
      a(null, "a", "b"),
      a("broken", "x", "SYNTAX_ERROR"),
      GROUP_END,
    ]],
  ];
  for (const [input, want] of dovecot) {
    await t.step(`like Dovecot: ${input}`, () => assert.deepEqual(parseAddressList(input), want));
  }
  await t.step("garbage never throws", () => {
    for (const s of ["<<<>>>", ":::;;;", "@@@", "(((", '"', "\\", "a@", ",;:<>@", "<a@b>>>c@d"]) {
      parseAddressList(s);
    }
  });
});

Deno.test("mailbox split and the domain-name rule", () => {
  assert.deepEqual(splitMailbox('"a@b"@example.com'), { local: '"a@b"', domain: "example.com" });
  assert.equal(splitMailbox("postmaster"), null);
  assert.equal(domainPart("@example.com"), "example.com");
  assert.equal(domainPart("nobody"), "");
  for (const ok of ["example.com", "localhost", "xn--bcher-kva.de", "bücher.de", "a-b.c0"]) {
    assert.equal(isDomainName(ok), true, ok);
  }
  const long = Array.from({ length: 5 }, () => "a".repeat(63)).join(".");
  for (const bad of ["", "a_b.com", "-a.com", "a-.com", "a..b", "a.", "ex ample.com", long]) {
    assert.equal(isDomainName(bad), false, bad);
  }
  assert.equal(isDomainName("a".repeat(64) + ".com"), false);
  assert.equal(isDomainName("ｅｘａｍｐｌｅ.com"), false, "a U-label not in canonical form");
});
