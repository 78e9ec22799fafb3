/**
 * IMAP extensions end to end: MULTIAPPEND (RFC 3502), UTF8=ACCEPT (RFC 6855),
 * CREATE-SPECIAL-USE (RFC 6154), LITERAL-/LITERAL+ (RFC 7888), ID (RFC 2971), NAMESPACE
 * (RFC 2342) and BINARY (RFC 3516) with imapflow, python imaplib and the raw client.
 */
import assert from "node:assert/strict";
import type { ImapFlow } from "imapflow";
import { startTestServer } from "./harness.ts";
import { flowClient, imaplib, RawPool, sampleMessage } from "./imap_helpers.ts";

const USER = "ext@example.test";
const PASS = "ext-pw";
const enc = new TextEncoder();
const dec = new TextDecoder();

/** A message with a base64 part whose decoded bytes hold NUL and 8-bit octets. */
const BINARY_BYTES = new Uint8Array([0, 1, 2, 0xff, 0x0d, 0x0a, 0x7f, 0x80, 0]);
const BINARY_MSG = enc.encode(
  "From: a@x.test\r\nSubject: bin\r\nMIME-Version: 1.0\r\n" +
    'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' +
    "--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
    btoa(String.fromCharCode(...BINARY_BYTES)) + "\r\n--b--\r\n",
);

/** imapflow as USER, naming itself in ID. */
function idFlow(port: number, ca: string): ImapFlow {
  return flowClient(port, ca, USER, PASS, { clientInfo: { name: "denomail-test", version: "1" } });
}

