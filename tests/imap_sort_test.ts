/**
 * SORT and THREAD (RFC 5256, SORT=DISPLAY RFC 5957) end to end: python imaplib's sort()
 * and thread() (and their UID forms), and raw commands for errors and exact replies.
 */
import assert from "node:assert/strict";
import { startTestServer } from "./harness.ts";
import { imaplib, RawImap } from "./imap_helpers.ts";

const USER = "sorter@example.test";
const PASS = "sort-pw";
const enc = new TextEncoder();

function msg(headers: Record<string, string>, body = "body\r\n"): Uint8Array {
  const h = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  return enc.encode(`${h}\r\n${body}`);
}

Deno.test("imap: SORT and THREAD (RFC 5256)", async (t) => {
  const ts = await startTestServer();
  const acc = await ts.addUser(USER, PASS);
  const messages = [
    // seq 1
    msg({
      From: "Carol <carol@x.test>",
      To: "zed@x.test",
      Subject: "Lunch",
      Date: "Wed, 3 Jan 2024 12:00:00 +0000",
      "Message-ID": "<lunch@x.test>",
    }, "a much longer body than the others\r\n".repeat(10)),
    // seq 2
    msg({
      From: "alice@x.test",
      To: "Bob <bob@x.test>",
      Subject: "Re: Lunch",
      Date: "Thu, 4 Jan 2024 09:00:00 +0100",
      "Message-ID": "<re-lunch@x.test>",
      References: "<lunch@x.test>",
    }),
    // seq 3
    msg({
      From: "=?utf-8?q?=C3=84rger?= <bert@x.test>",
      To: "amy@x.test",
      Subject: "[team] Fwd: Budget",
      Date: "Mon, 1 Jan 2024 08:00:00 +0000",
      "Message-ID": "<budget@x.test>",
    }),
    // seq 4
    msg({
      From: "dave@x.test",
      To: "carl@x.test",
      Subject: "Re: Re: Lunch",
      Date: "Fri, 5 Jan 2024 10:00:00 +0000",
      "Message-ID": "<re-re-lunch@x.test>",
      "In-Reply-To": "<re-lunch@x.test>",
    }),
  ];
  // Distinct arrival times, a second apart: ARRIVAL must not depend on delivery speed.
  const arrived = Date.UTC(2024, 5, 1);
  for (const [i, m] of messages.entries()) {
    await ts.store.deliver(m, [{ accountId: acc.id, mailbox: "INBOX" }], {
      internalDate: arrived + i * 1000,
    });
  }
  const port = ts.port("imap");
  try {
    await t.step("python imaplib: sort() and thread(), UID forms", async () => {
      const lines = await imaplib(
        port,
        USER,
        PASS,
        `
print(" ".join(c for c in m.capabilities if c.startswith(("SORT", "THREAD"))))
m.select("INBOX")
for crit in ["(DATE)", "(REVERSE DATE)", "(SUBJECT DATE)", "(FROM)", "(DISPLAYFROM)", "(SIZE)", "(TO)", "(REVERSE ARRIVAL)"]:
    typ, data = m.sort(crit, "UTF-8", "ALL")
    print(crit, typ, data[0].decode())
typ, data = m.sort("(DATE)", "UTF-8", "SUBJECT", "lunch")
print("filtered", typ, data[0].decode())
typ, data = m.uid("SORT", "(REVERSE DATE)", "UTF-8", "ALL")
print("uid", typ, data[0].decode())
typ, data = m.thread("REFERENCES", "UTF-8", "ALL")
print("references", typ, data[0].decode())
typ, data = m.thread("ORDEREDSUBJECT", "US-ASCII", "ALL")
print("orderedsubject", typ, data[0].decode())
typ, data = m.uid("THREAD", "REFERENCES", "UTF-8", "ALL")
print("uid-thread", typ, data[0].decode())
`,
      );
      assert.deepEqual(lines, [
        "SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT THREAD=REFERENCES",
        "(DATE) OK 3 1 2 4", // 2 is 08:00 UTC on the 4th
        "(REVERSE DATE) OK 4 2 1 3",
        "(SUBJECT DATE) OK 3 1 2 4", // BUDGET < LUNCH
        "(FROM) OK 2 3 1 4", // alice, bert, carol, dave (addr-mailbox)
        "(DISPLAYFROM) OK 2 1 4 3", // alice@x.test, Carol, dave@x.test, Ärger
        "(SIZE) OK 3 2 4 1",
        "(TO) OK 3 2 4 1", // amy, bob, carl, zed
        "(REVERSE ARRIVAL) OK 4 3 2 1",
        "filtered OK 1 2 4",
        "uid OK 4 2 1 3",
        "references OK (3)(1 2 4)",
        "orderedsubject OK (3)(1 (2)(4))",
        "uid-thread OK (3)(1 2 4)",
      ]);
    });

    await t.step("raw: errors and empty results", async () => {
      const c = await RawImap.login(port, USER, PASS);
      try {
        assert.match((await c.command("SORT (DATE) UTF-8 ALL")).tagged, /BAD .*not allowed/);
        await c.command("SELECT INBOX");
        assert.match((await c.command("SORT (DATE) KOI8-R ALL")).tagged, /NO \[BADCHARSET/);
        assert.match((await c.command("SORT (NOPE) UTF-8 ALL")).tagged, /BAD /);
        assert.match((await c.command("SORT () UTF-8 ALL")).tagged, /BAD /);
        assert.match((await c.command("SORT (DATE) UTF-8")).tagged, /BAD /);
        assert.match((await c.command("THREAD FOO UTF-8 ALL")).tagged, /BAD /);
        const none = await c.command('SORT (DATE) UTF-8 SUBJECT "no such thing"');
        assert.deepEqual(none.lines, ["* SORT"]);
        const noThreads = await c.command('THREAD REFERENCES UTF-8 SUBJECT "no such thing"');
        assert.deepEqual(noThreads.lines, ["* THREAD"]);
        const combined = await c.command(
          "SORT (SUBJECT) UTF-8 OR FROM carol FROM dave SINCE 1-Jan-2000",
        );
        assert.deepEqual(combined.lines, ["* SORT 1 4"]);
      } finally {
        c.close();
      }
    });
  } finally {
    await ts.stop();
  }
});
