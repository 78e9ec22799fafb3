/**
 * Hostile mail and commands against a running IMAP server: inputs built to cost
 * super-linear time or deep recursion must get a normal answer (or a clear error), and the
 * server must stay up for the next command.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startTestServer } from "./harness.ts";
import { deliver, RawImap } from "./imap_helpers.ts";

const USER = "hostile@example.test";
const PASS = "hostile-pass-1";
const enc = new TextEncoder();

Deno.test("imap: THREAD=REFERENCES over References chains 20,000 deep", async () => {
  const ts = await startTestServer();
  try {
    const acc = await ts.addUser(USER, PASS);
    // Message i continues one line of descent with 1,000 new ids, starting at the last id
    // of message i-1: the ids chain 20,000 deep (the recursive walks overflowed the stack
    // at about 10,000, and each loop check walked the whole chain: quadratic).
    const n = 20;
    for (let i = 0; i < n; i++) {
      const refs: string[] = [];
      for (let k = 0; k < 1000; k++) refs.push(`<r${i * 999 + k}@chain.test>`);
      const message = `From: a@chain.test\r\nSubject: s${i}\r\n` +
        `Date: Mon, 1 Jan 2024 00:00:${String(i).padStart(2, "0")} +0000\r\n` +
        `Message-ID: <m${i}@chain.test>\r\nReferences: ${refs.join("\r\n ")}\r\n\r\nhi\r\n`;
      await deliver(ts, acc.id, enc.encode(message));
    }
    const c = await RawImap.login(ts.port("imap"), USER, PASS);
    try {
      assert.match((await c.command("SELECT INBOX")).tagged, / OK /);
      const r = await c.command("THREAD REFERENCES UTF-8 ALL");
      assert.match(r.tagged, / OK /);
      // Every id is a dummy (pruned) but the first, a root dummy holding all 20 messages
      // (RFC 5256 §4 (4)(B)), in sent-date order.
      const expected = Array.from({ length: n }, (_, i) => `(${i + 1})`).join("");
      assert.deepEqual(r.lines, [`* THREAD (${expected})`]);
      assert.match((await c.command("NOOP")).tagged, / OK /);
    } finally {
      c.close();
    }
  } finally {
    await ts.stop();
  }
});

Deno.test("imap: SORT (SUBJECT) over 200-400 KB subjects of list tags and (fwd) trailers", async () => {
  const ts = await startTestServer();
  try {
    const acc = await ts.addUser(USER, PASS);
    // RFC 5256 §2.1 strips leading "[tag]" blobs and trailing "(fwd)" one at a time; each
    // step re-matched the whole rest (2 s for 200 KB of tags, 12 s for 400 KB of trailers before).
    const subjects = [
      "[a] ".repeat(50_000) + "z2",
      "y1" + " (fwd)".repeat(66_000),
      "[a] ".repeat(50_000) + "z1",
      "y2" + " (fwd)".repeat(66_000),
    ];
    for (const [i, subject] of subjects.entries()) {
      await deliver(
        ts,
        acc.id,
        enc.encode(`From: a@x.test\r\nSubject: ${subject}\r\n\r\n${i}\r\n`),
      );
    }
    const c = await RawImap.login(ts.port("imap"), USER, PASS);
    try {
      assert.match((await c.command("SELECT INBOX")).tagged, / OK /);
      const t0 = performance.now();
      const r = await c.command("SORT (SUBJECT) UTF-8 ALL");
      const ms = performance.now() - t0;
      assert.match(r.tagged, / OK /);
      assert.deepEqual(r.lines, ["* SORT 2 4 3 1"]); // y1 y2 z1 z2
      // Linear: milliseconds; before, about 30 s. The bound leaves room for a loaded CI.
      assert.ok(ms < 10_000, `SORT took ${ms.toFixed(0)} ms`);
    } finally {
      c.close();
    }
  } finally {
    await ts.stop();
  }
});

Deno.test("imap: SEARCH BODY with a 60 KB periodic needle over a 2 MB body", async () => {
  const ts = await startTestServer();
  try {
    const acc = await ts.addUser(USER, PASS);
    // The needle's trigrams are all in the body, so the index lets it through to the scan.
    const body = "b" + "a".repeat(2_000_000) + "b";
    await deliver(ts, acc.id, enc.encode(`From: a@x.test\r\nSubject: big\r\n\r\n${body}\r\n`));
    await deliver(ts, acc.id, enc.encode(`From: a@x.test\r\nSubject: hit\r\n\r\naaaba\r\n`));
    const c = await RawImap.login(ts.port("imap"), USER, PASS);
    try {
      assert.match((await c.command("SELECT INBOX")).tagged, / OK /);
      // V8's includes() is O(text × needle) on this pair: about 17 s before.
      const needle = "a".repeat(30_000) + "b" + "a".repeat(30_000);
      const t0 = performance.now();
      const tag = c.nextTag();
      await c.write(`${tag} SEARCH BODY {${needle.length}+}\r\n${needle}\r\n`);
      const r = await c.until(tag);
      const ms = performance.now() - t0;
      assert.match(r.tagged, / OK /);
      assert.deepEqual(r.untagged.map((u) => u.text), ["* SEARCH"]);
      assert.ok(ms < 5_000, `SEARCH took ${ms.toFixed(0)} ms`);
      // The same scan still finds what is there.
      assert.deepEqual((await c.command("SEARCH BODY aaab")).lines, ["* SEARCH 1 2"]);
    } finally {
      c.close();
    }
  } finally {
    await ts.stop();
  }
});

Deno.test("imap: keywords per message and per mailbox are bounded (NO [LIMIT])", async () => {
  const ts = await startTestServer();
  try {
    const acc = await ts.addUser(USER, PASS);
    for (let i = 0; i < 12; i++) {
      await deliver(ts, acc.id, enc.encode(`From: a@x.test\r\nSubject: m${i}\r\n\r\nhi\r\n`));
    }
    const c = await RawImap.login(ts.port("imap"), USER, PASS);
    try {
      assert.match((await c.command("SELECT INBOX")).tagged, / OK /);
      const kws = (prefix: string, n: number) =>
        Array.from({ length: n }, (_, i) => `${prefix}${i}`).join(" ");
      // Before, each STORE line could add ~5,000 keywords to every message, without end.
      assert.match((await c.command(`STORE 1 +FLAGS (${kws("a", 101)})`)).tagged, /NO \[LIMIT\]/);
      assert.match((await c.command(`STORE 1 +FLAGS.SILENT (${kws("a", 100)})`)).tagged, / OK /);
      assert.match((await c.command(`STORE 1 +FLAGS (one-more)`)).tagged, /NO \[LIMIT\]/);
      assert.match((await c.command(`STORE 1 +FLAGS (a5 \\Seen)`)).tagged, / OK /); // has a5
      const f = (await c.command("FETCH 1 FLAGS")).lines[0];
      assert.equal(f.split(" ").filter((w) => /^\(?a\d+\)?$/.test(w)).length, 100);
      // The mailbox: 10 messages of 100 new keywords each reach 1,000; the next is refused,
      // also when nothing was announced (.SILENT) and for APPEND.
      for (let m = 2; m <= 10; m++) {
        const r = await c.command(`STORE ${m} FLAGS.SILENT (${kws(`k${m}-`, 100)})`);
        assert.match(r.tagged, / OK /);
      }
      assert.match((await c.command(`STORE 11 +FLAGS.SILENT (new1)`)).tagged, /NO \[LIMIT\]/);
      assert.match((await c.command(`STORE 11 +FLAGS.SILENT (a1 k2-3)`)).tagged, / OK /);
      const msg = "Subject: x\r\n\r\nx\r\n";
      const tag = c.nextTag();
      await c.write(`${tag} APPEND INBOX (new2) {${msg.length}+}\r\n${msg}\r\n`);
      assert.match((await c.until(tag)).tagged, /NO \[LIMIT\]/);
      assert.match((await c.command("NOOP")).tagged, / OK /);
    } finally {
      c.close();
    }
  } finally {
    await ts.stop();
  }
});

Deno.test("imap: the mailbox keyword limit counts stored keywords no session saw (APPEND, COPY)", async () => {
  const ts = await startTestServer();
  try {
    const acc = await ts.addUser(USER, PASS);
    // As after a restart: 1,000 keywords stored in INBOX, none in this server's record.
    for (let m = 0; m < 10; m++) {
      const flags = Array.from({ length: 100 }, (_, i) => `m${m}-${i}`);
      await ts.store.deliver(enc.encode(`From: a@x.test\r\nSubject: m${m}\r\n\r\nhi\r\n`), [
        { accountId: acc.id, mailbox: "INBOX", flags },
      ]);
    }
    const c = await RawImap.login(ts.port("imap"), USER, PASS);
    try {
      const msg = "Subject: x\r\n\r\nx\r\n";
      const append = async (box: string, flags: string) => {
        const tag = c.nextTag();
        await c.write(`${tag} APPEND ${box} (${flags}) {${msg.length}+}\r\n${msg}\r\n`);
        return (await c.until(tag)).tagged;
      };
      // Before, an APPEND to a mailbox no session had selected since the start was checked
      // against an empty record: each restart let 1,000 more keywords in.
      assert.match(await append("INBOX", "fresh"), /NO \[LIMIT\]/);
      assert.match(await append("INBOX", "m4-2 \\Seen"), / OK /);
      // COPY and MOVE bring their keywords into the target mailbox.
      assert.match((await c.command("CREATE Other")).tagged, / OK /);
      assert.match(await append("Other", "solo"), / OK /);
      assert.match((await c.command("SELECT Other")).tagged, / OK /);
      assert.match((await c.command("COPY 1 INBOX")).tagged, /NO \[LIMIT\]/);
      assert.match((await c.command("MOVE 1 INBOX")).tagged, /NO \[LIMIT\]/);
      assert.match((await c.command("STORE 1 -FLAGS.SILENT (solo)")).tagged, / OK /);
      assert.match((await c.command("COPY 1 INBOX")).tagged, / OK /);
    } finally {
      c.close();
    }
  } finally {
    await ts.stop();
  }
});
