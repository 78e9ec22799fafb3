/**
 * builtin:spam through the real plugin host and store: the three verdicts, X-Spam headers,
 * DNS block lists (IP and URI) against a loopback DNS server, auth results feeding the
 * score, allow and block lists, and Bayes learning from mailbox_move (a message moved to
 * Junk makes a similar message score higher; moving it out again unlearns it), and
 * autolearn (a sure spam of a new campaign learned globally, so its next message is caught).
 */
import assert from "node:assert/strict";
import { startDnsServer } from "./lib/dns_server.ts";
import { addr, eml, seedBayesHistory, startPluginHost, until } from "./spam_helpers.ts";
import { GLOBAL, keys, messageKey } from "../plugins/builtin/spam/model.ts";
import { TOKENIZER_VERSION } from "../plugins/builtin/spam/tokenize.ts";
import type { HookOutcome } from "../plugins/engine/host.ts";
import { hostServices } from "../plugins/engine/services.ts";

const FIX = new URL("./fixtures/spam/", import.meta.url);
const fixture = (name: string) => Deno.readFileSync(new URL(name, FIX));
const USER = "u@example.test";

function header(out: HookOutcome, name: string): string | undefined {
  return out.addHeaders.find(([n]) => n === name)?.[1];
}

function scoreOf(out: HookOutcome): number {
  return Number(header(out, "X-Spam-Score"));
}

Deno.test("spam plugin: verdicts, block lists, auth results, lists", async (t) => {
  const dns = await startDnsServer({
    "10.2.0.192.bl.test": { A: ["127.0.0.2"] },
    "bad.example.uri.test": { A: ["127.0.0.2"] },
    "softfail.example": { TXT: ["v=spf1 -all"] },
  });
  const h = await startPluginHost([
    { name: "auth", module: "builtin:auth", options: { authserv_id: "mx.example.test" } },
    {
      name: "spam",
      module: "builtin:spam",
      options: {
        junk_score: 5,
        reject_score: 8,
        dnsbl: [{ zone: "bl.test", score: 4 }],
        uribl: ["uri.test"],
        block: ["@blocked.example"],
        allow: ["friend@colleagues.example"],
        user_lists: { [USER]: { block: ["@annoying.example"] } },
      },
    },
  ], { nameserver: dns.nameserver });
  const data = (raw: Uint8Array, o: { ip?: string; sender?: string; rcpts?: string[] } = {}) =>
    h.host.run("data", {
      session: { id: "s1", remoteIp: o.ip ?? "192.0.2.1", tls: false, helo: "mail.sender.example" },
      sender: addr(o.sender ?? "alice@colleagues.example"),
      recipients: (o.rcpts ?? [USER]).map(addr),
      message: raw,
    });
  try {
    await t.step("clean mail: headers only, delivered to INBOX", async () => {
      const out = await data(fixture("ham/01.eml"));
      assert.equal(out.action, "continue");
      assert.equal(out.mailbox, undefined);
      assert.match(header(out, "X-Spam-Status")!, /^No, score=-?\d+\.\d required=5\.0 tests=/);
      assert.ok(scoreOf(out) < 5);
      const text = new TextDecoder().decode(out.message);
      assert.match(text, /^X-Spam-Score: /m);
      assert.match(text, /^Authentication-Results: mx\.example\.test; /m);
    });
    await t.step("IP block list hit -> Junk", async () => {
      const out = await data(fixture("rules/bad_headers.eml"), { ip: "192.0.2.10" });
      assert.equal(out.action, "continue");
      assert.equal(out.mailbox, "Junk");
      const status = header(out, "X-Spam-Status")!;
      assert.match(status, /^Yes, /);
      assert.match(status, /RCVD_IN_BL_TEST/);
    });
    await t.step("URI block list hit", async () => {
      const raw = eml([
        "From: a@colleagues.example",
        "To: u@example.test",
        "Subject: look",
        "Date: Tue, 03 Jun 2025 10:00:00 +0000",
        "Message-ID: <u1@colleagues.example>",
        "",
        "See http://www.bad.example/offer today.",
      ]);
      assert.match(header(await data(raw), "X-Spam-Status")!, /URIBL_URI_TEST/);
    });
    await t.step("auth results feed the score (SPF fail)", async () => {
      const out = await data(fixture("ham/02.eml"), { sender: "x@softfail.example" });
      assert.match(header(out, "X-Spam-Status")!, /SPF_FAIL/);
    });
    await t.step("reject_score -> 550 5.7.1, nothing added", async () => {
      const out = await data(fixture("rules/exe_attachment.eml"), { ip: "192.0.2.10" });
      assert.deepEqual([out.action, out.code, out.enhanced], ["reject", 550, "5.7.1"]);
      assert.match(out.text!, /spam/);
    });
    await t.step("global and per-user block lists, global allow list", async () => {
      const blocked = await data(fixture("ham/03.eml"), { sender: "x@blocked.example" });
      assert.equal(blocked.action, "reject");
      const annoying = eml([
        "From: n@annoying.example",
        "To: u@example.test",
        "Subject: hi",
        "Date: Tue, 03 Jun 2025 10:00:00 +0000",
        "Message-ID: <n1@annoying.example>",
        "",
        "hello",
      ]);
      const user = await data(annoying, { sender: "n@annoying.example" });
      assert.equal(user.action, "reject");
      assert.match(user.results.at(-1)!.note!, /USER_BLOCKLIST/);
      // Only this recipient blocks it: with another recipient it is not the user's call.
      const two = await data(annoying, {
        sender: "n@annoying.example",
        rcpts: [USER, "v@example.test"],
      });
      assert.equal(two.action, "continue");
    });
  } finally {
    await h.stop();
    await dns.close();
  }
});

