/**
 * SMTP MX listener end to end (RFC 5321): swaks and python smtplib against a running server,
 * stored bytes read back through the Store.
 */
import assert from "node:assert/strict";
import { run, startTestServer } from "./harness.ts";
import { codes, mailboxTexts, message, smtpDialog } from "./smtp_helpers.ts";

Deno.test("smtp mx", async (t) => {
  const ts = await startTestServer({
    listeners: { imap: "", imaps: "", pop3: "", pop3s: "", submissions: "" },
  });
  try {
    // Queued entries stay put for inspection: no delivery attempts, no bounces.
    await ts.server.queue.stop();
    await ts.addUser("alice@example.test", "alice-password");
    await ts.addUser("bob@example.test", "bob-password");
    await ts.addUser("carol@catch.test", "carol-password");
    await ts.store.setAlias("team@example.test", ["alice@example.test", "bob@example.test"]);
    await ts.store.setAlias("@catch.test", ["carol@catch.test"]);
    await ts.store.setAlias("postmaster@example.test", ["alice@example.test"]);
    await ts.store.setAlias("forward@example.test", ["friend@remote.test"]);
    const port = ts.port("smtp");

    await t.step("greeting and EHLO keywords", async () => {
      const r = await smtpDialog(port, [["ehlo", "client.test"], ["cmd", "QUIT"]]);
      assert.deepEqual(r[0], [220, "mail.example.test ESMTP denomail"]);
      assert.equal(r[1][0], 250);
      const lines = r[1][1].split("\n");
      assert.equal(lines[0], "mail.example.test Hello client.test [127.0.0.1]");
      assert.deepEqual(lines.slice(1), [
        "PIPELINING",
        "SIZE 52428800",
        "8BITMIME",
        "ENHANCEDSTATUSCODES",
        "STARTTLS",
        "SMTPUTF8",
        "CHUNKING",
        "DSN",
        "HELP",
      ]);
      // no AUTH on the MX; no REQUIRETLS without TLS
      assert.deepEqual(r[2], [221, "2.0.0 Bye"]);
    });

    await t.step("swaks with PIPELINING delivers, 250 after commit, trace headers", async () => {
      const out = await run("swaks", [
        "--server",
        "127.0.0.1",
        "--port",
        String(port),
        "--helo",
        "swaks.client.test",
        "--from",
        "sender@remote.test",
        "--to",
        "alice@example.test",
        "--header",
        "Subject: via swaks",
        "--body",
        "first line\n.leading dot\n..two dots\nlast",
        "--pipeline",
      ]);
      // replies to MAIL, RCPT and DATA come back as one batch after the pipelined commands
      assert.match(
        out.stdout,
        / -> MAIL FROM:<sender@remote\.test>\n -> RCPT TO:<alice@example\.test>\n -> DATA\n<- {2}250 2\.1\.0 Sender OK\n<- {2}250 2\.1\.5 Recipient OK\n<- {2}354 /,
      );
      const id = /<- {2}250 2\.0\.0 Message accepted as (\w+)/.exec(out.stdout)?.[1];
      assert.ok(id, out.stdout);
      const [msg] = await mailboxTexts(ts, "alice@example.test");
      assert.ok(
        msg.startsWith(
          "Return-Path: <sender@remote.test>\r\nReceived: from swaks.client.test ([127.0.0.1])\r\n\tby mail.example.test (denomail) with ESMTP id " +
            id + "\r\n\tfor <alice@example.test>;\r\n\t",
        ),
        msg,
      );
      assert.match(msg, /\r\nSubject: via swaks\r\n/);
      // dot-unstuffing (RFC 5321 §4.5.2)
      assert.match(msg, /\r\n\r\nfirst line\r\n\.leading dot\r\n\.\.two dots\r\nlast\r\n/);
    });

    await t.step("smtplib: exact bytes stored, dots unstuffed, 8-bit kept", async () => {
      const body = ".\r\n..\r\n.x\r\nnaïve 8-bit\r\n";
      const r = await smtpDialog(port, [
        ["ehlo"],
        ["cmd", "MAIL FROM:<sender@remote.test> BODY=8BITMIME"],
        ["cmd", "RCPT TO:<bob@example.test>"],
        ["data", message("exact", body)],
        ["cmd", "QUIT"],
      ]);
      assert.deepEqual(codes(r), [
        "220",
        "250",
        "250 2.1.0",
        "250 2.1.5",
        "250 2.0.0",
        "221 2.0.0",
      ]);
      const [msg] = await mailboxTexts(ts, "bob@example.test");
      const stored = msg.slice(msg.indexOf("From: sender@remote.test"));
      assert.equal(stored, message("exact", body));
    });

    await t.step(
      "recipients: unknown 550 5.1.1, non-local 550 5.7.1, +tag, alias, catch-all, case, postmaster",
      async () => {
        const r = await smtpDialog(port, [
          ["ehlo"],
          ["cmd", "MAIL FROM:<sender@remote.test>"],
          ["cmd", "RCPT TO:<nobody@example.test>"],
          ["cmd", "RCPT TO:<someone@remote.test>"],
          ["cmd", "RCPT TO:<alice+news@example.test>"],
          ["cmd", "RCPT TO:<team@example.test>"],
          ["cmd", "RCPT TO:<anything@catch.test>"],
          ["cmd", "RCPT TO:<BOB@EXAMPLE.Test>"],
          ["cmd", "RCPT TO:<Postmaster>"],
          ["data", message("routing")],
        ]);
        assert.deepEqual(codes(r).slice(1), [
          "250",
          "250 2.1.0",
          "550 5.1.1",
          "550 5.7.1",
          "250 2.1.5",
          "250 2.1.5",
          "250 2.1.5",
          "250 2.1.5",
          "250 2.1.5",
          "250 2.0.0",
        ]);
        assert.equal(r[4][1], "5.7.1 Relaying denied");
        // one stored copy per account, however many RCPTs reached it
        const alice = await mailboxTexts(ts, "alice@example.test");
        const bob = await mailboxTexts(ts, "bob@example.test");
        const carol = await mailboxTexts(ts, "carol@catch.test");
        assert.equal(alice.filter((m) => m.includes("Subject: routing")).length, 1);
        assert.equal(bob.filter((m) => m.includes("Subject: routing")).length, 1);
        assert.equal(carol.filter((m) => m.includes("Subject: routing")).length, 1);
        // several recipients: no "for" clause
        assert.ok(!alice.at(-1)!.includes("\tfor <"));
      },
    );

    await t.step("never an open relay", async () => {
      const before = (await ts.store.listQueue()).length;
      const r = await smtpDialog(port, [
        ["ehlo"],
        ["cmd", "MAIL FROM:<a@@b>"],
        ["cmd", "MAIL FROM:<sender@remote.test>"],
        ["cmd", "RCPT TO:<user%remote.test@example.test>"],
        ["cmd", "RCPT TO:<@example.test:user@remote.test>"],
        ["cmd", "RCPT TO:<@example.test,@mail.example.test:alice@example.test>"],
        ["cmd", 'RCPT TO:<"user@remote.test"@example.test>'],
        ["cmd", "RCPT TO:<remote.test!user@example.test>"],
        ["cmd", "RCPT TO:<remote.test!user>"],
        ["cmd", "RCPT TO:<user@remote.test.>"],
        ["cmd", "RCPT TO:<alice@example.test.>"],
        ["cmd", "RCPT TO:<user@REMOTE.TEST>"],
        ["cmd", "RCPT TO:<user@[127.0.0.1]>"],
        ["cmd", "RCPT TO:<user@[IPv6:::1]>"],
        ["cmd", "QUIT"],
      ]);
      assert.deepEqual(codes(r).slice(2), [
        "501 5.1.7", // bad sender address syntax (RFC 3463 X.1.7)
        "250 2.1.0",
        "550 5.1.1", // "%" hack: a local part like any other, no such user
        "550 5.7.1", // source route ignored: the final address is remote
        "250 2.1.5", // source route ignored: the final address is local
        "550 5.1.1", // quoted "@": still a local part of example.test
        "550 5.1.1", // bang path: a local part
        "501 5.1.3", // bang path without a domain
        "501 5.1.3", // trailing dot: a syntax error of the address (RFC 3463 X.1.3)
        "501 5.1.3",
        "550 5.7.1",
        "550 5.7.1",
        "550 5.7.1",
        "221 2.0.0",
      ]);
      assert.equal((await ts.store.listQueue()).length, before);
    });

    await t.step("a local alias forwarding outside is queued, with ORCPT", async () => {
      const r = await smtpDialog(port, [
        ["ehlo"],
        ["cmd", "MAIL FROM:<sender@remote.test> RET=HDRS ENVID=env+2B1"],
        ["cmd", "RCPT TO:<forward@example.test> NOTIFY=FAILURE"],
        ["data", message("forwarded")],
      ]);
      assert.deepEqual(codes(r).slice(2), ["250 2.1.0", "250 2.1.5", "250 2.0.0"]);
      const q = (await ts.store.listQueue()).find((e) => e.sender === "sender@remote.test");
      assert.ok(q);
      assert.deepEqual(q.recipients, [{
        address: "friend@remote.test",
        status: "pending",
        dsn: { notify: ["FAILURE"], orcpt: "rfc822;forward@example.test" },
      }]);
      assert.equal(q.meta.envid, "env+2B1");
      assert.equal(q.meta.ret, "HDRS");
      const bytes = new TextDecoder().decode(await ts.store.readBlob(q.blobId));
      // Return-Path is for final delivery only (RFC 5321 §4.4)
      assert.ok(bytes.startsWith("Received: from client.test ([127.0.0.1])"), bytes);
    });

    await t.step("sequence errors, unknown commands and the simple commands", async () => {
      const r = await smtpDialog(port, [
        ["cmd", "MAIL FROM:<a@remote.test>"],
        ["cmd", "STARTTLS"],
        ["cmd", "NOOP"],
        ["helo", "old.client.test"],
        ["cmd", "RCPT TO:<alice@example.test>"],
        ["cmd", "DATA"],
        ["cmd", "MAIL FROM:<a@remote.test>"],
        ["cmd", "DATA"],
        ["cmd", "MAIL FROM:<b@remote.test>"],
        ["cmd", "BDAT 0 LAST"],
        ["cmd", "RSET"],
        ["cmd", "RCPT TO:<alice@example.test>"],
        ["cmd", "FROB"],
        ["cmd", "AUTH PLAIN"],
        ["cmd", "VRFY alice"],
        ["cmd", "EXPN team"],
        ["cmd", "HELP"],
        ["cmd", "NOOP"],
        ["cmd", "QUIT"],
      ]);
      assert.deepEqual(codes(r), [
        "220",
        "503 5.5.1", // MAIL before HELO
        "503 5.5.1", // STARTTLS before EHLO
        "250 2.0.0",
        "250",
        "503 5.5.1", // RCPT before MAIL
        "503 5.5.1",
        "250 2.1.0",
        "503 5.5.1", // DATA before RCPT
        "503 5.5.1", // nested MAIL
        "503 5.5.1", // BDAT before RCPT
        "250 2.0.0",
        "503 5.5.1",
        "500 5.5.1",
        "502 5.5.1", // no AUTH on the MX
        "252 2.1.5",
        "502 5.5.1",
        "214 2.0.0",
        "250 2.0.0",
        "221 2.0.0",
      ]);
      assert.equal(r[1][1], "5.5.1 Send EHLO/HELO first");
      assert.equal(r[5][1], "5.5.1 Need MAIL command");
      assert.equal(r[8][1], "5.5.1 Need RCPT command");
      assert.equal(r[9][1], "5.5.1 Nested MAIL command");
    });

    await t.step("HELO client: Received says SMTP", async () => {
      const r = await smtpDialog(port, [
        ["helo", "plain.client.test"],
        ["cmd", "MAIL FROM:<>"],
        ["cmd", "RCPT TO:<carol@catch.test>"],
        ["data", message("helo only")],
      ]);
      assert.deepEqual(codes(r).slice(1), ["250", "250 2.1.0", "250 2.1.5", "250 2.0.0"]);
      const msg = (await mailboxTexts(ts, "carol@catch.test")).at(-1)!;
      assert.match(
        msg,
        /^Return-Path: <>\r\nReceived: from plain\.client\.test \(\[127\.0\.0\.1\]\)\r\n\tby mail\.example\.test \(denomail\) with SMTP id /,
      );
    });

    await t.step(
      "pipelined batch: DATA after only rejected recipients gets 503, no 354",
      async () => {
        const r = await smtpDialog(port, [
          ["ehlo"],
          ["raw", "MAIL FROM:<a@remote.test>\r\nRCPT TO:<ghost@example.test>\r\nDATA\r\nNOOP\r\n"],
          ["reply"],
          ["reply"],
          ["reply"],
          ["reply"],
        ]);
        assert.deepEqual(codes(r).slice(2), ["250 2.1.0", "550 5.1.1", "503 5.5.1", "250 2.0.0"]);
      },
    );
  } finally {
    await ts.stop();
  }
});
