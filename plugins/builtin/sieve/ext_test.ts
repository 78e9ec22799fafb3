/** regex, date/index, editheader, include and virustest: the interpreter's side. */
import assert from "node:assert/strict";
import { compile } from "./compile.ts";
import { evaluate, type Resolve } from "./eval.ts";
import { inputFromBytes } from "./message.ts";
import { actions, runScript, SAMPLE } from "./testing.ts";
import { compileRegex, regexSearch } from "./regex.ts";

const re = (p: string, s: string, casemap = false) => regexSearch(compileRegex(p, casemap), s);

Deno.test("regex engine: POSIX ERE syntax, leftmost-longest, submatches", () => {
  assert.deepEqual(re("a+", "xaaay"), ["aaa"]);
  assert.deepEqual(re("^From: (.*)@(.*)$", "From: bob@ex.com"), [
    "From: bob@ex.com",
    "bob",
    "ex.com",
  ]);
  assert.deepEqual(re("(foo|foobar)", "foobarx"), ["foobar", "foobar"]);
  assert.deepEqual(re("[[:digit:]]{2,3}", "ab12345"), ["123"]);
  assert.deepEqual(re("[^a-c]+", "ABCdef", true), ["def"]);
  assert.deepEqual(re("HELLO", "say hello", true), ["hello"]);
  assert.equal(re("HELLO", "say hello"), null);
  assert.deepEqual(re("[]a]x", "]x"), ["]x"]);
  assert.deepEqual(re("a{2}b?", "caaab"), ["aa"]);
  assert.deepEqual(re("(a)|b", "b"), ["b", ""]);
  assert.deepEqual(re("\\.com$", "x.com"), [".com"]);
  assert.deepEqual(re("caf.", "café"), ["café"]); // code points, not UTF-16 units
  for (
    const bad of ["(a", "a)", "*a", "[a", "a{3,1}", "(a{255}){255}", "[[:nope:]]", "a\\", "(a)\\1"]
  ) {
    assert.throws(() => compileRegex(bad, false), /regex:/, bad);
  }
});

Deno.test("regex engine: bombs run in linear time", () => {
  const long = "a".repeat(50_000);
  for (const p of ["(a*)*b", "(a|aa)*c", "(a+)+$x", "(.*)*(.*)*(.*)*b", "(a|a)*b"]) {
    const work = { steps: 0 };
    assert.equal(regexSearch(compileRegex(p, false), long, work), null, p);
    // Each position costs at most the program size: no blow-up.
    assert.ok(work.steps < long.length * compileRegex(p, false).prog.length * 2, p);
  }
});

Deno.test(":regex match type: require, match variables, compile-time errors", () => {
  const r = 'require ["regex", "variables", "fileinto"];\n';
  assert.deepEqual(
    actions(
      r +
        'if header :regex "subject" "\\\\[([a-z-]+)\\\\] \\\\[(fwd)\\\\]" { fileinto "${1}.${2}"; }',
    ),
    ["fileinto acme-users.fwd"],
  );
  assert.deepEqual(
    actions(r + 'if address :regex :domain "from" "^example\\\\.ORG$" { discard; }'),
    [
      "discard",
    ],
  );
  assert.deepEqual(
    actions(
      r + 'if address :regex :comparator "i;octet" :domain "from" "^example\\\\.org$" { discard; }',
    ),
    ["keep"],
  );
  assert.throws(() => compile('if header :regex "subject" "a" { keep; }'), /needs require "regex"/);
  assert.throws(
    () => compile(r + 'if header :regex "subject" "(a" { keep; }'),
    /line 2:4: regex: missing/,
  );
  // A bad pattern from a variable is no match at run time.
  assert.deepEqual(actions(r + 'set "p" "(a"; if header :regex "subject" "${p}" { discard; }'), [
    "keep",
  ]);
});

Deno.test("hostile: regex bombs on a long header finish and the message is kept", () => {
  const message = `Subject: ${"a".repeat(60_000)}\r\n\r\nx\r\n`;
  const o = runScript(
    'require "regex";\nif header :regex "subject" ["(a*)*b", "(a|aa)*c", "((a+)+)+d"] { discard; }',
    { message },
  );
  assert.deepEqual(o.actions.map((a) => a.type), ["keep"]);
  const many = Array.from({ length: 200 }, () => '"(a|aa)*c"').join(",");
  const w = runScript(`require "regex";\nif header :regex "subject" [${many}] { discard; }`, {
    message,
  });
  assert.match(w.error ?? "", /too much regex work/);
  assert.deepEqual(w.actions.map((a) => a.type), ["keep"]);
});

