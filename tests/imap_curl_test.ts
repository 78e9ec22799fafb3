/**
 * IMAP end to end with curl: byte-exact fetch by UID, sections, custom UID SEARCH,
 * LIST, implicit TLS and STARTTLS, and login failure.
 */
import assert from "node:assert/strict";
import { run, startTestServer } from "./harness.ts";
import { deliver, sampleMessage } from "./imap_helpers.ts";

Deno.test("imap: curl", async (t) => {
  const ts = await startTestServer();
  try {
    const alice = await ts.addUser("alice@example.test", "curl-pw");
    const first = sampleMessage("curl one");
    // 8-bit and long lines travel unchanged.
    const second = new TextEncoder().encode(
      "Subject: curl two\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nGr\u00fc\u00dfe " +
        "x".repeat(3000) + "\r\n.\r\n..leading dots\r\n",
    );
    await deliver(ts, alice.id, first);
    const uid2 = await deliver(ts, alice.id, second);
    const base = `imap://127.0.0.1:${ts.port("imap")}`;
    const auth = ["--user", "alice@example.test:curl-pw", "-s", "--max-time", "10"];

    await t.step("fetch by UID is byte-exact", async () => {
      const r = await run("curl", [...auth, `${base}/INBOX;UID=${uid2}`]);
      assert.deepEqual(r.stdoutBytes, second);
      const r1 = await run("curl", [...auth, `${base}/INBOX;UID=1`]);
      assert.deepEqual(r1.stdoutBytes, first);
    });

    await t.step("sections", async () => {
      const r = await run("curl", [...auth, `${base}/INBOX;UID=1;SECTION=TEXT`]);
      assert.equal(r.stdout, "Hello there.\r\n");
      const h = await run("curl", [
        ...auth,
        `${base}/INBOX;UID=1;SECTION=HEADER.FIELDS%20(SUBJECT)`,
      ]);
      assert.equal(h.stdout, "Subject: curl one\r\n\r\n");
    });

    await t.step("custom UID SEARCH and LIST", async () => {
      const r = await run("curl", [
        ...auth,
        `${base}/INBOX`,
        "-X",
        'UID SEARCH SUBJECT "curl two"',
      ]);
      assert.equal(r.stdout.trim(), `* SEARCH ${uid2}`);
      const all = await run("curl", [...auth, `${base}/INBOX`, "-X", "UID SEARCH ALL"]);
      assert.equal(all.stdout.trim(), `* SEARCH 1 ${uid2}`);
      const list = await run("curl", [...auth, `${base}/`]);
      assert.match(list.stdout, /\* LIST \(\\HasNoChildren\) "\/" "INBOX"/);
      assert.match(list.stdout, /\* LIST \(\\HasNoChildren \\Trash\) "\/" "Trash"/);
    });

    await t.step("implicit TLS and STARTTLS with the server's certificate", async () => {
      const ca = await ts.certFile();
      const tls = await run("curl", [
        ...auth,
        "--cacert",
        ca,
        `imaps://127.0.0.1:${ts.port("imaps")}/INBOX;UID=1`,
      ]);
      assert.deepEqual(tls.stdoutBytes, first);
      const starttls = await run("curl", [
        ...auth,
        "--ssl-reqd",
        "--cacert",
        ca,
        `${base}/INBOX;UID=1`,
      ]);
      assert.deepEqual(starttls.stdoutBytes, first);
    });

    await t.step("wrong password fails", async () => {
      const r = await run(
        "curl",
        ["--user", "alice@example.test:nope", "-s", "--max-time", "10", `${base}/INBOX;UID=1`],
        { check: false },
      );
      assert.equal(r.code, 67); // CURLE_LOGIN_DENIED
    });
  } finally {
    await ts.stop();
  }
});
