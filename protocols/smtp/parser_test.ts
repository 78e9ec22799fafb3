import assert from "node:assert/strict";
import {
  decodeCommand,
  decodeXtext,
  encodeXtext,
  isXtext,
  parseAuthArg,
  parseBdatArg,
  parseCommandLine,
  parseHeloArg,
  parseMailArg,
  parseRcptArg,
} from "./parser.ts";
import { mailParams, rcptParams } from "./params.ts";
import { formatReply, reply, SmtpError } from "./replies.ts";
import { checkSequence } from "./state.ts";
import {
  hasHeader,
  headerSection,
  receivedHeader,
  submissionFixups,
  withProtocol,
} from "../../core/trace.ts";

const enc = new TextEncoder();

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof SmtpError) return `${e.reply.code} ${e.reply.enhanced}`;
    throw e;
  }
  return "ok";
}

Deno.test("smtp parser", async (t) => {
  await t.step("command line: verb upper-cased, argument kept", () => {
    assert.deepEqual(parseCommandLine("mail FROM:<a@b.test> SIZE=10"), {
      verb: "MAIL",
      arg: "FROM:<a@b.test> SIZE=10",
    });
    assert.deepEqual(parseCommandLine("QUIT"), { verb: "QUIT", arg: "" });
    assert.deepEqual(parseCommandLine("  noop  "), { verb: "NOOP", arg: "" });
  });

  await t.step("command decoding refuses invalid UTF-8 and control characters", () => {
    assert.equal(decodeCommand(enc.encode("EHLO x")), "EHLO x");
    assert.equal(code(() => decodeCommand(new Uint8Array([0x45, 0xff, 0xfe]))), "500 5.5.2");
    assert.equal(code(() => decodeCommand(enc.encode("NOOP \x00"))), "500 5.5.2");
  });

  await t.step("MAIL FROM paths", () => {
    assert.equal(parseMailArg("FROM:<>").mailbox, null);
    const m = parseMailArg("from:<Bob@Example.TEST> SIZE=100 BODY=8BITMIME");
    assert.equal(m.mailbox!.address, "Bob@example.test");
    assert.deepEqual([...m.params], [["SIZE", "100"], ["BODY", "8BITMIME"]]);
    // a space after the colon is tolerated
    assert.equal(parseMailArg("FROM: <a@b.test>").mailbox!.address, "a@b.test");
    assert.equal(code(() => parseMailArg("FROM:a@b.test")), "501 5.1.7");
    // A bad domain is a bad sender address (RFC 3463 X.1.7), not a destination error.
    assert.equal(code(() => parseMailArg("FROM:<a@@b>")), "501 5.1.7");
    assert.equal(code(() => parseMailArg("FROM:<a@b.test.>")), "501 5.1.7");
    assert.equal(code(() => parseMailArg("FROM:<a@[300.1.1.1]>")), "501 5.1.7");
    assert.equal(code(() => parseRcptArg("TO:<a@@b>")), "501 5.1.3");
    assert.equal(code(() => parseMailArg("TO:<a@b.test>")), "501 5.5.2");
    assert.equal(code(() => parseMailArg("FROM:<a@b.test>SIZE=1")), "501 5.5.2");
    assert.equal(code(() => parseMailArg("FROM:<a@b.test> SIZE=1 SIZE=2")), "501 5.5.4");
  });

  await t.step("RCPT TO: source routes ignored, the final mailbox decides", () => {
    const r = parseRcptArg("TO:<@relay.test,@other.test:user@final.test>");
    assert.equal(r.mailbox.address, "user@final.test");
    assert.equal(parseRcptArg("TO:<@[192.0.2.1]:u@x.test>").mailbox.address, "u@x.test");
    assert.equal(parseRcptArg("TO:<@[IPv6:2001:db8::1]:u@x.test>").mailbox.address, "u@x.test");
  });

  await t.step("RCPT TO: postmaster without a domain (RFC 5321 §4.5.1)", () => {
    assert.equal(parseRcptArg("TO:<Postmaster>").mailbox.address, "postmaster");
    assert.equal(parseRcptArg("TO:<POSTMASTER>").mailbox.address, "postmaster");
    assert.equal(code(() => parseRcptArg("TO:<alice>")), "501 5.1.3");
  });

  await t.step("relay tricks stay one local address", () => {
    assert.equal(
      parseRcptArg("TO:<user%other.test@local.test>").mailbox.address,
      "user%other.test@local.test",
    );
    assert.equal(
      parseRcptArg("TO:<other.test!user@local.test>").mailbox.address,
      "other.test!user@local.test",
    );
    // a quoted local part holding "@": the domain is after the last "@"
    const q = parseRcptArg('TO:<"user@other.test"@local.test>').mailbox;
    assert.equal(q.address, '"user@other.test"@local.test');
    assert.equal(q.domain, "local.test");
    // needless quotes are dropped; escapes are canonical
    assert.equal(parseRcptArg('TO:<"alice"@local.test>').mailbox.address, "alice@local.test");
    assert.equal(parseRcptArg('TO:<"a\\ b"@local.test>').mailbox.address, '"a b"@local.test');
    assert.equal(code(() => parseRcptArg("TO:<other.test!user>")), "501 5.1.3");
    assert.equal(code(() => parseRcptArg("TO:<user@local.test.>")), "501 5.1.3");
    assert.equal(code(() => parseRcptArg("TO:<user@local..test>")), "501 5.1.3");
    assert.equal(code(() => parseRcptArg("TO:<user@-local.test>")), "501 5.1.3");
    assert.equal(code(() => parseRcptArg("TO:<a..b@local.test>")), "501 5.1.3");
    assert.equal(code(() => parseRcptArg("TO:<a b@local.test>")), "501 5.1.3");
    assert.equal(code(() => parseRcptArg("TO:<>")), "501 5.1.3");
    assert.equal(code(() => parseRcptArg("TO:<u@[300.1.1.1]>")), "501 5.1.3");
    assert.equal(code(() => parseRcptArg(`TO:<${"a".repeat(400)}@x.test>`)), "501 5.1.3");
  });

  await t.step("mixed case: domain lower-cased, local part kept", () => {
    const m = parseRcptArg("TO:<Alice@LOCAL.Test>").mailbox;
    assert.equal(m.address, "Alice@local.test");
  });

  await t.step("UTF-8 addresses are marked non-ASCII (RFC 6531)", () => {
    const m = parseRcptArg("TO:<用户@例子.test>").mailbox;
    assert.equal(m.ascii, false);
    assert.equal(parseRcptArg("TO:<a@b.test>").mailbox.ascii, true);
  });

  await t.step("xtext", () => {
    assert.ok(isXtext("abc+2Bdef"));
    assert.ok(!isXtext("a b"));
    assert.ok(!isXtext("a+2b"));
    assert.equal(decodeXtext("a+2Bb+3Dc"), "a+b=c");
    assert.equal(encodeXtext("a+b=c d"), "a+2Bb+3Dc+20d");
  });

  await t.step("MAIL parameters", () => {
    const ctx = { tls: false, maxMessageBytes: 1000 };
    const p = parseMailArg("FROM:<a@b.test> SIZE=10 RET=HDRS ENVID=x+2By SMTPUTF8").params;
    assert.deepEqual(mailParams(p, ctx), {
      size: 10,
      body: null,
      smtputf8: true,
      ret: "HDRS",
      envid: "x+2By",
      auth: null,
      requireTls: false,
    });
    const m = (s: string, tls = false) =>
      code(() => mailParams(parseMailArg(`FROM:<a@b.test> ${s}`).params, { ...ctx, tls }));
    assert.equal(m("SIZE=1001"), "552 5.3.4");
    assert.equal(m("SIZE=abc"), "501 5.5.4");
    assert.equal(m("BODY=BINARYMIME"), "555 5.5.4");
    assert.equal(m("FOO=bar"), "555 5.5.4");
    assert.equal(m("RET=ALL"), "501 5.5.4");
    assert.equal(m("REQUIRETLS"), "530 5.7.10");
    assert.equal(m("REQUIRETLS", true), "ok");
    assert.equal(m(`ENVID=${"x".repeat(101)}`), "501 5.5.4");
  });

  await t.step("RCPT parameters", () => {
    const r = (s: string) => rcptParams(parseRcptArg(`TO:<a@b.test> ${s}`).params);
    assert.deepEqual(r("NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a+2Bb@b.test"), {
      notify: ["SUCCESS", "FAILURE"],
      orcpt: "rfc822;a+2Bb@b.test",
    });
    assert.deepEqual(r("NOTIFY=never").notify, ["NEVER"]);
    assert.equal(code(() => r("NOTIFY=NEVER,SUCCESS")), "501 5.5.4");
    assert.equal(code(() => r("NOTIFY=SUCCESS,SUCCESS")), "501 5.5.4");
    assert.equal(code(() => r("ORCPT=bogus")), "501 5.5.4");
    assert.equal(code(() => r("SIZE=1")), "555 5.5.4");
  });

  await t.step("EHLO, BDAT, AUTH arguments and base64", () => {
    assert.equal(parseHeloArg("client.example.test"), "client.example.test");
    assert.equal(parseHeloArg("[127.0.0.1]"), "[127.0.0.1]");
    assert.equal(code(() => parseHeloArg("")), "501 5.5.4");
    assert.equal(code(() => parseHeloArg("bad(name)")), "501 5.5.4");
    assert.deepEqual(parseBdatArg("100 LAST"), { size: 100, last: true });
    assert.deepEqual(parseBdatArg("0"), { size: 0, last: false });
    assert.equal(code(() => parseBdatArg("-1")), "501 5.5.2");
    assert.equal(code(() => parseBdatArg("1 FIRST")), "501 5.5.2");
    assert.deepEqual(parseAuthArg("plain AGEAYg=="), { mechanism: "PLAIN", initial: "AGEAYg==" });
    assert.deepEqual(parseAuthArg("LOGIN"), { mechanism: "LOGIN", initial: null });
  });
});

