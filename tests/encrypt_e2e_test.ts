/**
 * Encryption at rest end to end, the way an admin and users meet it: keys set with the
 * CLI, mail sent with smtplib and swaks, read with imapflow, saved to Sent with imapflow
 * APPEND. Stored bytes are read straight from the store and decrypted with the private key
 * (openpgp, the user's side).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import * as openpgp from "openpgp";
import { Buffer } from "node:buffer";
import { python, run, startTestServer, type TestServer } from "./harness.ts";
import { cli } from "./lib/server_process.ts";
import { flowClient } from "./imap_helpers.ts";
import { parseMime, sectionBytes } from "../mime/mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const SECRET = "sentinel-7Q2X the merger closes on Friday";

/** The raw bytes of every message in a user's mailbox, in UID order. */
async function stored(ts: TestServer, email: string, mailbox = "INBOX"): Promise<Uint8Array[]> {
  const account = (await ts.store.getAccount(email))!;
  const mb = (await ts.store.getMailbox(account.id, mailbox))!;
  const metas = await ts.store.listMessages(mb.id);
  return await Promise.all(metas.map((m) => ts.store.readBlob(m.blobId)));
}

async function decrypt(message: Uint8Array, privateKey: string): Promise<Uint8Array> {
  const root = parseMime(message);
  assert.equal(`${root.type}/${root.subtype}`, "multipart/encrypted");
  const { data } = await openpgp.decrypt({
    message: await openpgp.readMessage({
      armoredMessage: dec.decode(sectionBytes(message, root, { part: [2] })!),
    }),
    decryptionKeys: await openpgp.readPrivateKey({ armoredKey: privateKey }),
    format: "binary",
  });
  return data as Uint8Array;
}

const endsWith = (a: Uint8Array, b: Uint8Array) =>
  a.length >= b.length && a.subarray(a.length - b.length).every((x, i) => x === b[i]);

const SEND = `
import smtplib, sys
msg = open(sys.argv[2], "rb").read()
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20) as s:
    s.sendmail("bob@example.net", sys.argv[3:], msg)
`;

/** As SEND, for a message the server refuses after DATA: prints the reply. */
const SEND_REFUSED = `
import smtplib, sys
msg = open(sys.argv[2], "rb").read()
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20) as s:
    try:
        s.sendmail("bob@example.net", sys.argv[3:], msg)
        print("accepted")
    except smtplib.SMTPDataError as e:
        print(e.smtp_code, e.smtp_error.decode())
`;