Deno.test("spam plugin: learning from mailbox_move", async (t) => {
  const h = await startPluginHost([{
    name: "spam",
    module: "builtin:spam",
    options: { bayes_min_learned: 3 },
  }]);
  const session = { id: "m1", remoteIp: "192.0.2.1", tls: false };
  const move = (file: string, kind: "junk" | "ham") =>
    h.host.run("mailbox_move", {
      session,
      user: USER,
      from: kind === "junk" ? "INBOX" : "Junk",
      to: kind === "junk" ? "Junk" : "INBOX",
      kind,
      command: "move",
      uid: 1,
      message: fixture(file),
    });
  const similar = eml([
    "From: Deals <promo@shop.example>",
    "To: u@example.test",
    "Subject: Cheap replica watches, lowest prices",
    "Date: Tue, 03 Jun 2025 10:00:00 +0000",
    "Message-ID: <sim-1@shop.example>",
    "",
    "Buy cheap replica watches and handbags at the lowest prices online. Limited time offer,",
    "free shipping worldwide. Click here to order now: http://cheap-replica-deals.example/",
  ]);
  const score = async (raw: Uint8Array, rcpt = USER) => {
    const out = await h.host.run("data", {
      session,
      sender: addr("promo@shop.example"),
      recipients: [addr(rcpt)],
      message: raw,
    });
    return { score: scoreOf(out), status: header(out, "X-Spam-Status")! };
  };
  try {
    await t.step("untrained: no Bayes rule", async () => {
      assert.doesNotMatch((await score(similar)).status, /BAYES/);
    });
    let before = 0;
    await t.step("a few moves each way train the user's counts", async () => {
      for (const f of ["ham/01.eml", "ham/02.eml", "ham/03.eml", "ham/04.eml"]) {
        const out = await move(f, "ham");
        assert.equal(out.results[0].error, undefined);
        assert.match(out.results[0].note!, /learned ham \(learned\)/);
      }
      for (const f of ["spam/02.eml", "spam/03.eml", "spam/04.eml"]) await move(f, "junk");
      const s = await score(similar);
      assert.match(s.status, /BAYES_/);
      before = s.score;
      // Another user has learned nothing, so Bayes stays out of their score.
      assert.doesNotMatch((await score(similar, "other@example.test")).status, /BAYES/);
    });
    await t.step("moving a spam into Junk makes a similar message score higher", async () => {
      const out = await move("spam/01.eml", "junk");
      assert.match(out.results[0].note!, /learned spam \(learned\)/);
      const after = await score(similar);
      assert.ok(after.score > before, `${after.score} should be above ${before}`);
      // The same move again changes nothing.
      assert.match((await move("spam/01.eml", "junk")).results[0].note!, /already/);
      assert.equal((await score(similar)).score, after.score);
    });
    await t.step("moving it back out of Junk relearns it as ham", async () => {
      const out = await move("spam/01.eml", "ham");
      assert.match(out.results[0].note!, /learned ham \(relearned\)/);
      assert.ok((await score(similar)).score <= before);
    });
    await t.step("kv.getMany: many keys in one service call, in order", async () => {
      const svc = hostServices(h.store, () => Promise.resolve([]));
      await h.store.kvSet("plugin:x", "a", "1");
      await h.store.kvSet("plugin:x", "c", "3");
      assert.deepEqual(await svc("x", "kv.getMany", [["a", "b", "c"]]), ["1", null, "3"]);
      await assert.rejects(svc("x", "kv.getMany", [Array(1001).fill("k")]), /at most 1000/);
      await assert.rejects(svc("x", "kv.getMany", [[""]]), /kv key/);
    });
    await t.step(
      "kv.incrMany: many counts in one service call; a full area refuses new keys",
      async () => {
        const svc = hostServices(h.store, () => Promise.resolve([]));
        await h.store.kvSet("plugin:x", "n", "5");
        assert.deepEqual(await svc("x", "kv.incrMany", [[["n", 2], ["m", -1], ["n", 1]], null]), [
          7,
          -1,
          8,
        ]);
        await assert.rejects(svc("x", "kv.incrMany", [Array(1001).fill(["k", 1])]), /at most 1000/);
        await assert.rejects(svc("x", "kv.incrMany", [[["k", 1.5]]]), /integer amounts/);
        await assert.rejects(svc("x", "kv.incrMany", [[["", 1]]]), /kv key/);
        // Plugin "y" may hold two keys: the third new one is refused, the known ones still count.
        const limited = hostServices(
          h.store,
          () => Promise.resolve([]),
          new Map([["y", { kvMaxKeys: 2 } as never]]),
        );
        assert.deepEqual(await limited("y", "kv.incrMany", [[["a", 1], ["b", 1]], null]), [1, 1]);
        assert.deepEqual(
          await limited("y", "kv.incrMany", [[["a", 1], ["c", 1], ["b", 2]], null]),
          [2, null, 3],
        );
      },
    );
    await t.step("counts live in the plugin's kv area", async () => {
      const n = await h.store.kvGet("plugin:spam", `n:u:${USER}`);
      assert.ok(n !== null && Number(n) > 0);
      assert.equal(await h.store.kvGet("plugin:spam", "n:g"), null);
    });
  } finally {
    await h.stop();
  }
});

