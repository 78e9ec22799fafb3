import assert from "node:assert/strict";
import { ArgReader, literalAnnouncement, parseDateTime, peekTag, peekVerb } from "./parser.ts";
import { ParseError } from "./errors.ts";

const enc = new TextEncoder();
const reader = (lines: string[], literals: string[] = []) =>
  new ArgReader({
    lines: lines.map((l) => enc.encode(l)),
    literals: literals.map((l) => enc.encode(l)),
  });

Deno.test("parser: literal announcements", async (t) => {
  await t.step("synchronizing, non-synchronizing, binary", () => {
    assert.deepEqual(literalAnnouncement(enc.encode("a LOGIN {5}")), {
      size: 5,
      sync: true,
      binary: false,
    });
    assert.deepEqual(literalAnnouncement(enc.encode("a APPEND x {12+}")), {
      size: 12,
      sync: false,
      binary: false,
    });
    assert.deepEqual(literalAnnouncement(enc.encode("a APPEND x ~{3}")), {
      size: 3,
      sync: true,
      binary: true,
    });
  });
  await t.step("not literals", () => {
    assert.equal(literalAnnouncement(enc.encode("a NOOP")), null);
    assert.equal(literalAnnouncement(enc.encode("a X {}")), null);
    assert.equal(literalAnnouncement(enc.encode('a X "{5}"')), null);
    assert.equal(literalAnnouncement(enc.encode("a X {+}")), null);
  });
  await t.step("huge sizes are Infinity, never a wrong number", () => {
    assert.equal(literalAnnouncement(enc.encode("a X {99999999999999999999}"))!.size, Infinity);
  });
  await t.step("tag and verb peeking", () => {
    assert.equal(peekTag(enc.encode("A001 LOGIN x")), "A001");
    assert.equal(peekTag(enc.encode("+x")), null);
    assert.equal(peekVerb(enc.encode("A1 uid fetch 1 x")), "UID FETCH");
    assert.equal(peekVerb(enc.encode("A1 append INBOX {3}")), "APPEND");
  });
});

Deno.test("parser: tokens", async (t) => {
  await t.step("tag, atom, astring, quoted escapes", () => {
    const r = reader(['A1 LOGIN "we\\"ird\\\\" pass]word']);
    assert.equal(r.tag(), "A1");
    r.space();
    assert.equal(r.atom(), "LOGIN");
    r.space();
    assert.equal(r.astring(), 'we"ird\\');
    r.space();
    assert.equal(r.astring(), "pass]word");
    r.end();
  });
  await t.step("literal strings span lines", () => {
    const r = reader(["a LOGIN {5}", " {3+}", ""], ["alice", "p w"]);
    r.tag();
    r.space();
    r.atom();
    r.space();
    assert.equal(r.astring(), "alice");
    r.space();
    assert.equal(r.astring(), "p w");
    r.end();
  });
  await t.step("literal must end the line and match its size", () => {
    assert.throws(() => reader(["{5} x", ""], ["alice"]).string(), ParseError);
    assert.throws(() => reader(["{4}", ""], ["alice"]).string(), ParseError);
    assert.throws(() => reader(["{5}"], []).string(), ParseError);
  });
  await t.step("quoted strings: bad escapes, unterminated, invalid UTF-8", () => {
    assert.throws(() => reader(['"a\\nb"']).string(), ParseError);
    assert.throws(() => reader(['"abc']).string(), ParseError);
    const bad = new ArgReader({ lines: [Uint8Array.from([0x22, 0xff, 0xfe, 0x22])], literals: [] });
    assert.throws(() => bad.string(), /UTF-8/);
    assert.equal(reader(['"f\u00fcr"']).string(), "f\u00fcr");
  });
  await t.step("NIL and nstring", () => {
    const r = reader(["NIL nil NILS"]);
    assert.equal(r.nstring(), null);
    r.space();
    assert.equal(r.tryNil(), true);
    r.space();
    assert.equal(r.tryNil(), false);
    assert.equal(r.atom(), "NILS");
  });
  await t.step("numbers are bounded", () => {
    assert.equal(reader(["4294967295"]).number(), 4294967295);
    assert.throws(() => reader(["4294967296"]).number(), ParseError);
    assert.throws(() => reader(["0"]).nzNumber(), ParseError);
    assert.throws(() => reader(["x"]).number(), ParseError);
  });
  await t.step("lists and flags", () => {
    const r = reader(["(\\Seen $Forwarded \\Flagged) ()"]);
    assert.deepEqual(r.flagList(), ["\\Seen", "$Forwarded", "\\Flagged"]);
    r.space();
    assert.deepEqual(r.flagList(), []);
    assert.throws(() => reader(["(\\Seen"]).flagList(), ParseError);
  });
  await t.step("list-mailbox allows wildcards, astring does not", () => {
    assert.equal(reader(["Work/%"]).listMailbox(), "Work/%");
    assert.equal(reader(["*"]).listMailbox(), "*");
    assert.throws(() => reader(["*"]).astring(), ParseError);
  });
});

Deno.test("parser: sequence sets", async (t) => {
  await t.step("numbers, ranges, star", () => {
    assert.deepEqual(reader(["1,3:5,7:*,*"]).sequenceSet(), {
      saved: false,
      ranges: [[1, 1], [3, 5], [7, "*"], ["*", "*"]],
    });
  });
  await t.step("$ is the saved result", () => {
    assert.deepEqual(reader(["$"]).sequenceSet(), { saved: true });
  });
  await t.step("malformed", () => {
    for (const s of ["", "0", "1:", ",1", "1,,2", "a"]) {
      const r = reader([s]);
      assert.throws(
        () => {
          r.sequenceSet();
          r.end();
        },
        ParseError,
        s,
      );
    }
  });
});

Deno.test("parser: dates", async (t) => {
  await t.step("date-time with zone", () => {
    assert.equal(parseDateTime("17-Jul-1996 02:44:25 -0700"), Date.UTC(1996, 6, 17, 9, 44, 25));
    assert.equal(parseDateTime(" 1-Feb-2024 00:00:00 +0100"), Date.UTC(2024, 0, 31, 23, 0, 0));
    assert.equal(parseDateTime("31-Feb-2024 00:00:00 +0000"), null);
    assert.equal(parseDateTime("1-Foo-2024 00:00:00 +0000"), null);
  });
  await t.step("search dates, quoted or not", () => {
    assert.equal(reader(["1-Feb-1994"]).date(), Date.UTC(1994, 1, 1));
    assert.equal(reader(['"01-Feb-1994"']).date(), Date.UTC(1994, 1, 1));
    assert.throws(() => reader(["30-Feb-1994"]).date(), ParseError);
  });
});