Deno.test("encryption at rest: SMTP in, IMAP out, APPEND to Sent", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-encrypt-e2e-" });
  const data = join(dir, "data");
  const config = join(dir, "denomail.toml");
  await Deno.writeTextFile(config, `data_dir = "${data}"\n`);
  const alice = await openpgp.generateKey({
    type: "curve25519",
    userIDs: [{ name: "Alice", email: "alice@example.test" }],
    format: "armored",
  });
  // The admin's side: the user and her public key, with the CLI, before the server starts.
  await Deno.writeTextFile(join(dir, "alice.asc"), alice.publicKey);
  for (
    const args of [
      ["user", "add", "alice@example.test", "--password-stdin"],
      ["user", "key", "set", "alice@example.test", join(dir, "alice.asc")],
    ]
  ) {
    const r = await cli([...args, "--config", config], { stdin: "alice-password\n" });
    assert.equal(r.code, 0, r.stderr);
  }
  const ts = await startTestServer({
    data_dir: data,
    plugins: [{
      name: "encrypt",
      module: "builtin:encrypt",
      timeout_ms: 10_000,
      options: { encrypt_sent: true },
    }],
  });
  await ts.addUser("carol@example.test", "carol-password");
  const imap = flowClient(ts.port("imap"), ts.certPem, "alice@example.test", "alice-password");
  const original = enc.encode(
    "From: Bob <bob@example.net>\r\nTo: Alice <alice@example.test>, carol@example.test\r\n" +
      "Subject: Board meeting\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\n" +
      "Message-ID: <board@example.net>\r\nMIME-Version: 1.0\r\n" +
      "Content-Type: text/plain; charset=utf-8\r\n\r\n" + `${SECRET}\r\nBest, Bob\r\n`,
  );
  try {
    await t.step("smtplib: the key holder's copy is stored encrypted", async () => {
      const file = join(dir, "m1.eml");
      await Deno.writeFile(file, original);
      await python(SEND, [
        String(ts.port("smtp")),
        file,
        "alice@example.test",
        "carol@example.test",
      ]);
      const [a] = await stored(ts, "alice@example.test");
      const text = dec.decode(a);
      assert.ok(!text.includes("sentinel") && !text.includes("merger"), "no body in clear");
      assert.ok(!text.includes("Board meeting"), "no subject in clear");
      assert.match(text, /\r\nSubject: \.\.\.\r\n/);
      assert.match(text, /^From: Bob <bob@example\.net>\r\n/m);
      assert.match(text, /^Message-ID: <board@example\.net>\r\n/m);
      // Decrypts to exactly what the user without a key got (trace fields included),
      // which ends with exactly what the client sent.
      const [c] = await stored(ts, "carol@example.test");
      const plain = await decrypt(a, alice.privateKey);
      assert.deepEqual(plain, c);
      assert.ok(endsWith(plain, original));
      assert.match(dec.decode(plain), /^Return-Path: <bob@example\.net>\r\nReceived: /);
    });
    await t.step("a user without a key is unaffected", async () => {
      const [c] = await stored(ts, "carol@example.test");
      assert.ok(dec.decode(c).includes(SECRET));
      assert.equal(parseMime(c).subtype, "plain");
    });
    await t.step("swaks: already encrypted mail (PGP/MIME) is left untouched", async () => {
      const inner = await openpgp.encrypt({
        message: await openpgp.createMessage({ text: "already secret\r\n" }),
        encryptionKeys: await openpgp.readKey({ armoredKey: alice.publicKey }),
      });
      const pgpMime =
        "From: bob@example.net\r\nTo: alice@example.test\r\nSubject: pre-encrypted\r\n" +
        "Message-ID: <pre@example.net>\r\nMIME-Version: 1.0\r\n" +
        'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="b1"\r\n' +
        "\r\n--b1\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n--b1\r\n" +
        "Content-Type: application/octet-stream\r\n\r\n" + inner.replace(/\r?\n/g, "\r\n") +
        "\r\n--b1--\r\n";
      const file = join(dir, "pre.eml");
      await Deno.writeTextFile(file, pgpMime);
      await run("swaks", [
        "--server",
        `127.0.0.1:${ts.port("smtp")}`,
        "--from",
        "bob@example.net",
        "--to",
        "alice@example.test",
        "--data",
        `@${file}`,
        "--silent",
        "2",
      ]);
      const all = await stored(ts, "alice@example.test");
      const got = all[all.length - 1];
      // Stored as sent, only the server's trace fields in front of it, Subject in clear.
      // (swaks ends the data with one more CRLF of its own.)
      assert.ok(dec.decode(got).includes(pgpMime), "the message is unchanged");
      assert.match(dec.decode(got), /^Return-Path: <bob@example\.net>\r\nReceived: /);
      assert.ok(dec.decode(got).includes("Subject: pre-encrypted"));
    });
    await imap.connect();
    await t.step("imapflow: FETCH serves PGP/MIME; BODYSTRUCTURE multipart/encrypted", async () => {
      const lock = await imap.getMailboxLock("INBOX");
      try {
        const msg = await imap.fetchOne("1", {
          source: true,
          envelope: true,
          bodyStructure: true,
        }, { uid: true });
        assert.ok(msg);
        const bs = msg.bodyStructure!;
        assert.equal(bs.type, "multipart/encrypted");
        assert.equal(bs.parameters?.protocol, "application/pgp-encrypted");
        assert.deepEqual(bs.childNodes!.map((n) => n.type), [
          "application/pgp-encrypted",
          "application/octet-stream",
        ]);
        assert.equal(msg.envelope!.subject, "...");
        assert.equal(msg.envelope!.from![0].address, "bob@example.net");
        assert.equal(msg.envelope!.messageId, "<board@example.net>");
        const plain = await decrypt(new Uint8Array(msg.source!), alice.privateKey);
        assert.ok(endsWith(plain, original));
        // What is not protected against: SEARCH cannot see inside (see README).
        assert.deepEqual(await imap.search({ body: "sentinel" }, { uid: true }), []);
      } finally {
        lock.release();
      }
    });
    await t.step("imapflow APPEND: Sent is encrypted (encrypt_sent), Drafts is not", async () => {
      const draft = enc.encode(
        "From: Alice <alice@example.test>\r\nTo: bob@example.net\r\nSubject: Re: Board meeting\r\n" +
          "Date: Sat, 28 Nov 2026 11:00:00 +0000\r\nMessage-ID: <re@example.test>\r\n" +
          "In-Reply-To: <board@example.net>\r\nReferences: <board@example.net>\r\n\r\n" +
          "sent-sentinel-9K see you Friday\r\n",
      );
      await imap.append("Sent", Buffer.from(draft), ["\\Seen"]);
      await imap.append("Drafts", Buffer.from(draft), ["\\Draft"]);
      const [sent] = await stored(ts, "alice@example.test", "Sent");
      assert.ok(!dec.decode(sent).includes("sent-sentinel"));
      assert.match(dec.decode(sent), /\r\nIn-Reply-To: <board@example\.net>\r\n/);
      assert.deepEqual(await decrypt(sent, alice.privateKey), draft);
      const [drafted] = await stored(ts, "alice@example.test", "Drafts");
      assert.deepEqual(drafted, draft);
    });
    await t.step("a key that can no longer encrypt: 451 4.7.1, nothing stored", async () => {
      const dave = await ts.addUser("dave@example.test", "dave-password");
      const old = await openpgp.generateKey({
        type: "curve25519",
        userIDs: [{ email: "dave@example.test" }],
        date: new Date(Date.now() - 100_000),
        keyExpirationTime: 10,
        format: "armored",
      });
      // Set behind the CLI's back (which would refuse it): as if it expired since upload.
      await ts.store.kvSet("plugin:encrypt", "key:dave@example.test", old.publicKey);
      const file = join(dir, "m2.eml");
      await Deno.writeFile(file, original);
      const r = await python(SEND_REFUSED, [String(ts.port("smtp")), file, "dave@example.test"]);
      assert.match(r.stdout, /^451 4\.7\.1 /);
      const inbox = (await ts.store.getMailbox(dave.id, "INBOX"))!;
      assert.equal((await ts.store.listMessages(inbox.id)).length, 0);
    });
  } finally {
    await imap.logout().catch(() => {});
    await ts.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
