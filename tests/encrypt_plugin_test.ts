/**
 * builtin:encrypt through the real plugin host (sandboxed runner, no permissions) and the
 * real store's kv area: encrypted deliveries decrypt to the exact original, encrypted mail
 * is left alone, users without a key are unaffected, options, a key gone bad fails closed.
 */
import assert from "node:assert/strict";
import * as openpgp from "openpgp";
import { configFromObject } from "../core/config.ts";
import { type HookInput, PluginHost } from "../plugins/engine/host.ts";
import { kvNamespace } from "../plugins/engine/services.ts";
import { LineSplitter } from "../plugins/engine/protocol.ts";
import { openConfiguredStore } from "../app/store.ts";
import { parseMime, sectionBytes } from "../mime/mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const addr = (a: string) => {
  const at = a.lastIndexOf("@");
  return { address: a, local: a.slice(0, at), domain: a.slice(at + 1) };
};

const ORIGINAL = enc.encode(
  "Return-Path: <bob@example.net>\r\nReceived: from client by mx\r\n" +
    "From: Bob <bob@example.net>\r\nTo: Alice <alice@example.test>\r\nCc: carol@example.test\r\n" +
    "Subject: Quarterly numbers\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\n" +
    "Message-ID: <q4@example.net>\r\nIn-Reply-To: <q3@example.test>\r\n" +
    "References: <q3@example.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
    "Revenue rose by 12 percent; do not forward.\r\n",
);

async function privateDecrypt(stored: Uint8Array, privateKey: string): Promise<Uint8Array> {
  const armored = dec.decode(sectionBytes(stored, parseMime(stored), { part: [2] })!);
  const { data } = await openpgp.decrypt({
    message: await openpgp.readMessage({ armoredMessage: armored }),
    decryptionKeys: await openpgp.readPrivateKey({ armoredKey: privateKey }),
    format: "binary",
  });
  return data as Uint8Array;
}

Deno.test("plugin channel: LineSplitter joins long lines and splits many per chunk", () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push("ab"), []);
  assert.equal(s.pending, 2);
  assert.deepEqual(s.push("c\nd\n\ne"), ["abc", "d", ""]);
  assert.equal(s.pending, 1);
  // A line of many chunks (how a large message crosses to the plugin) comes out whole.
  const chunk = "x".repeat(65_536);
  for (let i = 0; i < 200; i++) assert.deepEqual(s.push(chunk), []);
  const [line, ...rest] = s.push("y\n");
  assert.equal(line.length, 1 + 200 * 65_536 + 1);
  assert.ok(line.startsWith("ex") && line.endsWith("xy"));
  assert.deepEqual(rest, []);
  assert.equal(s.pending, 0);
  s.push("partial");
  s.reset();
  assert.deepEqual(s.push("\n"), [""]);
});

