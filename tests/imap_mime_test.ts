/**
 * BODYSTRUCTURE and ENVELOPE of tricky mail over IMAP with python imaplib (APPEND, then
 * FETCH): each expected answer is what Dovecot 2.3 sent for the same message (issue 13,
 * item 18: parts without Content-Transfer-Encoding, malformed addresses).
 */
import assert from "node:assert/strict";
import { startTestServer } from "./harness.ts";
import { imaplib } from "./imap_helpers.ts";

const CASES: Array<[message: string, item: string, dovecot: string]> = [
  [
    "From: a@example.org\nSubject: t\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n" +
    "Content-Transfer-Encoding: 8bit\n\n--b\nContent-Type: text/plain\n\nhello\n--b\n\n" +
    "no headers part\n--b--\n",
    "BODYSTRUCTURE",
    '(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 5 0 NIL NIL NIL NIL)' +
    '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 15 0 NIL NIL NIL NIL) ' +
    '"mixed" ("boundary" "b") NIL NIL NIL)',
  ],
  [
    // Not MIME (no MIME-Version, no Content-Type): the field does not apply (RFC 2045 §4).
    "From: a@example.org\nContent-Transfer-Encoding: 8bit\n\nplain\n",
    "BODYSTRUCTURE",
    '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 7 1 NIL NIL NIL NIL)',
  ],
  [
    "From: a@example.org\nTo: A <a@x.org, B <b@y.org>\nSubject: t\n\nx\n",
    "ENVELOPE",
    '(NIL "t" ((NIL NIL "a" "example.org")) ((NIL NIL "a" "example.org")) ' +
    '((NIL NIL "a" "example.org")) (("A" NIL "a" "SYNTAX_ERROR")("B" NIL "b" "y.org")) ' +
    "NIL NIL NIL NIL)",
  ],
  [
    "From: Joe <joe@example.org\nTo: <bob@example.org\nSubject: t\n\nx\n",
    "ENVELOPE",
    '(NIL "t" (("Joe" NIL "joe" "SYNTAX_ERROR")) (("Joe" NIL "joe" "SYNTAX_ERROR")) ' +
    '(("Joe" NIL "joe" "SYNTAX_ERROR")) ((NIL NIL "bob" "SYNTAX_ERROR")) NIL NIL NIL NIL)',
  ],
  [
    'From: (c1) user@example.org\nTo: user@example.org (c2) (c3)\nCc: "" <>\nBcc: <@>\n' +
    "Subject: t\n\nx\n",
    "ENVELOPE",
    '(NIL "t" ((NIL NIL "user" "example.org")) ((NIL NIL "user" "example.org")) ' +
    '((NIL NIL "user" "example.org")) (("c3" NIL "user" "example.org")) ' +
    '((NIL NIL "MISSING_MAILBOX" "MISSING_DOMAIN")) ' +
    '((NIL "INVALID_ROUTE" "MISSING_MAILBOX" "MISSING_DOMAIN")) NIL NIL)',
  ],
  [
    "From: <foo>\nTo: <a b@c.example>\nCc: <a@b c>\nBcc: <a@>\nSubject: t\n\nx\n",
    "ENVELOPE",
    '(NIL "t" ((NIL NIL "foo" "MISSING_DOMAIN")) ((NIL NIL "foo" "MISSING_DOMAIN")) ' +
    '((NIL NIL "foo" "MISSING_DOMAIN")) ((NIL NIL "a" "SYNTAX_ERROR")) ' +
    '((NIL NIL "a" "SYNTAX_ERROR")) ((NIL NIL "a" "SYNTAX_ERROR")) NIL NIL)',
  ],
];

Deno.test("imap: BODYSTRUCTURE and ENVELOPE of tricky mail as Dovecot sends them (imaplib)", async () => {
  const ts = await startTestServer();
  try {
    await ts.addUser("mime@example.test", "mime-password");
    const lines = await imaplib(
      ts.port("imap"),
      "mime@example.test",
      "mime-password",
      `import json
cases = json.loads(sys.argv[4])
for msg, item in cases:
    assert m.append("INBOX", None, None, msg.replace("\\n", "\\r\\n").encode())[0] == "OK"
m.select("INBOX")
for i, (msg, item) in enumerate(cases):
    typ, data = m.fetch(str(i + 1), "(%s)" % item)
    print(json.dumps(data[0].decode()))`,
      [JSON.stringify(CASES.map(([msg, item]) => [msg, item]))],
    );
    assert.equal(lines.length, CASES.length);
    CASES.forEach(([, item, dovecot], i) => {
      assert.equal(JSON.parse(lines[i]), `${i + 1} (${item} ${dovecot})`, `case ${i + 1}`);
    });
  } finally {
    await ts.stop();
  }
});
