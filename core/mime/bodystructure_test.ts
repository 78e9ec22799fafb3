/**
 * BODYSTRUCTURE against Dovecot 2.3: the expected strings are what Dovecot answered for the
 * same messages over IMAP (issue 13, item 18).
 */
import assert from "node:assert/strict";
import { bodyStructure } from "./bodystructure.ts";
import { parseMime } from "./parser.ts";

const crlf = (s: string) => new TextEncoder().encode(s.replaceAll("\n", "\r\n"));
const bs = (s: string) => bodyStructure(parseMime(crlf(s)), true);

Deno.test("a part without Content-Transfer-Encoding is 7bit (RFC 2045 §6.1), like Dovecot", () => {
  // In a multipart whose own field says 8bit, a part with headers and one without.
  assert.equal(
    bs(
      "From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n" +
        "Content-Transfer-Encoding: 8bit\n\n--b\nContent-Type: text/plain\n\nhello\n--b\n\n" +
        "no headers part\n--b--\n",
    ),
    '(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 5 0 NIL NIL NIL NIL)' +
      '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 15 0 NIL NIL NIL NIL)' +
      ' "mixed" ("boundary" "b") NIL NIL NIL)',
  );
  // 8-bit octets in the body do not make it 8bit: the field is what is reported.
  assert.equal(
    bodyStructure(
      parseMime(
        new Uint8Array([
          ...crlf("From: a@example.org\nContent-Type: text/plain; charset=utf-8\n\nh"),
          0xc3,
          0xa9,
          ...crlf("llo\n"),
        ]),
      ),
      true,
    ),
    '("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 8 1 NIL NIL NIL NIL)',
  );
  // message/rfc822 and the message inside it.
  assert.equal(
    bs(
      "From: a@example.org\nMIME-Version: 1.0\nContent-Type: message/rfc822\n\n" +
        "From: b@example.org\nSubject: inner\n\ninner body\n",
    ),
    '("message" "rfc822" NIL NIL NIL "7bit" 51 (NIL "inner" ((NIL NIL "b" "example.org")) ' +
      '((NIL NIL "b" "example.org")) ((NIL NIL "b" "example.org")) NIL NIL NIL NIL NIL) ' +
      '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 12 1 NIL NIL NIL NIL) 4 ' +
      "NIL NIL NIL NIL)",
  );
});

Deno.test("Content-Transfer-Encoding without MIME-Version is honoured (Dovecot ignores it)", () => {
  // RFC 2045 §4 leaves a message without MIME-Version to local conventions. Dovecot then
  // ignores the top-level encoding field (reports 7bit) but not Content-Type; clients
  // would show such base64 undecoded. Old mailers send exactly this, so we keep the field.
  assert.equal(
    bs("From: a@example.org\nContent-Transfer-Encoding: base64\n\ncGxhaW4K\n"),
    '("text" "plain" ("charset" "us-ascii") NIL NIL "base64" 10 1 NIL NIL NIL NIL)',
  );
});
