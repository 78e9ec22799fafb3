/**
 * CONDSTORE and QRESYNC (RFC 7162) end to end: imapflow (auto-ENABLE CONDSTORE/QRESYNC,
 * SELECT with QRESYNC, FETCH CHANGEDSINCE, flag events with MODSEQ, VANISHED events),
 * python imaplib (raw commands) and the raw client for exact replies (UNCHANGEDSINCE with
 * MODIFIED, SEARCH MODSEQ, STATUS HIGHESTMODSEQ, VANISHED instead of EXPUNGE).
 */
import assert from "node:assert/strict";
import type { ImapFlow } from "imapflow";
import { startTestServer } from "./harness.ts";
import { deliver, flowClient, imaplib, RawPool, sampleMessage } from "./imap_helpers.ts";

const USER = "cs@example.test";
const PASS = "condstore-pw";

/** A Promise that resolves when `pred` holds after an event, or rejects after `ms`. */
function waitFor(pred: () => boolean, emitter: ImapFlow, event: string, ms = 5000) {
  return new Promise<void>((resolve, reject) => {
    if (pred()) return resolve();
    const timer = setTimeout(() => {
      emitter.off(event, check);
      reject(new Error(`condition not met within ${ms} ms`));
    }, ms);
    const check = () => {
      if (!pred()) return;
      clearTimeout(timer);
      emitter.off(event, check);
      resolve();
    };
    emitter.on(event, check);
  });
}

/** The number inside `[CODE n]` or `(MODSEQ n)` of a line. */
function num(line: string, re: RegExp): number {
  const m = re.exec(line);
  assert.ok(m, `${re} not in ${line}`);
  return Number(m[1]);
}

