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
    await t.step("id: the largest ID RFC 2971 allows is answered before login", async () => {
      // imaptest "id": 30 field-value pairs with 1024-octet values (RFC 2971 §3.3), before
      // login, about 31 KiB on one line; the pre-login command cap must leave room for it.
      const { client } = await RawImap.connect(port);
      open.push(client);
      const pairs = Array.from(
        { length: 30 },
        (_, i) => `"field${i}" "${String(i % 10).repeat(1024)}"`,
      );
      const r = await client.command(`ID (${pairs.join(" ")})`);
      assert.match(r.tagged, / OK /);
      assert.ok(r.lines.some((l) => l.startsWith("* ID ")), r.lines.join("\n"));
    });
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

    await t.step("stress: a keyword once in use is never dropped from FLAGS", async () => {
      // imaptest stress: "Keyword dropped, but it still had references" — another session
      // may still show a message with it when a new SELECT sees none in use.
      const a = await login();
      await a.command("SELECT recent");
      await a.command("STORE 1 +FLAGS ($Gone)");
      await a.command("STORE 1 -FLAGS ($Gone)");
      const b = await login();
      const sel = await b.command("EXAMINE recent");
      assert.match(sel.lines.find((l) => l.startsWith("* FLAGS"))!, /\$Gone/);
      await a.command("LOGOUT");
      await b.command("LOGOUT");
    });

    await t.step(
      "listext: RECURSIVEMATCH gives CHILDINFO only for unlisted descendants",
      async () => {
        const c = await login();
        for (const n of ["lx/test2/test1", "lx/test8/test8", "lx/test8/test9"]) {
          assert.match((await c.command(`CREATE ${n}`)).tagged, / OK /);
          assert.match((await c.command(`SUBSCRIBE ${n}`)).tagged, / OK /);
        }
        const both = await c.command(
          'LIST (SUBSCRIBED RECURSIVEMATCH) "" (lx/test2 lx/test2/test1)',
        );
        assert.deepEqual(both.lines, [
          '* LIST (\\HasNoChildren \\Subscribed) "/" "lx/test2/test1"',
        ]);
        const parent = await c.command('LIST (SUBSCRIBED RECURSIVEMATCH) "" (lx/test2)');
        assert.deepEqual(parent.lines, [
          '* LIST (\\HasChildren) "/" "lx/test2" ("CHILDINFO" ("SUBSCRIBED"))',
        ]);
        // test8/test9 does not match "lx*test8": test8 still gets CHILDINFO.
        const star = await c.command('LIST (SUBSCRIBED RECURSIVEMATCH) "" lx*test8');
        assert.ok(
          star.lines.some((l) => /"lx\/test8" \("CHILDINFO"/.test(l)),
          star.lines.join("\n"),
        );
        await c.command("LOGOUT");
      },
    );

    await t.step("search-addresses: address fields match as addresses read", async () => {
      const c = await login();
      await c.command("CREATE addr");
      const msgs = [
        "From: user-from@domain.org\r\nTo: user-to@domain.org\r\n\r\nbody\r\n",
        "From: RealFrom <user-from@domain.org>\r\n\r\nbody2\r\n",
        "From: <user-from (comment)@ (comment) domain.org>\r\n\r\nbody3\r\n",
        "From: user-from@domain.org (RealFrom)\r\n\r\nbody4\r\n",
        "From: x@y\r\nTo: groupname: groupuser1@domain.org, groupuser2@domain.org;,\r\n" +
        "  groupname2: groupuser3@domain.org;\r\n\r\nbody5\r\n",
        "From: =?utf-8?q?J=C3=BCrgen?= <j@domain.org>\r\nTo: groupname:;\r\n\r\nbody6\r\n",
      ];
      for (const m of msgs) await append(c, "addr", m);
      await c.command("SELECT addr");
      const search = async (q: string) => (await c.command(`SEARCH ${q}`)).lines[0];
      assert.equal(await search("FROM user-from@domain.org"), "* SEARCH 1 2 3 4");
      assert.equal(await search("FROM realfrom"), "* SEARCH 2 4");
      assert.equal(await search("FROM ealfro"), "* SEARCH 2 4");
      assert.equal(await search("FROM comment"), "* SEARCH");
      assert.equal(await search("TO groupname"), "* SEARCH 5 6");
      assert.equal(await search("TO groupname2"), "* SEARCH 5");
      assert.equal(await search("TO groupuser3"), "* SEARCH 5");
      assert.equal(await search('HEADER TO ""'), "* SEARCH 1 5 6");
      // RFC 9051 §6.4.4: a non-ASCII string goes as a literal (here LITERAL+).
      assert.equal(await search("CHARSET UTF-8 FROM {7+}\r\njürgen"), "* SEARCH 6");
      await c.command("LOGOUT");
    });

    await t.step(
      "append-binary: NUL content by literal8 is stored base64, BINARY decodes",
      async () => {
        const c = await login();
        await c.command("CREATE bin");
        const head = "From: user@domain.org\r\nMime-Version: 1.0\r\n" +
          "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n";
        const body = new Uint8Array([0, 0x2d, 0xe4, 10, 13, 10, 10]);
        const msg = new Uint8Array([...new TextEncoder().encode(head), ...body]);
        await c.write(`b1 APPEND bin ~{${msg.length}+}\r\n`);
        await c.write(msg);
        await c.write("\r\n");
        assert.match((await c.until("b1")).tagged, /OK \[APPENDUID/);
        await c.command("SELECT bin");
        const f = await c.command("FETCH 1 (BODY.PEEK[1] BINARY.SIZE[1] BINARY.PEEK[1])");
        const r = f.untagged[0];
        assert.match(r.text, /BODY\[1\] \{12\}.* BINARY.SIZE\[1\] 7 BINARY\[1\] ~\{7\}/);
        assert.equal(new TextDecoder().decode(r.literals[0]), "AC3kCg0KCg==");
        assert.deepEqual(r.literals[1], body);
        await c.command("LOGOUT");
      },
    );

    await t.step("atoms: a LIST pattern that is not modified UTF-7 matches nothing", async () => {
      const c = await login();
      const r = await c.command('LIST "" !#$$&\'+,-.0123456789:;<=>?@^_`|[}%*');
      assert.match(r.tagged, / OK /);
      assert.deepEqual(r.lines, []);
      assert.match((await c.command('LIST "" ~foo')).tagged, / OK /);
      assert.match((await c.command("SELECT ~foo")).tagged, / NO /);
      await c.command("LOGOUT");
    });

    await t.step(
      "sort-addresses, sort-display-to: a group stands first for its address",
      async () => {
        const c = await login();
        await c.command("CREATE srt");
        for (
          const h of [
            "Cc: user2@domain2.org (foo bar)\r\nTo: a: xx@xx.org, yy@yy.org;",
            "Cc: user2: blah@domain1.org;\r\nTo: b@c.d",
            "Cc: user1@domain1.org\r\nTo: d",
            "Cc: x@y\r\nTo: =?iso-8859-1?q?foo_aar?= <e@f.g>",
          ]
        ) await append(c, "srt", `${h}\r\nSubject: s\r\n\r\nbody\r\n`);
        await c.command("SELECT srt");
        // user1 < user2 = (group) user2 < x: ties keep mailbox order.
        assert.deepEqual((await c.command("SORT (CC) US-ASCII ALL")).lines, ["* SORT 3 1 2 4"]);
        // a (group) < b@c.d < d (no domain) < foo aar.
        assert.deepEqual((await c.command("SORT (DISPLAYTO) US-ASCII ALL")).lines, [
          "* SORT 1 2 3 4",
        ]);
        await c.command("LOGOUT");
      },
    );

    await t.step("thread: a refused loop still breaks the presumed parent link", async () => {
      const c = await login();
      await c.command("CREATE thr");
      await append(
        c,
        "thr",
        "Message-ID: <a@b>\r\nDate: Fri, 22 Feb 2008 17:06:23 +0000\r\n\r\nx\r\n",
      );
      await append(
        c,
        "thr",
        "Message-Id: <b@b>\r\nReferences: <a@b> <c@b>\r\nDate: Fri, 22 Feb 2008 15:06:23 +0000\r\n\r\nx\r\n",
      );
      await append(
        c,
        "thr",
        "Message-Id: <c@b>\r\nReferences: <b@b>\r\nDate: Fri, 22 Feb 2008 16:06:25 +0000\r\n\r\nx\r\n",
      );
      await c.command("SELECT thr");
      const r = await c.command("THREAD REFERENCES US-ASCII ALL");
      assert.deepEqual(r.lines, ["* THREAD (3 2)(1)"]);
      await c.command("LOGOUT");
    });

    await t.step(
      "esearch-condstore: HIGHESTMODSEQ on enabling; MIN/MAX carry their MODSEQ",
      async () => {
        const c = await login();
        await c.command("CREATE esc");
        for (let i = 0; i < 4; i++) await append(c, "esc", sampleMessage(`esc${i}`));
        await c.command("SELECT esc");
        const first = await c.command("FETCH 1 MODSEQ");
        assert.match(first.lines[0], /^\* OK \[HIGHESTMODSEQ \d+\]/);
        const modseq: Record<number, number> = {};
        for (const n of [1, 3, 2, 4]) {
          const r = await c.command(`STORE ${n} +FLAGS \\Seen`);
          modseq[n] = Number(/MODSEQ \((\d+)\)/.exec(r.lines[0])![1]);
        }
        const q = 'MODSEQ "/flags/\\\\seen" all 1';
        const min = await c.command(`SEARCH RETURN (MIN) 1:3 ${q}`);
        assert.match(min.lines[0], new RegExp(` MIN 1 MODSEQ ${modseq[1]}$`));
        const max = await c.command(`SEARCH RETURN (MAX) 1:3 ${q}`);
        assert.match(max.lines[0], new RegExp(` MAX 3 MODSEQ ${modseq[3]}$`));
        const all = await c.command(`SEARCH RETURN () 1:3 ${q}`);
        assert.match(all.lines[0], new RegExp(` ALL 1:3 MODSEQ ${modseq[2]}$`));
        await c.command("LOGOUT");
      },
    );
  } finally {
    for (const c of open) c.close();
    await ts.stop();
  }
});
