/**
 * SMTP limits and bad input: sizes, recipients, long lines, invalid UTF-8, floods of bad
 * commands, timeouts, storage failure. Real clients: python smtplib and swaks.
 */
import assert from "node:assert/strict";
import { run, startTestServer } from "./harness.ts";
import { codes, mailboxTexts, message, smtpDialog } from "./smtp_helpers.ts";

const ONLY_SMTP = {
  submission: "",
  submissions: "",
  imap: "",
  imaps: "",
  pop3: "",
  pop3s: "",
};

Deno.test("smtp limits and bad input", async (t) => {
  const ts = await startTestServer({
    listeners: ONLY_SMTP,
    limits: { max_message_bytes: 2048, max_recipients: 3, max_bad_commands: 4 },
  });
  try {
    await ts.addUser("alice@example.test", "alice-password");
    const port = ts.port("smtp");
    const envelope: Array<[string, string]> = [
      ["cmd", "MAIL FROM:<s@remote.test>"],
      ["cmd", "RCPT TO:<alice@example.test>"],
    ];

    await t.step("SIZE= over the limit: 552 5.3.4 at MAIL", async () => {
      const r = await smtpDialog(port, [
        ["ehlo"],
        ["cmd", "MAIL FROM:<s@remote.test> SIZE=4096"],
        ["cmd", "MAIL FROM:<s@remote.test> SIZE=100"],
        ["cmd", "QUIT"],
      ]);
      assert.ok(r[1][1].includes("\nSIZE 2048\n"));
      assert.deepEqual(codes(r).slice(2), ["552 5.3.4", "250 2.1.0", "221 2.0.0"]);
    });

    await t.step("DATA over the limit: 552 5.3.4, nothing stored, session goes on", async () => {
      const r = await smtpDialog(port, [
        ["ehlo"],
        ...envelope,
        ["data", message("big", "y".repeat(3000) + "\r\n")],
        ["cmd", "RCPT TO:<alice@example.test>"],
        ["cmd", "NOOP"],
      ]);
      assert.deepEqual(codes(r).slice(2), [
        "250 2.1.0",
        "250 2.1.5",
        "552 5.3.4",
        "503 5.5.1", // the transaction is over
        "250 2.0.0",
      ]);
      assert.equal((await mailboxTexts(ts, "alice@example.test")).length, 0);
    });

    await t.step("BDAT over the limit: chunk consumed, 552 5.3.4", async () => {
      const r = await smtpDialog(port, [
        ["ehlo"],
        ...envelope,
        ["bdat", "z".repeat(1500), false],
        ["bdat", "z".repeat(1500), false],
        ["bdat", "z".repeat(10), true],
        ["cmd", "NOOP"],
      ]);
      assert.deepEqual(codes(r).slice(2), [
        "250 2.1.0",
        "250 2.1.5",
        "250 2.0.0",
        "552 5.3.4",
        "503 5.5.1", // no transaction any more; its chunk is skipped, not run as commands
        "250 2.0.0",
      ]);
    });

    await t.step("too many recipients: 452 4.5.3", async () => {
      const r = await smtpDialog(port, [
        ["ehlo"],
        ["cmd", "MAIL FROM:<s@remote.test>"],
        ["cmd", "RCPT TO:<alice@example.test>"],
        ["cmd", "RCPT TO:<alice+1@example.test>"],
        ["cmd", "RCPT TO:<alice+2@example.test>"],
        ["cmd", "RCPT TO:<alice+3@example.test>"],
        ["data", message("three")],
      ]);
      assert.deepEqual(codes(r).slice(2), [
        "250 2.1.0",
        "250 2.1.5",
        "250 2.1.5",
        "250 2.1.5",
        "452 4.5.3",
        "250 2.0.0",
      ]);
      assert.equal((await mailboxTexts(ts, "alice@example.test")).length, 1);
    });

    await t.step(
      "over-long line 500 5.5.2; invalid UTF-8 500 5.5.2; session survives",
      async () => {
        const r = await smtpDialog(port, [
          ["ehlo"],
          ["raw", `NOOP ${"a".repeat(100_000)}\r\n`],
          ["reply"],
          ["rawb64", btoa("MAIL FROM:<\xff\xfe@remote.test>\r\n")],
          ["reply"],
          ["cmd", "NOOP"],
        ]);
        assert.deepEqual(codes(r).slice(2), ["500 5.5.2", "500 5.5.2", "250 2.0.0"]);
        assert.equal(r[2][1], "5.5.2 Line too long");
      },
    );

    await t.step("a flood of bad commands ends with 421 4.7.0", async () => {
      const r = await smtpDialog(port, [
        ["ehlo"],
        ["cmd", "XYZZY"],
        ["cmd", "PLUGH"],
        ["cmd", "MAIL FROM:broken"],
        ["cmd", "RCPT TO:<a@b.test>"],
        ["reply"],
        ["reply"],
      ]);
      assert.deepEqual(codes(r).slice(2), [
        "500 5.5.1",
        "500 5.5.1",
        "501 5.1.7",
        "503 5.5.1",
        "421 4.7.0",
        "-1",
      ]);
    });

    await t.step("an HTTP request on the SMTP port is answered once and closed", async () => {
      const r = await smtpDialog(port, [["raw", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"], [
        "reply",
      ], ["reply"]]);
      assert.deepEqual(codes(r).slice(1), ["500 5.5.1", "-1"]);
    });

    await t.step("storage failure: 451 4.3.0, nothing acknowledged", async () => {
      const store = ts.store as unknown as { deliver: unknown };
      const original = store.deliver;
      store.deliver = () => Promise.reject(new Error("disk on fire"));
      try {
        const out = await run("swaks", [
          "--server",
          "127.0.0.1",
          "--port",
          String(port),
          "--from",
          "s@remote.test",
          "--to",
          "alice@example.test",
        ], { check: false });
        assert.match(out.stdout, /<\*\* 451 4\.3\.0 /);
      } finally {
        store.deliver = original;
      }
    });
  } finally {
    await ts.stop();
  }
});