const DATED =
  "Date: Fri, 13 Feb 2009 23:31:30 +0100\r\nReceived: from x by y; Sat, 14 Feb 2009 01:02:03 -0500\r\n" +
  SAMPLE;

Deno.test("date: date-parts, :zone, :originalzone, Received, currentdate", () => {
  const r = 'require ["date", "variables", "fileinto", "relational"];\n';
  const parts = [
    "year",
    "month",
    "day",
    "date",
    "julian",
    "hour",
    "minute",
    "second",
    "time",
    "iso8601",
    "std11",
    "zone",
    "weekday",
  ];
  const script = r +
    parts.map((p) => `if date :originalzone :matches "date" "${p}" "*" { fileinto "${p}=\${1}"; }`)
      .join("\n");
  assert.deepEqual(actions(script, { message: DATED }), [
    "fileinto year=2009",
    "fileinto month=02",
    "fileinto day=13",
    "fileinto date=2009-02-13",
    "fileinto julian=54875",
    "fileinto hour=23",
    "fileinto minute=31",
    "fileinto second=30",
    "fileinto time=23:31:30",
    "fileinto iso8601=2009-02-13T23:31:30+01:00",
    "fileinto std11=Fri, 13 Feb 2009 23:31:30 +0100",
    "fileinto zone=+0100",
    "fileinto weekday=5",
  ]);
  assert.deepEqual(
    actions(r + 'if date :zone "-0330" :matches "date" "iso8601" "*" { fileinto "${1}"; }', {
      message: DATED,
    }),
    ["fileinto 2009-02-13T19:01:30-03:30"],
  );
  assert.deepEqual(
    actions(r + 'if date :zone "+0000" :is "received" "time" "06:02:03" { discard; }', {
      message: DATED,
    }),
    ["discard"],
  );
  assert.deepEqual(
    actions(r + 'if date :is "x-none" "year" "2009" { discard; }', { message: DATED }),
    ["keep"],
  );
  const now = Date.UTC(2026, 11, 6, 8, 0, 0);
  const input = inputFromBytes(
    new TextEncoder().encode(DATED),
    { from: "a@b.c", to: "d@e.f" },
    undefined,
    { now, zone: 0 },
  );
  const run = (src: string) => evaluate(compile(r + src), input).actions.map((a) => a.type);
  assert.deepEqual(run('if currentdate :zone "+0200" :is "hour" "10" { discard; }'), ["discard"]);
  assert.deepEqual(run('if currentdate :value "lt" "date" "2027-01-01" { discard; }'), ["discard"]);
  assert.deepEqual(run('if date :value "gt" "date" "date" "2009-02-13" { discard; }'), ["keep"]); // UTC: the 13th
  assert.throws(() => compile(r + 'if date :zone "+2500" "date" "year" "1" {}'), /bad time zone/);
  assert.throws(() => compile(r + 'if date "date" "fortnight" "1" {}'), /unknown date-part/);
});

Deno.test("index: :index and :last on header, address and date", () => {
  const r = 'require ["index", "date", "fileinto"];\n';
  assert.deepEqual(actions(r + 'if header :index 2 "received" "from b" { discard; }'), ["discard"]);
  assert.deepEqual(actions(r + 'if header :index 1 :last "received" "from b" { discard; }'), [
    "discard",
  ]);
  assert.deepEqual(actions(r + 'if header :index 3 "received" "from b" { discard; }'), ["keep"]);
  assert.deepEqual(actions(r + 'if address :index 2 :all "to" "carol@example.net" { discard; }'), [
    "keep",
  ]); // one To field
  assert.throws(() => compile('if header :index 1 "a" "b" {}'), /unknown tag :index/);
  assert.throws(() => compile(r + 'if header :last "a" "b" {}'), /:last needs :index/);
});

