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
