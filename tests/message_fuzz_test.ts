/**
 * Findings of the mutational message fuzzer (bench/msgfuzz: real mail broken in realistic
 * ways, through every path that reads a message), each replayed against a running server
 * with a minimal hand-made message.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "./harness.ts";
import { basic, JmapClient, type Json } from "./lib/jmap_client.ts";
import { mutate, prng } from "./lib/msg_mutate.ts";
import { PATHS } from "./lib/msg_paths.ts";

const enc = new TextEncoder();

/** A server with one user and a JMAP client of theirs, stopped after `fn`. */
async function withUser(
  fn: (u: { ts: TestServer; user: { id: number }; accountId: string; jmap: JmapClient }) => Promise<
    void
  >,
): Promise<void> {
  const ts = await startTestServer({ listeners: { http: "127.0.0.1:0" } });
  try {
    const user = await ts.addUser("fuzz@example.test", "fuzz-pass-1");
    const jmap = new JmapClient(
      `http://127.0.0.1:${ts.port("http")}`,
      basic("fuzz@example.test", "fuzz-pass-1"),
    );
    await fn({ ts, user, accountId: `a${user.id}`, jmap });
  } finally {
    await ts.stop();
  }
}

/** `depth` multiparts each holding the next, a text part innermost. */
function nested(depth: number): Uint8Array {
  let m = "Content-Type: text/plain\r\n\r\nx\r\n";
  for (let d = 0; d < depth; d++) {
    m = `Content-Type: multipart/mixed; boundary="b${d}"\r\n\r\n--b${d}\r\n${m}--b${d}--\r\n`;
  }
  return enc.encode(`From: a@x.test\r\nSubject: deep\r\nMIME-Version: 1.0\r\n${m}`);
}

Deno.test("jmap: Email/get bodyStructure with subParts of a message nested 45 deep", () =>
  withUser(async ({ ts, user, accountId, jmap }) => {
    await ts.store.deliver(nested(45), [{ accountId: user.id, mailbox: "INBOX" }]);
    const [[, q]] = await jmap.api([["Email/query", { accountId }, "0"]]);
    // Before, "subParts" asked for was computed twice per level: 2^45 visits, the server's
    // only thread never came back (the fuzzer found it with 3 KB of nested multiparts).
    const [[name, r]] = await jmap.api([[
      "Email/get",
      {
        accountId,
        ids: q.ids,
        properties: ["bodyStructure", "textBody"],
        bodyProperties: ["partId", "type", "subParts", "subParts"],
      },
      "1",
    ]]);
    assert.equal(name, "Email/get", JSON.stringify(r));
    let depth = 0;
    let p: Json = r.list[0].bodyStructure;
    for (; p.subParts; p = p.subParts[0]) depth++;
    assert.equal(depth, 45);
    assert.equal(p.type, "text/plain");
    assert.equal(r.list[0].textBody[0].partId, p.partId);
  }));

Deno.test("jmap: an id listed 999 times in Email/get is answered once (RFC 8620 §5.1)", () =>
  withUser(async ({ ts, user, accountId, jmap }) => {
    // 100 KB of 10,000 empty parts: ~5 MB of body-part JSON per copy of the Email.
    const parts = "--p\r\n\r\nx\r\n".repeat(9_990);
    await ts.store.deliver(
      enc.encode(
        `From: a@x.test\r\nContent-Type: multipart/mixed; boundary="p"\r\n\r\n${parts}--p--\r\n`,
      ),
      [{ accountId: user.id, mailbox: "INBOX" }],
    );
    const [[, q]] = await jmap.api([["Email/query", { accountId }, "0"]]);
    const id = q.ids[0];
    const ids = [...Array(999).fill(id), "Mnope"];
    const [[name, r]] = await jmap.api([[
      "Email/get",
      { accountId, ids, properties: ["id", "textBody"], bodyProperties: ["partId"] },
      "1",
    ]]);
    assert.equal(name, "Email/get", JSON.stringify(r).slice(0, 200));
    assert.deepEqual(r.list.map((e: Json) => e.id), [id]);
    assert.equal(r.list[0].textBody.length, 9_990);
    assert.deepEqual(r.notFound, ["Mnope"]);
    // The same for a blob parsed twice.
    const [[, blobs]] = await jmap.api([["Email/get", {
      accountId,
      ids: [id],
      properties: ["blobId"],
    }, "2"]]);
    const blobId = blobs.list[0].blobId;
    const [[pn, p]] = await jmap.api([["Email/parse", {
      accountId,
      blobIds: [blobId, blobId],
      properties: ["size"],
    }, "3"]]);
    assert.equal(pn, "Email/parse");
    assert.deepEqual(Object.keys(p.parsed), [blobId]);
  }));

Deno.test("msgfuzz: mutants of the MIME fixtures through every in-process message path", async () => {
  // The corpus-driven runs (`deno task bench msgfuzz <dir>`) stay local; this replays the
  // same mutations on the committed fixtures with a fixed PRNG seed, so a regression that
  // makes a path throw on broken mail fails here. Replay one with --only.
  const dir = new URL("./fixtures/mime/", import.meta.url);
  const files = [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".eml"))
    .map((e) => e.name).sort();
  const failures: string[] = [];
  let runs = 0;
  for (const [fi, file] of files.entries()) {
    const seed = Deno.readFileSync(new URL(file, dir));
    for (let i = 0; i < 3; i++) {
      const { names, bytes } = mutate(seed, prng(20261206 * 1_000_003 + fi * 10_007 + i));
      for (const [path, fn] of Object.entries(PATHS)) {
        runs++;
        try {
          await fn(bytes);
        } catch (e) {
          failures.push(`${path} on ${file}:${i} [${names.join("+")}]: ${e}`);
        }
      }
    }
  }
  assert.ok(runs > 400, `${runs} runs`);
  assert.deepEqual(failures, []);
});
