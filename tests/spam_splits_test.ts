/** The arrival streams of the spam bench (bench/spam_splits.ts). */
import assert from "node:assert/strict";
import { byDate, interleaved, splits } from "../bench/spam_splits.ts";
import { sample } from "./lib/spam_samples.ts";

Deno.test("spam bench: interleaved spreads each source over the stream, in its Date order", () => {
  // Hard ham all older than the spam: by Date it would all come first.
  const spam = [3, 1, 2, 4].map((d, i) => sample("spam-1", i + 1, 1000 + d, true));
  const hard = [2, 1].map((d, i) => sample("hard-ham-1", i + 1, d));
  const stream = interleaved([spam, hard]);
  assert.deepEqual(
    stream.map((s) => `${s.source}:${s.date}`),
    ["spam-1:0", "hard-ham-1:1", "spam-1:2", "spam-1:3", "hard-ham-1:4", "spam-1:5"],
  );
  // Each source keeps its own order (oldest first), and byDate keeps the stream's order.
  assert.deepEqual(stream.filter((s) => !s.spam).map((s) => s.path), [hard[1].path, hard[0].path]);
  assert.deepEqual(byDate(stream).map((s) => s.path), stream.map((s) => s.path));
  // The originals are not changed (other splits share them).
  assert.equal(hard[0].date, 2);
});

Deno.test("spam bench: the unseen-hard-ham split learns no hard ham and classifies all of it", () => {
  const all = [
    ...Array.from({ length: 10 }, (_, i) => sample("spam-1", i + 1, 100 + i, true)),
    ...Array.from({ length: 10 }, (_, i) => sample("easy-ham-1", i + 1, 100 + i)),
    ...Array.from({ length: 4 }, (_, i) => sample("hard-ham-1", i + 1, i)),
  ];
  const split = splits(all).find((s) => s.name === "time split, hard ham unseen")!;
  assert.equal(split.train.filter((s) => s.source === "hard-ham-1").length, 0);
  assert.equal(split.test.filter((s) => s.source === "hard-ham-1").length, 4);
  assert.equal(split.test.filter((s) => s.source === "spam-1").length, 3);
  assert.equal(split.test.filter((s) => s.source === "easy-ham-1").length, 3);
  // Not all hard ham first: it is spread through the stream.
  assert.notEqual(split.test[split.test.length - 1].source, "spam-1");
});
