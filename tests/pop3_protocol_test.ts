/**
 * POP3 behaviour over real TCP (RFC 1939, 2449, 2595, 5034): maildrop locking, UPDATE-only
 * deletion, RSET, byte-exact dot-stuffed RETR, TOP, UIDL stability, pipelining, STLS
 * plaintext discard, AUTH PLAIN / SCRAM-SHA-256, and bad-input handling. Wire-level checks
 * use a raw client (tests/pop3_wire.ts); SASL uses python's poplib.
 */
import assert from "node:assert/strict";
import { Authenticator } from "../core/auth.ts";
import type { Account } from "../storage/mod.ts";
import { python, startTestServer, type TestServer } from "./harness.ts";
import { Pop3Wire } from "./pop3_wire.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

async function deliver(ts: TestServer, acc: Account, message: string | Uint8Array) {
  const bytes = typeof message === "string" ? enc.encode(message) : message;
  const [placed] = await ts.store.deliver(bytes, [{ accountId: acc.id, mailbox: "INBOX" }]);
  return placed;
}

async function inbox(ts: TestServer, acc: Account) {
  const box = await ts.store.getMailbox(acc.id, "INBOX");
  assert.ok(box);
  return await ts.store.listMessages(box.id);
}

/** Logs in, retrying while a just-dropped session still holds the maildrop lock. */
async function loginWhenUnlocked(ts: TestServer, user: string, pw: string): Promise<Pop3Wire> {
  for (let i = 0; i < 200; i++) {
    const { client } = await Pop3Wire.connect(ts.port("pop3"));
    const r = await client.login(user, pw);
    if (r.startsWith("+OK")) return client;
    client.close();
    assert.match(r, /^-ERR \[IN-USE\]/);
    await new Promise((res) => setTimeout(res, 10));
  }
  throw new Error("maildrop lock never released");
}

function msg(subject: string, body = "body\r\n"): string {
  return `From: sender@example.org\r\nTo: u@example.test\r\nSubject: ${subject}\r\n\r\n${body}`;
}

