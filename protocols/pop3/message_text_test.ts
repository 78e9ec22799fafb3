import assert from "node:assert/strict";
import { dotStuffed, DotStuffer, TopCutter, topOf } from "./message_text.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const s = (x: Uint8Array) => dec.decode(x);

Deno.test("pop3 message text", async (t) => {
  await t.step("dot-stuffing of lines starting with '.'", () => {
    assert.equal(
      s(dotStuffed(enc.encode(".a\r\nb\r\n.\r\n..c\r\n"))),
      "..a\r\nb\r\n..\r\n...c\r\n.\r\n",
    );
  });
  await t.step("a missing final line end is added", () => {
    assert.equal(s(dotStuffed(enc.encode("a\r\nb"))), "a\r\nb\r\n.\r\n");
    assert.equal(s(dotStuffed(new Uint8Array())), ".\r\n");
  });
  await t.step("bare LF counts as a line end for stuffing", () => {
    assert.equal(s(dotStuffed(enc.encode("a\n.b\n"))), "a\n..b\n.\r\n");
  });
  await t.step("8-bit bytes pass through untouched", () => {
    const msg = new Uint8Array([0xff, 0x0d, 0x0a, 0x2e, 0x80, 0x0d, 0x0a]);
    assert.deepEqual(
      dotStuffed(msg),
      new Uint8Array([0xff, 0x0d, 0x0a, 0x2e, 0x2e, 0x80, 0x0d, 0x0a, 0x2e, 0x0d, 0x0a]),
    );
  });
  const msg = enc.encode("A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\nl3\r\n");
  await t.step("TOP returns headers, blank line, n body lines", () => {
    assert.equal(s(topOf(msg, 0)), "A: 1\r\nB: 2\r\n\r\n");
    assert.equal(s(topOf(msg, 2)), "A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\n");
    assert.equal(s(topOf(msg, 99)), s(msg));
  });
  await t.step("TOP of a message without a body or blank line", () => {
    assert.equal(s(topOf(enc.encode("A: 1\r\nB: 2\r\n"), 3)), "A: 1\r\nB: 2\r\n");
    assert.equal(s(topOf(enc.encode("A: 1\r\n\r\nno end"), 5)), "A: 1\r\n\r\nno end");
  });
});

Deno.test("pop3 message text in chunks equals the whole", () => {
  const msg = enc.encode(
    "A: 1\r\n.B: 2\r\n\r\n.l1\r\nl2\r\n..l3\r\n.\r\nl5 \u00e9\r\nlast",
  );
  const whole = dotStuffed(msg);
  const chunked = (sizes: number[]) => {
    const s = new DotStuffer();
    const parts: number[] = [];
    let off = 0;
    for (const size of [...sizes, msg.length]) {
      parts.push(...s.push(msg.subarray(off, Math.min(msg.length, off + size))));
      off = Math.min(msg.length, off + size);
    }
    return new Uint8Array([...parts, ...s.finish()]);
  };
  for (let cut = 0; cut <= msg.length; cut++) assert.deepEqual(chunked([cut]), whole, `cut ${cut}`);
  assert.deepEqual(chunked(Array(msg.length).fill(1)), whole, "one byte at a time");
  for (const lines of [0, 1, 3, 99]) {
    const expected = topOf(msg, lines);
    for (let cut = 0; cut <= msg.length; cut++) {
      const c = new TopCutter(lines);
      const a = c.take(msg.subarray(0, cut));
      const b = c.take(msg.subarray(cut));
      assert.deepEqual(new Uint8Array([...a, ...b]), expected, `top ${lines} cut ${cut}`);
    }
  }
});
