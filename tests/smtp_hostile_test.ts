/**
 * Hostile SMTP sessions against a running server (port 25, before any login): input built
 * to make the server hold far more memory than it was sent must stay bounded.
 *
 * @module
 */
import assert from "node:assert/strict";
import { heapAfterGc } from "./lib/heap.ts";
import { startTestServer } from "./harness.ts";

Deno.test("smtp: 20,000 one-byte BDAT chunks (RFC 3030) cost their size, not an array each", async () => {
  const ts = await startTestServer();
  try {
    await ts.addUser("rcpt@example.test", "rcpt-pass-1");
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: ts.port("smtp") });
    try {
      const enc = new TextEncoder();
      const dec = new TextDecoder();
      let buf = "";
      const replies = async (n: number) => {
        const b = new Uint8Array(65536);
        while ((buf.match(/^\d{3} /gm) ?? []).length < n) {
          const got = await conn.read(b);
          if (got === null) throw new Error(`closed after ${JSON.stringify(buf.slice(-200))}`);
          buf += dec.decode(b.subarray(0, got));
        }
        const out = buf;
        buf = "";
        return out;
      };
      const write = async (s: string) => {
        let b = enc.encode(s);
        while (b.length) b = b.subarray(await conn.write(b));
      };
      await replies(1);
      await write("EHLO client.test\r\n");
      assert.match(await replies(1), /CHUNKING/);
      await write("MAIL FROM:<a@client.test>\r\nRCPT TO:<rcpt@example.test>\r\n");
      assert.match(await replies(2), /^250 .*\r\n250 /);
      const header = "Subject: chunks\r\n\r\n";
      await write(`BDAT ${header.length}\r\n${header}`);
      await replies(1);
      const before = heapAfterGc();
      const n = 20_000;
      for (let i = 0; i < n; i += 1000) {
        await write("BDAT 1\r\nX".repeat(1000));
        assert.ok(!/^[45]/m.test(await replies(1000)));
      }
      // Each chunk kept as an array of its own cost ~220 bytes of heap: 4.4 MB here.
      const grown = heapAfterGc() - before;
      assert.ok(grown < 1_500_000, `the chunks took ${grown} bytes of heap`);
      await write("BDAT 2 LAST\r\n\r\n");
      assert.match(await replies(1), /^250 /);
      const [acc] = (await ts.store.listAccounts()).filter((a) => a.email === "rcpt@example.test");
      const inbox = (await ts.store.listMailboxes(acc.id)).find((m) => m.name === "INBOX")!;
      const msgs = await ts.store.listMessages(inbox.id);
      assert.equal(msgs.length, 1);
      assert.ok(msgs[0].size >= header.length + n);
    } finally {
      conn.close();
    }
  } finally {
    await ts.stop();
  }
});
