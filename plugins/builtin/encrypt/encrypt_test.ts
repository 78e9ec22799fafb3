/**
 * builtin:encrypt, pure parts and openpgp round trips: detection of encrypted mail, the
 * PGP/MIME shape, the key checks made on upload, options.
 */
import assert from "node:assert/strict";
import * as openpgp from "openpgp";
import { parseMime, sectionBytes } from "../../../mime/mod.ts";
import { encryptedKind, isArmoredMessage } from "./detect.ts";
import { composePgpMime, HIDDEN_SUBJECT } from "./pgp_mime.ts";
import { checkPublicKey, KeyError, kvKeyFor, lookupAddresses } from "./keys.ts";
import { encryptMessage } from "./encrypt.ts";
import { parseOptions } from "./options.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string) => enc.encode(s);
const part = (raw: Uint8Array, n: number) =>
  dec.decode(sectionBytes(raw, parseMime(raw), { part: [n] }) ?? new Uint8Array());
const kind = (s: string) => encryptedKind(bytes(s), parseMime(bytes(s), { nonMimeFields: true })); // as encrypt.ts parses

async function keyPair(email: string, more: Partial<openpgp.KeyOptions> = {}) {
  return await openpgp.generateKey({
    type: "curve25519",
    userIDs: [{ name: "Test", email }],
    ...more,
    format: "armored",
  });
}

async function decrypt(armoredMessage: string, privateKey: string): Promise<Uint8Array> {
  const { data } = await openpgp.decrypt({
    message: await openpgp.readMessage({ armoredMessage }),
    decryptionKeys: await openpgp.readPrivateKey({ armoredKey: privateKey }),
    format: "binary",
  });
  return data as Uint8Array;
}

const PLAIN = "From: Bob <bob@example.net>\r\nTo: alice@example.test\r\n" +
  "Subject: Secret plans\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\n" +
  "Message-ID: <m1@example.net>\r\nX-Mailer: test\r\nReceived: from x by y\r\n" +
  "References: <a@x>\r\n <b@x>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
  "the launch code is 0000 — ünïcode\r\n";

Deno.test("encrypt: detection of already encrypted mail", () => {
  assert.equal(
    kind(
      'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary=b\r\n\r\n--b--\r\n',
    ),
    "pgp-mime",
  );
  assert.equal(
    kind("Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\n\r\nMIIB\r\n"),
    "smime",
  );
  assert.equal(kind("Content-Type: application/x-pkcs7-mime\r\n\r\nMIIB\r\n"), "smime");
  assert.equal(
    kind("Content-Type: application/pkcs7-mime; smime-type=signed-data\r\n\r\nMIIB\r\n"),
    null,
  );
  const armor = "-----BEGIN PGP MESSAGE-----\r\n\r\nwV4D\r\n-----END PGP MESSAGE-----\r\n";
  assert.equal(kind(`Subject: x\r\n\r\n\r\n${armor}\r\n`), "inline-pgp");
  assert.equal(
    kind(
      `Content-Transfer-Encoding: base64\r\n\r\n${btoa(armor).replace(/(.{76})/g, "$1\r\n")}\r\n`,
    ),
    "inline-pgp",
  );
  // Clear text around the armor is still clear text.
  assert.equal(kind(`Subject: x\r\n\r\nHi, here it is:\r\n${armor}`), null);
  assert.equal(kind(PLAIN), null);
  assert.equal(kind("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n" + armor), null);
  assert.equal(isArmoredMessage(bytes(armor + armor)), false);
});

Deno.test("encrypt: PGP/MIME shape (RFC 3156 §4)", async (t) => {
  const root = parseMime(bytes(PLAIN));
  const armored = "-----BEGIN PGP MESSAGE-----\n\nwV4DAAAA\n=abcd\n-----END PGP MESSAGE-----\n";
  const out = composePgpMime(root, armored, { keepSubject: false, boundary: "BND" });
  const text = dec.decode(out);
  const m = parseMime(out);
  await t.step("routing fields in clear, byte for byte, nothing else", () => {
    const head = text.slice(0, text.indexOf("\r\n\r\n") + 2);
    assert.equal(
      head,
      "From: Bob <bob@example.net>\r\nTo: alice@example.test\r\n" +
        "Date: Sat, 28 Nov 2026 10:00:00 +0000\r\nMessage-ID: <m1@example.net>\r\n" +
        "References: <a@x>\r\n <b@x>\r\nSubject: ...\r\nMIME-Version: 1.0\r\n" +
        'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";\r\n' +
        ' boundary="BND"\r\n',
    );
  });
  await t.step("two parts: Version: 1, then the armored message", () => {
    assert.equal(`${m.type}/${m.subtype}`, "multipart/encrypted");
    assert.equal(m.children.length, 2);
    const [v, data] = m.children;
    assert.equal(`${v.type}/${v.subtype}`, "application/pgp-encrypted");
    assert.equal(part(out, 1), "Version: 1\r\n");
    assert.equal(`${data.type}/${data.subtype}`, "application/octet-stream");
    assert.equal(
      part(out, 2),
      "-----BEGIN PGP MESSAGE-----\r\n\r\nwV4DAAAA\r\n=abcd\r\n-----END PGP MESSAGE-----",
    );
    assert.ok(!/\r(?!\n)|(?<!\r)\n/.test(text), "CRLF line ends only");
  });
  await t.step("keep_subject keeps the Subject in clear, in place", () => {
    const kept = dec.decode(composePgpMime(root, armored, { keepSubject: true, boundary: "B" }));
    assert.match(kept, /^From: .*\r\nTo: .*\r\nSubject: Secret plans\r\nDate: /);
    assert.ok(!kept.includes(HIDDEN_SUBJECT));
  });
  await t.step("no Subject: none is invented; bare LF header lines become CRLF", () => {
    const lf = bytes("From: a@b\nTo: c@d\n\nbody\n");
    const s = dec.decode(
      composePgpMime(parseMime(lf), armored, { keepSubject: false, boundary: "B" }),
    );
    assert.match(s, /^From: a@b\r\nTo: c@d\r\nMIME-Version: 1\.0\r\n/);
  });
});