Deno.test("imap: CONDSTORE and QRESYNC (RFC 7162)", async (t) => {
  const ts = await startTestServer({ limits: { max_bad_commands: 1000 } });
  const acc = await ts.addUser(USER, PASS);
  for (const s of ["one", "two", "three", "four", "five"]) {
    await deliver(ts, acc.id, sampleMessage(`cs ${s}`));
  }
  const port = ts.port("imap");
  const raws = new RawPool(port, USER, PASS);
  const raw = () => raws.login();
  const flow = flowClient(port, ts.certPem, USER, PASS, { qresync: true });
  try {
    await flow.connect();

    await t.step("raw: HIGHESTMODSEQ, MODSEQ, STATUS, ENABLE", async () => {
      const c = await raw();
      assert.match((await c.command("CAPABILITY")).lines[0], / CONDSTORE QRESYNC /);
      const sel = await c.command("SELECT INBOX (CONDSTORE)");
      const hms = sel.lines.find((l) => l.includes("HIGHESTMODSEQ"));
      assert.ok(hms, sel.lines.join("\n"));
      const highest = num(hms, /\[HIGHESTMODSEQ (\d+)\]/);
      assert.ok(highest >= 5);
      const f = await c.command("FETCH 1:* (UID MODSEQ)");
      assert.equal(f.lines.length, 5);
      const modseqs = f.lines.map((l) => num(l, /MODSEQ \((\d+)\)/));
      assert.equal(Math.max(...modseqs), highest);
      const st = await c.command("STATUS INBOX (HIGHESTMODSEQ MESSAGES)");
      assert.deepEqual(st.lines, [`* STATUS "INBOX" (HIGHESTMODSEQ ${highest} MESSAGES 5)`]);
      assert.deepEqual((await c.command("ENABLE CONDSTORE QRESYNC")).lines, [
        "* ENABLED QRESYNC",
      ]);
      // CHANGEDSINCE: only later changes, with MODSEQ implied.
      const none = await c.command(`FETCH 1:* (FLAGS) (CHANGEDSINCE ${highest})`);
      assert.deepEqual(none.lines, []);
      const some = await c.command(`FETCH 1:* (FLAGS) (CHANGEDSINCE ${modseqs[3] - 1})`);
      assert.equal(some.lines.length, 2);
      assert.match(some.lines[0], /^\* 4 FETCH \(FLAGS \((\\Recent)?\) MODSEQ \(\d+\)\)$/);
      assert.match(
        (await c.command("FETCH 1 (FLAGS) (VANISHED CHANGEDSINCE 1)")).tagged,
        /BAD .*UID FETCH/,
      );
      assert.match((await c.command("FETCH 1 (FLAGS) (FROB 1)")).tagged, /BAD/);
      await c.command("LOGOUT");
    });

    await t.step("raw: STORE UNCHANGEDSINCE and MODIFIED; SEARCH MODSEQ", async () => {
      const c = await raw();
      await c.command("SELECT INBOX");
      // The first CONDSTORE enabling command while selected reports HIGHESTMODSEQ first.
      const first = (await c.command("FETCH 2:3 (MODSEQ)")).lines;
      assert.match(first[0], /^\* OK \[HIGHESTMODSEQ \d+\]/);
      const before = first.slice(1);
      const m2 = num(before[0], /MODSEQ \((\d+)\)/);
      const m3 = num(before[1], /MODSEQ \((\d+)\)/);
      // Passes: message 2 unchanged since m2; message 1 passes too.
      const ok = await c.command(`STORE 1:2 (UNCHANGEDSINCE ${m2}) +FLAGS (\\Flagged)`);
      assert.match(ok.tagged, /OK STORE completed/);
      assert.equal(ok.lines.length, 2);
      // RFC 7162 §3.1: with CONDSTORE on, STORE's FETCH responses carry UID and MODSEQ.
      assert.match(ok.lines[1], /^\* 2 FETCH \(UID 2 FLAGS \(\\Flagged\) MODSEQ \((\d+)\)\)$/);
      const m2b = num(ok.lines[1], /MODSEQ \((\d+)\)/);
      assert.ok(m2b > m2);
      // Fails for 2 (changed since m3), succeeds for 3: MODIFIED names 2.
      const mod = await c.command(`STORE 2:3 (UNCHANGEDSINCE ${m3}) +FLAGS.SILENT (\\Seen)`);
      assert.match(mod.tagged, /OK \[MODIFIED 2\] /);
      assert.equal(mod.lines.length, 1);
      assert.match(mod.lines[0], /^\* 3 FETCH \(UID 3 MODSEQ \(\d+\)\)$/);
      const uidMod = await c.command("UID STORE 1:5 (UNCHANGEDSINCE 0) -FLAGS (\\Seen)");
      assert.match(uidMod.tagged, /OK \[MODIFIED 1:5\] /);
      // SEARCH MODSEQ: messages changed at or after m2b.
      const s = await c.command(`SEARCH MODSEQ ${m2b}`);
      assert.match(s.lines[0], /^\* SEARCH 1 2 3 \(MODSEQ \d+\)$/);
      const s2 = await c.command(`UID SEARCH RETURN (COUNT) MODSEQ "/flags/\\\\seen" all ${m2b}`);
      assert.match(s2.lines[0], /^\* ESEARCH \(TAG "t\d+"\) UID COUNT 3 MODSEQ \d+$/);
      assert.deepEqual((await c.command("SEARCH MODSEQ 999999999")).lines, ["* SEARCH"]);
      // An implicit \Seen reports FLAGS with UID and MODSEQ (RFC 7162 §3.1).
      const seen = await c.command("FETCH 5 (BODY[TEXT])");
      assert.match(seen.lines[0], /FLAGS \(\\Seen( \\Recent)?\) UID 5 MODSEQ \(\d+\)\)$/);
      await c.command("LOGOUT");
    });

    await t.step("imapflow: CONDSTORE fetch, flag events carry modseq", async () => {
      const mb = await flow.mailboxOpen("INBOX");
      const opened = mb.highestModseq!;
      assert.ok(flow.enabled.has("QRESYNC") && flow.enabled.has("CONDSTORE"));
      assert.equal(typeof mb.highestModseq, "bigint");
      const all = [];
      for await (const m of flow.fetch("1:*", { uid: true, flags: true })) all.push(m);
      assert.equal(all.length, 5);
      assert.ok(all.every((m) => typeof m.modseq === "bigint"));
      const flagged = all.filter((m) => m.flags?.has("\\Flagged")).map((m) => m.uid);
      assert.deepEqual(flagged, [1, 2]);

      // Another session changes a flag: the unsolicited FETCH carries MODSEQ.
      const events: Array<{ uid?: number; modseq?: bigint }> = [];
      flow.on("flags", (e) => events.push(e));
      const c = await raw();
      await c.command("SELECT INBOX");
      await c.command("STORE 4 +FLAGS (\\Answered)");
      await flow.noop();
      await waitFor(() => events.length > 0, flow, "flags");
      assert.equal(events[0].uid, 4);
      assert.equal(typeof events[0].modseq, "bigint");
      assert.ok(events[0].modseq! > opened);

      const changed = [];
      for await (
        const m of flow.fetch("1:*", { uid: true, flags: true }, {
          uid: true,
          changedSince: opened,
        })
      ) changed.push(m.uid);
      assert.deepEqual(changed, [4]);
      await c.command("LOGOUT");
    });

    await t.step(
      "imapflow: SELECT (QRESYNC ...) reports VANISHED (EARLIER) and changes",
      async () => {
        const mb = flow.mailbox as { uidValidity: bigint; highestModseq: bigint };
        const since = mb.highestModseq;
        const validity = mb.uidValidity;
        await flow.mailboxClose();
        const c = await raw();
        await c.command("SELECT INBOX");
        await c.command("UID STORE 5 +FLAGS (\\Draft)");
        await c.command("UID STORE 3 +FLAGS (\\Deleted)");
        await c.command("EXPUNGE");
        await c.command("LOGOUT");

        const gone: Array<{ uid?: number; earlier?: boolean }> = [];
        const flags: Array<{ uid?: number }> = [];
        const onExpunge = (e: { uid?: number; earlier?: boolean }) => gone.push(e);
        const onFlags = (e: { uid?: number }) => flags.push(e);
        flow.on("expunge", onExpunge);
        flow.on("flags", onFlags);
        try {
          const again = await flow.mailboxOpen("INBOX", {
            uidValidity: validity,
            changedSince: since,
          });
          assert.equal(again.exists, 4);
          assert.ok(again.highestModseq! > since);
          assert.deepEqual(gone.map((e) => [e.uid, e.earlier]), [[3, true]]);
          assert.deepEqual(flags.map((e) => e.uid), [5]);
        } finally {
          flow.off("expunge", onExpunge);
          flow.off("flags", onFlags);
        }
      },
    );

    await t.step("raw: VANISHED replaces EXPUNGE once QRESYNC is on", async () => {
      const a = await raw();
      const b = await raw();
      assert.match((await a.command("SELECT INBOX (QRESYNC (1 1))")).tagged, /BAD .*QRESYNC/);
      await a.command("ENABLE QRESYNC");
      const sel = await a.command("SELECT INBOX");
      const uidValidity = num(sel.lines.join(" "), /UIDVALIDITY (\d+)/);
      const hms = num(sel.lines.join(" "), /HIGHESTMODSEQ (\d+)/);
      await b.command("SELECT INBOX");
      await b.command("UID STORE 4 +FLAGS (\\Deleted)");
      await b.command("UID EXPUNGE 4");
      // A's pending expunge is reported as VANISHED at its next NOOP, not as EXPUNGE.
      const n = await a.command("NOOP");
      assert.deepEqual(n.lines, ["* VANISHED 4"]);
      const fv = await a.command(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${hms} VANISHED)`);
      // 4 vanished after hms (VANISHED (EARLIER) may repeat what VANISHED said); no changes.
      assert.deepEqual(fv.lines, ["* VANISHED (EARLIER) 4"]);
      const fv2 = await a.command("UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)");
      assert.equal(fv2.lines[0], "* VANISHED (EARLIER) 3:4");
      // Own EXPUNGE: VANISHED and the tagged HIGHESTMODSEQ.
      await a.command("UID STORE 1 +FLAGS.SILENT (\\Deleted)");
      const ex = await a.command("EXPUNGE");
      assert.deepEqual(ex.lines, ["* VANISHED 1"]);
      const after = num(ex.tagged, /OK \[HIGHESTMODSEQ (\d+)\]/);
      assert.ok(after > hms);
      // SELECT with QRESYNC and known UIDs: only those are reported.
      await a.command("UNSELECT");
      const q = await a.command(`SELECT INBOX (QRESYNC (${uidValidity} ${hms} 1:3))`);
      // 4 vanished after hms too, but is not among the known UIDs.
      assert.ok(q.lines.includes("* VANISHED (EARLIER) 1"), q.lines.join("\n"));
      const wrong = await a.command(`EXAMINE INBOX (QRESYNC (${uidValidity + 1} ${hms}))`);
      assert.ok(!wrong.lines.some((l) => l.includes("VANISHED")));
      assert.match(wrong.lines[0], /^\* OK \[CLOSED\]/);
      assert.match((await a.command("SELECT INBOX (QRESYNC (1 0))")).tagged, /BAD/);
    });

    await t.step("python imaplib: CONDSTORE raw commands", async () => {
      const lines = await imaplib(
        port,
        USER,
        PASS,
        `
typ, data = m._simple_command("ENABLE", "CONDSTORE")
print(typ, m.untagged_responses.get("ENABLED"))
typ, data = m.select("INBOX")
print("HIGHESTMODSEQ", "HIGHESTMODSEQ" in m.untagged_responses)
typ, data = m.uid("FETCH", "1:*", "(FLAGS) (CHANGEDSINCE 1)")
print(typ, len([d for d in data if d]))
typ, data = m.uid("STORE", "2", "(UNCHANGEDSINCE 1)", "+FLAGS", "(\\\\Seen)")
print(typ, m.untagged_responses.get("MODIFIED"))
`,
      );
      assert.equal(lines[0], "OK [b'CONDSTORE']");
      assert.equal(lines[1], "HIGHESTMODSEQ True");
      assert.equal(lines[2], "OK 2");
      assert.equal(lines[3], "OK [b'2']");
    });
  } finally {
    raws.closeAll();
    await flow.logout().catch(() => {});
    await ts.stop();
  }
});
