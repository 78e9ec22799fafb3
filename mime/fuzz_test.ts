/**
 * Property tests: any bytes parse without throwing, offsets stay ordered and in bounds,
 * every view (ENVELOPE, BODYSTRUCTURE, sections, decoding) can be computed; and messages
 * built from a random MIME tree parse back into that tree with exact part bytes.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  bodyStructure,
  decodeBody,
  decodeEncodedWords,
  envelope,
  type MimePart,
  parseMime,
  sectionBytes,
} from "./mod.ts";
import { assertInvariants } from "../tests/lib/mime_testing.ts";

const enc = (s: string) => new TextEncoder().encode(s);

/** Every section of every part must be computable and lie within the message. */
function exercise(bytes: Uint8Array): void {
  const root = parseMime(bytes);
  assertInvariants(root, bytes.length);
  bodyStructure(root, true);
  bodyStructure(root, false);
  envelope(root);
  const walk = (p: MimePart, path: number[], budget: { n: number }) => {
    if (budget.n-- <= 0) return;
    for (
      const text of [
        undefined,
        "MIME",
        "HEADER",
        "TEXT",
        "HEADER.FIELDS",
        "HEADER.FIELDS.NOT",
      ] as const
    ) {
      const got = sectionBytes(bytes, root, {
        part: path,
        text,
        fields: ["subject", "content-type"],
      });
      if (got !== null) assert.ok(got.length <= bytes.length + 2);
    }
    decodeBody(bytes, p);
    p.children.forEach((c, i) => walk(c, [...path, i + 1], budget));
    if (p.embedded) {
      const inner = p.embedded;
      if (inner.kind === "multipart") {
        inner.children.forEach((c, i) => walk(c, [...path, i + 1], budget));
      } else walk(inner, [...path, 1], budget);
    }
  };
  walk(root, [], { n: 200 });
  for (const f of root.headers.slice(0, 20)) decodeEncodedWords(f.value);
}

Deno.test("fuzz: random bytes never throw and keep offsets in bounds", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 3000, size: "max" }), (b) => exercise(b)), {
    numRuns: 300,
  });
});

// Lines that matter to the parser, in random order: boundaries of a few names (with and
// without close dashes, trailing white space and junk), Content-Types, folding, blank lines.
const line = fc.oneof(
  fc.constantFrom(
    "Content-Type: multipart/mixed; boundary=a",
    'Content-Type: multipart/alternative; boundary="b"',
    "Content-Type: multipart/digest; boundary=ab",
    "Content-Type: message/rfc822",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Type: multipart/mixed",
    "Content-Transfer-Encoding: base64",
    "Content-Transfer-Encoding: quoted-printable",
    "Content-Disposition: attachment; filename*0*=utf-8''%E2%82; filename*1*=%AC",
    "Subject: =?utf-8?q?x=C3?= =?utf-8?b?qQ==?=",
    "From: A <a@b>, g: c@d;, (x) e",
    'To: "q\\"" <x@y>',
    " folded",
    "",
    "--a",
    "--a--",
    "--b",
    "--b--  ",
    "--ab",
    "--ab--",
    "--a junk",
    "body text",
    "=C3=A9=",
    "aGVsbG8=",
  ),
  fc.string({ maxLength: 20 }),
);
const eol = fc.constantFrom("\r\n", "\n", "\r", "");

Deno.test("fuzz: MIME-shaped garbage never throws and keeps offsets in bounds", () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(line, eol), { maxLength: 80 }), (lines) => {
      exercise(enc(lines.map(([l, e]) => l + e).join("")));
    }),
    { numRuns: 500 },
  );
});

type Tree = { leaf: string } | { multi: Tree[] } | { message: Tree };

const tree: fc.Arbitrary<Tree> = fc.letrec<{ node: Tree }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.record({ leaf: fc.stringMatching(/^[a-z ]{0,12}(\r\n[a-z ]{0,12}){0,3}$/) }),
    fc.record({ multi: fc.array(tie("node"), { minLength: 1, maxLength: 4 }) }),
    fc.record({ message: tie("node") }),
  ),
})).node;

/**
 * Serialises a tree; records each leaf's expected section path and body. `path` names this
 * entity: a message's own path (`[]` for the top level) when `isMessage`, else the part's.
 * RFC 9051 §6.4.5: a non-multipart message's body is its part 1.
 */
function build(
  t: Tree,
  path: number[],
  isMessage: boolean,
  n: { n: number },
  out: [number[], string][],
): string {
  const body = isMessage ? [...path, 1] : path;
  if ("leaf" in t) {
    out.push([body, t.leaf]);
    return `Content-Type: text/plain\r\n\r\n${t.leaf}`;
  }
  if ("message" in t) {
    return `Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n${
      build(t.message, body, true, n, out)
    }`;
  }
  const boundary = `=_b${n.n++}`;
  let s = `Content-Type: multipart/mixed; boundary="${boundary}"\r\n\r\npreamble\r\n`;
  t.multi.forEach((c, i) => {
    s += `--${boundary}\r\n${build(c, [...path, i + 1], false, n, out)}\r\n`;
  });
  return s + `--${boundary}--\r\nepilogue`;
}

Deno.test("fuzz: random MIME trees parse back with exact part bytes", () => {
  fc.assert(
    fc.property(tree, (t) => {
      const leaves: [number[], string][] = [];
      const bytes = enc(build(t, [], true, { n: 0 }, leaves));
      const root = parseMime(bytes);
      assertInvariants(root, bytes.length);
      for (const [path, body] of leaves) {
        const got = sectionBytes(bytes, root, { part: path });
        assert.notEqual(got, null, `part ${path.join(".")}`);
        assert.equal(new TextDecoder().decode(got!), body, `part ${path.join(".")}`);
      }
    }),
    { numRuns: 300 },
  );
});