Deno.test("smtp replies, state table and trace headers", async (t) => {
  await t.step("reply formatting: multi-line, enhanced code, no CR/LF injection", () => {
    assert.equal(formatReply(reply(250, "2.0.0", "OK")), "250 2.0.0 OK\r\n");
    assert.equal(formatReply(reply(250, "", "a", "b")), "250-a\r\n250 b\r\n");
    assert.equal(formatReply(reply(334, "", "")), "334 \r\n");
    assert.equal(formatReply(reply(550, "5.1.1", "x\r\n250 ok")), "550 5.1.1 x 250 ok\r\n");
  });

  await t.step("state table", () => {
    assert.equal(checkSequence("init", "EHLO"), null);
    assert.equal(checkSequence("init", "MAIL")?.lines[0], "Send EHLO/HELO first");
    assert.equal(checkSequence("idle", "RCPT")?.lines[0], "Need MAIL command");
    assert.equal(checkSequence("mail", "DATA")?.lines[0], "Need RCPT command");
    assert.equal(checkSequence("rcpt", "MAIL")?.lines[0], "Nested MAIL command");
    assert.equal(checkSequence("bdat", "DATA")?.code, 503);
    assert.equal(checkSequence("bdat", "BDAT"), null);
    assert.equal(checkSequence("rcpt", "STARTTLS")?.code, 503);
    for (const phase of ["init", "idle", "mail", "rcpt", "bdat"] as const) {
      assert.equal(checkSequence(phase, "QUIT"), null);
      assert.equal(checkSequence(phase, "RSET"), null);
    }
  });

  await t.step("with-protocol names (RFC 3848, RFC 6531 §4.3)", () => {
    const f = { esmtp: true, tls: false, auth: false, utf8: false };
    assert.equal(withProtocol(f), "ESMTP");
    assert.equal(withProtocol({ ...f, tls: true, auth: true }), "ESMTPSA");
    assert.equal(withProtocol({ ...f, tls: true }), "ESMTPS");
    assert.equal(withProtocol({ ...f, auth: true }), "ESMTPA");
    assert.equal(withProtocol({ ...f, utf8: true, tls: true }), "UTF8SMTPS");
    assert.equal(withProtocol({ ...f, esmtp: false }), "SMTP");
  });

  await t.step("Received header", () => {
    const h = receivedHeader({
      helo: "client.test",
      clientIp: "::1",
      hostname: "mx.test",
      protocol: "ESMTPS",
      id: "ABC",
      for: "a@b.test",
      tls: null,
      date: Date.UTC(2024, 0, 2, 3, 4, 5),
    });
    assert.equal(
      h,
      "Received: from client.test ([IPv6:::1])\r\n\tby mx.test (denomail) with ESMTPS id ABC\r\n" +
        "\tfor <a@b.test>;\r\n\tTue, 2 Jan 2024 03:04:05 +0000\r\n",
    );
  });

  await t.step("submission fix-ups add Date and Message-ID only when missing", () => {
    const o = { hostname: "mx.test", id: "X1", date: 0 };
    const none = submissionFixups(enc.encode("Subject: a\r\n\r\nbody\r\n"), o);
    assert.equal(none, "Date: Thu, 1 Jan 1970 00:00:00 +0000\r\nMessage-ID: <X1@mx.test>\r\n");
    const both = submissionFixups(
      enc.encode("date: x\r\nMESSAGE-ID: <y@z>\r\n\r\nDate: in body\r\n"),
      o,
    );
    assert.equal(both, "");
    // "Date:" in the body or a folded continuation does not count
    assert.ok(
      !hasHeader(headerSection(enc.encode("Subject: a\r\n Date: b\r\n\r\nDate: c")), "Date"),
    );
  });
});