Deno.test("spam plugin: autolearn learns a new campaign from its surest message", async (t) => {
  // A campaign none of the learned spam had: its first message is sure spam by Bayes and
  // by rules of its own (the ADV: label, sales pressure); its second has the same words
  // without those marks. Bayes learned the campaign's words only if autolearn ran.
  const campaign = (n: number, subject: string, pressure: string) =>
    eml([
      "From: Garden Deals <offers@bloomvault.example>",
      "To: u@example.test",
      `Subject: ${subject}`,
      "Date: Tue, 03 Jun 2025 10:00:00 +0000",
      `Message-ID: <camp-${n}@bloomvault.example>`,
      "",
      "Buy cheap replica watches, orchid bulbs and tulip seedlings at the lowest prices.",
      "Greenhouse kits, trellis netting and bonsai planters shipped worldwide, free.",
      pressure,
      "Order here: http://bloomvault-garden.example/order",
    ]);
  const first = campaign(
    1,
    "ADV: orchid bulbs, tulip seedlings, greenhouse kits!!!",
    "Act now, offer expires tonight! You are receiving this because you signed up. 100% guaranteed!!!",
  );
  const second = campaign(2, "orchid bulbs and greenhouse kits", "See you in the garden.");
  const run = async (options: Record<string, unknown>) => {
    const h = await startPluginHost([{
      name: "spam",
      module: "builtin:spam",
      options: { bayes_min_learned: 3, autolearn_batch: 1, autolearn_spam_score: 8, ...options },
    }]);
    await seedBayesHistory(h.store, USER, "g");
    const session = { id: "a1", remoteIp: "192.0.2.1", tls: false };
    const score = async (raw: Uint8Array) => {
      const out = await h.host.run("data", {
        session,
        sender: addr("offers@bloomvault.example"),
        recipients: [addr(USER)],
        message: raw,
      });
      return {
        score: scoreOf(out),
        note: out.results[0].note ?? "",
        status: header(out, "X-Spam-Status") ?? "",
      };
    };
    return { h, score };
  };
  const learned =
    (h: { store: { kvGet(ns: string, k: string): Promise<string | null> } }) =>
    async (raw: Uint8Array) =>
      await h.store.kvGet("plugin:spam", keys.learned(GLOBAL, await messageKey(raw)));

  await t.step("the sure message is learned as spam and lifts the campaign's next", async () => {
    const { h, score } = await run({});
    try {
      const before = await score(second);
      assert.doesNotMatch(before.note, /autolearn/, "the weak message is not sure enough");
      const gen = () => h.store.kvGet("plugin:spam", keys.gen(GLOBAL));
      const genBefore = await gen();
      const sure = await score(first);
      assert.ok(sure.score >= 8, `first message scores ${sure.score}`);
      assert.match(sure.note, /autolearn=spam/);
      assert.match(sure.status, /^Yes, .* autolearn=spam$/);
      assert.doesNotMatch(before.status, /autolearn/);
      await until("the learned record", () => learned(h)(first));
      // The batch bumps the generation last (model.ts LearnBatch.flush): then readers see it.
      await until("the generation bump", async () => (await gen()) !== genBefore || null);
      assert.equal(await learned(h)(first), `s${TOKENIZER_VERSION}`);
      assert.equal(await learned(h)(second), null);
      const after = await score(second);
      assert.ok(after.score > before.score, `${after.score} should be above ${before.score}`);
      assert.ok(after.score >= 5, `the campaign's second message is caught: ${after.score}`);
    } finally {
      await h.stop();
    }
  });

  await t.step("autolearn = false learns nothing", async () => {
    const { h, score } = await run({ autolearn: false });
    try {
      const before = await score(second);
      const sure = await score(first);
      assert.doesNotMatch(sure.note, /autolearn/);
      assert.equal(await learned(h)(first), null);
      assert.equal((await score(second)).score, before.score);
    } finally {
      await h.stop();
    }
  });

  await t.step(
    "a user moving an autolearned message out of Junk unlearns it globally",
    async () => {
      const { h, score } = await run({});
      try {
        await score(first);
        await until("the learned record", () => learned(h)(first));
        const out = await h.host.run("mailbox_move", {
          session: { id: "m2", remoteIp: "192.0.2.1", tls: false },
          user: USER,
          from: "Junk",
          to: "INBOX",
          kind: "ham",
          command: "move",
          uid: 1,
          message: first,
        });
        assert.match(out.results[0].note!, /learned ham \(learned,relearned\)/);
        assert.equal(await learned(h)(first), `h${TOKENIZER_VERSION}`);
      } finally {
        await h.stop();
      }
    },
  );
});
