import assert from "node:assert/strict";
import { IntervalSet } from "./seqset.ts";

Deno.test("IntervalSet merges ranges and resolves *", () => {
  const s = new IntervalSet([[5, 3], [4, 8], [10, 10], ["*", 12], [11, 11]], 20);
  assert.deepEqual([...s.intervals()], [[3, 8], [10, 20]]);
  assert.ok(s.has(3) && s.has(8) && s.has(15) && !s.has(9) && !s.has(2) && !s.has(21));
  assert.equal(s.min, 3);
  assert.equal(s.max, 20);
  const many = new IntervalSet(
    Array.from({ length: 10_000 }, (_, i) => [2 * i + 1, 2 * i + 1] as [number, number]),
    0,
  );
  assert.ok(many.has(19_999) && !many.has(20_000));
  assert.equal(new IntervalSet([], 5).max, 0);
});
