/**
 * SMTP submission (RFC 6409) and submissions (RFC 8314): STARTTLS (RFC 3207), AUTH
 * (RFC 4954: PLAIN, LOGIN, SCRAM-SHA-256), sender ownership, relaying for authenticated
 * users. Real clients: swaks, python smtplib, openssl s_client, nodemailer.
 */
import assert from "node:assert/strict";
import nodemailer from "nodemailer";
import { Authenticator } from "../core/auth.ts";
import { run, startTestServer } from "./harness.ts";
import { codes, mailboxTexts, message, smtpDialog } from "./smtp_helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

async function readReply(c: Deno.Conn | Deno.TlsConn): Promise<string> {
  let acc = "";
  const buf = new Uint8Array(4096);
  while (!/(^|\n)\d{3} [^\n]*\n$/.test(acc)) {
    const n = await c.read(buf);
    if (n === null) break;
    acc += dec.decode(buf.subarray(0, n));
  }
  return acc;
}

Deno.test("smtp submission", async (t) => {
  const ts = await startTestServer({ listeners: { imap: "", imaps: "", pop3: "", pop3s: "" } });
  try {
    // Queued entries stay put for inspection: no delivery attempts, no bounces.
    await ts.server.queue.stop();
    await ts.addUser("alice@example.test", "alice-password");
    await ts.addUser("bob@example.test", "bob-password");
    await ts.store.setAlias("team@example.test", ["alice@example.test", "bob@example.test"]);
    await ts.store.setAlias("bobs@example.test", ["bob@example.test"]);
    const ca = await ts.certFile();
    const sub = ts.port("submission");
    const subs = ts.port("submissions");

    await t.step(
      "STARTTLS required off loopback: no AUTH in clear (538, 530), then login",
      async () => {
        ts.config.auth.allowPlaintextLoopback = false;
        try {
          const r = await smtpDialog(sub, [
            ["ehlo"],
            ["cmd", "AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABhbGljZS1wYXNzd29yZA=="],
            ["cmd", "MAIL FROM:<alice@example.test>"],
            ["starttls"],
            ["ehlo"],
            ["cmd", "MAIL FROM:<alice@example.test>"],
            ["login", "alice@example.test", "alice-password"],
            [
              "sendmail",
              "alice@example.test",
              ["bob@example.test"],
              "Subject: no ids\r\n\r\nhi\r\n",
            ],
            ["cmd", "QUIT"],
          ], { ca });
          const plainEhlo = r[1][1].split("\n");
          assert.ok(plainEhlo.includes("STARTTLS"));
          assert.ok(!plainEhlo.some((l) => l.startsWith("AUTH")));
          assert.ok(!plainEhlo.includes("REQUIRETLS"));
          assert.deepEqual(codes(r).slice(2, 5), ["538 5.7.11", "530 5.7.0", "220 2.0.0"]);
          assert.equal(r[3][1], "5.7.0 Must issue a STARTTLS command first");
          const tlsEhlo = r[5][1].split("\n");
          assert.ok(tlsEhlo.includes("AUTH PLAIN LOGIN SCRAM-SHA-256"));
          assert.ok(tlsEhlo.includes("REQUIRETLS"));
          assert.ok(!tlsEhlo.includes("STARTTLS"));
          assert.deepEqual(codes(r).slice(6), ["530 5.7.0", "235 2.7.0", "250", "221 2.0.0"]);
          assert.equal(r[6][1], "5.7.0 Authentication required");
        } finally {
          ts.config.auth.allowPlaintextLoopback = true;
        }
        const msg = (await mailboxTexts(ts, "bob@example.test")).at(-1)!;
        assert.match(
          msg,
          /^Return-Path: <alice@example\.test>\r\nReceived: from client\.test \(\[127\.0\.0\.1\]\)\r\n\tby mail\.example\.test \(denomail\) with ESMTPSA id (\w+)\r\n\t\(TLSv1\.[23] cipher [\w-]+\)\r\n\tfor <bob@example\.test>;\r\n\t.+\r\n/,
        );
        // RFC 6409 §8: Date and Message-ID added to a submission that lacks them
        const id = /with ESMTPSA id (\w+)/.exec(msg)![1];
        assert.match(msg, /\r\nDate: \w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d \+0000\r\n/);
        assert.ok(msg.includes(`\r\nMessage-ID: <${id}@mail.example.test>\r\nSubject: no ids\r\n`));
      },
    );

    await t.step("swaks STARTTLS + AUTH PLAIN and AUTH LOGIN, certificate verified", async () => {
      for (const mech of ["PLAIN", "LOGIN"]) {
        const out = await run("swaks", [
          "--server",
          "127.0.0.1",
          "--port",
          String(sub),
          "--tls",
          "--tls-verify",
          "--tls-ca-path",
          ca,
          "--auth",
          mech,
          "--auth-user",
          "alice@example.test",
          "--auth-password",
          "alice-password",
          "--from",
          "alice@example.test",
          "--to",
          "bob@example.test",
          "--header",
          `Subject: swaks ${mech}`,
        ]);
        assert.match(out.stdout, /<- {2}220 2\.0\.0 Ready to start TLS/);
        assert.match(out.stdout, /<~ {2}235 2\.7\.0 Authentication successful/);
        assert.match(out.stdout, /<~ {2}250 2\.0\.0 Message accepted as \w+/);
      }
      const bob = await mailboxTexts(ts, "bob@example.test");
      assert.ok(bob.some((m) => m.includes("Subject: swaks PLAIN")));
      assert.ok(bob.some((m) => m.includes("Subject: swaks LOGIN")));
    });

    await t.step("AUTH: SCRAM-SHA-256, failures, cancel, unknown mechanism, twice", async () => {
      const r = await smtpDialog(sub, [
        ["ehlo"],
        ["cmd", "MAIL FROM:<alice@example.test>"],
        ["auth", "PLAIN", "alice@example.test", "wrong"],
        ["cmd", "AUTH PLAIN"],
        ["cmd", "*"],
        ["cmd", "AUTH CRAM-MD5"],
        ["cmd", "AUTH PLAIN !!!!"],
        ["scram", "alice@example.test", "alice-password"],
        ["auth", "LOGIN", "alice@example.test", "alice-password"],
        ["cmd", "QUIT"],
      ]);
      assert.deepEqual(codes(r).slice(2), [
        "530 5.7.0",
        "535 5.7.8",
        "334",
        "501 5.0.0",
        "504 5.5.4",
        "501 5.5.2",
        "235 2.7.0",
        "503 5.5.1",
        "221 2.0.0",
      ]);
      assert.equal(r[4][1], ""); // RFC 4954: "334 " with an empty challenge
      assert.match(r[8][1], / verified$/); // the server proved it knows the password too
    });

    await t.step("AUTH LOGIN without initial response; sender ownership", async () => {
      const r = await smtpDialog(sub, [
        ["ehlo"],
        ["cmd", "AUTH LOGIN"],
        ["cmd", btoa("alice@example.test")],
        ["cmd", btoa("alice-password")],
        ["cmd", "MAIL FROM:<bob@example.test>"],
        ["cmd", "MAIL FROM:<bobs@example.test>"],
        ["cmd", "MAIL FROM:<someone@remote.test>"],
        ["cmd", "MAIL FROM:<Alice+Lists@Example.TEST>"],
        ["cmd", "RSET"],
        ["cmd", "MAIL FROM:<team@example.test>"],
        ["cmd", "RSET"],
        ["cmd", "MAIL FROM:<>"],
        ["cmd", "QUIT"],
      ]);
      assert.deepEqual(codes(r).slice(2), [
        "334",
        "334",
        "235 2.7.0",
        "553 5.7.1", // bob's address
        "553 5.7.1", // an alias of bob only
        "553 5.7.1", // someone else's domain
        "250 2.1.0", // +tag of her own address, any case
        "250 2.0.0",
        "250 2.1.0", // an alias that reaches her
        "250 2.0.0",
        "250 2.1.0", // the null sender impersonates no one
        "221 2.0.0",
      ]);
      assert.equal(atob(r[2][1]), "Username:");
      assert.equal(atob(r[3][1]), "Password:");
    });

    await t.step("authenticated relay: remote recipients queued, local delivered", async () => {
      const r = await smtpDialog(sub, [
        ["starttls"],
        ["ehlo"],
        ["login", "alice@example.test", "alice-password"],
        ["cmd", "MAIL FROM:<alice@example.test> RET=FULL ENVID=abc REQUIRETLS"],
        [
          "cmd",
          "RCPT TO:<friend@remote.test> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;friend@remote.test",
        ],
        ["cmd", "RCPT TO:<other@elsewhere.test>"],
        ["cmd", "RCPT TO:<bob@example.test>"],
        // The author is the user: submission refuses a From: the user does not own.
        [
          "data",
          message("relay", "to everyone\r\n", "Message-ID: <given@client.test>\r\n")
            .replace("From: sender@remote.test", "From: alice@example.test"),
        ],
      ], { ca });
      assert.deepEqual(codes(r).slice(1), [
        "220 2.0.0",
        "250",
        "235 2.7.0",
        "250 2.1.0",
        "250 2.1.5",
        "250 2.1.5",
        "250 2.1.5",
        "250 2.0.0",
      ]);
      const queue = await ts.store.listQueue();
      const q = queue.find((e) => e.meta.envid === "abc");
      assert.ok(q, JSON.stringify(queue));
      assert.equal(q.sender, "alice@example.test");
      assert.deepEqual(q.recipients, [
        {
          address: "friend@remote.test",
          status: "pending",
          dsn: { notify: ["SUCCESS", "DELAY"], orcpt: "rfc822;friend@remote.test" },
        },
        { address: "other@elsewhere.test", status: "pending", dsn: {} },
      ]);
      assert.ok(q.nextAttemptAt <= Date.now());
      assert.equal(q.meta.ret, "FULL");
      assert.equal(q.meta.requireTls, true);
      assert.equal(q.meta.authenticatedAs, "alice@example.test");
      const queued = dec.decode(await ts.store.readBlob(q.blobId));
      assert.match(queued, /^Received: from client\.test .* with ESMTPSA id /s);
      assert.ok(!queued.includes("Return-Path:"));
      // a given Message-ID is kept, not duplicated
      assert.equal(queued.split("Message-ID:").length, 2);
      const bob = (await mailboxTexts(ts, "bob@example.test")).at(-1)!;
      assert.ok(bob.includes("Subject: relay"));
    });

    await t.step("submissions: implicit TLS, AUTH required, no STARTTLS", async () => {
      const r = await smtpDialog(subs, [
        ["ehlo"],
        ["cmd", "STARTTLS"],
        ["cmd", "MAIL FROM:<bob@example.test>"],
        ["login", "bob@example.test", "bob-password"],
        [
          "sendmail",
          "bob@example.test",
          ["alice@example.test"],
          message("over 465").replace("From: sender@remote.test", "From: bob@example.test"),
        ],
        ["cmd", "QUIT"],
      ], { implicitTls: true, ca });
      const ehlo = r[1][1].split("\n");
      assert.ok(!ehlo.includes("STARTTLS"));
      assert.ok(ehlo.includes("AUTH PLAIN LOGIN SCRAM-SHA-256"));
      assert.deepEqual(codes(r).slice(2), [
        "502 5.5.1",
        "530 5.7.0",
        "235 2.7.0",
        "250",
        "221 2.0.0",
      ]);
      const alice = (await mailboxTexts(ts, "alice@example.test")).at(-1)!;
      assert.match(alice, /with ESMTPSA id /);
      assert.ok(alice.includes("Subject: over 465"), alice);
    });

    await t.step("plaintext pipelined after STARTTLS is discarded (RFC 3207 §4.2)", async () => {
      const c = await Deno.connect({ hostname: "127.0.0.1", port: ts.port("smtp") });
      try {
        assert.match(await readReply(c), /^220 /);
        await c.write(enc.encode("EHLO x.test\r\n"));
        assert.match(await readReply(c), /250 HELP\r\n$/);
        await c.write(enc.encode("STARTTLS\r\nMAIL FROM:<injected@evil.test>\r\n"));
        assert.equal(await readReply(c), "220 2.0.0 Ready to start TLS\r\n");
        const tls = await Deno.startTls(c, { hostname: "127.0.0.1", caCerts: [ts.certPem] });
        await tls.write(enc.encode("RCPT TO:<alice@example.test>\r\n"));
        // back to the state before EHLO, and no trace of the injected MAIL
        assert.equal(await readReply(tls), "503 5.5.1 Send EHLO/HELO first\r\n");
        await tls.write(enc.encode("EHLO x.test\r\nRCPT TO:<alice@example.test>\r\nQUIT\r\n"));
        const rest = await readReply(tls);
        assert.match(rest, /250 HELP\r\n503 5\.5\.1 Need MAIL command\r\n221 2\.0\.0 Bye\r\n$/);
        tls.close();
      } catch (e) {
        try {
          c.close();
        } catch { /* closed already */ }
        throw e;
      }
    });

    await t.step("a failed TLS handshake after STARTTLS closes the session", async () => {
      const c = await Deno.connect({ hostname: "127.0.0.1", port: ts.port("smtp") });
      try {
        await readReply(c);
        await c.write(enc.encode("EHLO x.test\r\nSTARTTLS\r\n"));
        assert.match(await readReply(c), /220 2\.0\.0 Ready to start TLS\r\n$/);
        await c.write(enc.encode("this is not a TLS ClientHello\r\n"));
        const buf = new Uint8Array(1024);
        let got = 0;
        // the server may send a TLS alert; what matters is that it closes (EOF or reset)
        for (;;) {
          const n = await c.read(buf).catch(() => null);
          if (n === null) break;
          got += n;
        }
        assert.ok(got < 1024);
      } finally {
        c.close();
      }
    });

    await t.step("openssl s_client -starttls smtp: certificate and TLS version", async () => {
      const out = await run("openssl", [
        "s_client",
        "-connect",
        `127.0.0.1:${sub}`,
        "-starttls",
        "smtp",
        "-CAfile",
        ca,
        "-verify_return_error",
        "-servername",
        "mail.example.test",
      ], { stdin: "QUIT\r\n", check: false });
      assert.match(out.stdout, /subject=CN ?= ?mail\.example\.test/);
      assert.match(out.stdout, /Verify return code: 0 \(ok\)/);
      assert.match(out.stdout, /New, TLSv1\.3, Cipher is /);
      // TLS 1.1 is refused (RFC 8996)
      const old = await run("openssl", [
        "s_client",
        "-connect",
        `127.0.0.1:${sub}`,
        "-starttls",
        "smtp",
        "-tls1_1",
      ], { stdin: "QUIT\r\n", check: false });
      assert.notEqual(old.code, 0);
    });

    await t.step(
      "nodemailer: requireTLS, AUTH, SMTPUTF8 to an internationalized address",
      async () => {
        await ts.addUser("jörg@example.test", "jorg-password");
        const transport = nodemailer.createTransport({
          host: "127.0.0.1",
          port: sub,
          secure: false,
          requireTLS: true,
          tls: { ca: ts.certPem, servername: "mail.example.test" },
          auth: { user: "alice@example.test", pass: "alice-password" },
        });
        try {
          const info = await transport.sendMail({
            from: "alice@example.test",
            to: "jörg@example.test",
            subject: "Grüße",
            text: "Hallo Jörg\n",
          });
          assert.deepEqual(info.accepted, ["jörg@example.test"]);
          assert.match(info.response, /^250 2\.0\.0 Message accepted as \w+$/);
        } finally {
          transport.close();
        }
        const msg = (await mailboxTexts(ts, "jörg@example.test")).at(-1)!;
        assert.match(
          msg,
          /with UTF8SMTPSA id \w+\r\n\t\(TLSv1\.3 cipher [\w-]+\)\r\n\tfor <jörg@example\.test>;/,
        );
        assert.ok(msg.includes("Hallo J"));
      },
    );

    await t.step("throttled IP: 421 4.7.0 and close", async () => {
      const original = ts.server.deps.auth;
      // A strict throttle that also counts loopback, on a frozen clock: the wait never ends.
      const now = Date.now();
      ts.server.deps.auth = new Authenticator(ts.store, {
        now: () => now,
        limits: { maxFailuresPerAddress: 2, exempt: [] },
      });
      try {
        const r = await smtpDialog(sub, [
          ["ehlo"],
          ["auth", "PLAIN", "alice@example.test", "bad-1"],
          ["auth", "PLAIN", "alice@example.test", "bad-2"],
          ["cmd", "NOOP"],
        ]);
        assert.deepEqual(codes(r).slice(2), ["535 5.7.8", "421 4.7.0", "-1"]);
        const again = await smtpDialog(sub, [
          ["ehlo"],
          ["auth", "PLAIN", "alice@example.test", "alice-password"],
          ["cmd", "NOOP"],
        ]);
        assert.deepEqual(codes(again).slice(2), ["421 4.7.0", "-1"]);
      } finally {
        ts.server.deps.auth.close();
        ts.server.deps.auth = original;
      }
    });
  } finally {
    await ts.stop();
  }
});
