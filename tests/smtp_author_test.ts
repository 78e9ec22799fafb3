/**
 * Issue 13 item 14: on submission, the From: and Sender: header addresses must be the
 * authenticated user's (RFC 6409 §6.1): own address, +tag forms, aliases that resolve to
 * the user, `[submission] allowed_identities`; `[submission] admins` may send as anyone.
 * Real client: python smtplib, authenticated.
 */
import assert from "node:assert/strict";
import { configFromObject } from "../core/config.ts";
import { startTestServer } from "./harness.ts";
import { codes, mailboxTexts, smtpDialog } from "./smtp_helpers.ts";

Deno.test("submission: From:/Sender: must be an identity the user owns", async (t) => {
  const ts = await startTestServer({
    listeners: { smtp: "", submissions: "", imap: "", imaps: "", pop3: "", pop3s: "" },
    submission: {
      admins: ["Root@Example.test"],
      allowed_identities: { "alice@example.test": ["news@example.org", "@lists.example.net"] },
    },
  });
  try {
    await ts.server.queue.stop();
    await ts.addUser("alice@example.test", "alice-password");
    await ts.addUser("bob@example.test", "bob-password");
    await ts.addUser("root@example.test", "root-password");
    await ts.store.setAlias("team@example.test", ["alice@example.test", "bob@example.test"]);
    await ts.store.setAlias("bobs@example.test", ["bob@example.test"]);
    const sub = ts.port("submission");

    /** Sends one message as `user` with the given header lines; the DATA reply code. */
    const send = async (user: string, headers: string, mailFrom = user) => {
      const r = await smtpDialog(sub, [
        ["ehlo"],
        ["login", user, user.split("@")[0] + "-password"],
        ["cmd", `MAIL FROM:<${mailFrom}>`],
        ["cmd", "RCPT TO:<bob@example.test>"],
        ["data", `${headers}\r\nSubject: t\r\n\r\nhi\r\n`],
        ["cmd", "QUIT"],
      ]);
      assert.deepEqual(codes(r).slice(2, 5), ["235 2.7.0", "250 2.1.0", "250 2.1.5"]);
      return [codes(r)[5], r[5][1]];
    };
    const bobInbox = async () => (await mailboxTexts(ts, "bob@example.test")).length;

    await t.step("own From:, +tag form and an alias that includes the user: 250", async () => {
      const before = await bobInbox();
      assert.equal(
        (await send("alice@example.test", "From: Alice <alice@example.test>"))[0],
        "250 2.0.0",
      );
      assert.equal(
        (await send("alice@example.test", "From: alice+news@Example.TEST"))[0],
        "250 2.0.0",
      );
      assert.equal(
        (await send("alice@example.test", "From: The team <team@example.test>"))[0],
        "250 2.0.0",
      );
      assert.equal(await bobInbox(), before + 3);
    });

    await t.step(
      "a foreign From: or Sender: is refused with 550 5.7.1 and not stored",
      async () => {
        const before = await bobInbox();
        const [code, text] = await send("alice@example.test", "From: Bob <bob@example.test>");
        assert.equal(code, "550 5.7.1");
        assert.match(text, /From: address not owned by user: bob@example\.test/);
        assert.equal(
          (await send(
            "alice@example.test",
            "From: alice@example.test\r\nSender: bob@example.test",
          ))[0],
          "550 5.7.1",
        );
        // An alias that resolves to someone else, a second From: field, a remote address.
        assert.equal((await send("alice@example.test", "From: bobs@example.test"))[0], "550 5.7.1");
        assert.equal(
          (await send("alice@example.test", "From: alice@example.test\r\nFrom: bob@example.test"))[
            0
          ],
          "550 5.7.1",
        );
        assert.equal((await send("alice@example.test", "From: ceo@bank.test"))[0], "550 5.7.1");
        // A From: that names no address cannot be checked, so it is not accepted either.
        assert.equal((await send("alice@example.test", "From: Bob Example"))[0], "550 5.7.1");
        assert.equal(await bobInbox(), before);
        assert.deepEqual(await ts.store.listQueue(), []);
      },
    );

    await t.step("allowed_identities: addresses and whole domains, for MAIL FROM too", async () => {
      assert.equal(
        (await send("alice@example.test", "From: news@example.org", "news@example.org"))[0],
        "250 2.0.0",
      );
      const list = "any@lists.example.net";
      assert.equal((await send("alice@example.test", `From: ${list}`, list))[0], "250 2.0.0");
      // Granted to alice only.
      const r = await smtpDialog(sub, [
        ["ehlo"],
        ["login", "bob@example.test", "bob-password"],
        ["cmd", "MAIL FROM:<news@example.org>"],
        ["cmd", "QUIT"],
      ]);
      assert.deepEqual(codes(r).slice(2), ["235 2.7.0", "553 5.7.1", "221 2.0.0"]);
      assert.equal((await send("bob@example.test", "From: news@example.org"))[0], "550 5.7.1");
    });

    await t.step("admins may send as anyone", async () => {
      assert.equal((await send("root@example.test", "From: alice@example.test"))[0], "250 2.0.0");
      assert.equal(
        (await send("root@example.test", "From: billing@bank.test", "billing@bank.test"))[0],
        "250 2.0.0",
      );
    });
  } finally {
    await ts.stop();
  }
});

Deno.test("[submission] config: bad values name the key", () => {
  const bad = (submission: unknown, key: string) =>
    assert.throws(() => configFromObject({ submission }, "/tmp"), (e: Error) => {
      assert.ok(e.message.includes(key), `${e.message} should name ${key}`);
      return true;
    });
  bad({ admins: ["root"] }, "submission.admins[0]");
  bad({ allowed_identities: { "alice@d.test": ["not an address"] } }, `"alice@d.test"[0]`);
  bad({ allowed_identities: { "nobody": ["a@d.test"] } }, `submission.allowed_identities."nobody"`);
  bad({ allowed_identities: ["x"] }, "submission.allowed_identities");
  bad({ other: 1 }, "submission.other");
  const ok = configFromObject(
    { submission: { allowed_identities: { "A@D.test": ["@X.test"] } } },
    "/tmp",
  );
  assert.deepEqual(ok.submission.allowedIdentities.get("a@d.test"), ["@x.test"]);
});
