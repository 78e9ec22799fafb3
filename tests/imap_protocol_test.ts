/**
 * IMAP protocol behaviour that real clients do not exercise on purpose: the state table,
 * limits (long lines, huge literals, bad-command floods, autologout), pipelining, mailbox
 * name rules, SASL (PLAIN with SASL-IR, SCRAM-SHA-256), IMAP4rev2 ESEARCH and `$`, and
 * what two sessions on one mailbox see of each other (RFC 9051 §7.5).
 */
import assert from "node:assert/strict";
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { startTestServer, type TestServer } from "./harness.ts";
import { deliver, RawImap, sampleMessage } from "./imap_helpers.ts";

const USER = "alice@example.test";
const PASS = "proto-pw";

Deno.test("imap protocol: states, names, SASL, IMAP4rev2, concurrency", async (t) => {
  const ts = await startTestServer({ limits: { max_bad_commands: 10_000 } });
  const alice = await ts.addUser(USER, PASS);
  await deliver(ts, alice.id, sampleMessage("one"));
  await deliver(ts, alice.id, sampleMessage("two"));
  const port = ts.port("imap");
  const open: RawImap[] = [];
  const login = async () => {
    const c = await RawImap.login(port, USER, PASS);
    open.push(c);
    return c;
  };
  try {
    await t.step("greeting carries capabilities; state table is enforced", async () => {
      const { client, greeting } = await RawImap.connect(port);
      open.push(client);
      assert.match(greeting, /^\* OK \[CAPABILITY IMAP4rev1 IMAP4rev2 STARTTLS AUTH=PLAIN .*\] /);
      assert.match((await client.command("FETCH 1 FLAGS")).tagged, /^t\d+ BAD .*not allowed/);
      assert.match((await client.command("SELECT INBOX")).tagged, /^t\d+ BAD /);
      assert.match((await client.command("FROBNICATE")).tagged, /^t\d+ BAD Unknown command/);
      assert.match((await client.command("NOOP")).tagged, /^t\d+ OK /);
      const c = await client.command(`LOGIN ${USER} ${PASS}`);
      assert.match(c.tagged, /^t\d+ OK \[CAPABILITY IMAP4rev1 IMAP4rev2 .*\] Logged in$/);
      assert.doesNotMatch(c.tagged, /AUTH=|STARTTLS/);
      assert.match((await client.command(`LOGIN ${USER} ${PASS}`)).tagged, /^t\d+ BAD /);
      assert.match((await client.command("STARTTLS")).tagged, /^t\d+ BAD /);
      assert.match((await client.command("EXPUNGE")).tagged, /^t\d+ BAD /);
      const out = await client.command("LOGOUT");
      assert.deepEqual(out.lines, ["* BYE denomail logging out"]);
      assert.match(out.tagged, /OK/);
      assert.deepEqual(await client.drain(), []);
    });

    await t.step(
      "AUTHENTICATE PLAIN with SASL-IR, with a continuation, and cancelled",
      async () => {
        const ir = btoa(`\0${USER}\0${PASS}`);
        const a = (await RawImap.connect(port)).client;
        open.push(a);
        assert.match((await a.command(`AUTHENTICATE PLAIN ${ir}`)).tagged, /OK \[CAPABILITY /);
        const b = (await RawImap.connect(port)).client;
        open.push(b);
        await b.write("x AUTHENTICATE PLAIN\r\n");
        assert.equal(await b.readLine(), "+ ");
        await b.write(`${ir}\r\n`);
        assert.match((await b.until("x")).tagged, /^x OK /);
        const c = (await RawImap.connect(port)).client;
        open.push(c);
        await c.write("y AUTHENTICATE PLAIN\r\n");
        await c.readLine();
        await c.write("*\r\n");
        assert.match((await c.until("y")).tagged, /^y BAD /);
        assert.match(
          (await c.command(`AUTHENTICATE PLAIN ${btoa(`\0${USER}\0nope`)}`)).tagged,
          /NO \[AUTHENTICATIONFAILED\]/,
        );
        assert.match((await c.command("AUTHENTICATE CRAM-MD5")).tagged, /NO /);
      },
    );

    await t.step("AUTHENTICATE SCRAM-SHA-256 (RFC 7677) with SASL-IR", async () => {
      const c = (await RawImap.connect(port)).client;
      open.push(c);
      const cnonce = randomBytes(12).toString("base64");
      const first = `n=${USER},r=${cnonce}`;
      await c.write(`s AUTHENTICATE SCRAM-SHA-256 ${btoa("n,," + first)}\r\n`);
      const serverFirst = atob((await c.readLine())!.slice(2));
      const attrs = Object.fromEntries(serverFirst.split(",").map((p) => [p[0], p.slice(2)]));
      assert.ok(attrs.r.startsWith(cnonce));
      const salted = pbkdf2Sync(
        PASS,
        Buffer.from(attrs.s, "base64"),
        Number(attrs.i),
        32,
        "sha256",
      );
      const clientKey = createHmac("sha256", salted).update("Client Key").digest();
      const storedKey = createHash("sha256").update(clientKey).digest();
      const withoutProof = `c=biws,r=${attrs.r}`;
      const authMessage = `${first},${serverFirst},${withoutProof}`;
      const sig = createHmac("sha256", storedKey).update(authMessage).digest();
      const proof = clientKey.map((b, i) => b ^ sig[i]);
      await c.write(`${btoa(`${withoutProof},p=${Buffer.from(proof).toString("base64")}`)}\r\n`);
      const serverFinal = atob((await c.readLine())!.slice(2));
      const serverKey = createHmac("sha256", salted).update("Server Key").digest();
      const expected = createHmac("sha256", serverKey).update(authMessage).digest("base64");
      assert.equal(serverFinal, `v=${expected}`);
      await c.write("\r\n");
      assert.match((await c.until("s")).tagged, /^s OK /);
      assert.match((await c.command("SELECT INBOX")).tagged, /OK \[READ-WRITE\]/);
    });

    await t.step("pipelined commands are answered in order", async () => {
      const c = await login();
      await c.write("p1 NOOP\r\np2 SELECT INBOX\r\np3 FETCH 1:* (UID)\r\np4 NOOP\r\n");
      const r2 = await c.until("p1");
      assert.equal(r2.untagged.length, 0);
      const sel = await c.until("p2");
      assert.ok(sel.untagged.some((u) => u.text === "* 2 EXISTS"));
      const f = await c.until("p3");
      assert.deepEqual(f.untagged.map((u) => u.text), ["* 1 FETCH (UID 1)", "* 2 FETCH (UID 2)"]);
      assert.match((await c.until("p4")).tagged, /OK/);
    });

    await t.step("literals: synchronizing gets a continuation, LITERAL+ does not", async () => {
      const c = await login();
      const msg = "Subject: lit\r\n\r\nliteral body\r\n";
      await c.write(`a1 APPEND INBOX (\\Seen) {${msg.length}}\r\n`);
      assert.match((await c.readLine())!, /^\+ /);
      await c.write(msg + "\r\n");
      assert.match((await c.until("a1")).tagged, /^a1 OK \[APPENDUID \d+ 3\]/);
      await c.write(`a2 APPEND INBOX {${msg.length}+}\r\n${msg}\r\na3 NOOP\r\n`);
      assert.match((await c.until("a2")).tagged, /^a2 OK \[APPENDUID \d+ 4\]/);
      assert.match((await c.until("a3")).tagged, /^a3 OK/);
      await c.write(`a4 LOGIN {3+}\r\nfoo {3}\r\n`);
      assert.match((await c.readLine())!, /^\+ /);
      await c.write(`bar\r\n`);
      assert.match((await c.until("a4")).tagged, /^a4 BAD /); // already logged in
      const x = await c.command("SELECT INBOX");
      assert.match(x.tagged, /OK/);
      const f = await c.command("UID FETCH 3:4 (FLAGS BODY.PEEK[TEXT])");
      assert.equal(f.untagged.length, 2);
      assert.equal(new TextDecoder().decode(f.untagged[0].literals[0]), "literal body\r\n");
      assert.match(f.untagged[0].text, /FLAGS \(\\Seen( \\Recent)?\)/);
    });

    await t.step("mailbox names: rules, modified UTF-7, INBOX, IMAP4rev2 UTF-8", async () => {
      const c = await login();
      for (
        const bad of [
          '"a/../b"',
          '"a%"',
          '"/lead"',
          '"trail//x"',
          '"ctl\tx"',
          `"${"x".repeat(256)}"`,
        ]
      ) {
        assert.match((await c.command(`CREATE ${bad}`)).tagged, /^t\d+ NO \[CANNOT\]/, bad);
      }
      assert.match((await c.command(`CREATE "&Jjo"`)).tagged, /NO .*modified UTF-7/);
      assert.match((await c.command("CREATE inbox")).tagged, /NO \[ALREADYEXISTS\]/);
      assert.match((await c.command("DELETE INBOX")).tagged, /NO /);
      assert.match((await c.command("DELETE Nope")).tagged, /NO \[NONEXISTENT\]/);
      assert.match((await c.command("CREATE Entw&APw-rfe/2024/")).tagged, /OK/);
      const l = await c.command('LIST "" "Entw*"');
      assert.deepEqual(l.lines, [
        '* LIST (\\HasChildren) "/" "Entw&APw-rfe"',
        '* LIST (\\HasNoChildren) "/" "Entw&APw-rfe/2024"',
      ]);
      assert.match((await c.command("SELECT iNbOx")).tagged, /OK \[READ-WRITE\]/);
      const e = await c.command("ENABLE IMAP4rev2 X-UNKNOWN-EXT");
      assert.deepEqual(e.lines, ["* ENABLED IMAP4rev2"]);
      const l2 = await c.command('LIST "" "Entw\u00fcrfe"');
      assert.deepEqual(l2.lines, ['* LIST (\\HasChildren) "/" "Entw\u00fcrfe"']);
      const pct = await c.command('LIST "" "%/%"');
      assert.deepEqual(pct.lines, ['* LIST (\\HasNoChildren) "/" "Entw\u00fcrfe/2024"']);
      const empty = await c.command('LIST "" ""');
      assert.deepEqual(empty.lines, ['* LIST (\\Noselect) "/" ""']);
    });

    await t.step("LIST-EXTENDED, LIST-STATUS, LSUB, subscriptions, NAMESPACE, ID", async () => {
      const c = await login();
      assert.match((await c.command("CREATE Lists/Sub")).tagged, /OK/);
      assert.match((await c.command("SUBSCRIBE Lists/Sub")).tagged, /OK/);
      assert.match((await c.command("DELETE Lists")).tagged, /OK/);
      const pct = await c.command('LIST "" "Lists/%"');
      assert.deepEqual(pct.lines, ['* LIST (\\HasNoChildren) "/" "Lists/Sub"']);
      const top = await c.command('LIST "" "L%"');
      assert.deepEqual(top.lines, ['* LIST (\\Noselect \\HasChildren) "/" "Lists"']);
      const sub = await c.command('LIST (SUBSCRIBED) "" "L*" RETURN (CHILDREN)');
      assert.deepEqual(sub.lines, ['* LIST (\\HasNoChildren \\Subscribed) "/" "Lists/Sub"']);
      const rec = await c.command('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"');
      assert.ok(
        rec.lines.includes(
          '* LIST (\\NonExistent \\HasChildren) "/" "Lists" ("CHILDINFO" ("SUBSCRIBED"))',
        ),
        rec.lines.join("\n"),
      );
      const st = await c.command('LIST "" "INBOX" RETURN (STATUS (MESSAGES UIDNEXT))');
      assert.deepEqual(st.lines, [
        '* LIST (\\HasNoChildren) "/" "INBOX"',
        '* STATUS "INBOX" (MESSAGES 4 UIDNEXT 5)',
      ]);
      const su = await c.command('LIST (SPECIAL-USE) "" "*"');
      assert.deepEqual(su.lines.map((l) => l.split(" ").pop()), [
        '"Drafts"',
        '"Junk"',
        '"Sent"',
        '"Trash"',
      ]);
      const ls = await c.command('LSUB "" "*"');
      assert.ok(ls.lines.some((l) => l === '* LSUB () "/" "Lists/Sub"'));
      assert.match((await c.command("UNSUBSCRIBE Lists/Sub")).tagged, /OK/);
      assert.ok(!(await c.command('LSUB "" "*"')).lines.some((l) => l.includes("Lists/Sub")));
      assert.deepEqual((await c.command("NAMESPACE")).lines, ['* NAMESPACE (("" "/")) NIL NIL']);
      assert.match((await c.command('ID ("name" "test")')).lines[0], /^\* ID \("name" "denomail"/);
      assert.match(
        (await c.command("STATUS INBOX (MESSAGES UNSEEN DELETED SIZE)")).lines[0],
        /^\* STATUS "INBOX" \(MESSAGES 4 UNSEEN 3 DELETED 0 SIZE \d+\)$/,
      );
    });

    await t.step("EXAMINE is read-only; CLOSE expunges silently, UNSELECT does not", async () => {
      const c = await login();
      assert.match((await c.command("EXAMINE INBOX")).tagged, /OK \[READ-ONLY\]/);
      const f = await c.command("FETCH 1 (BODY[] FLAGS)");
      assert.doesNotMatch(f.untagged[0].text, /\\Seen/);
      assert.match((await c.command("STORE 1 +FLAGS (\\Deleted)")).tagged, /NO /);
      assert.match((await c.command("EXPUNGE")).tagged, /NO /);
      await c.command("SELECT INBOX");
      await c.command("STORE 4 +FLAGS.SILENT (\\Deleted)");
      assert.match((await c.command("UNSELECT")).tagged, /OK/);
      await c.command("SELECT INBOX");
      const close = await c.command("CLOSE");
      assert.deepEqual(close.lines, []);
      const s = await c.command("STATUS INBOX (MESSAGES)");
      assert.equal(s.lines[0], '* STATUS "INBOX" (MESSAGES 3)');
      assert.match((await c.command("FETCH 1 FLAGS")).tagged, /BAD/);
    });

    await t.step("IMAP4rev2: ESEARCH replies, RETURN options, SAVE and $", async () => {
      const c = await login();
      await c.command("ENABLE IMAP4rev2");
      const sel = await c.command("SELECT INBOX");
      assert.ok(sel.lines.includes('* LIST () "/" "INBOX"'));
      assert.ok(!sel.lines.some((l) => l.includes("RECENT")));
      const esearch = async (cmd: string) => {
        const r = await c.command(cmd);
        const tag = r.tagged.split(" ")[0];
        return r.lines.map((l) => l.replace(`(TAG "${tag}")`, "(TAG)"));
      };
      assert.deepEqual(await esearch("SEARCH ALL"), ["* ESEARCH (TAG) ALL 1:3"]);
      assert.deepEqual(await esearch("UID SEARCH RETURN (MIN MAX COUNT) UNSEEN"), [
        "* ESEARCH (TAG) UID MIN 1 MAX 2 COUNT 2",
      ]);
      assert.deepEqual(await esearch("SEARCH RETURN (SAVE) SEEN"), []);
      assert.deepEqual((await c.command("FETCH $ (UID)")).lines, ["* 3 FETCH (UID 3)"]);
      assert.deepEqual(await esearch("SEARCH RETURN (COUNT) NOT $"), ["* ESEARCH (TAG) COUNT 2"]);
      assert.deepEqual(await esearch("SEARCH RETURN () 99"), ["* ESEARCH (TAG)"]);
    });

    await t.step("two sessions: flag changes, EXISTS, and EXPUNGE only where allowed", async () => {
      const a = await login();
      const b = await login();
      await a.command("SELECT INBOX");
      await b.command("SELECT INBOX");
      await b.command("STORE 2 +FLAGS.SILENT (\\Flagged)");
      const n1 = await a.command("NOOP");
      assert.deepEqual(n1.lines, ["* 2 FETCH (UID 2 FLAGS (\\Flagged))"]);
      await deliver(ts, alice.id, sampleMessage("three"));
      const n2 = await a.command("NOOP");
      assert.deepEqual(n2.lines.filter((l) => !l.includes("RECENT")), ["* 4 EXISTS"]);
      // B expunges message 1; A must not see the EXPUNGE during FETCH, STORE or SEARCH.
      await b.command("STORE 1 +FLAGS.SILENT (\\Deleted)");
      const ex = await b.command("EXPUNGE");
      assert.deepEqual(ex.lines, ["* 1 EXPUNGE"]);
      const f = await a.command("FETCH 1:* (UID)");
      assert.ok(!f.lines.some((l) => l.includes("EXPUNGE")), f.lines.join("\n"));
      assert.ok(f.lines.includes("* 1 FETCH (UID 1)"), "message 1 keeps its number");
      const s = await a.command("SEARCH ALL");
      assert.deepEqual(s.lines.filter((l) => l.startsWith("* SEARCH")), ["* SEARCH 1 2 3 4"]);
      assert.ok(!s.lines.some((l) => l.includes("EXPUNGE")));
      const st = await a.command("STORE 2 -FLAGS (\\Flagged)");
      assert.ok(!st.lines.some((l) => l.includes("EXPUNGE")));
      const n3 = await a.command("NOOP");
      assert.deepEqual(n3.lines, ["* 1 EXPUNGE"]);
      const uids = await a.command("FETCH 1:* (UID)");
      assert.deepEqual(uids.lines, ["* 1 FETCH (UID 2)", "* 2 FETCH (UID 3)", "* 3 FETCH (UID 5)"]);
      // B sees A's flag change too.
      const nb = await b.command("NOOP");
      assert.ok(nb.lines.includes("* 1 FETCH (UID 2 FLAGS ())"), nb.lines.join("\n"));
    });

    await t.step("IDLE: EXISTS and EXPUNGE arrive promptly, DONE ends it", async () => {
      const a = await login();
      const b = await login();
      await a.command("SELECT INBOX");
      await b.command("SELECT INBOX");
      await a.write("i1 IDLE\r\n");
      assert.equal(await a.readLine(), "+ idling");
      let started = performance.now();
      await deliver(ts, alice.id, sampleMessage("idle delivery"));
      assert.equal(await a.readLine(), "* 4 EXISTS");
      const existsMs = performance.now() - started;
      assert.equal(await a.readLine(), "* 1 RECENT");
      started = performance.now();
      await b.command("UID STORE 5 +FLAGS.SILENT (\\Deleted)");
      assert.equal(await a.readLine(), "* 3 FETCH (UID 5 FLAGS (\\Deleted))");
      await b.command("UID EXPUNGE 5");
      assert.equal(await a.readLine(), "* 3 EXPUNGE");
      const expungeMs = performance.now() - started;
      await a.write("DONE\r\n");
      assert.match((await a.until("i1")).tagged, /^i1 OK /);
      // RFC 2177 IDLE: updates promptly, within 100 ms here (generous bound against CI noise).
      assert.ok(
        existsMs < 500 && expungeMs < 500,
        `EXISTS ${existsMs} ms, EXPUNGE ${expungeMs} ms`,
      );
    });

    await t.step(
      "random commands in every state get a reply and never break the session",
      async () => {
        // Deterministic PRNG (mulberry32) so a failure reproduces.
        let seed = 0x5eed;
        const rand = () => {
          seed = (seed + 0x6d2b79f5) | 0;
          let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
          x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
          return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
        };
        const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
        // Verbs that wait for more input (AUTHENTICATE, IDLE) or end the session are left out.
        const verbs = [
          "CAPABILITY",
          "NOOP",
          "ID",
          "LOGIN",
          "ENABLE",
          "SELECT",
          "EXAMINE",
          "CREATE",
          "RENAME",
          "SUBSCRIBE",
          "UNSUBSCRIBE",
          "LIST",
          "LSUB",
          "NAMESPACE",
          "STATUS",
          "CHECK",
          "UNSELECT",
          "EXPUNGE",
          "SEARCH",
          "FETCH",
          "STORE",
          "COPY",
          "MOVE",
          "UID FETCH",
          "UID SEARCH",
          "UID STORE",
          "UID COPY",
          "UID MOVE",
          "UID EXPUNGE",
          "SORT",
          "UID SORT",
          "THREAD",
          "UID THREAD",
          "GETQUOTA",
          "GETQUOTAROOT",
          "SETQUOTA",
          "XYZZY",
        ];
        const tokens = [
          " ",
          "(",
          ")",
          "[",
          "]",
          "<0.5>",
          "*",
          "%",
          "$",
          "1",
          "2:*",
          "1,2",
          '"x y"',
          "NIL",
          "INBOX",
          "BODY[]",
          "BODY.PEEK[HEADER.FIELDS (From)]",
          "FLAGS",
          "+FLAGS",
          "(\\Seen)",
          "ALL",
          "OR SEEN",
          "NOT",
          "RETURN (COUNT)",
          "UID",
          "\u00e9",
          "4294967296",
          "0",
          "a/b",
          "Fuzz",
          "(MESSAGES)",
          '"',
          "\\",
          "BODYSTRUCTURE",
          "ENVELOPE",
          "BINARY[1]",
          "SUBJECT one",
          "(CHANGEDSINCE 1)",
          "(UNCHANGEDSINCE 1)",
          "(CONDSTORE)",
          "MODSEQ 1",
          "(REVERSE DATE)",
          "REFERENCES",
          "UTF-8",
          '"User quota"',
          "(STORAGE 1)",
          "(USE (\\Archive))",
        ];
        const states = [
          async () => (await RawImap.connect(port)).client,
          login,
          async () => {
            const c = await login();
            await c.command("SELECT INBOX");
            return c;
          },
        ];
        for (const make of states) {
          const c = await make();
          open.push(c);
          for (let i = 0; i < 120; i++) {
            let args = "";
            const n = Math.floor(rand() * 6);
            for (let j = 0; j < n; j++) args += (rand() < 0.7 ? " " : "") + pick(tokens);
            const r = await c.command(`${pick(verbs)}${args}`);
            assert.match(r.tagged, /^t\d+ (OK|NO|BAD) /);
            assert.doesNotMatch(r.tagged, /SERVERBUG/, `internal error for: ${r.tagged}`);
          }
          assert.match((await c.command("NOOP")).tagged, /^t\d+ OK /);
        }
      },
    );

    await t.step("a deleted selected mailbox ends the session with BYE", async () => {
      const a = await login();
      const b = await login();
      await a.command("CREATE Doomed");
      await a.command("SELECT Doomed");
      await b.command("DELETE Doomed");
      const tag = a.nextTag();
      await a.write(`${tag} NOOP\r\n`);
      const rest = await a.drain();
      assert.ok(rest.some((l) => /^\* BYE .*deleted/.test(l)), rest.join("\n"));
    });
  } finally {
    for (const c of open) c.close();
    await ts.stop();
  }
});

Deno.test("imap protocol: limits", async (t) => {
  const ts: TestServer = await startTestServer({
    limits: { max_message_bytes: 4096, max_bad_commands: 5, imap_idle_timeout: "1500ms" },
  });
  const open: RawImap[] = [];
  try {
    const alice = await ts.addUser(USER, PASS);
    const port = ts.port("imap");
    const login = async () => {
      const c = await RawImap.login(port, USER, PASS);
      open.push(c);
      return c;
    };

    await t.step("an over-long line is refused and discarded", async () => {
      const c = await login();
      await c.write(`x1 NOOP ${"a".repeat(70 * 1024)}\r\nx2 NOOP\r\n`);
      assert.equal(await c.readLine(), "* BAD Command line too long");
      assert.match((await c.until("x2")).tagged, /^x2 OK/);
    });

    await t.step("APPEND over the limit: NO [TOOBIG], synchronizing or not", async () => {
      const c = await login();
      await c.write("b1 APPEND INBOX {5000}\r\n");
      assert.equal(await c.readLine(), "b1 NO [TOOBIG] Message too large");
      await c.write(`b2 APPEND INBOX {5000+}\r\n${"z".repeat(5000)}\r\nb3 NOOP\r\n`);
      assert.equal(await c.readLine(), "b2 NO [TOOBIG] Message too large");
      assert.match((await c.until("b3")).tagged, /^b3 OK/);
      const ok = "Subject: fits\r\n\r\n" + "y".repeat(3000) + "\r\n";
      assert.match(
        (await c.command(`APPEND INBOX {${ok.length}+}\r\n${ok}`)).tagged,
        /OK \[APPENDUID/,
      );
      await c.write(`b5 LOGIN {70000}\r\n`);
      assert.equal(await c.readLine(), "b5 BAD [TOOBIG] Literal too large");
    });

    await t.step("before login, even APPEND gets only a small literal", async () => {
      const { client } = await RawImap.connect(port);
      open.push(client);
      await client.write("n1 APPEND INBOX {3000}\r\n");
      assert.equal(await client.readLine(), "+ Ready for literal data");
      await client.write("x".repeat(3000) + "\r\n");
      assert.match((await client.until("n1")).tagged, /^n1 BAD .*not allowed/);
      await client.write(`n2 APPEND INBOX {${70 * 1024}}\r\n`);
      assert.equal(await client.readLine(), "n2 BAD [TOOBIG] Literal too large");
    });

    await t.step("invalid UTF-8 in a string is a BAD, not a crash", async () => {
      const c = await login();
      await c.write(
        new Uint8Array([...new TextEncoder().encode('u1 SELECT "'), 0xff, 0xfe, 0x22, 13, 10]),
      );
      assert.match((await c.until("u1")).tagged, /^u1 BAD .*UTF-8/);
      assert.match((await c.command("NOOP")).tagged, /OK/);
    });

    await t.step("a flood of bad commands ends in BYE", async () => {
      const { client } = await RawImap.connect(port);
      open.push(client);
      await client.write("bad\r\n".repeat(10));
      const lines = await client.drain();
      assert.equal(lines.filter((l) => l.startsWith("* BAD")).length, 5);
      assert.equal(lines.at(-1), "* BYE Too many invalid commands");
    });

    await t.step("idle clients are logged out, also while in IDLE", async () => {
      const c = await login();
      const started = performance.now();
      const lines = await c.drain();
      assert.deepEqual(lines, ["* BYE Autologout; idle for too long"]);
      assert.ok(performance.now() - started >= 1000);
      const d = await login();
      await d.command("SELECT INBOX");
      await d.write("i IDLE\r\n");
      assert.equal(await d.readLine(), "+ idling");
      assert.deepEqual(await d.drain(), ["* BYE Autologout; idle for too long"]);
    });
    void alice;
  } finally {
    for (const c of open) c.close();
    await ts.stop();
  }
});
