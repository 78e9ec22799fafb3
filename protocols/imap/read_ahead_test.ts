import assert from "node:assert/strict";
import { ReadAhead } from "./read_ahead.ts";

Deno.test("ReadAhead: reads ahead within its bounds, in order, errors at their turn", async () => {
  const started: number[] = [];
  const gate = new Map<number, PromiseWithResolvers<Uint8Array>>();
  const read = (id: number) => {
    started.push(id);
    const p = Promise.withResolvers<Uint8Array>();
    gate.set(id, p);
    return p.promise;
  };
  const items = Array.from({ length: 10 }, (_, i) => ({ blobId: i, size: 100 }));
  const ahead = new ReadAhead(items, read, { maxCount: 3, maxBytes: 250 });
  const first = ahead.take(0);
  // 250 bytes allow three reads of 100 in flight (the bound is checked before each start).
  assert.deepEqual(started, [0, 1, 2]);
  gate.get(0)!.resolve(new Uint8Array([0]));
  assert.deepEqual(await first, new Uint8Array([0]));
  assert.deepEqual(started, [0, 1, 2, 3], "one more once one was taken");
  gate.get(1)!.reject(new Error("expunged"));
  await assert.rejects(ahead.take(1), /expunged/);
  await assert.rejects(ahead.take(3), /took 3, expected 2/);
  // A huge message is read alone: never more than the next one beyond the byte bound.
  const big = new ReadAhead([{ blobId: 7, size: 1 << 30 }, { blobId: 8, size: 1 }], read);
  const b = big.take(0);
  assert.equal(started.at(-1), 7);
  gate.get(7)!.resolve(new Uint8Array(1));
  await b;
  for (const [, p] of gate) p.resolve(new Uint8Array());
});
