import assert from "node:assert/strict";
import { parseCommand, parseLineCount, parseMessageNumber } from "./parser.ts";
import { Pop3Error } from "./errors.ts";

const enc = new TextEncoder();
const p = (s: string) => parseCommand(enc.encode(s));

Deno.test("pop3 parser", async (t) => {
  await t.step("keywords are case-insensitive, args split on spaces", () => {
    assert.deepEqual(p("retr 1"), { verb: "RETR", args: ["1"], rest: "1" });
    assert.deepEqual(p("TOP 2  10 "), { verb: "TOP", args: ["2", "10"], rest: "2  10 " });
    assert.deepEqual(p("CAPA"), { verb: "CAPA", args: [], rest: "" });
  });
  await t.step("PASS keeps spaces in rest", () => {
    assert.equal(p("PASS  my secret pw ").rest, " my secret pw ");
  });
  await t.step("UTF-8 arguments are accepted", () => {
    assert.equal(p("PASS pässwörd").rest, "pässwörd");
  });
  await t.step("malformed lines are bad commands", () => {
    for (const bad of ["", " STAT", "ST\x00AT", "1234", "LIST\t1"]) {
      assert.throws(() => p(bad), (e: unknown) => e instanceof Pop3Error && e.bad, bad);
    }
    assert.throws(
      () => parseCommand(new Uint8Array([0x55, 0x53, 0x45, 0x52, 0x20, 0xff, 0xfe])),
      (e: unknown) => e instanceof Pop3Error && /UTF-8/.test(e.message),
    );
  });
  await t.step("message numbers and line counts", () => {
    assert.equal(parseMessageNumber("12"), 12);
    assert.equal(parseLineCount("0"), 0);
    for (const bad of [undefined, "", "-1", "1.5", "x", "9999999999"]) {
      assert.throws(() => parseMessageNumber(bad), Pop3Error);
    }
  });
});
