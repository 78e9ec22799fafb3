/** Hostile scripts: each is refused at compile time or cut off at its limit and keeps. */
import assert from "node:assert/strict";
import { compile } from "./compile.ts";
import { actions, runScript } from "./testing.ts";
import { inputFromBytes } from "./message.ts";

Deno.test("hostile: a 1 MB script is refused", () => {
  const big = 'require "fileinto";\n' +
    'if header :contains "subject" "x" { fileinto "y"; }\n'.repeat(20_000);
  assert.ok(big.length > 1_000_000);
  assert.throws(() => compile(big), /too large/);
});

Deno.test("hostile: deep nesting is refused, not a stack overflow", () => {
  assert.throws(() => compile("if true {".repeat(10_000) + "}".repeat(10_000)), /nesting/);
  assert.throws(() => compile("if " + "not ".repeat(50_000) + "true {}"), /nesting/);
});

Deno.test("hostile: thousands of redirects are cut at the limit and the message is kept", () => {
  const lines = Array.from({ length: 5000 }, (_, i) => `redirect "u${i}@example.org";`);
  const o = runScript(lines.join("\n"));
  assert.deepEqual(actions(lines.join("\n")), ["keep"]);
  assert.match(o.error ?? "", /more than 4 redirects/);
  assert.deepEqual(actions(lines.slice(0, 4).join("\n")).length, 4);
});

Deno.test("hostile: too many steps or too much matching stops the run, message kept", () => {
  const steps = "if true { keep; }\n".repeat(6000);
  const o = runScript(steps);
  assert.match(o.error ?? "", /too many steps/);
  const keys = JSON.stringify(Array.from({ length: 2000 }, (_, i) => `k${i}`));
  const message = "X-A: v\r\n".repeat(2000) + "\r\nbody\r\n";
  const w = runScript(`if header :contains "x-a" ${keys} { discard; }`, { message });
  assert.match(w.error ?? "", /too much matching work/);
  assert.deepEqual(w.actions.map((a) => a.type), ["keep"]);
});

Deno.test("hostile: exponential-looking :matches patterns finish fast", () => {
  const subject = "a".repeat(20_000);
  const message = `Subject: ${subject}\r\n\r\nx\r\n`;
  const pattern = "*a".repeat(2000) + "*b";
  const t0 = performance.now();
  assert.deepEqual(actions(`if header :matches "subject" "${pattern}" { discard; }`, { message }), [
    "keep",
  ]);
  assert.ok(performance.now() - t0 < 2000, `took ${performance.now() - t0} ms`);
});

Deno.test("hostile: variables cannot grow without bound", () => {
  const r = 'require ["variables", "fileinto"]; set "a" "xxxxxxxxxxxxxxxx";\n';
  const grow = 'set "a" "${a}${a}";\n'.repeat(40);
  const o = runScript(r + grow + 'fileinto "${a}";');
  assert.match(o.error ?? "", /bad mailbox/); // 4096 characters: too long for a mailbox name
});

Deno.test("hostile: include chains and fan-out are cut at their limits, message kept", async () => {
  const { evaluate } = await import("./eval.ts");
  const { inputFromBytes } = await import("./message.ts");
  const { loadIncludes, MAX_INCLUDED } = await import("./includes.ts");
  const { SAMPLE } = await import("./testing.ts");
  const input = inputFromBytes(new TextEncoder().encode(SAMPLE), { from: "a@b.c", to: "d@e.f" });
  const sources = new Map<string, string>();
  // s0 -> s1 -> ... -> s19: deeper than the nesting limit.
  for (let i = 0; i < 20; i++) sources.set(`s${i}`, `require "include"; include "s${i + 1}";`);
  sources.set("s20", "keep;");
  // fan: includes 100 different scripts.
  sources.set(
    "fan",
    'require "include";\n' + Array.from({ length: 100 }, (_, i) => `include "f${i}";`).join("\n"),
  );
  for (let i = 0; i < 100; i++) sources.set(`f${i}`, "keep;");
  let reads = 0;
  const fetch = (_g: boolean, name: string) => {
    reads++;
    return Promise.resolve(sources.get(name) ?? null);
  };
  const run = async (name: string) => {
    const root = compile(sources.get(name)!);
    const o = evaluate(root, input, undefined, await loadIncludes(root, fetch, compile));
    return o;
  };
  const deep = await run("s0");
  assert.match(deep.error ?? "", /nested deeper than 10/);
  assert.deepEqual(deep.actions.map((a) => a.type), ["keep"]);
  reads = 0;
  const fan = await run("fan");
  assert.match(fan.error ?? "", /more than 32 included scripts/);
  assert.ok(reads <= MAX_INCLUDED, `fetched ${reads} scripts`);
});

Deno.test("hostile: '?' segments and periodic :contains keys over a long header stay bounded", () => {
  const message = `Subject: ${"a".repeat(1_000_000)}\r\n\r\nx\r\n`;
  const t0 = performance.now();
  // "a?" segments tried at every place: O(header × pattern), minutes before; now the run's
  // matching budget stops it and the message is kept (RFC 5228 §2.10.6).
  const w = runScript(`if header :matches "subject" "*${"a?".repeat(50_000)}b*" { discard; }`, {
    message,
  });
  assert.match(w.error ?? "", /too much :matches work/);
  assert.deepEqual(w.actions.map((a) => a.type), ["keep"]);
  // A periodic key: V8's includes() is O(header × key) on it (about 10 s for this one).
  const key = "a".repeat(30_000) + "b" + "a".repeat(30_000);
  assert.deepEqual(actions(`if header :contains "subject" "${key}" { discard; }`, { message }), [
    "keep",
  ]);
  assert.deepEqual(actions(`if header :matches "subject" "*${key}*" { discard; }`, { message }), [
    "keep",
  ]);
  assert.ok(performance.now() - t0 < 5000, "the runs took too long");
  // Ordinary patterns are unchanged.
  assert.deepEqual(actions(`if header :matches "subject" "a?a*" { discard; }`, { message }), [
    "discard",
  ]);
});

Deno.test("hostile: a message's body is decoded once however many body tests ask", () => {
  // Found by the message fuzzer: each body test decoded every part again (~100 ms per MB),
  // so a script of several body tests over a big message ran for seconds.
  const message = "Subject: s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
    "line of text\r\n".repeat(1000);
  const raw = new TextEncoder().encode(message);
  const input = inputFromBytes(raw, { from: "a@x.test", to: "b@y.test" });
  assert.equal(input.parts(), input.parts());
  assert.equal(input.parts()[0].text.length, 14_000);
  assert.equal(input.rawBody(), input.rawBody());
  const script = 'require "body";\n' +
    Array.from({ length: 20 }, (_, i) => `if body :text :contains "k${i}" { discard; }`).join("\n");
  assert.deepEqual(actions(script, { message }), ["keep"]);
  assert.deepEqual(actions(script.replace('"k7"', '"line of"'), { message }), ["discard"]);
});