Deno.test("imap: MULTIAPPEND, UTF8=ACCEPT, CREATE-SPECIAL-USE, LITERAL-, ID, NAMESPACE, BINARY", async (t) => {
  const ts = await startTestServer();
  await ts.addUser(USER, PASS);
  const port = ts.port("imap");
  const raws = new RawPool(port, USER, PASS);
  const login = () => raws.login();
  try {
    await t.step(
      "LITERAL- before login, LITERAL+ after; a big non-sync literal ends it",
      async () => {
        const { client, greeting } = await raws.connect();
        assert.match(greeting, / LITERAL- /);
        assert.doesNotMatch(greeting, /LITERAL\+/);
        const caps = (await client.command(`LOGIN ${USER} ${PASS}`)).tagged;
        assert.match(caps, / LITERAL\+ /);
        assert.doesNotMatch(caps, /LITERAL-/);
        assert.match(caps, / MULTIAPPEND UTF8=ACCEPT CREATE-SPECIAL-USE /);
        // RFC 7888: up to 4096 octets are fine before login.
        const { client: small } = await raws.connect();
        const pw = PASS + " ".repeat(0);
        await small.write(`s1 LOGIN ${USER} {${pw.length}+}\r\n${pw}\r\n`);
        assert.match((await small.until("s1")).tagged, /^s1 OK/);
        const { client: big } = await raws.connect();
        await big.write(`b1 LOGIN ${USER} {5000+}\r\n${"x".repeat(5000)}\r\n`);
        assert.deepEqual(await big.drain(), [
          "b1 BAD [TOOBIG] Non-synchronizing literal too large",
          "* BYE Command too large before login",
        ]);
      },
    );

    await t.step("MULTIAPPEND: several messages in one command, all or nothing", async () => {
      const c = await login();
      const one = dec.decode(sampleMessage("multi one"));
      const two = dec.decode(sampleMessage("multi two"));
      // Synchronizing literals: a continuation for each.
      await c.write(`m1 APPEND INBOX (\\Seen) {${one.length}}\r\n`);
      assert.equal(await c.readLine(), "+ Ready for literal data");
      await c.write(`${one} (\\Flagged) "05-Mar-2024 09:11:12 +0000" {${two.length}}\r\n`);
      assert.equal(await c.readLine(), "+ Ready for literal data");
      await c.write(`${two}\r\n`);
      assert.match((await c.until("m1")).tagged, /^m1 OK \[APPENDUID \d+ 1:2\] /);
      // Non-synchronizing, three at once.
      const r = await c.command(
        `APPEND INBOX {${one.length}+}\r\n${one} {${two.length}+}\r\n${two} {${one.length}+}\r\n${one}`,
      );
      assert.match(r.tagged, /OK \[APPENDUID \d+ 3:5\] /);
      await c.command("SELECT INBOX");
      const f = await c.command("FETCH 1:2 (FLAGS INTERNALDATE)");
      assert.match(f.lines[0], /FLAGS \(\\Seen( \\Recent)?\)/);
      assert.match(
        f.lines[1],
        /FLAGS \(\\Flagged( \\Recent)?\) INTERNALDATE " 5-Mar-2024 09:11:12 \+0000"/,
      );
      // A message that fails (empty) fails the whole command.
      const bad = await c.command(`APPEND INBOX {${one.length}+}\r\n${one} {0+}\r\n`);
      assert.match(bad.tagged, /NO \[CANNOT\]/);
      assert.match((await c.command("APPEND INBOX {3+}\r\nabc junk")).tagged, /BAD/);
      // Over quota as a whole: none are stored.
      await ts.store.setQuota(
        USER,
        (await ts.store.accountUsage((await ts.store.getAccount(USER))!.id)) + one.length + 10,
      );
      const over = await c.command(
        `APPEND INBOX {${one.length}+}\r\n${one} {${two.length}+}\r\n${two}`,
      );
      assert.match(over.tagged, /NO \[OVERQUOTA\]/);
      await ts.store.setQuota(USER, null);
      const st = await c.command("STATUS INBOX (MESSAGES)");
      assert.deepEqual(st.lines, ['* STATUS "INBOX" (MESSAGES 5)']);
      await c.command("LOGOUT");
    });

    await t.step("UTF8=ACCEPT with python imaplib (UTF-8 names) and UTF8 APPEND", async () => {
      const lines = await imaplib(
        port,
        USER,
        PASS,
        `
print(m.enable("UTF8=ACCEPT"))
print(m.create('"Entwürfe/Büro"'))
typ, data = m.list('""', '"Entw*"')
print(typ, [d.decode("utf-8") for d in data])
typ, data = m.select('"Entwürfe/Büro"')
print(typ, data)
`,
      );
      assert.deepEqual(lines, [
        "('OK', [b'ENABLE completed'])",
        "('OK', [b'CREATE completed'])",
        `OK ['(\\\\HasChildren) "/" "Entwürfe"', '(\\\\HasNoChildren) "/" "Entwürfe/Büro"']`,
        "OK [b'0']",
      ]);
      // An IMAP4rev1 client without UTF8=ACCEPT sees modified UTF-7.
      const c = await login();
      const l = await c.command('LIST "" "Entw*"');
      assert.deepEqual(l.lines, [
        '* LIST (\\HasChildren) "/" "Entw&APw-rfe"',
        '* LIST (\\HasNoChildren) "/" "Entw&APw-rfe/B&APw-ro"',
      ]);
      // RFC 6855 §4: APPEND ... UTF8 (~{n}) with UTF-8 headers; ENVELOPE quoted in UTF-8.
      assert.deepEqual((await c.command("ENABLE UTF8=ACCEPT")).lines, ["* ENABLED UTF8=ACCEPT"]);
      const msg = enc.encode("From: Jürgen <j@x.test>\r\nSubject: Grüße\r\n\r\nHallo\r\n");
      await c.write(`u1 APPEND "Entwürfe/Büro" UTF8 (~{${msg.length}+}\r\n`);
      await c.write(msg);
      await c.write(")\r\n");
      assert.match((await c.until("u1")).tagged, /^u1 OK \[APPENDUID \d+ 1\]/);
      await c.command('SELECT "Entwürfe/Büro"');
      const f = await c.command("FETCH 1 (ENVELOPE)");
      assert.match(f.lines[0], /"Grüße" \(\("Jürgen" NIL "j" "x.test"\)\)/);
      await c.command("LOGOUT");
    });

    await t.step("CREATE-SPECIAL-USE with imaplib; imapflow sees the attribute", async () => {
      const lines = await imaplib(
        port,
        USER,
        PASS,
        `
print(m._simple_command("CREATE", "Old", "(USE (\\\\Archive))"))
print(m._simple_command("CREATE", "Everything", "(USE (\\\\All))"))
print(m._simple_command("CREATE", "Two", "(USE (\\\\Archive \\\\Trash))"))
print(m._simple_command("CREATE", "Plain", "(USE ())"))
typ, data = m.list('""', '"*"')
print([d.decode() for d in data if b"Old" in d or b"Plain" in d])
`,
      );
      assert.deepEqual(lines, [
        "('OK', [b'CREATE completed'])",
        "('NO', [b'[USEATTR] Special use \\\\All is not supported'])",
        "('NO', [b'[USEATTR] A mailbox has at most one special use'])",
        "('OK', [b'CREATE completed'])",
        `['(\\\\HasNoChildren \\\\Archive) "/" "Old"', '(\\\\HasNoChildren) "/" "Plain"']`,
      ]);
      const flow = idFlow(port, ts.certPem);
      await flow.connect();
      try {
        const boxes = await flow.list();
        assert.equal(boxes.find((b) => b.path === "Old")?.specialUse, "\\Archive");
      } finally {
        await flow.logout();
      }
    });

    await t.step("ID and NAMESPACE through imapflow", async () => {
      const flow = idFlow(port, ts.certPem);
      await flow.connect();
      try {
        assert.equal(flow.serverInfo?.name, "denomail");
        const ns = flow.namespace as { prefix: string; delimiter: string };
        assert.equal(ns.delimiter, "/");
        assert.equal(ns.prefix, "");
      } finally {
        await flow.logout();
      }
    });

    await t.step(
      "BINARY: literal8 APPEND, BINARY[] / BINARY.SIZE with imapflow and imaplib",
      async () => {
        const c = await login();
        await c.write(`b1 APPEND INBOX ~{${BINARY_MSG.length}+}\r\n`);
        await c.write(BINARY_MSG);
        await c.write("\r\n");
        const uid = Number(/APPENDUID \d+ (\d+)/.exec((await c.until("b1")).tagged)![1]);
        await c.command("SELECT INBOX");
        const f = await c.command(`UID FETCH ${uid} (BINARY.SIZE[1] BINARY.PEEK[1])`);
        assert.match(
          f.lines[0],
          new RegExp(`BINARY.SIZE\\[1\\] ${BINARY_BYTES.length} BINARY\\[1\\] ~\\{9\\}`),
        );
        assert.deepEqual(f.untagged[0].literals[0], BINARY_BYTES);
        await c.command("LOGOUT");

        const flow = idFlow(port, ts.certPem);
        await flow.connect();
        const lock = await flow.getMailboxLock("INBOX");
        try {
          const msg = await flow.fetchOne(String(uid), { bodyParts: ["1"] }, {
            uid: true,
            binary: true,
          });
          assert.ok(msg);
          assert.deepEqual(new Uint8Array(msg.bodyParts!.get("1")!), BINARY_BYTES);
        } finally {
          lock.release();
          await flow.logout();
        }

        const lines = await imaplib(
          port,
          USER,
          PASS,
          `
m.select("INBOX")
typ, data = m.uid("FETCH", sys.argv[4], "(BINARY.SIZE[1] BINARY.PEEK[1])")
print(typ, data[0][1].hex())
`,
          [String(uid)],
        );
        assert.equal(
          lines.join("\n"),
          `OK ${[...BINARY_BYTES].map((b) => b.toString(16).padStart(2, "0")).join("")}`,
        );
      },
    );
  } finally {
    raws.closeAll();
    await ts.stop();
  }
});
