import assert from "node:assert/strict";
import { activateScript, activeScript, listScripts, putScript, type ScriptKv } from "./scripts.ts";
import { verdictOf } from "./verdict.ts";
import { runScript } from "./testing.ts";

function memoryKv(): ScriptKv {
  const m = new Map<string, string>();
  return {
    get: (k) => Promise.resolve(m.get(k) ?? null),
    set: (k, v) => Promise.resolve(void m.set(k, v)),
    delete: (k) => Promise.resolve(void m.delete(k)),
  };
}

Deno.test("scripts: put checks and stores, activate, list, re-put of the active script", async () => {
  const kv = memoryKv();
  await putScript(kv, "Bob@example.test", "main", "keep;");
  await assert.rejects(
    putScript(kv, "bob@example.test", "bad", "frob;"),
    /line 1:1: unknown command/,
  );
  await assert.rejects(activateScript(kv, "bob@example.test", "nope"), /no script "nope"/);
  await activateScript(kv, "bob@example.test", "main");
  await putScript(kv, "bob@example.test", "other", "discard;");
  assert.deepEqual(await listScripts(kv, "bob@example.test"), {
    names: ["main", "other"],
    active: "main",
  });
  await putScript(kv, "bob@example.test", "main", "stop;");
  assert.deepEqual(await activeScript(kv, "bob@example.test"), { name: "main", source: "stop;" });
  await assert.rejects(putScript(kv, "bob@example.test", "a\nb", "keep;"), /bad script name/);
});

Deno.test("verdict: copies with flags and create, keep to the chosen mailbox, discard, reject", () => {
  const v = (src: string, mailbox = "INBOX") => verdictOf(runScript(src), mailbox);
  assert.deepEqual(
    v(
      'require ["fileinto","imap4flags","copy","mailbox"]; addflag "\\\\Seen"; fileinto :copy :create "L";',
      "Junk",
    )
      .copies,
    [{ mailbox: "L", flags: ["\\Seen"], create: true }, { mailbox: "Junk", flags: ["\\Seen"] }],
  );
  assert.equal(v("discard;").action, "discard");
  const r = v('require "reject"; reject text:\nNot here.\nReally.\n.\n;');
  assert.deepEqual([r.action, r.code, r.text], ["reject", 550, "Not here."]);
  const red = v('redirect "x@example.org";');
  assert.deepEqual([red.action, red.redirect, red.copies], [
    "discard",
    ["x@example.org"],
    undefined,
  ]);
  const copy = v('require "copy"; redirect :copy "x@example.org";');
  assert.deepEqual([copy.redirect, copy.copies], [["x@example.org"], [{ mailbox: "INBOX" }]]);
  assert.deepEqual(v('require "imap4flags"; addflag "ok bad(flag";').copies, [
    { mailbox: "INBOX", flags: ["ok"] },
  ]);
});
