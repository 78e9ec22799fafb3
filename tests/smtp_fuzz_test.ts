/**
 * Fuzzing a live SMTP session: hundreds of random command lines, seeded with every verb,
 * pipelined in one write. Every line must get exactly one well-formed reply, and the session
 * must still answer afterwards.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { startTestServer } from "./harness.ts";

// DATA, BDAT, AUTH and STARTTLS switch the framing (body, chunk, SASL, TLS) and QUIT ends
// the session, so they are left out of the random stream; their parsers are fuzzed directly in
// protocols/smtp/fuzz_test.ts.
const VERBS = ["EHLO", "HELO", "MAIL", "RCPT", "RSET", "NOOP", "VRFY", "EXPN", "HELP", "XYZ", ""];
const FRAGMENTS = [
  "FROM:",
  "TO:",
  "<",
  ">",
  "@",
  ":",
  '"',
  ".",
  " ",
  "=",
  "postmaster",
  "alice",
  "example.test",
  "remote.test",
  "SIZE=99",
  "SMTPUTF8",
  "NOTIFY=NEVER",
  "ü",
];

Deno.test("smtp session fuzz: random pipelined commands", async () => {
  const ts = await startTestServer({
    listeners: { submission: "", submissions: "", imap: "", imaps: "", pop3: "", pop3s: "" },
    limits: { max_bad_commands: 1_000_000 },
  });
  try {
    await ts.addUser("alice@example.test", "alice-password");
    const lines = fc.sample(
      fc.tuple(
        fc.constantFrom(...VERBS),
        fc.array(fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 3 })), {
          maxLength: 10,
        }),
      ).map(([verb, parts]) => `${verb} ${parts.join("")}`.replace(/[\r\n]/g, "")),
      { numRuns: 400, seed: 5321 },
    );
    const c = await Deno.connect({ hostname: "127.0.0.1", port: ts.port("smtp") });
    try {
      const enc = new TextEncoder();
      const dec = new TextDecoder();
      await c.write(enc.encode(lines.map((l) => l + "\r\n").join("") + "NOOP\r\n"));
      let text = "";
      const buf = new Uint8Array(65536);
      const finals = () => text.split("\r\n").filter((l) => /^\d{3} /.test(l)).length;
      // greeting + one reply per line + the NOOP
      while (finals() < lines.length + 2) {
        const n = await c.read(buf);
        if (n === null) break;
        text += dec.decode(buf.subarray(0, n));
      }
      const replyLines = text.split("\r\n").slice(0, -1);
      for (const l of replyLines) assert.match(l, /^\d{3}[ -]/);
      assert.equal(finals(), lines.length + 2);
      assert.equal(replyLines.at(-1), "250 2.0.0 OK");
    } finally {
      c.close();
    }
  } finally {
    await ts.stop();
  }
});
