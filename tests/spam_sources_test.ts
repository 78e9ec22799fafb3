/** The ham sources of the spam bench and their folds (bench/spam_sources.ts). */
import assert from "node:assert/strict";
import type { Sample } from "../bench/spam_splits.ts";
import { sample } from "./lib/spam_samples.ts";
import {
  foldsBySource,
  GATEWAY_NAMES,
  listOf,
  sourceFacts,
  sourceKeys,
} from "../bench/spam_sources.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("spam bench: a message's list comes from List-Id, Mailing-List or List-Post", () => {
  const head = (fields: Record<string, string>) => (n: string) => fields[n];
  assert.equal(
    listOf(head({ "list-id": "Friends of Rohit Khare <fork.xent.com>" })),
    "fork.xent.com",
  );
  // A broken List-Id (no angle brackets) keeps its text.
  assert.equal(
    listOf(head({ "list-id": "List-Id: Discussion of  sitescooper" })),
    "list-id: discussion of sitescooper",
  );
  assert.equal(
    listOf(head({ "mailing-list": "list zzzzteana@yahoogroups.com; contact x-owner@y.com" })),
    "zzzzteana@yahoogroups.com",
  );
  assert.equal(listOf(head({ "list-post": "<mailto:ilug@linux.ie?subject=x>" })), "ilug@linux.ie");
  assert.equal(listOf(head({})), "");
});

Deno.test("spam bench: source keys — list, organisation, free mail user, feed gateway", () => {
  const raw = (from: string, extra = "") =>
    sourceFacts(enc(`From: ${from}\r\n${extra}Subject: x\r\n\r\nbody\r\n`));
  const facts = [
    raw("Alice <alice@mail.lists.example.org>", "List-Id: Talk <talk.example.org>\r\n"),
    raw("Bob <bob@news.shop.example.co.uk>"),
    raw("Carol <carol@www.shop.example.co.uk>"),
    raw("Dan <dan@hotmail.com>"),
    raw("Eve <eve@hotmail.com>"),
    // One address under many names: each name is a source (a feed gateway).
    ...Array.from({ length: GATEWAY_NAMES }, (_, i) => raw(`feed${i} <rss@gw.example.net>`)),
    raw("feed0 <rss@gw.example.net>"),
    // A publisher under a few names stays one source.
    raw("Daily <news@pub.example.com>"),
    raw("Weekly <news@pub.example.com>"),
    raw("", ""),
  ];
  const keys = sourceKeys(facts);
  assert.equal(keys[0], "list:talk.example.org");
  assert.equal(keys[1], "org:example.co.uk");
  assert.equal(keys[2], keys[1]);
  assert.equal(keys[3], "addr:dan@hotmail.com");
  assert.notEqual(keys[4], keys[3]);
  const feeds = keys.slice(5, 5 + GATEWAY_NAMES + 1);
  assert.equal(new Set(feeds).size, GATEWAY_NAMES);
  assert.equal(feeds[0], "name:rss@gw.example.net:feed0");
  assert.equal(feeds.at(-1), feeds[0]);
  assert.equal(keys.at(-3), "org:example.com");
  assert.equal(keys.at(-2), keys.at(-3));
});

Deno.test("spam bench: sources held out — no held-out source learned, each message once", () => {
  const spam = Array.from({ length: 20 }, (_, i) => sample("spam-1", i + 1, 1000 + i, true));
  // Sources of 9, 4, 3, 2, 2, 1, 1, 1, 1 ham messages.
  const sizes = [9, 4, 3, 2, 2, 1, 1, 1, 1];
  const ham: Sample[] = [];
  const keys: string[] = spam.map(() => "none");
  sizes.forEach((n, src) => {
    for (let i = 0; i < n; i++) {
      ham.push(sample("easy-ham-1", ham.length + 1, 500 + ham.length));
      keys.push(`org:s${src}.example`);
    }
  });
  const all = [...spam, ...ham];
  const plan = foldsBySource(all, keys, 3);
  assert.equal(plan.sources, sizes.length);
  assert.deepEqual(plan.largest[0], ["org:s0.example", 9]);
  assert.equal(plan.singletons, 4);
  const keyOf = new Map(all.map((s, i) => [s.path, keys[i]]));
  const classifiedHam: string[] = [];
  const classifiedSpam: string[] = [];
  for (const f of plan.folds) {
    const trained = new Set(f.train.filter((s) => !s.spam).map((s) => keyOf.get(s.path)));
    for (const s of f.test) {
      if (s.spam) {
        classifiedSpam.push(s.path);
        // Newer spam is never learned by the fold that classifies it.
        assert.ok(!f.train.some((t) => t.path === s.path));
      } else {
        classifiedHam.push(s.path);
        assert.ok(!trained.has(keyOf.get(s.path)), `${keyOf.get(s.path)} learned and held out`);
      }
    }
    // Every fold learns the same older 70 % of the spam (the 14 oldest).
    assert.deepEqual(
      f.train.filter((s) => s.spam).map((s) => s.date).sort((a, b) => a - b),
      spam.slice(0, 14).map((s) => s.date),
    );
  }
  // Each ham and each newer spam classified exactly once.
  assert.deepEqual(classifiedHam.sort(), ham.map((s) => s.path).sort());
  assert.deepEqual(classifiedSpam.sort(), spam.slice(14).map((s) => s.path).sort());
  // Largest first to the emptiest fold: 9 | 4+2+1+1 | 3+2+1+1 (sizes close).
  const held = plan.folds.map((f) => f.test.filter((s) => !s.spam).length).sort((a, b) => a - b);
  assert.deepEqual(held, [7, 8, 9]);
  // Ham and spam arrive mixed, not one class first.
  const first = plan.folds[0].test.slice(0, 4).map((s) => s.spam);
  assert.ok(first.includes(true) && first.includes(false));
});