Deno.test("smtp timeouts: 421 4.4.2 and close", async (t) => {
  const ts = await startTestServer({
    listeners: ONLY_SMTP,
    limits: { smtp_command_timeout: "1s", smtp_data_timeout: "1s" },
  });
  try {
    await ts.addUser("alice@example.test", "alice-password");
    const port = ts.port("smtp");

    await t.step("command timeout", async () => {
      const r = await smtpDialog(port, [["ehlo"], ["reply"], ["reply"]]);
      assert.deepEqual(codes(r).slice(1), ["250", "421 4.4.2", "-1"]);
    });

    await t.step("data timeout mid-message", async () => {
      const r = await smtpDialog(port, [
        ["ehlo"],
        ["cmd", "MAIL FROM:<s@remote.test>"],
        ["cmd", "RCPT TO:<alice@example.test>"],
        ["cmd", "DATA"],
        ["raw", "Subject: never finished\r\n\r\nhalf a li"],
        ["reply"],
        ["reply"],
      ]);
      assert.deepEqual(codes(r).slice(1), [
        "250",
        "250 2.1.0",
        "250 2.1.5",
        "354",
        "421 4.4.2",
        "-1",
      ]);
      assert.equal((await mailboxTexts(ts, "alice@example.test")).length, 0);
    });
  } finally {
    await ts.stop();
  }
});

Deno.test("smtp: too many connections from one IP get 421 instead of a greeting", async () => {
  const ts = await startTestServer({
    listeners: ONLY_SMTP,
    limits: { max_connections_per_ip: 1 },
  });
  const c = await Deno.connect({ hostname: "127.0.0.1", port: ts.port("smtp") });
  try {
    const buf = new Uint8Array(1024);
    const n = await c.read(buf);
    assert.match(new TextDecoder().decode(buf.subarray(0, n ?? 0)), /^220 /);
    const r = await smtpDialog(ts.port("smtp"), [["ehlo"]]);
    assert.deepEqual(r[0], [421, "mail.example.test Too many connections, try again later"]);
    assert.deepEqual(codes(r).slice(1), ["-1"]);
  } finally {
    c.close();
    await ts.stop();
  }
});
