import assert from "node:assert/strict";
import { mxMatches, parsePolicy, parseStsTxt } from "./mta_sts.ts";

Deno.test("MTA-STS TXT record (RFC 8461 §3.1)", () => {
  assert.equal(parseStsTxt(["v=STSv1; id=20160831085700Z;"]), "20160831085700Z");
  assert.equal(parseStsTxt(["v=STSv1;id=abc", "some other txt"]), "abc");
  assert.equal(parseStsTxt(["v=STSv1; id=a", "v=STSv1; id=b"]), null, "two records: none");
  assert.equal(parseStsTxt(["v=STSv1; id=bad-id"]), null);
  assert.equal(parseStsTxt(["v=STSv1; id=" + "a".repeat(33)]), null);
  assert.equal(parseStsTxt(["v=STSv1;"]), null, "id is required");
  assert.equal(parseStsTxt(["id=1; v=STSv1"]), null, "v= comes first");
});

Deno.test("MTA-STS policy parsing (RFC 8461 §3.2)", () => {
  const p = parsePolicy(
    "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n",
  );
  assert.ok(typeof p !== "string");
  assert.equal(p.mode, "enforce");
  assert.equal(p.maxAge, 604800);
  assert.deepEqual(p.mx, ["mail.example.com", "*.example.net"]);
  // LF line ends, unknown keys ignored, field order free.
  const q = parsePolicy(
    "mode: testing\nmx: a.example\nversion: STSv1\nmax_age: 0\nfuture_key: x y\n",
  );
  assert.ok(typeof q !== "string" && q.mode === "testing");
  assert.equal(typeof parsePolicy("version: STSv1\nmode: none\nmax_age: 10\n"), "object");
  const bad: Array<[string, RegExp]> = [
    ["version: STSv2\nmode: enforce\nmx: a.b\nmax_age: 1\n", /version/],
    ["version: STSv1\nmode: strict\nmx: a.b\nmax_age: 1\n", /mode/],
    ["version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 31557601\n", /max_age/],
    ["version: STSv1\nmode: enforce\nmx: a.b\nmax_age: -1\n", /max_age/],
    ["version: STSv1\nmode: enforce\nmax_age: 1\n", /mx is required/],
    ["version: STSv1\nmode: enforce\nmx: a..b\nmax_age: 1\n", /mx pattern/],
    ["version: STSv1\nmode: enforce\nmx: *.*.b\nmax_age: 1\n", /mx pattern/],
    ["version: STSv1\nmode: enforce\nmode: testing\nmx: a.b\nmax_age: 1\n", /twice/],
    ["version: STSv1\njunk line\n", /line 2/],
  ];
  for (const [text, why] of bad) {
    const r = parsePolicy(text);
    assert.equal(typeof r, "string", text);
    assert.match(r as string, why);
  }
});

Deno.test("MTA-STS policy: trailing white space, and a hostile 64 KB line in linear time", () => {
  const p = parsePolicy("version: STSv1 \t\nmode: enforce  \nmx: a.example\t\nmax_age: 5 \n");
  assert.ok(typeof p !== "string" && p.mode === "enforce" && p.mx[0] === "a.example");
  // A lazy value before "[ \t]*$" rescanned the spaces from each one: 1.5 s for this.
  const t0 = performance.now();
  const r = parsePolicy(`version: STSv1\nmode: x${" ".repeat(64_000)}\x01\n`);
  assert.match(r as string, /line 2/);
  assert.ok(performance.now() - t0 < 300, "parsePolicy took too long");
});

Deno.test("MTA-STS MX matching (RFC 8461 §4.1)", () => {
  assert.ok(mxMatches("mail.example.com", "MAIL.example.com."));
  assert.ok(mxMatches("*.example.com", "mx1.example.com"));
  assert.ok(!mxMatches("*.example.com", "example.com"));
  assert.ok(!mxMatches("*.example.com", "a.b.example.com"), "one label only");
  assert.ok(!mxMatches("mail.example.com", "mail.example.com.evil.test"));
});
