/**
 * IMAP end to end with Python's imaplib: login, LIST, SELECT, FETCH (byte-exact), STORE,
 * SEARCH, APPEND, COPY / MOVE / EXPUNGE, AUTHENTICATE, implicit TLS, STARTTLS and
 * LOGINDISABLED.
 */
import assert from "node:assert/strict";
import { python, startTestServer } from "./harness.ts";
import { deliver, sampleMessage } from "./imap_helpers.ts";

const enc = new TextEncoder();

const MULTIPART = enc.encode(
  "From: Carol <carol@example.test>\r\nTo: alice@example.test\r\nSubject: Report attached\r\n" +
    "Date: Tue, 2 Jan 2024 10:00:00 +0000\r\nMIME-Version: 1.0\r\n" +
    'Content-Type: multipart/mixed; boundary="b1"\r\n\r\npreamble\r\n--b1\r\n' +
    "Content-Type: text/plain; charset=utf-8\r\n\r\nSee the attached report.\r\n--b1\r\n" +
    'Content-Type: application/octet-stream; name="r.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n' +
    "AAECAwQ=\r\n--b1--\r\n",
);

/** Common prologue of the python scripts: argv = port user password. */
const PY = `
import imaplib, json, sys, base64, ssl
port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def b64(b): return base64.b64encode(b).decode()
out = {}
`;

