import assert from "node:assert/strict";
import { humanString, nstring, quoteImapString } from "./quote.ts";

Deno.test("IMAP strings (RFC 9051 §4.3)", () => {
  assert.equal(quoteImapString("plain"), '"plain"');
  assert.equal(quoteImapString(""), '""');
  assert.equal(quoteImapString('say "hi" \\o/'), '"say \\"hi\\" \\\\o/"');
  assert.equal(quoteImapString("two\r\nlines"), "{10}\r\ntwo\r\nlines");
  assert.equal(quoteImapString("café"), "{5}\r\ncafé");
  assert.equal(quoteImapString("café", { utf8: true }), '"café"');
  assert.equal(quoteImapString("a\0b"), '"ab"');
  assert.equal(nstring(null), "NIL");
  assert.equal(nstring("NIL"), '"NIL"');
  assert.equal(humanString("  a \t\r\n b  "), '"a b"');
  assert.equal(humanString(undefined), "NIL");
});
