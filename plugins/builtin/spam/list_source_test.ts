/** Mail of a list no learned ham came through: its identity and path do not vote (list_source.ts). */
import assert from "node:assert/strict";
import { listIdOf, listTokensLeftOut } from "./list_source.ts";
import { BayesModel, GLOBAL, LearnBatch } from "./model.ts";
import { memoryKv } from "../../../bench/spam_eval.ts";
import { parseMail } from "./parse.ts";
import { bayesProbability, scanMessage, tokenHashes } from "./score.ts";
import { readSpamOptions } from "./options.ts";
import { tokenize } from "./tokenize.ts";

/** A message as a Mailman list delivers it (the shape of the development split's ILUG mail). */
const listMail = (list: string, from: string, subject: string, body: string) =>
  new TextEncoder().encode(
    `Return-Path: <${list}-admin@lists.${list}.example>\r\n` +
      `Received: from relay.${list}.example (relay.${list}.example [192.0.2.7]) by mx.home.example` +
      ` with ESMTP id 1; Thu, 22 Aug 2002 12:34:53 +0100\r\n` +
      `From: ${from}\r\nTo: ${list}@lists.${list}.example\r\nSubject: [${list}] ${subject}\r\n` +
      `Sender: ${list}-admin@lists.${list}.example\r\n` +
      `List-Id: The ${list} users <${list}.lists.${list}.example>\r\n` +
      `Date: Thu, 22 Aug 2002 12:30:00 +0100\r\nMessage-ID: <${subject.length}.${from}>\r\n\r\n` +
      `${body}\r\n`,
  );
const mail = (from: string, subject: string, body: string) =>
  new TextEncoder().encode(
    `From: ${from}\r\nTo: me@home.example\r\nSubject: ${subject}\r\n\r\n${body}\r\n`,
  );

const hamTexts = [
  "the meeting moved to thursday, please bring the notes from last week and the budget",
  "could you review the patch before we merge it into the release branch this evening",
  "thanks for the report, the build is fixed now and the tests pass again on all machines",
];
const spamTexts = [
  "cheap meds online, no prescription needed, order today and save big on every pill",
  "you have won a free cruise, claim your prize now by sending your card number today",
];

/** Ham from friends and the `known` list; spam, some of it relayed by the `relay` list. */
async function trained() {
  const kv = memoryKv();
  const batch = new LearnBatch(kv);
  let n = 0;
  for (let k = 0; k < 25; k++) {
    for (const t of hamTexts) {
      await batch.add(
        GLOBAL,
        `h${n++}`,
        tokenHashes(parseMail(mail("ann@friends.example", "notes", `${t} ${k}`))),
        false,
      );
      await batch.add(
        GLOBAL,
        `h${n++}`,
        tokenHashes(parseMail(listMail("known", "bo@uni.example", "notes", `${t} ${k}`))),
        false,
      );
    }
    for (const t of spamTexts) {
      await batch.add(
        GLOBAL,
        `s${n++}`,
        tokenHashes(parseMail(mail(`x${k}@spam.example`, "offer", `${t} ${k}`))),
        true,
      );
      await batch.add(
        GLOBAL,
        `s${n++}`,
        tokenHashes(parseMail(listMail("relay", `y${k}@spam.example`, "offer", `${t} ${k}`))),
        true,
      );
    }
  }
  await batch.flush();
  return { kv, model: new BayesModel(kv) };
}

Deno.test("list source: the list a message came through", () => {
  const h = (f: Record<string, string>) => (n: string) => f[n];
  assert.equal(
    listIdOf(h({ "list-id": "Irish Linux Users' Group <ilug.linux.ie>" })),
    "ilug.linux.ie",
  );
  assert.equal(
    listIdOf(
      h({
        "mailing-list": "list zzzzteana@yahoogroups.com; contact zzzzteana-owner@yahoogroups.com",
      }),
    ),
    "zzzzteana@yahoogroups.com",
  );
  // List-Post alone is not a list's own mail (spam relayed by a list had it without List-Id).
  assert.equal(listIdOf(h({ "list-post": "<mailto:webmake-talk@example.net>" })), "");
  assert.equal(listIdOf(h({})), "");
  // Bounded: a huge field is read only in part.
  assert.equal(listIdOf(h({ "list-id": "x".repeat(1_000_000) })).length, 200);
});

Deno.test("list source: ham of a list that only relayed spam so far is judged without the list", async () => {
  const { kv, model } = await trained();
  // The first ham of the relay list: ordinary words, the list's identity learned only as spam.
  const first = listMail("relay", "cy@uni.example", "build", `${hamTexts[2]} 99`);
  const tokens = [...tokenize(parseMail(first))];
  const { p, path, listNew } = await bayesProbability(model, [GLOBAL], tokens, 20);
  assert.ok(listNew);
  for (
    const t of ["listid:relay.lists.relay.example", "rp:dom:relay.example", "rcvd:relay.example"]
  ) {
    assert.ok(path.has(t), t);
  }
  assert.ok(p !== null && p < 0.2, `p ${p}`);
  const o = readSpamOptions({ linear: false });
  const r = await scanMessage({ raw: first }, { options: o, model });
  assert.ok(r.hits.some((h) => h.name === "LIST_NOT_LEARNED"));
  assert.equal(r.verdict, "ham", `score ${r.score}`);
  // Spam relayed by the same list still leans to spam: what it says and who sent it do.
  const spam = listMail("relay", "z@spam.example", "offer", `${spamTexts[0]} 77`);
  const rs = await scanMessage({ raw: spam }, { options: o, model });
  assert.ok(rs.bayes !== null && rs.bayes >= 0.8, JSON.stringify(rs.hits));
  // A list whose ham was learned keeps its identity and path as evidence; mail through no
  // list has nothing left out.
  const known = [...tokenize(parseMail(listMail("known", "q@uni.example", "x", "hello there")))];
  const k = await bayesProbability(model, [GLOBAL], known, 20);
  assert.equal(k.listNew, false);
  assert.deepEqual([...k.path], ["listid:known.lists.known.example"]);
  const plain = [...tokenize(parseMail(mail("ann@friends.example", "x", "hello there")))];
  assert.equal((await bayesProbability(model, [GLOBAL], plain, 20)).path.size, 0);
  assert.ok(kv.m.size > 0);
});

Deno.test("list source: only the listid token is left out when the list's ham was learned", () => {
  const tokens = [
    "listid:a.example",
    "list:users",
    "rcvd:relay.example",
    "rp:dom:a.example",
    "hello",
  ];
  const c = (spam: number, ham: number) => ({ spam, ham });
  const learned = listTokensLeftOut(tokens, [c(3, 40), c(3, 40), c(3, 40), c(3, 40), c(5, 5)]);
  assert.deepEqual([...learned.out], ["listid:a.example"]);
  const relayOnly = listTokensLeftOut(tokens, [c(30, 0), c(30, 1), c(30, 2), c(30, 0), c(5, 5)]);
  assert.ok(relayOnly.unlearned);
  assert.deepEqual([...relayOnly.out].sort(), tokens.slice(0, 4).sort());
  assert.equal(listTokensLeftOut(["hello"], [c(1, 1)]).out.size, 0);
  // A List-Id the site never saw (a spam run can add any) leaves the path tokens voting.
  const unseen = listTokensLeftOut(tokens, [c(0, 0), c(30, 0), c(30, 0), c(30, 0), c(5, 5)]);
  assert.ok(!unseen.unlearned);
  assert.deepEqual([...unseen.out], ["listid:a.example"]);
});
