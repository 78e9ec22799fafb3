/**
 * The users' own spam lists (user_lists.ts): entry checks, limits, merging with the config's
 * `user_lists`, and scoring with lists read from a kv (what the plugin and `spam classify`
 * do).
 */
import assert from "node:assert/strict";
import {
  checkEntry,
  decodeStoredLists,
  ListError,
  listsKey,
  loadUserLists,
  MAX_ENTRIES,
  mergeLists,
  parseUserLists,
} from "./user_lists.ts";
import { readSpamOptions } from "./options.ts";
import { scanMessage } from "./score.ts";

Deno.test("spam user lists: entries", () => {
  assert.equal(checkEntry(" Boss@Example.COM "), "boss@example.com");
  assert.equal(checkEntry("@Family.example"), "@family.example");
  assert.equal(checkEntry("news.example"), "news.example");
  assert.equal(checkEntry("first.last+tag@sub.example.org"), "first.last+tag@sub.example.org");
  for (const bad of ["", "x", "a b@example.com", "@", "a@", "@-x.example", "a@b@c", "example"]) {
    assert.throws(() => checkEntry(bad), ListError, bad);
  }
  assert.throws(() => checkEntry(`${"a".repeat(250)}.example`), /longer than 254/);
  assert.throws(() => checkEntry(`${"a".repeat(65)}@example.com`), ListError);
});

Deno.test("spam user lists: parse", () => {
  assert.deepEqual(parseUserLists({ allow: ["A@x.example", "a@x.example", " "], block: [] }), {
    allow: ["a@x.example"],
    block: [],
  });
  assert.deepEqual(parseUserLists({}), { allow: [], block: [] });
  assert.throws(() => parseUserLists([]), ListError);
  assert.throws(() => parseUserLists(null), ListError);
  assert.throws(() => parseUserLists({ allow: "a@x.example" }), /allow must be a list/);
  assert.throws(() => parseUserLists({ block: [1] }), /block must be a list/);
  assert.throws(() => parseUserLists({ allow: [], other: [] }), /unknown field "other"/);
  assert.throws(
    () => parseUserLists({ block: ["ok.example", "no way"] }),
    /^Error: block: "no way"/,
  );
  const full = Array.from({ length: MAX_ENTRIES }, (_, i) => `d${i}.example`);
  assert.equal(parseUserLists({ block: full }).block.length, MAX_ENTRIES);
  assert.throws(() => parseUserLists({ block: [...full, "one.more.example"] }), /more than 500/);
  assert.equal(decodeStoredLists("{not json"), null);
  assert.equal(decodeStoredLists(null), null);
  assert.deepEqual(decodeStoredLists('{"allow":["x.example"]}'), {
    allow: ["x.example"],
    block: [],
  });
});

Deno.test("spam user lists: merge", () => {
  const a = { allow: ["a.example"], block: ["b.example"] };
  const b = { allow: ["a.example", "c.example"], block: [] };
  assert.deepEqual(mergeLists(a, b), { allow: ["a.example", "c.example"], block: ["b.example"] });
  assert.equal(mergeLists(undefined, b), b);
  assert.equal(mergeLists(a, undefined), a);
  assert.equal(mergeLists(undefined, undefined), undefined);
});

function memoryKv(values: Record<string, string>) {
  const calls: string[][] = [];
  return {
    calls,
    get: (k: string) => Promise.resolve(values[k] ?? null),
    getMany: (ks: string[]) => {
      calls.push(ks);
      return Promise.resolve(ks.map((k) => values[k] ?? null));
    },
  };
}

Deno.test("spam user lists: one getMany for the recipients", async () => {
  const kv = memoryKv({
    [listsKey("alice@example.test")]: JSON.stringify({ allow: [], block: ["@spam.example"] }),
    [listsKey("carol@example.test")]: "broken",
  });
  const got = await loadUserLists(kv, [
    "Alice@Example.test",
    "bob@example.test",
    "carol@example.test",
  ]);
  assert.deepEqual([...got.keys()], ["alice@example.test"]);
  assert.equal(kv.calls.length, 1);
});

const MESSAGE = new TextEncoder().encode(
  "From: news@mail.spam.example\r\nTo: alice@example.test\r\nSubject: hi\r\n" +
    "Date: Tue, 03 Jun 2025 10:00:00 +0000\r\nMessage-ID: <m1@spam.example>\r\n\r\nhello\r\n",
);

Deno.test("spam user lists: scoring unites the config's and the kv's lists", async () => {
  const options = readSpamOptions({
    bayes: false,
    linear: false,
    user_lists: { "bob@example.test": { allow: ["@spam.example"] } },
  });
  const kv = memoryKv({
    [listsKey("alice@example.test")]: JSON.stringify({ block: ["@spam.example"] }),
    [listsKey("bob@example.test")]: JSON.stringify({ block: ["other.example"] }),
  });
  const scan = (recipients: string[], listsKv = kv) =>
    scanMessage({ raw: MESSAGE, env: { recipients } }, { options, model: null, listsKv });
  const names = async (r: string[], listsKv = kv) =>
    (await scan(r, listsKv)).hits.map((h) => h.name);
  assert.ok((await names(["alice@example.test"])).includes("USER_BLOCKLIST"));
  assert.equal((await scan(["alice@example.test"])).verdict, "reject");
  assert.ok((await names(["bob@example.test"])).includes("USER_ALLOWLIST"), "config list kept");
  // Alice blocks, Bob allows: no single verdict for the message.
  const both = await names(["alice@example.test", "bob@example.test"]);
  assert.ok(!both.includes("USER_BLOCKLIST") && !both.includes("USER_ALLOWLIST"));
  assert.ok(!(await names(["alice@example.test"], memoryKv({}))).includes("USER_BLOCKLIST"));
});