Deno.test("encrypt: round trip with openpgp gives back the original byte for byte", async () => {
  const alice = await keyPair("alice@example.test");
  const original = bytes(PLAIN);
  const out = await encryptMessage(original, alice.publicKey, { keepSubject: false });
  assert.equal(out.kind, "encrypted");
  if (out.kind !== "encrypted") return;
  const text = dec.decode(out.message);
  assert.ok(!text.includes("launch code") && !text.includes("Secret plans"));
  assert.ok(!text.includes("X-Mailer") && !text.includes("Received:"));
  const armored = part(out.message, 2);
  assert.deepEqual(await decrypt(armored, alice.privateKey), original);
  // Encrypting its own output again is a no-op.
  const again = await encryptMessage(out.message, alice.publicKey, { keepSubject: false });
  assert.deepEqual(again, { kind: "skipped", reason: "pgp-mime" });
  // 8-bit and binary content survives too.
  const bin = new Uint8Array(70_000).map((_, i) => (i * 7919) & 0xff);
  const raw = new Uint8Array([...bytes("Subject: bin\r\n\r\n"), ...bin]);
  const o2 = await encryptMessage(raw, alice.publicKey, { keepSubject: true });
  if (o2.kind !== "encrypted") throw new Error("not encrypted");
  const a2 = part(o2.message, 2);
  assert.deepEqual(await decrypt(a2, alice.privateKey), raw);
});

Deno.test("encrypt: key checks on upload", async (t) => {
  const now = new Date();
  const good = await keyPair("alice@example.test");
  await t.step("a good key: its public part, facts", async () => {
    const r = await checkPublicKey(bytes(good.publicKey), "Alice@Example.TEST", new Date());
    assert.match(r.armored, /^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
    assert.match(r.info.fingerprint, /^[0-9A-F]{40,64}$/);
    assert.deepEqual(r.info.userIds, ["Test <alice@example.test>"]);
    assert.equal(r.info.expires, null);
  });
  const bad = async (data: Uint8Array | string, re: RegExp, address = "alice@example.test") => {
    await assert.rejects(
      // Checked at the time of the check: a key or revocation made after the test started
      // (seconds later on a loaded machine) is not "from the future".
      checkPublicKey(typeof data === "string" ? bytes(data) : data, address, new Date()),
      (e: Error) => e instanceof KeyError && re.test(e.message),
    );
  };
  await t.step("the binary form of a key is accepted", async () => {
    const key = await openpgp.readKey({ armoredKey: good.publicKey });
    const r = await checkPublicKey(key.write(), "alice@example.test", new Date());
    assert.match(r.armored, /PUBLIC KEY/);
  });
  await t.step("garbage, private key, two keys", async () => {
    await bad("hello", /not an OpenPGP key/);
    await bad(good.privateKey, /private key; upload the public key only/);
    const other = await keyPair("alice@example.test");
    await bad(good.publicKey + "\n" + other.publicKey, /holds 2 keys/);
  });
  await t.step("wrong address", async () => {
    await bad(
      good.publicKey,
      /does not carry bob@example\.test \(its addresses: alice@/,
      "bob@example.test",
    );
  });
  await t.step("expired", async () => {
    const old = await keyPair("alice@example.test", {
      date: new Date(now.getTime() - 100_000),
      keyExpirationTime: 10,
    });
    await bad(old.publicKey, /not valid now: .*expired/i);
  });
  await t.step("revoked", async () => {
    const { publicKey } = await openpgp.revokeKey({
      key: await openpgp.readPrivateKey({ armoredKey: good.privateKey }),
      format: "armored",
    });
    await bad(publicKey, /not valid now: .*revoked/i);
  });
  await t.step("cannot encrypt (signing key without an encryption subkey)", async () => {
    const signOnly = await keyPair("alice@example.test", { subkeys: [] });
    await bad(signOnly.publicKey, /cannot encrypt/);
  });
});

Deno.test("encrypt: options and key names", () => {
  assert.deepEqual(parseOptions({}), { keepSubject: false, encryptSent: false });
  assert.deepEqual(parseOptions({ keep_subject: true, encrypt_sent: true }), {
    keepSubject: true,
    encryptSent: true,
  });
  assert.throws(() => parseOptions({ keep_subjet: true }), /unknown option keep_subjet/);
  assert.throws(() => parseOptions({ encrypt_sent: "yes" }), /encrypt_sent must be true or false/);
  assert.equal(kvKeyFor("Alice@Example.TEST"), "key:alice@example.test");
  assert.deepEqual(lookupAddresses("Al+x@E.t"), ["al+x@e.t", "al@e.t"]);
  assert.deepEqual(lookupAddresses("al@e.t"), ["al@e.t"]);
});
