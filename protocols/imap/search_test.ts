import assert from "node:assert/strict";
import { parseMime } from "../../mime/mod.ts";
import { ArgReader } from "./parser.ts";
import { Pacer } from "../../lib/yield.ts";
import {
  countKeys,
  indexQueries,
  matches,
  matchesPaced,
  needsContent,
  parseSearch,
  SearchContent,
  type SearchTarget,
  sentDay,
} from "./search.ts";
import { ParseError } from "./errors.ts";

const enc = new TextEncoder();
const parse = (s: string) => {
  const r = new ArgReader({ lines: [enc.encode(" " + s)], literals: [] });
  const p = parseSearch(r);
  r.end();
  return p;
};

const raw = enc.encode(
  "From: =?utf-8?q?J=C3=BCrgen?= <j@example.test>\r\nSubject: Quarterly Report\r\n" +
    "Date: Tue, 2 Jan 2024 23:59:00 -0800\r\nContent-Type: text/plain; charset=utf-8\r\n" +
    "Content-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=C3=9Fe aus M=C3=BCnchen\r\n",
);
const target = (over: Partial<SearchTarget> = {}): SearchTarget => ({
  seq: 2,
  uid: 10,
  flags: ["\\Seen", "Work"],
  size: raw.length,
  internalDate: Date.UTC(2024, 0, 3, 12),
  recent: false,
  content: new SearchContent(raw, parseMime(raw)),
  ...over,
});
const scope = { exists: 3, maxUid: 12, savedUids: new Set([10]) };
const test = (s: string, t = target()) => matches(parse(s).key, t, scope);

Deno.test("search (RFC 9051 §6.4.4)", async (t) => {
  await t.step("flags and keywords", () => {
    assert.ok(test("SEEN"));
    assert.ok(!test("UNSEEN"));
    assert.ok(test("KEYWORD work"));
    assert.ok(test("UNFLAGGED UNDELETED"));
    assert.ok(test("OLD") && !test("NEW") && !test("RECENT"));
  });
  await t.step("sets, UIDs, $ and *", () => {
    assert.ok(test("2"));
    assert.ok(test("1:*"));
    assert.ok(!test("3:*"));
    assert.ok(test("UID 10"));
    assert.ok(test("UID 11:*") === false);
    assert.ok(test("$"));
  });
  await t.step("OR, NOT, parentheses", () => {
    assert.ok(test("OR FLAGGED SEEN"));
    assert.ok(test("NOT (FLAGGED DELETED)"));
    assert.ok(!test("NOT SEEN"));
    assert.ok(test("(SEEN (UID 10))"));
  });
  await t.step("headers decode encoded words, case-insensitively", () => {
    assert.ok(test(`FROM "j\u00fcrgen"`));
    assert.ok(test("FROM j@EXAMPLE"));
    assert.ok(test("SUBJECT report"));
    assert.ok(test('HEADER Content-Type "TEXT/plain"'));
    assert.ok(test('HEADER X-Missing ""') === false);
    assert.ok(test('HEADER Subject ""'));
  });
  await t.step("body text is transfer- and charset-decoded", () => {
    assert.ok(test(`BODY "m\u00fcnchen"`));
    assert.ok(test("TEXT quarterly"));
    assert.ok(!test("BODY quarterly"));
  });
  await t.step("sizes and dates", () => {
    assert.ok(test(`LARGER ${raw.length - 1}`) && !test(`LARGER ${raw.length}`));
    assert.ok(test(`SMALLER ${raw.length + 1}`));
    assert.ok(test("ON 3-Jan-2024") && test("SINCE 3-Jan-2024") && test("BEFORE 4-Jan-2024"));
    assert.ok(test("SENTON 2-Jan-2024"), "Date: as written, zone disregarded");
    assert.ok(test("SENTBEFORE 3-Jan-2024") && !test("SENTSINCE 3-Jan-2024"));
    assert.equal(sentDay("2 Jan 99 00:00 GMT"), Date.UTC(1999, 0, 2));
  });
  await t.step("RETURN and CHARSET", () => {
    const p = parse("RETURN (MIN COUNT) CHARSET UTF-8 ALL");
    assert.deepEqual([...p.returns!], ["MIN", "COUNT"]);
    assert.equal(p.charset, "UTF-8");
    assert.deepEqual([...parse("RETURN () ALL").returns!], ["ALL"]);
    assert.equal(parse("ALL").returns, null);
  });
  await t.step("needsContent", () => {
    assert.ok(!needsContent(parse("SEEN UID 1:* NOT DELETED").key));
    assert.ok(needsContent(parse("OR SEEN BODY x").key));
    assert.ok(needsContent(parse("SENTON 1-Jan-2020").key));
  });
  await t.step("indexQueries: the text conditions of the top-level AND only", () => {
    assert.deepEqual(indexQueries(parse('TEXT abc (BODY "d e f" SEEN) FROM xyz').key), [
      { part: "text", value: "abc" },
      { part: "body", value: "d e f" },
      { part: "header", value: "xyz" },
    ]);
    assert.deepEqual(indexQueries(parse('OR BODY abc TEXT def NOT BODY x HEADER To ""').key), []);
  });
  await t.step("errors", () => {
    for (
      const s of ["", "FOO", "OR SEEN", "NOT", "BEFORE 32-Jan-2020", "RETURN (BOGUS) ALL", "(SEEN"]
    ) {
      assert.throws(() => parse(s), ParseError, s);
    }
    assert.throws(() => parse("NOT ".repeat(100) + "SEEN"), /nested/);
  });
});

Deno.test("search: bounded work per command (issue 13 item 3)", async (t) => {
  await t.step("countKeys counts every key and the string keys", () => {
    assert.deepEqual(countKeys(parse("OR BODY x ALL").key), { keys: 3, text: 1 });
    assert.deepEqual(countKeys(parse("FROM a NOT (TEXT b SEEN) HEADER X-Y z").key), {
      keys: 7, // the top-level AND, FROM, NOT, the parenthesized AND, TEXT, SEEN, HEADER
      text: 3,
    });
  });
  await t.step("a repeated string key is one pass over the text", () => {
    const c = new SearchContent(raw, parseMime(raw));
    let passes = 0;
    const body = Object.getOwnPropertyDescriptor(SearchContent.prototype, "bodyText")!.get!;
    Object.defineProperty(c, "bodyText", {
      get() {
        passes++;
        return body.call(c);
      },
    });
    const key = parse(Array(50).fill("OR BODY nothere BODY nope").join(" ")).key;
    assert.equal(matches(key, target({ content: c }), scope), false);
    assert.equal(passes, 2, "one pass per distinct needle");
  });
  await t.step("matchesPaced yields between string keys when the slice is used up", async () => {
    let fired = false;
    setTimeout(() => fired = true, 0);
    const key = parse(Array.from({ length: 20 }, (_, i) => `OR BODY n${i} ALL`).join(" ")).key;
    assert.equal(await matchesPaced(key, target(), scope, new Pacer(0)), true);
    assert.ok(fired, "no timer ran during the evaluation");
  });
  await t.step("matchesPaced agrees with matches", async () => {
    const pace = new Pacer(0); // yields before every string key
    for (
      const q of [
        'OR BODY xyz BODY "grüße"',
        'FROM "jürgen" NOT TEXT "münchen"',
        "HEADER subject quarterly SEEN",
        "OR (TEXT nothing) (SUBJECT report UNSEEN)",
        "NOT (OR BODY a BODY b)",
      ]
    ) {
      const key = parse(q).key;
      assert.equal(await matchesPaced(key, target(), scope, pace), test(q), q);
    }
  });
});
