import assert from "node:assert/strict";
import { parseJson } from "./json.ts";

const enc = new TextEncoder();

Deno.test("client JSON: UTF-8 only, depth bounded, objects without prototype", () => {
  const r = parseJson(enc.encode('{"__proto__": {"x": 1}, "a": [{"b": "]]]}"}]}'), 8);
  assert.ok(r.ok);
  const v = r.value as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(v), null);
  assert.deepEqual(Object.keys(v), ["__proto__", "a"]);
  assert.equal(({} as Record<string, unknown>).x, undefined, "nothing polluted");
  assert.deepEqual(parseJson(enc.encode("[[[[1]]]]"), 3), { ok: false, why: "tooDeep" });
  assert.ok(parseJson(enc.encode('["[[[[\\"[[["]'), 1).ok, "brackets in strings do not count");
  assert.deepEqual(parseJson(new Uint8Array([0x22, 0xff, 0x22]), 8), { ok: false, why: "notJSON" });
  assert.deepEqual(parseJson(enc.encode("{,}"), 8), { ok: false, why: "notJSON" });
});
