/**
 * SEARCH through the full-text index (storage/sqlite/fts.ts) with imapflow: the answers
 * must be those of a plain scan — substrings, Unicode case folding, decoded encodings —
 * whether a message is indexed yet or not, and for strings too short for the index.
 */
import assert from "node:assert/strict";
import { startTestServer } from "./harness.ts";
import { deliver, flowClient } from "./imap_helpers.ts";

const enc = new TextEncoder();
const b64 = (s: string) => btoa(String.fromCharCode(...enc.encode(s)));

const MESSAGES = [
  "From: RealFrom <user-from@domain.org>\r\nTo: alice@example.test\r\nSubject: Quarterly report\r\n\r\nThe numbers are IN.\r\n",
  "From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <j@domain.org>\r\nSubject: =?utf-8?b?" +
  b64("Grüße aus Köln") + "?=\r\n\r\nplain body\r\n",
  "Subject: greek\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
  b64("ΣΟΦΊΑ και ΑΘΉΝΑ, numbers too") + "\r\n",
  "Subject: quoted\r\nContent-Type: text/plain; charset=iso-8859-1\r\n" +
  "Content-Transfer-Encoding: quoted-printable\r\n\r\nCaf=E9 cr=E8me br=FBl=E9e\r\n",
];

Deno.test("imap: SEARCH through the full-text index (imapflow)", async (t) => {
  const ts = await startTestServer();
  const alice = await ts.addUser("alice@example.test", "search-pw");
  for (const m of MESSAGES) await deliver(ts, alice.id, enc.encode(m));
  const c = flowClient(ts.port("imap"), ts.certPem, "alice@example.test", "search-pw");
  try {
    await c.connect();
    await c.mailboxOpen("INBOX");
    const uids = async (q: Record<string, unknown>) =>
      ((await c.search(q, { uid: true })) || []).sort((a, b) => a - b);
    const check = async () => {
      assert.deepEqual(await uids({ body: "numbers" }), [1, 3]);
      assert.deepEqual(await uids({ text: "quarterly" }), [1]);
      assert.deepEqual(await uids({ body: "quarterly" }), []);
      assert.deepEqual(await uids({ from: "ser-fro" }), [1]);
      assert.deepEqual(await uids({ from: "MÜLLER" }), [2]); // RFC 2047, case-folded
      assert.deepEqual(await uids({ subject: "grüße aus" }), [2]);
      assert.deepEqual(await uids({ body: "σοφία" }), [3]); // base64, UTF-8, Greek folding
      assert.deepEqual(await uids({ body: "CRÈME" }), [4]); // quoted-printable, Latin-1
      assert.deepEqual(await uids({ text: "muller" }), []); // diacritics are kept
      assert.deepEqual(await uids({ body: "in" }), [1, 2]); // too short for trigrams: scan
      assert.deepEqual(await uids({ body: "numbers", subject: "greek" }), [3]); // AND
      assert.deepEqual(await uids({ or: [{ body: "crème" }, { subject: "quarterly" }] }), [1, 4]);
      assert.deepEqual(await uids({ not: { body: "numbers" } }), [2, 4]);
    };
    await t.step("while mail may still be unindexed", check);
    await t.step("once everything is indexed", async () => {
      await ts.store.flushTextIndex!();
      await check();
    });
  } finally {
    await c.logout().catch(() => {});
    await ts.stop();
  }
});
