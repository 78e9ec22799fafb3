import assert from "node:assert/strict";
import { checkResult } from "./verdict.ts";

Deno.test("verdict: deliver copies are checked (mailbox, flags, create, at most 32)", () => {
  const r = checkResult({
    copies: [{ mailbox: "Lists", flags: ["\\Seen", "$Work"], create: true }, { mailbox: "INBOX" }],
  });
  assert.deepEqual(r.copies, [
    { mailbox: "Lists", flags: ["\\Seen", "$Work"], create: true },
    { mailbox: "INBOX" },
  ]);
  assert.throws(() => checkResult({ copies: [{ mailbox: "" }] }), /needs a mailbox/);
  assert.throws(() => checkResult({ copies: [{ mailbox: "A", flags: ["a b"] }] }), /IMAP flags/);
  assert.throws(() => checkResult({ copies: [{ mailbox: "A", flags: ["x\r\n"] }] }), /IMAP flags/);
  const many = Array.from({ length: 33 }, () => ({ mailbox: "A" }));
  assert.throws(() => checkResult({ copies: many }), /at most 32/);
  assert.equal(checkResult({ copies: [{ mailbox: "A\r\nB" }] }).copies?.[0].mailbox, "A B");
});

Deno.test("verdict: deliver redirect takes at most 4 plain addresses", () => {
  assert.deepEqual(checkResult({ redirect: ["a@example.org", "a@example.org"] }).redirect, [
    "a@example.org",
  ]);
  assert.throws(
    () => checkResult({ redirect: ["a@b.c", "b@b.c", "c@b.c", "d@b.c", "e@b.c"] }),
    /at most 4/,
  );
  assert.throws(() => checkResult({ redirect: ["<a@b.c>"] }), /bad address/);
  assert.throws(() => checkResult({ redirect: ["a@b.c\r\nRCPT TO:<x@y.z>"] }), /bad address/);
  assert.throws(() => checkResult({ redirect: ["nobody"] }), /bad address/);
});

Deno.test("verdict: deliver reply needs an address and a bounded message", () => {
  assert.deepEqual(checkResult({ reply: { to: "a@example.org", message: "x" } }).reply, {
    to: "a@example.org",
    message: "x",
  });
  assert.throws(() => checkResult({ reply: { to: "a", message: "x" } }), /needs \{ to/);
  assert.throws(() => checkResult({ reply: { to: "a@b.c", message: "" } }), /1 to 65536/);
  assert.throws(
    () => checkResult({ reply: { to: "a@b.c", message: "x".repeat(70_000) } }),
    /65536/,
  );
});