Deno.test("pop3 protocol", async (t) => {
  const ts = await startTestServer();
  try {
    await t.step("greeting, CAPA, state table", async () => {
      const { client, greeting } = await Pop3Wire.connect(ts.port("pop3"));
      assert.match(greeting, /^\+OK /);
      assert.equal(await client.cmd("CAPA"), "+OK Capability list follows");
      const caps = await client.multi();
      for (
        const c of [
          "TOP",
          "UIDL",
          "USER",
          "RESP-CODES",
          "AUTH-RESP-CODE",
          "PIPELINING",
          "STLS",
          "SASL PLAIN LOGIN SCRAM-SHA-256",
          "EXPIRE NEVER",
          "IMPLEMENTATION denomail",
        ]
      ) assert.ok(caps.includes(c), `CAPA lacks ${c}: ${caps}`);
      assert.match(await client.cmd("STAT"), /^-ERR STAT is not valid in the AUTHORIZATION/);
      assert.match(await client.cmd("PASS nope"), /^-ERR Send USER first/);
      assert.match(await client.cmd("XYZZY"), /^-ERR Unknown command/);
      assert.equal(await client.quit(), "+OK Bye");
    });

    await t.step("wrong password gets [AUTH]", async () => {
      await ts.addUser("wrong@example.test", "right-pw");
      const { client } = await Pop3Wire.connect(ts.port("pop3"));
      assert.match(await client.login("wrong@example.test", "bad-pw"), /^-ERR \[AUTH\] /);
      assert.match(await client.login("wrong@example.test", "right-pw"), /^\+OK /);
      await client.quit();
    });

    await t.step("byte-exact, dot-stuffed RETR with 8-bit bytes; TOP", async () => {
      const acc = await ts.addUser("bytes@example.test", "pw-bytes");
      const raw = new Uint8Array([
        ...enc.encode("From: a@example.org\r\nSubject: dots\r\n\r\n"),
        ...enc.encode(".leading dot\r\n..two dots\r\n.\r\n"),
        ...[0x38, 0x62, 0x69, 0x74, 0x20, 0xe9, 0xff, 0x80, 0x0d, 0x0a], // "8bit " + 8-bit bytes
        ...enc.encode("last line\r\n"),
      ]);
      await deliver(ts, acc, raw);
      const { client } = await Pop3Wire.connect(ts.port("pop3"));
      assert.match(await client.login("bytes@example.test", "pw-bytes"), /^\+OK /);
      assert.equal(await client.cmd("LIST 1"), `+OK 1 ${raw.length}`);
      assert.match(await client.cmd("RETR 1"), /^\+OK /);
      const wire = await client.multiRaw();
      const expected = new Uint8Array([
        ...enc.encode("From: a@example.org\r\nSubject: dots\r\n\r\n"),
        ...enc.encode("..leading dot\r\n...two dots\r\n..\r\n"),
        ...[0x38, 0x62, 0x69, 0x74, 0x20, 0xe9, 0xff, 0x80, 0x0d, 0x0a],
        ...enc.encode("last line\r\n.\r\n"),
      ]);
      assert.deepEqual(wire, expected);
      assert.match(await client.cmd("TOP 1 0"), /^\+OK /);
      assert.equal(
        dec.decode(await client.multiRaw()),
        "From: a@example.org\r\nSubject: dots\r\n\r\n.\r\n",
      );
      assert.match(await client.cmd("TOP 1 2"), /^\+OK /);
      assert.deepEqual(await client.multi(), [
        "From: a@example.org",
        "Subject: dots",
        "",
        ".leading dot",
        "..two dots",
      ]);
      assert.match(await client.cmd("TOP 1"), /^-ERR /);
      assert.match(await client.cmd("RETR 2"), /^-ERR No such message/);
      assert.match(await client.cmd("RETR x"), /^-ERR Invalid message number/);
      assert.match(await client.quit(), /^\+OK /);
      // RFC 1939 §6 (UPDATE): RETR makes the message \Seen, at QUIT.
      assert.deepEqual((await inbox(ts, acc)).map((m) => m.flags), [["\\Seen"]]);
    });

    await t.step("a large message is streamed byte-exact, TOP cuts it", async () => {
      const acc = await ts.addUser("large@example.test", "pw-large");
      let body = "";
      for (let i = 0; body.length < 400_000; i++) {
        body += (i % 3 === 0 ? "." : "") + `line ${i} ${"x".repeat(i % 97)}\r\n`;
      }
      const text = `From: a@example.org\r\nSubject: large\r\n\r\n${body}`;
      await deliver(ts, acc, text);
      const { client } = await Pop3Wire.connect(ts.port("pop3"));
      await client.login("large@example.test", "pw-large");
      assert.equal(await client.cmd("RETR 1"), `+OK ${text.length} octets`);
      const stuffed = text.replace(/^\./gm, "..") + ".\r\n";
      assert.equal(dec.decode(await client.multiRaw()), stuffed);
      assert.match(await client.cmd("TOP 1 3000"), /^\+OK /);
      const top = text.split("\r\n").slice(0, 3 + 3000).join("\r\n") + "\r\n";
      assert.equal(dec.decode(await client.multiRaw()), top.replace(/^\./gm, "..") + ".\r\n");
      await client.quit();
    });

    await t.step("DELE takes effect only at QUIT; RSET undeletes", async () => {
      const acc = await ts.addUser("dele@example.test", "pw-dele");
      for (const s of ["one", "two", "three"]) await deliver(ts, acc, msg(s));
      const { client } = await Pop3Wire.connect(ts.port("pop3"));
      await client.login("dele@example.test", "pw-dele");
      const [, , size3] = (await inbox(ts, acc)).map((m) => m.size);
      assert.equal(await client.cmd("DELE 1"), "+OK Message 1 deleted");
      assert.match(await client.cmd("DELE 1"), /^-ERR Message 1 already deleted/);
      assert.match(await client.cmd("RETR 1"), /^-ERR /);
      assert.match(await client.cmd("STAT"), /^\+OK 2 /);
      assert.match(await client.cmd("LIST"), /^\+OK /);
      assert.deepEqual((await client.multi()).map((l) => l.split(" ")[0]), ["2", "3"]);
      assert.equal((await inbox(ts, acc)).length, 3, "nothing removed before QUIT");
      assert.match(await client.cmd("RSET"), /^\+OK /);
      assert.match(await client.cmd("STAT"), /^\+OK 3 /);
      assert.equal(await client.cmd("DELE 2"), "+OK Message 2 deleted");
      assert.equal(await client.cmd("DELE 1"), "+OK Message 1 deleted");
      assert.equal(await client.cmd("STAT"), `+OK 1 ${size3}`);
      assert.equal(await client.quit(), "+OK Bye, 2 messages deleted");
      const left = await inbox(ts, acc);
      assert.equal(left.length, 1);
      const body = dec.decode(await ts.store.readBlob(left[0].blobId));
      assert.match(body, /Subject: three/);
    });

    await t.step("a dropped connection deletes nothing and marks nothing", async () => {
      const acc = await ts.addUser("drop@example.test", "pw-drop");
      await deliver(ts, acc, msg("keep me"));
      const { client } = await Pop3Wire.connect(ts.port("pop3"));
      await client.login("drop@example.test", "pw-drop");
      assert.match(await client.cmd("RETR 1"), /^\+OK /);
      await client.multi();
      assert.match(await client.cmd("DELE 1"), /^\+OK /);
      client.close();
      const again = await loginWhenUnlocked(ts, "drop@example.test", "pw-drop");
      assert.match(await again.cmd("STAT"), /^\+OK 1 /);
      again.close();
      const left = await inbox(ts, acc);
      assert.equal(left.length, 1);
      assert.deepEqual(left[0].flags, []);
    });

    await t.step("maildrop lock: a second session gets [IN-USE], on pop3 and pop3s", async () => {
      const acc = await ts.addUser("lock@example.test", "pw-lock");
      await deliver(ts, acc, msg("locked"));
      const { client: first } = await Pop3Wire.connect(ts.port("pop3"));
      assert.match(await first.login("lock@example.test", "pw-lock"), /^\+OK /);
      const { client: second } = await Pop3Wire.connect(ts.port("pop3"));
      assert.match(await second.login("lock@example.test", "pw-lock"), /^-ERR \[IN-USE\] /);
      // RFC 1939 §4: the refused session stays in AUTHORIZATION.
      assert.match(await second.cmd("STAT"), /^-ERR .*AUTHORIZATION/);
      const { client: third } = await Pop3Wire.connect(ts.port("pop3s"), { caPem: ts.certPem });
      assert.match(await third.login("lock@example.test", "pw-lock"), /^-ERR \[IN-USE\] /);
      third.close();
      assert.match(await first.cmd("DELE 1"), /^\+OK /);
      assert.match(await first.quit(), /^\+OK /);
      // QUIT released the lock: the refused session may now log in, and sees the deletion.
      assert.match(await second.login("lock@example.test", "pw-lock"), /^\+OK /);
      assert.equal(await second.cmd("STAT"), "+OK 0 0");
      await second.quit();
    });

    await t.step("UIDL is stable across sessions and after deletions", async () => {
      const acc = await ts.addUser("uidl@example.test", "pw-uidl");
      for (const s of ["a", "b", "c"]) await deliver(ts, acc, msg(s));
      const uidls = async (c: Pop3Wire) => {
        assert.match(await c.cmd("UIDL"), /^\+OK /);
        return (await c.multi()).map((l) => l.split(" "));
      };
      const { client: s1 } = await Pop3Wire.connect(ts.port("pop3"));
      await s1.login("uidl@example.test", "pw-uidl");
      const before = await uidls(s1);
      assert.equal(before.length, 3);
      for (const [, id] of before) assert.match(id, /^[\x21-\x7e]{1,70}$/);
      assert.equal(new Set(before.map(([, id]) => id)).size, 3);
      assert.equal(await s1.cmd("UIDL 2"), `+OK 2 ${before[1][1]}`);
      await s1.cmd("DELE 1");
      assert.match(await s1.cmd("UIDL 1"), /^-ERR /);
      await s1.quit();
      await deliver(ts, acc, msg("d"));
      const { client: s2 } = await Pop3Wire.connect(ts.port("pop3"));
      await s2.login("uidl@example.test", "pw-uidl");
      const after = await uidls(s2);
      await s2.quit();
      assert.deepEqual(after.slice(0, 2), [["1", before[1][1]], ["2", before[2][1]]]);
      assert.equal(after.length, 3);
      assert.ok(!before.some(([, id]) => id === after[2][1]), "a new message gets a new id");
    });

    await t.step("pipelined commands are answered in order", async () => {
      const acc = await ts.addUser("pipe@example.test", "pw-pipe");
      for (const s of ["p1", "p2"]) await deliver(ts, acc, msg(s, ".dot\r\nx\r\n"));
      const { client } = await Pop3Wire.connect(ts.port("pop3"));
      await client.send(
        "USER pipe@example.test\r\nPASS pw-pipe\r\nSTAT\r\nLIST\r\nRETR 2\r\nNOOP\r\nUIDL 1\r\nDELE 1\r\nTOP 2 1\r\nSTAT\r\nQUIT\r\n",
      );
      assert.match(await client.line(), /^\+OK Send PASS/);
      assert.match(await client.line(), /^\+OK Logged in, 2 messages/);
      assert.match(await client.line(), /^\+OK 2 \d+$/);
      assert.match(await client.line(), /^\+OK /);
      assert.equal((await client.multi()).length, 2);
      assert.match(await client.line(), /^\+OK \d+ octets/);
      assert.deepEqual((await client.multi()).slice(-2), [".dot", "x"]);
      assert.equal(await client.line(), "+OK");
      assert.match(await client.line(), /^\+OK 1 \S+$/);
      assert.equal(await client.line(), "+OK Message 1 deleted");
      assert.match(await client.line(), /^\+OK /);
      assert.deepEqual((await client.multi()).slice(-2), ["", ".dot"]);
      assert.match(await client.line(), /^\+OK 1 \d+$/);
      assert.equal(await client.line(), "+OK Bye, 1 messages deleted");
      assert.equal(await client.rest(), "");
    });

    await t.step("STLS discards plaintext pipelined after it", async () => {
      await ts.addUser("stls@example.test", "pw-stls");
      const { client } = await Pop3Wire.connect(ts.port("pop3"));
      // RFC 2595 §3.1: an attacker's injected commands after STLS must never run.
      await client.send("STLS\r\nUSER stls@example.test\r\nPASS pw-stls\r\n");
      assert.equal(await client.line(), "+OK Begin TLS negotiation");
      await client.startTls(ts.certPem);
      assert.equal(await client.cmd("CAPA"), "+OK Capability list follows");
      const caps = await client.multi();
      assert.ok(!caps.includes("STLS"), "no STLS once encrypted");
      assert.ok(caps.includes("USER"));
      assert.match(await client.cmd("PASS pw-stls"), /^-ERR Send USER first/);
      assert.match(await client.cmd("STLS"), /^-ERR Already using TLS/);
      assert.match(await client.login("stls@example.test", "pw-stls"), /^\+OK /);
      await client.quit();
    });

    await t.step("AUTH PLAIN with an initial response, and SCRAM-SHA-256, via poplib", async () => {
      const acc = await ts.addUser("sasl@example.test", "pw-säsl");
      await deliver(ts, acc, msg("sasl"));
      const r = await python(
        `
import base64, hashlib, hmac, os, poplib, sys
port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]
b64 = lambda b: base64.b64encode(b).decode()

c = poplib.POP3("127.0.0.1", port)
ir = b64(b"\\0" + user.encode() + b"\\0" + pw.encode())
print(c._shortcmd("AUTH PLAIN " + ir).decode())
print(c.stat())
c.quit()

c = poplib.POP3("127.0.0.1", port)
try:
    c._shortcmd("AUTH PLAIN " + b64(b"\\0" + user.encode() + b"\\0wrong"))
except poplib.error_proto as e:
    print("plain-wrong", e.args[0].decode())
cnonce = b64(os.urandom(18))
first_bare = f"n={user},r={cnonce}"
resp = c._shortcmd("AUTH SCRAM-SHA-256 " + b64(("n,," + first_bare).encode()))
server_first = base64.b64decode(resp[2:]).decode()
attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
assert attrs["r"].startswith(cnonce)
salted = hashlib.pbkdf2_hmac("sha256", pw.encode(), base64.b64decode(attrs["s"]), int(attrs["i"]))
client_key = hmac.new(salted, b"Client Key", "sha256").digest()
stored_key = hashlib.sha256(client_key).digest()
final_bare = "c=biws,r=" + attrs["r"]
auth_msg = ",".join([first_bare, server_first, final_bare]).encode()
proof = bytes(a ^ b for a, b in zip(client_key, hmac.new(stored_key, auth_msg, "sha256").digest()))
c._putcmd(b64((final_bare + ",p=" + b64(proof)).encode()))
resp = c._getresp()
server_key = hmac.new(salted, b"Server Key", "sha256").digest()
assert base64.b64decode(resp[2:]).decode() == "v=" + b64(hmac.new(server_key, auth_msg, "sha256").digest()), resp
c._putcmd("")
print(c._getresp().decode())
print(c.stat())
c.quit()

c = poplib.POP3("127.0.0.1", port)
c._shortcmd("AUTH PLAIN")  # no initial response: an empty "+ " challenge
c._putcmd("*")
try:
    c._getresp()
except poplib.error_proto as e:
    print("cancel", e.args[0].decode())
c.quit()
`,
        [String(ts.port("pop3")), "sasl@example.test", "pw-säsl"],
      );
      const out = r.stdout.split("\n");
      assert.match(out[0], /^\+OK Logged in, 1 messages/);
      assert.match(out[1], /^\(1, \d+\)$/);
      assert.match(out[2], /^plain-wrong -ERR \[AUTH\] /);
      assert.match(out[3], /^\+OK Logged in, 1 messages/);
      assert.match(out[4], /^\(1, \d+\)$/);
      assert.match(out[5], /^cancel -ERR AUTH cancelled/);
    });

    await t.step("over-long lines and invalid UTF-8 get -ERR, the session goes on", async () => {
      const { client } = await Pop3Wire.connect(ts.port("pop3"));
      assert.match(await client.cmd("USER " + "x".repeat(100_000)), /^-ERR Line too long/);
      await client.send(new Uint8Array([0x55, 0x53, 0x45, 0x52, 0x20, 0xc3, 0x28, 0x0d, 0x0a]));
      assert.match(await client.line(), /^-ERR Invalid UTF-8/);
      assert.match(await client.cmd("CAPA"), /^\+OK /);
      await client.multi();
      assert.equal(await client.quit(), "+OK Bye");
    });
  } finally {
    await ts.stop();
  }
});

