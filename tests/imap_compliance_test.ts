/**
 * Regressions found with Dovecot's imaptest (compliance scripts and stress mode), which CI
 * cannot build: each step replays what one imaptest group checks, over the raw client.
 */
import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "./harness.ts";
import { RawImap, sampleMessage } from "./imap_helpers.ts";

const USER = "compliance@example.test";
const PASS = "compliance-pw";

/** APPENDs a message with a synchronizing literal. */
async function append(c: RawImap, mailbox: string, msg: Uint8Array | string, flags = "") {
  const bytes = typeof msg === "string" ? new TextEncoder().encode(msg) : msg;
  const tag = c.nextTag();
  await c.write(`${tag} APPEND ${mailbox} ${flags ? `(${flags}) ` : ""}{${bytes.length}}\r\n`);
  const cont = await c.readLine();
  assert.match(cont!, /^\+ /);
  await c.write(bytes);
  await c.write("\r\n");
  const r = await c.until(tag);
  assert.match(r.tagged, / OK /);
  return r;
}

Deno.test("imap: imaptest compliance regressions", async (t) => {
  const ts: TestServer = await startTestServer({ limits: { max_bad_commands: 10_000 } });
  await ts.addUser(USER, PASS);
  const port = ts.port("imap");
  const open: RawImap[] = [];
  const login = async () => {
    const c = await RawImap.login(port, USER, PASS);
    open.push(c);
    return c;
  };
  try {
    await t.step(
      "select: \\Recent is claimed by one SELECT, seen by EXAMINE and STATUS",
      async () => {
        // imaptest "select": EXAMINE and STATUS leave \Recent in place; SELECT claims it.
        const a = await login();
        assert.match((await a.command("CREATE recent")).tagged, / OK /);
        await append(a, "recent", sampleMessage("r1"));
        await append(a, "recent", sampleMessage("r2"));
        const ex = await a.command("EXAMINE recent");
        assert.ok(ex.lines.includes("* 2 RECENT"), ex.lines.join("\n"));
        await a.command("CLOSE");
        const st = await a.command("STATUS recent (MESSAGES RECENT UNSEEN)");
        assert.deepEqual(st.lines, ['* STATUS "recent" (MESSAGES 2 RECENT 2 UNSEEN 2)']);
        const sel = await a.command("SELECT recent");
        assert.ok(sel.lines.includes("* 2 RECENT"), sel.lines.join("\n"));
        assert.deepEqual((await a.command("SEARCH RECENT")).lines, ["* SEARCH 1 2"]);
        assert.deepEqual((await a.command("SEARCH NEW")).lines, ["* SEARCH 1 2"]);
        assert.deepEqual((await a.command("SEARCH OLD")).lines, ["* SEARCH"]);
        const f = await a.command("FETCH 1 FLAGS");
        assert.deepEqual(f.lines, ["* 1 FETCH (FLAGS (\\Recent))"]);
        // A second session: nothing is recent to it any more.
        const b = await login();
        const sel2 = await b.command("SELECT recent");
        assert.ok(sel2.lines.includes("* 0 RECENT"), sel2.lines.join("\n"));
        const st2 = await b.command("STATUS INBOX (RECENT)");
        assert.match(st2.tagged, / OK /);
        // New mail is recent to exactly one of the two sessions that have it selected.
        const c = await login(); // not selected: does not claim anything
        await append(c, "recent", sampleMessage("r3"));
        const na = await a.command("NOOP");
        const nb = await b.command("NOOP");
        const recentLines = [...na.lines, ...nb.lines].filter((l) => /RECENT$/.test(l));
        assert.deepEqual(recentLines.sort(), ["* 0 RECENT", "* 3 RECENT"].sort());
        // IMAP4rev2 has no \Recent.
        assert.match((await b.command("ENABLE IMAP4rev2")).tagged, / OK /);
        const f2 = await b.command("FETCH 3 FLAGS");
        assert.doesNotMatch(f2.lines.join("\n"), /\\Recent/);
        await a.command("CLOSE");
        await b.command("CLOSE");
      },
    );

    await t.step(
      "stress: a new keyword is announced in FLAGS before a FETCH shows it",
      async () => {
        // imaptest stress: "Keyword used without being in FLAGS".
        const a = await login();
        const b = await login();
        await a.command("SELECT recent");
        await b.command("SELECT recent");
        const own = await a.command("STORE 1 +FLAGS ($Label1)");
        const flagsAt = own.lines.findIndex((l) => l.startsWith("* FLAGS ("));
        const fetchAt = own.lines.findIndex((l) => l.includes("FETCH"));
        assert.ok(flagsAt >= 0 && flagsAt < fetchAt, own.lines.join("\n"));
        assert.match(own.lines[flagsAt], /\$Label1/);
        assert.match(own.lines[flagsAt + 1], /^\* OK \[PERMANENTFLAGS \(.*\$Label1.*\\\*\)\]/);
        // The other session hears of it before the unsolicited FETCH.
        const other = await b.command("NOOP");
        const fi = other.lines.findIndex((l) => l.startsWith("* FLAGS ("));
        const fe = other.lines.findIndex((l) => l.includes("FETCH"));
        assert.ok(fi >= 0 && fi < fe, other.lines.join("\n"));
        // Already announced: no second FLAGS.
        const again = await a.command("STORE 2 +FLAGS ($Label1)");
        assert.equal(again.lines.filter((l) => l.startsWith("* FLAGS")).length, 0);
        // An appended message with a new keyword: FLAGS comes with (before) its EXISTS.
        await append(a, "recent", sampleMessage("r4"), "$Fresh");
        const n = await b.command("NOOP");
        const fl = n.lines.findIndex((l) => l.startsWith("* FLAGS (") && l.includes("$Fresh"));
        const ex = n.lines.findIndex((l) => / EXISTS$/.test(l));
        assert.ok(fl >= 0 && fl < ex, n.lines.join("\n"));
        await a.command("LOGOUT");
        await b.command("LOGOUT");
      },
    );
  } finally {
    for (const c of open) c.close();
    await ts.stop();
  }
});
