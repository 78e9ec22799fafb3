import assert from "node:assert/strict";
import { matchAny, numericValue, wildcardMatch } from "./match.ts";

Deno.test(":matches: * and ? with captures, earlier stars shortest (RFC 5229 §3.2)", () => {
  assert.deepEqual(
    wildcardMatch("[acme-users] [fwd] version 1.0 is out", "[*] *", false),
    ["[acme-users] [fwd] version 1.0 is out", "acme-users", "[fwd] version 1.0 is out"],
  );
  assert.deepEqual(wildcardMatch("List <a@b.c>", "*<*@*", false), [
    "List <a@b.c>",
    "List ",
    "a",
    "b.c>",
  ]);
  assert.deepEqual(wildcardMatch("abc", "a?c", false), ["abc", "b"]);
  assert.deepEqual(wildcardMatch("abc", "?*?", false), ["abc", "a", "b", "c"]);
  assert.deepEqual(wildcardMatch("", "*", false), ["", ""]);
  assert.equal(wildcardMatch("", "?", false), null);
  assert.equal(wildcardMatch("ab", "a", false), null);
  assert.equal(wildcardMatch("aXb", "a*c", false), null);
  assert.deepEqual(wildcardMatch("abab", "*ab", false), ["abab", "ab"]);
  assert.deepEqual(wildcardMatch("xaaay", "x*a*y", false), ["xaaay", "", "aa"]);
});

Deno.test(":matches: escapes make * ? and \\ literal", () => {
  // The script text "\\\\*" is the string \* : a literal star.
  assert.ok(wildcardMatch("a*", "a\\*", false));
  assert.equal(wildcardMatch("ab", "a\\*", false), null);
  assert.ok(wildcardMatch("a?", "a\\?", false));
  assert.equal(wildcardMatch("ab", "a\\?", false), null);
  assert.ok(wildcardMatch("a\\b", "a\\\\b", false));
  assert.ok(wildcardMatch("*x*", "\\**\\*", false));
  assert.ok(wildcardMatch("ab", "a\\b", false)); // \ before an ordinary character quotes it
});

Deno.test(":matches: i;ascii-casemap folds ASCII only and captures keep the original case", () => {
  assert.deepEqual(wildcardMatch("Hello World", "hello *", true), ["Hello World", "World"]);
  assert.equal(wildcardMatch("Hello", "hello", false), null);
  assert.equal(wildcardMatch("É", "é", true), null);
});

Deno.test(":matches: pathological patterns finish fast (no backtracking)", () => {
  const text = "a".repeat(100_000);
  const t0 = performance.now();
  assert.equal(wildcardMatch(text, "*a".repeat(200) + "*b", false), null);
  assert.equal(wildcardMatch(text, "*?".repeat(200) + "b", false), null);
  assert.equal(wildcardMatch(text, ("*" + "a?".repeat(10)).repeat(50) + "*b", false), null);
  assert.ok(wildcardMatch(text, "*a".repeat(200) + "*", false));
  assert.ok(performance.now() - t0 < 1000, `took ${performance.now() - t0} ms`);
});

Deno.test("comparators and relational match types", () => {
  assert.ok(matchAny(["Foo"], ["foo"], { kind: "is" }, "i;ascii-casemap"));
  assert.equal(matchAny(["Foo"], ["foo"], { kind: "is" }, "i;octet"), null);
  assert.ok(matchAny(["xFOOy"], ["foo"], { kind: "contains" }, "i;ascii-casemap"));
  assert.ok(matchAny(["10"], ["9"], { kind: "value", relation: "gt" }, "i;ascii-numeric"));
  assert.equal(matchAny(["10"], ["9"], { kind: "value", relation: "gt" }, "i;octet"), null);
  assert.ok(matchAny(["abc"], ["abd"], { kind: "value", relation: "lt" }, "i;octet"));
  assert.ok(matchAny(["a", "b", "c"], ["3"], { kind: "count", relation: "eq" }, "i;ascii-numeric"));
  assert.ok(matchAny(["x"], ["5"], { kind: "value", relation: "gt" }, "i;ascii-numeric"));
  assert.equal(numericValue("42abc"), 42);
  assert.equal(numericValue("abc"), Infinity);
});
