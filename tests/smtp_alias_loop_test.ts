/**
 * Issue 13 item 1: alias loops never swallow mail, and no message is acknowledged with zero
 * destinations — checked at RCPT (router) and again at the commit (DATA/BDAT, storage).
 * Real client: python smtplib against a running server.
 */
import assert from "node:assert/strict";
import type { RouteResult } from "../core/router.ts";
import { deliverMessage, NoDestinationError } from "../protocols/smtp/delivery.ts";
import { mailParams } from "../protocols/smtp/params.ts";
import { startTestServer } from "./harness.ts";
import { codes, mailboxTexts, message, smtpDialog } from "./smtp_helpers.ts";

Deno.test("alias loops and the zero-destination invariant", async (t) => {
  const ts = await startTestServer({
    listeners: { submission: "", submissions: "", imap: "", imaps: "", pop3: "", pop3s: "" },
  });
  try {
    await ts.server.queue.stop();
    await ts.addUser("alice@example.test", "alice-password");
    await ts.store.setAlias("a@example.test", ["b@example.test"]);
    await ts.store.setAlias("b@example.test", ["a@example.test"]);
    await ts.store.setAlias("self@example.test", ["self@example.test"]);
    await ts.store.setAlias("loopy@example.test", ["loopy@example.test", "alice@example.test"]);
    const mx = ts.port("smtp");

    await t.step("a loop that reaches no one is refused at RCPT with 550 5.4.6", async () => {
      const r = await smtpDialog(mx, [
        ["ehlo"],
        ["cmd", "MAIL FROM:<x@remote.test>"],
        ["cmd", "RCPT TO:<a@example.test>"],
        ["cmd", "RCPT TO:<self@example.test>"],
        ["cmd", "DATA"],
        ["cmd", "QUIT"],
      ]);
      assert.deepEqual(codes(r).slice(2), [
        "250 2.1.0",
        "550 5.4.6",
        "550 5.4.6",
        "503 5.5.1",
        "221 2.0.0",
      ]);
      assert.deepEqual(await ts.store.listQueue(), []);
      assert.equal((await mailboxTexts(ts, "alice@example.test")).length, 0);
    });

    await t.step("a loop with an exit delivers to what it reaches", async () => {
      const r = await smtpDialog(mx, [
        ["ehlo"],
        ["sendmail", "x@remote.test", ["loopy@example.test"], message("loop with exit")],
        ["cmd", "QUIT"],
      ]);
      assert.deepEqual(codes(r).slice(2), ["250", "221 2.0.0"]);
      const inbox = await mailboxTexts(ts, "alice@example.test");
      assert.equal(inbox.length, 1);
      assert.match(inbox[0], /Subject: loop with exit/);
    });

    await t.step("commit path: a transaction without destinations gets 451, not 250", async () => {
      // Simulate a routing bug past the router's own check: RCPT "accepted" for no one.
      const router = ts.server.deps.router;
      const resolve = router.resolve;
      router.resolve = (): Promise<RouteResult> =>
        Promise.resolve({ kind: "deliver", local: [], remote: [] });
      try {
        const r = await smtpDialog(mx, [
          ["ehlo"],
          ["cmd", "MAIL FROM:<x@remote.test>"],
          ["cmd", "RCPT TO:<ghost@example.test>"],
          ["data", message("for nobody")],
          ["bdat", "", false],
          ["cmd", "RSET"],
          ["cmd", "MAIL FROM:<x@remote.test>"],
          ["cmd", "RCPT TO:<ghost@example.test>"],
          ["bdat", message("for nobody, chunked"), true],
          ["cmd", "QUIT"],
        ]);
        const c = codes(r);
        assert.equal(c[4], "451 4.3.0", "DATA: not acknowledged");
        assert.equal(c.at(-2), "451 4.3.0", "BDAT LAST: not acknowledged");
      } finally {
        router.resolve = resolve;
      }
      assert.deepEqual(await ts.store.listQueue(), []);
      assert.equal((await mailboxTexts(ts, "alice@example.test")).length, 1);
    });

    await t.step("deliverMessage refuses an envelope with no destination", async () => {
      await assert.rejects(
        deliverMessage(ts.server.deps, {
          id: "TEST1",
          role: "mx",
          envelope: {
            sender: null,
            params: mailParams(new Map(), { tls: false, maxMessageBytes: 1 << 20 }),
            recipients: [{
              address: "ghost@example.test",
              local: [],
              remote: [],
              dsn: { notify: null, orcpt: null },
            }],
            chunks: [],
            chunkBytes: 0,
          },
          data: new TextEncoder().encode(message("direct")),
          helo: "client.test",
          esmtp: true,
          clientIp: "127.0.0.1",
          tls: null,
          account: null,
        }),
        NoDestinationError,
      );
      assert.deepEqual(await ts.store.listQueue(), []);
    });
  } finally {
    await ts.stop();
  }
});
