/** The plugin channel's framing: frames across chunk boundaries, payloads, malformed input. */
import assert from "node:assert/strict";
import {
  encodeFrame,
  type Frame,
  FrameQueue,
  FrameReader,
  parseRunnerMessage,
  type ResultMsg,
} from "./protocol.ts";

const enc = new TextEncoder();

function frames() {
  const body = enc.encode("new body\r\n");
  const message = new Uint8Array(5000).map((_, i) => i % 251);
  // Two members' entries: the payload is each one's body then message, in order.
  return encodeFrame({
    t: "result",
    id: 7,
    entries: [
      { ms: 1, result: { bodyLen: body.length } },
      { ms: 0, error: "hook threw: x" },
      { ms: 2, result: { messageLen: 5000 } },
    ],
  }, [body, message]);
}

Deno.test("frames: split anywhere, reused buffers, payload back as body and message", async (t) => {
  const a = frames();
  const b = encodeFrame({ t: "ready", plugins: [{ hooks: ["data"] }] });
  const all = new Uint8Array(a.length + b.length + 1);
  all.set(a);
  all.set(b, a.length);
  all.set([10], a.length + b.length); // an empty line: ignored by its reader
  for (const size of [1, 7, 4096, all.length]) {
    for (const reused of [false, true]) {
      await t.step(`chunks of ${size}${reused ? ", reused buffer" : ""}`, () => {
        const r = new FrameReader();
        const got = [];
        const scratch = new Uint8Array(size);
        for (let off = 0; off < all.length; off += size) {
          const piece = all.subarray(off, off + size);
          if (reused) {
            scratch.set(piece);
            got.push(...r.push(scratch.subarray(0, piece.length), true));
            scratch.fill(0); // what a reused buffer would do to views kept by mistake
          } else got.push(...r.push(piece));
        }
        assert.equal(got.length, 3);
        const m = parseRunnerMessage(got[0].value, got[0].bin) as ResultMsg;
        assert.equal(m.t, "result");
        assert.equal(new TextDecoder().decode(m.entries[0].result!.body), "new body\r\n");
        assert.equal(m.entries[0].result!.message, undefined);
        assert.equal(m.entries[1].error, "hook threw: x");
        assert.equal(m.entries[2].result!.message!.length, 5000);
        assert.equal(m.entries[2].result!.message![4999], 4999 % 251);
        assert.deepEqual(got[1].value, { t: "ready", plugins: [{ hooks: ["data"] }] });
        assert.equal(got[2].value, null);
        assert.equal(r.pending, 0);
      });
    }
  }
});

Deno.test("frames: malformed results and lines that are not protocol", () => {
  const r = new FrameReader();
  const [junk] = r.push(enc.encode("console output from a plugin\n"));
  assert.equal(junk.value, null);
  assert.equal(junk.line, "console output from a plugin");
  // Lengths that do not add up to the payload: not a protocol message.
  const entry = (result: unknown) => ({ t: "result", id: 1, entries: [{ ms: 0, result }] });
  assert.equal(parseRunnerMessage(entry({ bodyLen: 3 }), new Uint8Array(4)), null);
  assert.equal(parseRunnerMessage(entry({ bodyLen: 5 }), new Uint8Array(4)), null);
  assert.equal(parseRunnerMessage(entry({ bodyLen: -1 }), null), null);
  assert.equal(parseRunnerMessage(entry(null), new Uint8Array(1)), null);
  assert.equal(parseRunnerMessage({ t: "result", id: 1, entries: [{ result: null }] }, null), null);
  assert.notEqual(parseRunnerMessage(entry({ bodyLen: 4 }), new Uint8Array(4)), null);
  // A huge announced payload shows as pending at once (the host kills such a runner).
  r.push(enc.encode('{"t":"result","id":1,"entries":[],"bin":1000000000}\n'));
  assert.equal(r.pending, 1_000_000_000);
});

Deno.test("frame queue: frames pushed in one tick go out in one write, in order", async () => {
  const writes: Uint8Array[] = [];
  const q = new FrameQueue((b) => {
    writes.push(b);
    return Promise.resolve();
  });
  for (let i = 0; i < 5; i++) q.push(encodeFrame({ t: "error", id: i, error: "x" }));
  await q.flushed();
  assert.equal(writes.length, 1);
  const r = new FrameReader();
  assert.deepEqual(r.push(writes[0]).map((f) => (f.value as { id: number }).id), [0, 1, 2, 3, 4]);
});

Deno.test("frame queue: frames queued during a write go out next, intact, buffers reused", async () => {
  const seen: Frame[] = [];
  const r = new FrameReader();
  let release: () => void = () => {};
  let writes = 0;
  const q = new FrameQueue((b) => {
    writes++;
    // What the reader keeps is a copy: the queue reuses `b` once this write settles.
    seen.push(...r.push(b, true));
    return new Promise<void>((res) => release = res);
  });
  const big = new Uint8Array(2 * 1024 * 1024).fill(7); // beyond what a buffer keeps
  q.pushFrame({ t: "error", id: 1, error: "x" });
  await Promise.resolve();
  await Promise.resolve(); // the first write is under way
  q.pushFrame({ t: "result", id: 2, entries: [{ ms: 0, result: { action: "continue" } }] }, [
    big.subarray(0, 0),
  ]);
  q.pushFrame({ t: "result", id: 3, entries: [{ ms: 0, result: { bodyLen: big.length } }] }, [
    big,
  ]);
  release();
  for (let i = 0; i < 10 && writes < 2; i++) await Promise.resolve();
  release();
  q.pushFrame({ t: "error", id: 4, error: "é" });
  for (let i = 0; i < 10 && writes < 3; i++) await Promise.resolve();
  release();
  await q.flushed();
  assert.equal(writes, 3);
  assert.deepEqual(seen.map((f) => (f.value as { id: number }).id), [1, 2, 3, 4]);
  assert.equal(seen[2].bin?.length, big.length);
  assert.ok(seen[2].bin?.every((b) => b === 7));
  assert.equal((seen[3].value as { error: string }).error, "é");
});

Deno.test("frames: several payloads whole in one reused chunk stay intact after it is reused", () => {
  const parts = [0, 1, 2].map((i) =>
    encodeFrame({ t: "result", id: i, entries: [{ ms: 0, result: { bodyLen: 3 } }] }, [
      new TextEncoder().encode(`b${i}!`),
    ])
  );
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  const scratch = all.slice();
  const got = new FrameReader().push(scratch, true);
  scratch.fill(0);
  assert.deepEqual(got.map((f) => new TextDecoder().decode(f.bin!)), ["b0!", "b1!", "b2!"]);
});