Deno.test("pop3 limits: TLS-only login, bad-command flood, autologout, throttling", async (t) => {
  const ts = await startTestServer({
    auth: { allow_plaintext_loopback: false },
    limits: { pop3_timeout: "2s", max_bad_commands: 3 },
  });
  try {
    await ts.addUser("strict@example.test", "pw-strict");

    await t.step("no USER/PASS or AUTH before STLS when plaintext is not allowed", async () => {
      const { client } = await Pop3Wire.connect(ts.port("pop3"));
      assert.match(await client.cmd("CAPA"), /^\+OK /);
      const caps = await client.multi();
      assert.ok(caps.includes("STLS"));
      assert.ok(!caps.includes("USER"), "USER not advertised before TLS");
      assert.ok(!caps.some((c) => c.startsWith("SASL")), "SASL not advertised before TLS");
      assert.match(await client.cmd("USER strict@example.test"), /^-ERR \[AUTH\] /);
      assert.match(
        await client.cmd("AUTH PLAIN AHN0cmljdEBleGFtcGxlLnRlc3QAcHctc3RyaWN0"),
        /^-ERR \[AUTH\] /,
      );
      assert.equal(await client.cmd("STLS"), "+OK Begin TLS negotiation");
      await client.startTls(ts.certPem);
      assert.match(await client.login("strict@example.test", "pw-strict"), /^\+OK /);
      await client.quit();
    });

    await t.step("pop3s allows login at once and offers no STLS", async () => {
      const { client } = await Pop3Wire.connect(ts.port("pop3s"), { caPem: ts.certPem });
      assert.match(await client.cmd("CAPA"), /^\+OK /);
      const caps = await client.multi();
      assert.ok(caps.includes("USER") && !caps.includes("STLS"));
      assert.match(await client.login("strict@example.test", "pw-strict"), /^\+OK /);
      await client.quit();
    });

    await t.step("a flood of bad commands is disconnected after max_bad_commands", async () => {
      const { client } = await Pop3Wire.connect(ts.port("pop3"));
      await client.send("FOO\r\nBAR\r\nBAZ\r\nCAPA\r\n");
      assert.match(await client.line(), /^-ERR Unknown command/);
      assert.match(await client.line(), /^-ERR Unknown command/);
      assert.match(await client.line(), /^-ERR Unknown command; too many bad commands/);
      assert.equal(await client.rest(), "");
    });

    await t.step("autologout after pop3_timeout, without UPDATE", async () => {
      const { client } = await Pop3Wire.connect(ts.port("pop3s"), { caPem: ts.certPem });
      assert.match(await client.login("strict@example.test", "pw-strict"), /^\+OK /);
      assert.match(await client.line(), /^-ERR Autologout/);
      assert.equal(await client.rest(), "");
    });

    await t.step("throttled addresses get [SYS/TEMP] and are disconnected", async () => {
      // A strict throttle that also counts loopback, on a frozen clock: the wait never ends.
      const now = Date.now();
      ts.server.deps.auth.close();
      ts.server.deps.auth = new Authenticator(ts.store, {
        now: () => now,
        limits: { maxFailuresPerAddress: 2, exempt: [] },
      });
      const { client } = await Pop3Wire.connect(ts.port("pop3s"), { caPem: ts.certPem });
      assert.match(await client.login("strict@example.test", "bad"), /^-ERR \[AUTH\] /);
      assert.match(await client.login("strict@example.test", "bad"), /^-ERR \[SYS\/TEMP\] /);
      assert.equal(await client.rest(), "");
      const { client: next } = await Pop3Wire.connect(ts.port("pop3s"), { caPem: ts.certPem });
      assert.match(await next.cmd("USER strict@example.test"), /^-ERR \[SYS\/TEMP\] /);
      assert.equal(await next.rest(), "");
    });
  } finally {
    await ts.stop();
  }
});
