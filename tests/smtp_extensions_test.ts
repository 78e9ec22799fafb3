/**
 * SMTP extensions on the MX listener: CHUNKING/BDAT (RFC 3030), SMTPUTF8 (RFC 6531), DSN
 * parameters (RFC 3461), REQUIRETLS (RFC 8689). Client: python smtplib (docmd and raw).
 */
import assert from "node:assert/strict";
import { startTestServer } from "./harness.ts";
import { codes, mailboxTexts, smtpDialog } from "./smtp_helpers.ts";

Deno.test("smtp extensions", async (t) => {
  const ts = await startTestServer({
    listeners: { submission: "", submissions: "", imap: "", imaps: "", pop3: "", pop3s: "" },
  });
  try {
    await ts.addUser("alice@example.test", "alice-password");
    await ts.addUser("jörg@example.test", "jorg-password");
    const port = ts.port("smtp");
    const ca = await ts.certFile();
    const body = (subject: string) => `Subject: ${subject}\r\n\r\nline\r\n.\r\n..x\r\n`;

    await t.step("BDAT chunks are stored byte for byte (no dot-unstuffing)", async () => {
      const first = "Subject: chunked\r\nX-Part: 1\r\n\r\n";
      const second = "a line\r\n.\r\n..dots stay\r\nbare\nlf\r\n";
      const r = await smtpDialog(port, [
        ["ehlo"],
        ["cmd", "MAIL FROM:<s@remote.test>"],
        ["cmd", "RCPT TO:<alice@example.test>"],
        ["bdat", first, false],
        ["bdat", second, false],
        ["cmd", "DATA"],
        ["cmd", "BDAT 0 LAST"],
      ]);
      assert.deepEqual(codes(r).slice(2), [
        "250 2.1.0",
        "250 2.1.5",
        "250 2.0.0",
        "250 2.0.0",
        "503 5.5.1", // DATA inside a BDAT transaction
        "250 2.0.0",
      ]);
      assert.equal(r[4][1], `2.0.0 ${first.length} octets received`);
      assert.match(r[7][1], /^2\.0\.0 Message accepted as \w+$/);
      const msg = (await mailboxTexts(ts, "alice@example.test")).find((m) =>
        m.includes("Subject: chunked")
      )!;
      assert.equal(msg.slice(msg.indexOf("Subject: chunked")), first + second);
      assert.match(msg, /^Return-Path: <s@remote\.test>\r\nReceived: from client\.test/);
    });

    await t.step("BDAT LAST alone, and pipelined with MAIL and RCPT", async () => {
      const text = "Subject: last only\r\n\r\nhi";
      const piped = "Subject: piped bdat\r\n\r\nhello\r\n";
      const r = await smtpDialog(port, [
        ["ehlo"],
        ["cmd", "MAIL FROM:<s@remote.test>"],
        ["cmd", "RCPT TO:<alice@example.test>"],
        // a message need not end in CRLF with BDAT: stored as sent
        ["bdat", text, true],
        [
          "raw",
          `MAIL FROM:<s@remote.test>\r\nRCPT TO:<alice@example.test>\r\nBDAT ${piped.length} LAST\r\n${piped}NOOP\r\n`,
        ],
        ["reply"],
        ["reply"],
        ["reply"],
        ["reply"],
      ]);
      assert.deepEqual(codes(r).slice(2), [
        "250 2.1.0",
        "250 2.1.5",
        "250 2.0.0",
        "250 2.1.0",
        "250 2.1.5",
        "250 2.0.0",
        "250 2.0.0",
      ]);
      const texts = await mailboxTexts(ts, "alice@example.test");
      assert.ok(texts.some((m) => m.endsWith("\r\nSubject: last only\r\n\r\nhi")));
      assert.ok(texts.some((m) => m.endsWith(piped)));
    });

    await t.step("BDAT refused for sequence still consumes its chunk", async () => {
      const r = await smtpDialog(port, [
        ["ehlo"],
        ["bdat", "NOOP\r\nQUIT\r\n", true],
        ["cmd", "NOOP"],
      ]);
      assert.deepEqual(codes(r).slice(2), ["503 5.5.1", "250 2.0.0"]);
    });

    await t.step("SMTPUTF8: UTF-8 addresses need the parameter (553 5.6.7)", async () => {
      const r = await smtpDialog(port, [
        ["ehlo"],
        ["cmd", "MAIL FROM:<jürgen@remote.test>"],
        ["cmd", "MAIL FROM:<s@remote.test>"],
        ["cmd", "RCPT TO:<jörg@example.test>"],
        ["cmd", "RSET"],
        ["cmd", "MAIL FROM:<jürgen@bücher.test> SMTPUTF8 BODY=8BITMIME"],
        ["cmd", "RCPT TO:<jörg@example.test>"],
        ["data", body("Grüße")],
      ]);
      assert.deepEqual(codes(r).slice(2), [
        "553 5.6.7",
        "250 2.1.0",
        "553 5.6.7",
        "250 2.0.0",
        "250 2.1.0",
        "250 2.1.5",
        "250 2.0.0",
      ]);
      const [msg] = await mailboxTexts(ts, "jörg@example.test");
      assert.match(msg, /^Return-Path: <jürgen@bücher\.test>\r\n/);
      assert.match(msg, /with UTF8SMTP id \w+\r\n\tfor <jörg@example\.test>;/);
      assert.ok(msg.includes("Subject: Grüße\r\n"));
    });

    await t.step("DSN and other parameter errors", async () => {
      const r = await smtpDialog(port, [
        ["ehlo"],
        ["cmd", "MAIL FROM:<s@remote.test> RET=FULL RET=HDRS"],
        ["cmd", "MAIL FROM:<s@remote.test> RET=SOME"],
        ["cmd", "MAIL FROM:<s@remote.test> ENVID=has+zz"],
        ["cmd", "MAIL FROM:<s@remote.test> X-UNKNOWN=1"],
        ["cmd", "MAIL FROM:<s@remote.test> BODY=BINARYMIME"],
        ["cmd", "MAIL FROM:<s@remote.test> RET=HDRS ENVID=QQ+2B1 AUTH=<>"],
        ["cmd", "RCPT TO:<alice@example.test> NOTIFY=NEVER,DELAY"],
        ["cmd", "RCPT TO:<alice@example.test> ORCPT=nosemicolon"],
        ["cmd", "RCPT TO:<alice@example.test> NOTIFY=SUCCESS ORCPT=rfc822;alice@example.test"],
        ["cmd", "QUIT"],
      ]);
      assert.deepEqual(codes(r).slice(2), [
        "501 5.5.4",
        "501 5.5.4",
        "501 5.5.4",
        "555 5.5.4",
        "555 5.5.4",
        "250 2.1.0",
        "501 5.5.4",
        "501 5.5.4",
        "250 2.1.5",
        "221 2.0.0",
      ]);
    });

    await t.step("REQUIRETLS only over TLS (RFC 8689)", async () => {
      const r = await smtpDialog(port, [
        ["ehlo"],
        ["cmd", "MAIL FROM:<s@remote.test> REQUIRETLS"],
        ["starttls"],
        ["ehlo"],
        ["cmd", "MAIL FROM:<s@remote.test> REQUIRETLS"],
        ["cmd", "RCPT TO:<alice@example.test>"],
        ["data", body("over tls")],
      ], { ca });
      assert.ok(!r[1][1].split("\n").includes("REQUIRETLS"));
      assert.ok(r[4][1].split("\n").includes("REQUIRETLS"));
      assert.deepEqual(codes(r).slice(2), [
        "530 5.7.10",
        "220 2.0.0",
        "250",
        "250 2.1.0",
        "250 2.1.5",
        "250 2.0.0",
      ]);
      const msg = (await mailboxTexts(ts, "alice@example.test")).find((m) =>
        m.includes("Subject: over tls")
      )!;
      assert.match(msg, /with ESMTPS id \w+\r\n\t\(TLSv1\.3 cipher [\w-]+\)\r\n/);
    });
  } finally {
    await ts.stop();
  }
});