Deno.test("encrypt plugin through the host", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "denomail-encrypt-" });
  const plugin = (options: Record<string, unknown>) =>
    configFromObject({
      data_dir: dir,
      plugins: [{ name: "encrypt", module: "builtin:encrypt", timeout_ms: 10_000, options }],
    }, dir);
  const config = plugin({});
  const store = await openConfiguredStore(config);
  const alice = await openpgp.generateKey({
    type: "curve25519",
    userIDs: [{ email: "alice@example.test" }],
    format: "armored",
  });
  const ns = kvNamespace("encrypt");
  await store.kvSet(ns, "key:alice@example.test", alice.publicKey);
  const host = await PluginHost.start(config, { store, strict: true });
  const keepSubject = await PluginHost.start(plugin({ keep_subject: true }), {
    store,
    strict: true,
  });
  const deliver = (h: PluginHost, to: string, message: Uint8Array, extra = {}) =>
    h.run("deliver", {
      session: { id: "e1", remoteIp: "192.0.2.1", tls: true },
      sender: addr("bob@example.net"),
      recipient: addr(to),
      mailbox: "INBOX",
      message,
      ...extra,
    } as HookInput);
  try {
    await t.step("declares deliver only; loads with no permissions", () => {
      assert.deepEqual(host.list()[0].hooks, ["deliver"]);
    });
    await t.step("a user with a key gets PGP/MIME that decrypts to the original", async () => {
      const out = await deliver(host, "alice@example.test", ORIGINAL);
      assert.equal(out.action, "continue");
      assert.equal(out.results[0].note, "encrypted");
      const stored = out.message!;
      const text = dec.decode(stored);
      assert.ok(!text.includes("Revenue") && !text.includes("Quarterly"), "no body, no subject");
      assert.ok(!text.includes("Received:") && !text.includes("Return-Path:"));
      const root = parseMime(stored);
      assert.equal(`${root.type}/${root.subtype}`, "multipart/encrypted");
      assert.equal(
        root.params.find((p) => p.name === "protocol")?.value,
        "application/pgp-encrypted",
      );
      for (
        const h of [
          "From: Bob <bob@example.net>",
          "To: Alice <alice@example.test>",
          "Cc: carol@example.test",
          "Date: Sat, 28 Nov 2026 10:00:00 +0000",
          "Message-ID: <q4@example.net>",
          "In-Reply-To: <q3@example.test>",
          "References: <q3@example.test>",
          "Subject: ...",
        ]
      ) {
        assert.ok(text.includes(`\r\n${h}\r\n`) || text.startsWith(`${h}\r\n`), h);
      }
      assert.deepEqual(await privateDecrypt(stored, alice.privateKey), ORIGINAL);
    });
    await t.step("the key is found for user+tag@domain too, case-insensitively", async () => {
      const out = await deliver(host, "Alice+news@Example.TEST", ORIGINAL);
      assert.equal(out.results[0].note, "encrypted");
      assert.deepEqual(await privateDecrypt(out.message!, alice.privateKey), ORIGINAL);
    });
    await t.step("a 10 MB message crosses the channel both ways and decrypts", async () => {
      const line = "0123456789".repeat(7) + "abcdef\r\n";
      const big = enc.encode("Subject: big\r\n\r\n" + line.repeat(10 * 1024 * 1024 / 78));
      const out = await deliver(host, "alice@example.test", big);
      assert.equal(out.results[0].note, "encrypted", out.results[0].error);
      assert.deepEqual(await privateDecrypt(out.message!, alice.privateKey), big);
    });
    await t.step("keep_subject = true keeps the Subject in clear", async () => {
      const out = await deliver(keepSubject, "alice@example.test", ORIGINAL);
      const text = dec.decode(out.message!);
      assert.match(text, /\r\nSubject: Quarterly numbers\r\n/);
      assert.ok(!text.includes("Revenue"));
    });
    await t.step("a user without a key is unaffected", async () => {
      const out = await deliver(host, "carol@example.test", ORIGINAL);
      assert.equal(out.action, "continue");
      assert.equal(out.message, undefined);
      assert.equal(out.results[0].note, undefined);
    });
    await t.step("already encrypted mail is left untouched", async () => {
      const once = (await deliver(host, "alice@example.test", ORIGINAL)).message!;
      const twice = await deliver(host, "alice@example.test", once);
      assert.equal(twice.message, undefined);
      assert.equal(twice.results[0].note, "already encrypted (pgp-mime)");
      const inline = enc.encode(
        "From: b@example.net\r\nSubject: hi\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n\r\n" +
          "wV4DAAAAAAAAAAASAQdA\r\n=AAAA\r\n-----END PGP MESSAGE-----\r\n",
      );
      const r1 = await deliver(host, "alice@example.test", inline);
      assert.equal(r1.message, undefined);
      assert.equal(r1.results[0].note, "already encrypted (inline-pgp)");
      const smime = enc.encode(
        'From: b@example.net\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data;\r\n name="smime.p7m"\r\nContent-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHA6CAMIACAQA=\r\n',
      );
      const r2 = await deliver(host, "alice@example.test", smime);
      assert.equal(r2.message, undefined);
      assert.equal(r2.results[0].note, "already encrypted (smime)");
    });
    await t.step("a stored key that can no longer encrypt fails closed (tempfail)", async () => {
      const old = await openpgp.generateKey({
        type: "curve25519",
        userIDs: [{ email: "dave@example.test" }],
        date: new Date(Date.now() - 100_000),
        keyExpirationTime: 10,
        format: "armored",
      });
      await store.kvSet(ns, "key:dave@example.test", old.publicKey);
      const out = await deliver(host, "dave@example.test", ORIGINAL);
      assert.deepEqual([out.action, out.code, out.enhanced], ["tempfail", 451, "4.7.1"]);
      assert.equal(out.message, undefined);
      assert.match(out.results[0].note ?? "", /key unusable/);
    });
    await t.step("APPEND: only to Sent, only with encrypt_sent = true", async () => {
      const sent = await PluginHost.start(plugin({ encrypt_sent: true }), { store, strict: true });
      const append = (h: PluginHost, mailbox: string, specialUse: string | null) =>
        deliver(h, "alice@example.test", ORIGINAL, {
          source: "append",
          account: "alice@example.test",
          mailbox,
          specialUse,
        });
      try {
        const out = await append(sent, "Sent", "\\Sent");
        assert.equal(out.results[0].note, "encrypted");
        assert.deepEqual(await privateDecrypt(out.message!, alice.privateKey), ORIGINAL);
        // RFC 6154: the special use decides, not the name.
        assert.equal((await append(sent, "Gesendet", "\\Sent")).results[0].note, "encrypted");
        assert.equal((await append(sent, "Drafts", "\\Drafts")).message, undefined);
        assert.equal((await append(sent, "INBOX", null)).message, undefined);
        assert.equal((await append(host, "Sent", "\\Sent")).message, undefined);
      } finally {
        await sent.stop();
      }
    });
    await t.step("a bad option is a plugin failure, named in the error", async () => {
      const bad = await PluginHost.start(plugin({ keep_subjekt: true }), { store, strict: true });
      try {
        const out = await deliver(bad, "alice@example.test", ORIGINAL);
        assert.equal(out.action, "tempfail");
        assert.match(out.results[0].error ?? "", /unknown option keep_subjekt/);
      } finally {
        await bad.stop();
      }
    });
  } finally {
    await host.stop();
    await keepSubject.stop();
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