Deno.test("imap: python imaplib", async (t) => {
  const ts = await startTestServer();
  try {
    const alice = await ts.addUser("alice@example.test", "secret pw");
    const plain = sampleMessage("First message", "Line one.\r\nLine two.\r\n");
    await deliver(ts, alice.id, plain);
    await deliver(ts, alice.id, MULTIPART);
    const args = [String(ts.port("imap")), "alice@example.test", "secret pw"];

    await t.step("login, LIST, SELECT, byte-exact FETCH, implicit \\Seen", async () => {
      const r = await python(
        PY + `
m = imaplib.IMAP4("127.0.0.1", port)
out["caps"] = list(m.capabilities)
m.login(user, pw)
typ, data = m.list()
out["list"] = [d.decode() for d in data]
typ, data = m.select("INBOX")
out["exists"] = int(data[0])
typ, data = m.fetch("1", "(UID FLAGS RFC822.SIZE BODY.PEEK[])")
out["peek"] = b64(data[0][1]); out["peekmeta"] = data[0][0].decode()
typ, data = m.fetch("1", "(FLAGS)"); out["flags_after_peek"] = data[0].decode()
typ, data = m.uid("FETCH", "2", "(BODY.PEEK[1] BODY.PEEK[2] BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODYSTRUCTURE)")
out["parts"] = [b64(x[1]) for x in data if isinstance(x, tuple)]
out["bs"] = data[-1].decode() if isinstance(data[-1], bytes) else ""
typ, data = m.fetch("1", "(RFC822)"); out["rfc822"] = b64(data[0][1])
typ, data = m.fetch("1", "(FLAGS)"); out["flags_after_body"] = data[0].decode()
typ, data = m.fetch("1", "(BODY.PEEK[TEXT]<5.7>)"); out["partial"] = data[0][1].decode()
m.logout()
print(json.dumps(out))
`,
        args,
      );
      const out = JSON.parse(r.stdout);
      for (const cap of ["IMAP4REV2", "IDLE", "MOVE", "UIDPLUS", "LITERAL-", "AUTH=PLAIN"]) {
        assert.ok(out.caps.includes(cap), cap);
      }
      assert.ok(out.list.includes('(\\HasNoChildren) "/" "INBOX"'), out.list.join("\n"));
      assert.ok(out.list.some((l: string) => l.includes("\\Sent") && l.endsWith('"Sent"')));
      assert.equal(out.exists, 2);
      assert.deepEqual(Uint8Array.from(atob(out.peek), (c) => c.charCodeAt(0)), plain);
      assert.match(out.peekmeta, new RegExp(`RFC822.SIZE ${plain.length}`));
      assert.doesNotMatch(out.flags_after_peek, /\\Seen/);
      const parts = out.parts.map((p: string) => atob(p));
      assert.equal(parts[0], "See the attached report.");
      assert.equal(parts[1], "AAECAwQ=");
      assert.equal(parts[2], "Subject: Report attached\r\n\r\n");
      assert.deepEqual(Uint8Array.from(atob(out.rfc822), (c) => c.charCodeAt(0)), plain);
      assert.match(out.flags_after_body, /\\Seen/);
      assert.equal(out.partial, "one.\r\nL");
    });

    await t.step("STORE and SEARCH", async () => {
      const r = await python(
        PY + `
m = imaplib.IMAP4("127.0.0.1", port); m.login(user, pw); m.select("INBOX")
typ, data = m.store("2", "+FLAGS", "(\\\\Flagged $Work)"); out["store"] = data[0].decode()
out["flagged"] = m.search(None, "FLAGGED")[1][0].decode()
out["unseen"] = m.search(None, "UNSEEN")[1][0].decode()
out["keyword"] = m.search(None, "KEYWORD", "$work")[1][0].decode()
out["subject"] = m.uid("SEARCH", None, "SUBJECT", '"report"')[1][0].decode()
out["from"] = m.search(None, "FROM", "carol")[1][0].decode()
out["body"] = m.search(None, "BODY", '"attached REPORT"')[1][0].decode()
out["or"] = m.search(None, "OR", "FLAGGED", "SEEN")[1][0].decode()
out["not"] = m.search(None, "NOT", "(FLAGGED)")[1][0].decode()
out["larger"] = m.search(None, "LARGER", "300")[1][0].decode()
out["since"] = m.search(None, "SENTSINCE", "1-Jan-2024")[1][0].decode()
out["charset"] = m.search("UTF-8", "ALL")[1][0].decode()
typ, data = m.search("KOI8-R", "ALL"); out["badcharset"] = typ + " " + data[0].decode()
typ, data = m.store("2", "-FLAGS.SILENT", "(\\\\Flagged)"); out["silent"] = [d for d in data if d]
m.logout()
print(json.dumps(out))
`,
        args,
      );
      const out = JSON.parse(r.stdout);
      assert.match(out.store, /^2 \(FLAGS \(.*\\Flagged.*\)\)$/);
      assert.match(out.store, /\$Work/);
      assert.equal(out.flagged, "2");
      assert.equal(out.unseen, "2");
      assert.equal(out.keyword, "2");
      assert.equal(out.subject, "2");
      assert.equal(out.from, "2");
      assert.equal(out.body, "2");
      assert.equal(out.or, "1 2");
      assert.equal(out.not, "1");
      assert.equal(out.larger, "2");
      assert.equal(out.since, "2");
      assert.equal(out.charset, "1 2");
      assert.equal(out.badcharset, "NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
      assert.deepEqual(out.silent, []);
    });

    await t.step("APPEND with flags and date, CREATE, COPY, MOVE, EXPUNGE", async () => {
      const r = await python(
        PY + `
m = imaplib.IMAP4("127.0.0.1", port); m.login(user, pw)
typ, data = m.create("Archive/2024"); out["create"] = typ
msg = b"Subject: appended\\r\\nFrom: me@example.test\\r\\n\\r\\nappended body\\r\\n"
typ, data = m.append("Archive/2024", "(\\\\Seen \\\\Draft)", '"05-Mar-2024 10:11:12 +0100"', msg)
out["append"] = data[0].decode()
typ, data = m.append("Nope", None, None, msg); out["trycreate"] = data[0].decode()
typ, data = m.select("Archive/2024")
typ, data = m.fetch("1", "(FLAGS INTERNALDATE BODY.PEEK[])")
out["appended_meta"] = data[0][0].decode(); out["appended"] = b64(data[0][1])
m.select("INBOX")
typ, data = m.uid("COPY", "1:2", "Archive"); out["copy"] = typ
out["copyuid"] = [d.decode() for d in m.untagged_responses.pop("COPYUID", [])]
typ, data = m.uid("MOVE", "1", "Archive/2024"); out["move"] = typ
out["moveuid"] = [d.decode() for d in m.untagged_responses.get("COPYUID", [])]
typ, data = m.select("INBOX"); out["inbox_after_move"] = int(data[0])
m.store("1", "+FLAGS", "\\\\Deleted")
typ, data = m.expunge(); out["expunged"] = [d.decode() for d in data if d]
typ, data = m.select("INBOX"); out["inbox_after_expunge"] = int(data[0])
typ, data = m.status("Archive", "(MESSAGES UIDNEXT UNSEEN)"); out["status"] = data[0].decode()
typ, data = m.status("Archive/2024", "(MESSAGES)"); out["status2"] = data[0].decode()
typ, data = m.list('""', "Archive/%"); out["list"] = [d.decode() for d in data]
typ, data = m.list('""', "%"); out["top"] = [d.decode() for d in data]
typ, data = m.rename("Archive", "Old/Archive"); out["rename"] = typ
typ, data = m.list('""', "Old*"); out["renamed"] = [d.decode() for d in data]
typ, data = m.delete("Old/Archive/2024"); out["delete"] = typ
m.logout()
print(json.dumps(out))
`,
        args,
      );
      const out = JSON.parse(r.stdout);
      assert.equal(out.create, "OK");
      assert.match(out.append, /^\[APPENDUID \d+ 1\] APPEND completed$/);
      assert.match(out.trycreate, /^\[TRYCREATE\]/);
      assert.match(out.appended_meta, /FLAGS \((\\Seen \\Draft|\\Draft \\Seen)( \\Recent)?\)/);
      assert.match(out.appended_meta, /INTERNALDATE " 5-Mar-2024 09:11:12 \+0000"/);
      assert.equal(
        atob(out.appended),
        "Subject: appended\r\nFrom: me@example.test\r\n\r\nappended body\r\n",
      );
      assert.equal(out.copy, "OK");
      assert.equal(out.copyuid.length, 1);
      assert.match(out.copyuid[0], /^\d+ 1:2 1:2$/);
      assert.equal(out.move, "OK");
      assert.equal(out.moveuid.length, 1);
      assert.match(out.moveuid[0], /^\d+ 1 2$/);
      assert.equal(out.inbox_after_move, 1);
      assert.deepEqual(out.expunged, ["1"]);
      assert.equal(out.inbox_after_expunge, 0);
      assert.match(out.status, /MESSAGES 2 UIDNEXT 3 UNSEEN 1/);
      assert.match(out.status2, /MESSAGES 2/);
      assert.deepEqual(out.list, ['(\\HasNoChildren) "/" "Archive/2024"']);
      assert.ok(out.top.includes('(\\HasChildren) "/" "Archive"'), out.top.join("\n"));
      assert.equal(out.rename, "OK");
      assert.deepEqual(out.renamed, [
        '(\\HasChildren) "/" "Old"',
        '(\\HasChildren) "/" "Old/Archive"',
        '(\\HasNoChildren) "/" "Old/Archive/2024"',
      ]);
      assert.equal(out.delete, "OK");
    });

    await t.step("AUTHENTICATE PLAIN, implicit TLS and STARTTLS", async () => {
      const r = await python(
        PY + `
tls_port = int(sys.argv[4])
ctx = ssl.create_default_context(cafile=sys.argv[5])
m = imaplib.IMAP4_SSL("127.0.0.1", tls_port, ssl_context=ctx)
out["ssl_caps"] = list(m.capabilities)
typ, data = m.authenticate("PLAIN", lambda _: ("\\0" + user + "\\0" + pw).encode())
out["auth"] = typ
m.logout()
m = imaplib.IMAP4("127.0.0.1", port)
m.starttls(ssl_context=ctx)
out["tls_caps"] = list(m.capabilities)
m.login(user, pw); out["starttls_login"] = "OK"
m.logout()
m = imaplib.IMAP4("127.0.0.1", port)
try:
    m.login(user, "wrong"); out["bad"] = "accepted"
except imaplib.IMAP4.error as e: out["bad"] = str(e)
print(json.dumps(out))
`,
        [...args, String(ts.port("imaps")), await ts.certFile()],
      );
      const out = JSON.parse(r.stdout);
      assert.ok(!out.ssl_caps.includes("STARTTLS"));
      assert.equal(out.auth, "OK");
      assert.ok(!out.tls_caps.includes("STARTTLS"));
      assert.equal(out.starttls_login, "OK");
      assert.match(out.bad, /AUTHENTICATIONFAILED/);
    });
  } finally {
    await ts.stop();
  }
});

Deno.test("imap: LOGINDISABLED until STARTTLS when plaintext login is not allowed", async () => {
  const ts = await startTestServer({ auth: { allow_plaintext_loopback: false } });
  try {
    await ts.addUser("alice@example.test", "secret pw");
    const r = await python(
      PY + `
m = imaplib.IMAP4("127.0.0.1", port)
out["caps"] = list(m.capabilities)
try:
    m.login(user, pw); out["plain"] = "accepted"
except imaplib.IMAP4.error as e: out["plain"] = str(e)
m.starttls(ssl_context=ssl.create_default_context(cafile=sys.argv[4]))
out["tls_caps"] = list(m.capabilities)
m.login(user, pw); out["tls"] = "OK"
m.logout()
print(json.dumps(out))
`,
      [String(ts.port("imap")), "alice@example.test", "secret pw", await ts.certFile()],
    );
    const out = JSON.parse(r.stdout);
    assert.ok(out.caps.includes("LOGINDISABLED") && out.caps.includes("STARTTLS"));
    assert.ok(!out.caps.some((c: string) => c.startsWith("AUTH=")));
    assert.match(out.plain, /PRIVACYREQUIRED|LOGINDISABLED/);
    assert.ok(!out.tls_caps.includes("LOGINDISABLED") && out.tls_caps.includes("AUTH=PLAIN"));
    assert.equal(out.tls, "OK");
  } finally {
    await ts.stop();
  }
});
