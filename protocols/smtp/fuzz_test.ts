/**
 * Property tests for the SMTP parsers: any input either parses or throws SmtpError (never
 * anything else), parsed addresses are safe to put in headers, and valid addresses survive.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeCommand,
  parseAuthArg,
  parseBdatArg,
  parseCommandLine,
  parseHeloArg,
  parseMailArg,
  parseRcptArg,
} from "./parser.ts";
import { mailParams, rcptParams } from "./params.ts";
import { SmtpError } from "./replies.ts";
import { checkSequence } from "./state.ts";

const VERBS = ["EHLO", "HELO", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "NOOP", "QUIT", "AUTH"];
const FRAGMENTS = [
  "FROM:",
  "TO:",
  "<",
  ">",
  "@",
  ":",
  ",",
  '"',
  "\\",
  ".",
  " ",
  "=",
  "+",
  "[",
  "]",
  "IPv6:",
  "postmaster",
  "user",
  "example.test",
  "SIZE=",
  "BODY=8BITMIME",
  "SMTPUTF8",
  "NOTIFY=",
  "ORCPT=rfc822;",
  "ü",
  "\t",
  "LAST",
  "123",
];

/** Runs fn; only SmtpError may escape. */
function parsesOrRefuses<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch (e) {
    if (e instanceof SmtpError) return null;
    throw e;
  }
}

const line = fc.tuple(
  fc.constantFrom(...VERBS),
  fc.array(fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 4 })), {
    maxLength: 12,
  }),
).map(([verb, parts]) => `${verb} ${parts.join("")}`);

Deno.test("smtp parser properties", async (t) => {
  await t.step("any bytes: decodeCommand accepts or refuses with SmtpError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const text = parsesOrRefuses(() => decodeCommand(bytes));
        if (text !== null) assert.ok(!/[\r\n\0]/.test(text));
      }),
      { numRuns: 2000 },
    );
  });

  await t.step("command lines built from SMTP fragments never crash a parser", () => {
    fc.assert(
      fc.property(line, (text) => {
        const { verb, arg } = parseCommandLine(text);
        assert.equal(verb, verb.toUpperCase());
        checkSequence("idle", verb);
        const mail = parsesOrRefuses(() => parseMailArg(arg));
        if (mail) {
          parsesOrRefuses(() => mailParams(mail.params, { tls: true, maxMessageBytes: 1000 }));
          // what reaches a Return-Path or Received header has no breaks or brackets
          if (mail.mailbox) assert.ok(!/[\r\n<>\s]/.test(mail.mailbox.domain));
        }
        const rcpt = parsesOrRefuses(() => parseRcptArg(arg));
        if (rcpt) {
          parsesOrRefuses(() => rcptParams(rcpt.params));
          assert.ok(rcpt.mailbox.address.length > 0);
          assert.ok(!/[\r\n]/.test(rcpt.mailbox.address));
          // the domain is exactly what follows the last "@" (what the router splits on)
          const at = rcpt.mailbox.address.lastIndexOf("@");
          if (rcpt.mailbox.domain !== "") {
            assert.equal(rcpt.mailbox.address.slice(at + 1), rcpt.mailbox.domain);
          }
        }
        parsesOrRefuses(() => parseHeloArg(arg));
        parsesOrRefuses(() => parseBdatArg(arg));
        parsesOrRefuses(() => parseAuthArg(arg));
      }),
      { numRuns: 3000 },
    );
  });

  await t.step("valid addresses parse back to themselves (domain lower-cased)", () => {
    fc.assert(
      fc.property(fc.emailAddress(), (address) => {
        const m = parseRcptArg(`TO:<${address}>`).mailbox;
        const at = address.lastIndexOf("@");
        assert.equal(m.address, address.slice(0, at) + "@" + address.slice(at + 1).toLowerCase());
      }),
      { numRuns: 1000 },
    );
  });
});