Deno.test("editheader: addheader/deleteheader, later tests see the edits, protected fields", () => {
  const r = 'require ["editheader", "variables", "fileinto", "index"];\n';
  const o = runScript(
    r + 'addheader "X-A" "1"; addheader :last "X-A" "2"; addheader "X-U" "Café";\n' +
      'if header :index 1 "X-A" "1" { fileinto "first"; }\n' +
      'deleteheader :index 1 "X-A"; deleteheader "received"; deleteheader :contains "to" "carol";\n' +
      'if header :is "X-A" "2" { fileinto "second"; }',
  );
  assert.deepEqual(o.actions.map((a) => a.type === "fileinto" ? a.mailbox : a.type), [
    "first",
    "second",
  ]);
  const names = o.header!.map((f) => f.name);
  assert.deepEqual(names.slice(0, 1), ["X-U"]);
  assert.equal(names.filter((n) => n === "Received").length, 2, "Received is protected");
  assert.ok(!names.includes("To"));
  assert.equal(names[names.length - 1], "X-A");
  assert.equal(runScript("keep;").header, undefined);
  assert.throws(() => compile(r + 'addheader "Bad Name" "x";'), /bad header field name/);
  const flood = runScript(r + 'addheader "X" "y";\n'.repeat(100));
  assert.match(flood.error ?? "", /more than 64 header edits/);
  assert.equal(flood.header, undefined, "on error the message stays as it was");
});

Deno.test("include: personal/global, :once, :optional, return, global variables, loops", () => {
  const scripts = new Map<string, string>([
    [
      "personal:lists",
      'require ["include", "variables", "fileinto"]; global "box"; if header :contains "list-id" "acme" { fileinto "${box}"; return; } fileinto "never";',
    ],
    ["global:spam", 'require "fileinto"; fileinto "Spam";'],
    ["personal:loop", 'require "include"; include "loop";'],
    ["personal:bad", 'fileinto "x";'],
  ]);
  const resolve: Resolve = (global, name) => {
    const src = scripts.get(`${global ? "global" : "personal"}:${name}`);
    if (src === undefined) return null;
    try {
      return compile(src);
    } catch (e) {
      return e as Error;
    }
  };
  const input = inputFromBytes(new TextEncoder().encode(SAMPLE), { from: "a@b.c", to: "d@e.f" });
  const run = (src: string) => {
    const o = evaluate(compile(src), input, undefined, resolve);
    return [
      ...o.actions.map((a) => a.type === "fileinto" ? a.mailbox : a.type),
      ...(o.error ? [o.error] : []),
    ];
  };
  const r = 'require ["include", "variables", "fileinto"];\n';
  assert.deepEqual(
    run(r + 'global "box"; set "box" "Acme"; include "lists"; include :global "spam";'),
    ["Acme", "Spam"],
  );
  // Without `global`, the included script's ${box} is its own (empty: fileinto "" fails).
  assert.match(run(r + 'set "box" "Acme"; include "lists";').join(), /bad mailbox/);
  assert.deepEqual(run(r + 'set "global.box" "G"; include "lists";'), ["G"]);
  assert.deepEqual(run(r + 'include :global :once "spam"; include :global :once "spam";'), [
    "Spam",
  ]);
  assert.deepEqual(run(r + 'include :optional "missing"; fileinto "after";'), ["after"]);
  assert.deepEqual(run(r + 'include "missing";'), [
    "keep",
    'include: no personal script "missing"',
  ]);
  assert.deepEqual(run(r + 'include "loop";'), ["keep", 'include loop through "loop"']);
  assert.match(run(r + 'include "bad";').join(), /include "bad": line 1:1: fileinto needs/);
  assert.deepEqual(compile(r + 'include "a"; include :global "b"; include "a";').includes, [
    { global: false, name: "a" },
    { global: true, name: "b" },
  ]);
  assert.throws(() => compile(r + 'include "../etc/x";'), /bad script name/);
  assert.throws(() => compile('require "include"; global "x";'), /needs require "variables"/);
});

Deno.test("virustest: 0 when nothing tested, else the antivirus value", () => {
  const r = 'require ["virustest", "relational", "comparator-i;ascii-numeric"];\n';
  const src = r +
    'if virustest :value "eq" "0" { fileinto "untested"; } elsif virustest :value "ge" "4" { discard; }';
  assert.throws(() => compile(src), /fileinto needs/);
  const s2 =
    'require ["virustest", "relational", "fileinto"];\nif virustest :value "eq" "0" { fileinto "untested"; } elsif virustest :value "ge" "4" { discard; }';
  assert.deepEqual(actions(s2), ["fileinto untested"]);
  const input = (virus: number) =>
    inputFromBytes(new TextEncoder().encode(SAMPLE), { from: "a@b.c", to: "d@e.f" }, undefined, {
      virus,
    });
  assert.deepEqual(evaluate(compile(s2), input(5)).actions.map((a) => a.type), ["discard"]);
  assert.deepEqual(evaluate(compile(s2), input(1)).actions.map((a) => a.type), ["keep"]);
});
