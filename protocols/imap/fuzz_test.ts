/**
 * Fuzzing the command parsers (DESIGN: "fuzz every parser, seeded with every verb"): for
 * every verb, random argument text must parse or fail with an ImapError (-> BAD/NO),
 * never with anything else, and never loop.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { COMMANDS } from "./commands/mod.ts";
import { ImapError } from "./errors.ts";
import { ArgReader, literalAnnouncement } from "./parser.ts";

const enc = new TextEncoder();

/** Fragments that steer random input into the interesting corners of the grammar. */
const TOKENS = [
  " ",
  "(",
  ")",
  "[",
  "]",
  "<",
  ">",
  ".",
  "*",
  "%",
  "$",
  ":",
  ",",
  '"',
  "\\",
  "{3}",
  "{0}",
  "~{1}",
  "NIL",
  "1",
  "0",
  "4294967296",
  "1:*",
  "BODY",
  "BODY.PEEK",
  "HEADER.FIELDS",
  "TEXT",
  "MIME",
  "FLAGS",
  "+FLAGS.SILENT",
  "\\Seen",
  "RETURN",
  "CHARSET",
  "UTF-8",
  "OR",
  "NOT",
  "UID",
  "SUBJECT",
  "SINCE",
  "1-Jan-2024",
  '"17-Jul-1996 02:44:25 -0700"',
  "INBOX",
  "a/b",
  "SUBSCRIBED",
  "STATUS",
  "MESSAGES",
  // CONDSTORE/QRESYNC, SORT/THREAD, QUOTA, CREATE-SPECIAL-USE, UTF8=ACCEPT, COMPRESS
  "CHANGEDSINCE",
  "UNCHANGEDSINCE",
  "VANISHED",
  "MODSEQ",
  "CONDSTORE",
  "QRESYNC",
  "REVERSE",
  "DATE",
  "REFERENCES",
  "USE",
  "\\Archive",
  "UTF8",
  "STORAGE",
  "DEFLATE",
  "\u00e9",
  "\u0000",
  "\t",
];

const argText = fc.array(
  fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 6 })),
  { maxLength: 24 },
).map((parts) => parts.join(""));

/** Splits text the way the session would: lines end where a literal is announced. */
function toInput(text: string): { lines: Uint8Array[]; literals: Uint8Array[] } | null {
  const lines: Uint8Array[] = [];
  const literals: Uint8Array[] = [];
  let rest = enc.encode(text);
  for (;;) {
    // Find the first announcement that ends somewhere in the text.
    let cut = -1;
    for (let i = 0; i < rest.length; i++) {
      if (rest[i] === 0x7d && literalAnnouncement(rest.subarray(0, i + 1))) {
        cut = i + 1;
        break;
      }
    }
    if (cut < 0) {
      lines.push(rest);
      return { lines, literals };
    }
    const ann = literalAnnouncement(rest.subarray(0, cut))!;
    if (ann.size > 64) return null;
    lines.push(rest.subarray(0, cut));
    const lit = rest.subarray(cut, cut + ann.size);
    if (lit.length < ann.size) return null;
    literals.push(lit);
    rest = rest.subarray(cut + ann.size);
  }
}

Deno.test("fuzz: every command parser fails only with ImapError", () => {
  for (const [verb, handler] of Object.entries(COMMANDS)) {
    fc.assert(
      fc.property(argText, (text) => {
        const input = toInput(text);
        if (!input) return;
        const r = new ArgReader(input);
        try {
          handler.parse(r);
          r.end();
        } catch (e) {
          assert.ok(e instanceof ImapError, `${verb} ${JSON.stringify(text)}: ${e}`);
        }
      }),
      { numRuns: 300 },
    );
  }
});
