/**
 * Fixture messages (tests/fixtures/mime/) with ENVELOPE, BODY, BODYSTRUCTURE and section
 * bytes derived by hand from RFC 9051 §7.5.2 / §6.4.5, RFC 2045/2046 and Dovecot's
 * conventions (see bodystructure.ts). Sizes are exact octets; lines count LFs.
 */
import assert from "node:assert/strict";
import {
  bodyStructure,
  decodeBody,
  decodeEncodedWords,
  envelope,
  parseMime,
  sectionBytes,
} from "./mod.ts";
import type { SectionSpec } from "./mod.ts";

const dir = new URL("../tests/fixtures/mime/", import.meta.url);
const dec = new TextDecoder();
const load = (name: string) => Deno.readFileSync(new URL(name, dir));

const TP = '"text" "plain" ("charset" "us-ascii") NIL NIL "7bit"';
const NIL4 = "NIL NIL NIL NIL";

interface Case {
  file: string;
  envelope?: string;
  body: string;
  bodystructure: string;
  sections?: [SectionSpec, string | null][];
}

const alice = '(("Alice Example" NIL "alice" "example.org"))';
const cases: Case[] = [
  {
    file: "simple.eml",
    envelope: `("Mon, 1 Jan 2024 10:00:00 +0000" "Hello world" ${alice} ${alice} ${alice} ` +
      '(("Bob" NIL "bob" "example.com")("Carol C." NIL "carol" "example.net")) ' +
      '((NIL NIL "Friends" NIL)(NIL NIL "dave" "example.com")("Eve E." NIL "eve" "example.com")' +
      '(NIL NIL NIL NIL)(NIL NIL "frank" "example.com")) NIL "<msg0@example.org>" "<msg1@example.org>")',
    body: `(${TP} 23 2)`,
    bodystructure: `(${TP} 23 2 ${NIL4})`,
    sections: [
      [{ part: [], text: "TEXT" }, "Hi Bob,\r\nhow are you?\r\n"],
      [{ part: [1] }, "Hi Bob,\r\nhow are you?\r\n"],
      [{ part: [2] }, null],
      [{ part: [1, 1] }, null],
      [
        { part: [], text: "HEADER.FIELDS", fields: ["SUBJECT", "from", "X-Absent"] },
        'From: "Alice Example" <alice@example.org>\r\nSubject: Hello\r\n world\r\n\r\n',
      ],
      [
        {
          part: [],
          text: "HEADER.FIELDS.NOT",
          fields: ["Return-Path", "To", "Cc", "Subject", "Date", "Message-ID"],
        },
        'From: "Alice Example" <alice@example.org>\r\nIn-Reply-To: <msg0@example.org>\r\n\r\n',
      ],
      [{ part: [], text: "MIME" }, null],
      [{ part: [1], text: "HEADER" }, null],
    ],
  },
  {
    file: "alternative.eml",
    envelope: '(NIL "Alt" ((NIL NIL "alice" "example.org")) ((NIL NIL "alice" "example.org")) ' +
      '((NIL NIL "alice" "example.org")) ((NIL NIL "bob" "example.com")) NIL NIL NIL NIL)',
    body: '(("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 27 1)' +
      '("text" "html" ("charset" "utf-8") NIL NIL "quoted-printable" 16 0) "alternative")',
    bodystructure:
      '(("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 27 1 NIL NIL NIL NIL)' +
      '("text" "html" ("charset" "utf-8") NIL NIL "quoted-printable" 16 0 NIL NIL NIL NIL) ' +
      '"alternative" ("boundary" "ALT") NIL NIL NIL)',
    sections: [
      [{ part: [1] }, "Caf=C3=A9 au lait=\r\n please"],
      [{ part: [2] }, "<p>Caf=C3=A9</p>"],
      [
        { part: [1], text: "MIME" },
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
      ],
    ],
  },
  {
    file: "nested.eml",
    envelope:
      '(NIL "Report" (("Alice" NIL "alice" "example.org")) (("Alice" NIL "alice" "example.org")) ' +
      '(("Alice" NIL "alice" "example.org")) ((NIL NIL "bob" "example.com")) NIL NIL NIL NIL)',
    body:
      `(((${TP} 13 0)("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 20 0) "alternative")` +
      '("application" "pdf" ("name" "report.pdf") "<pdf1@example.org>" "The report" "base64" 12) "mixed")',
    bodystructure:
      `(((${TP} 13 0 ${NIL4})("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 20 0 ${NIL4}) ` +
      '"alternative" ("boundary" "INNER") NIL NIL NIL)' +
      '("application" "pdf" ("name" "report.pdf") "<pdf1@example.org>" "The report" "base64" 12 ' +
      'NIL ("attachment" ("filename" "report.pdf")) NIL NIL) "mixed" ("boundary" "OUTER") NIL NIL NIL)',
    sections: [
      [
        { part: [1] },
        "--INNER\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nSee attached.\r\n" +
        "--INNER\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n<b>See attached.</b>\r\n--INNER--\r\n",
      ],
      [{ part: [1, 2] }, "<b>See attached.</b>"],
      [{ part: [1, 1], text: "MIME" }, "Content-Type: text/plain; charset=us-ascii\r\n\r\n"],
      [{ part: [2] }, "JVBERi0xLjQK"],
      [{ part: [3] }, null],
      [{ part: [2, 1] }, null],
      [{ part: [1, 1, 1] }, null],
    ],
  },
  {
    file: "rfc822.eml",
    envelope:
      '(NIL "Fwd: Inner" (("Forwarder" NIL "fwd" "example.org")) (("Forwarder" NIL "fwd" "example.org")) ' +
      '(("Forwarder" NIL "fwd" "example.org")) ((NIL NIL "bob" "example.com")) NIL NIL NIL NIL)',
    body: `((${TP} 10 0)("message" "rfc822" NIL NIL NIL "7bit" 301 ` +
      '("Tue, 2 Jan 2024 09:00:00 +0100" "Inner" (("Inner Sender" NIL "inner" "example.com")) ' +
      '(("Inner Sender" NIL "inner" "example.com")) (("Inner Sender" NIL "inner" "example.com")) ' +
      '((NIL NIL "fwd" "example.org")) NIL NIL NIL "<inner@example.com>") ' +
      `((${TP} 10 0)("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 12 0) "alternative") 15) "mixed")`,
    bodystructure: `((${TP} 10 0 ${NIL4})("message" "rfc822" NIL NIL NIL "7bit" 301 ` +
      '("Tue, 2 Jan 2024 09:00:00 +0100" "Inner" (("Inner Sender" NIL "inner" "example.com")) ' +
      '(("Inner Sender" NIL "inner" "example.com")) (("Inner Sender" NIL "inner" "example.com")) ' +
      '((NIL NIL "fwd" "example.org")) NIL NIL NIL "<inner@example.com>") ' +
      `((${TP} 10 0 ${NIL4})("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 12 0 ${NIL4}) ` +
      '"alternative" ("boundary" "b2") NIL NIL NIL) 15 NIL ("inline" NIL) NIL NIL) ' +
      '"mixed" ("boundary" "b1") NIL NIL NIL)',
    sections: [
      [{ part: [2, 1] }, "inner text"],
      [{ part: [2, 2] }, "<i>inner</i>"],
      [{ part: [2, 1], text: "MIME" }, "Content-Type: text/plain\r\n\r\n"],
      [
        { part: [2], text: "MIME" },
        "Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n",
      ],
      [{ part: [2], text: "HEADER.FIELDS", fields: ["subject"] }, "Subject: Inner\r\n\r\n"],
      [
        { part: [2], text: "TEXT" },
        "--b2\r\nContent-Type: text/plain\r\n\r\ninner text\r\n--b2\r\nContent-Type: text/html\r\n\r\n" +
        "<i>inner</i>\r\n--b2--",
      ],
      [{ part: [1], text: "HEADER" }, null],
      [{ part: [2, 3] }, null],
    ],
  },
  {
    file: "encoded_words.eml",
    envelope:
      '("Wed, 3 Jan 2024 12:00:00 +0100" "=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= =?UTF-8?Q?_aus_K=C3=B6ln?=" ' +
      '(("=?UTF-8?B?SsO2cmcgTcO8bGxlcg==?=" NIL "joerg" "example.de")) ' +
      '(("=?UTF-8?B?SsO2cmcgTcO8bGxlcg==?=" NIL "joerg" "example.de")) ' +
      '(("=?UTF-8?B?SsO2cmcgTcO8bGxlcg==?=" NIL "joerg" "example.de")) ' +
      '(("=?iso-8859-1?Q?Andr=E9?=" NIL "andre" "example.fr")) NIL NIL NIL NIL)',
    body: `(${TP} 6 1)`,
    bodystructure: `(${TP} 6 1 ${NIL4})`,
  },
  {
    file: "missing_close.eml",
    body: `((${TP} 5 0)(${TP} 22 1) "mixed")`,
    bodystructure:
      `((${TP} 5 0 ${NIL4})(${TP} 22 1 ${NIL4}) "mixed" ("boundary" "XYZ") NIL NIL NIL)`,
    sections: [[{ part: [2] }, "second, never closed\r\n"]],
  },
  {
    file: "duplicate_boundary.eml",
    body: `((${TP} 0 0)((${TP} 5 0) "alternative")(${TP} 5 0) "mixed")`,
    bodystructure:
      `((${TP} 0 0 ${NIL4})((${TP} 5 0 ${NIL4}) "alternative" ("boundary" "dup") NIL NIL NIL)` +
      `(${TP} 5 0 ${NIL4}) "mixed" ("boundary" "dup") NIL NIL NIL)`,
    sections: [
      [{ part: [1] }, ""],
      [{ part: [2] }, "--dup\r\nContent-Type: text/plain\r\n\r\ninner\r\n--dup--"],
      [{ part: [2, 1] }, "inner"],
      [{ part: [3] }, "outer"],
      [{ part: [4] }, null],
    ],
  },
  {
    file: "lf_only.eml",
    body: `((${TP} 7 1) "mixed")`,
    bodystructure: `((${TP} 7 1 ${NIL4}) "mixed" ("boundary" "lf") NIL NIL NIL)`,
    sections: [
      [{ part: [1] }, "one\ntwo"],
      [{ part: [], text: "HEADER.FIELDS", fields: ["Subject"] }, "Subject: LF only\n\n"],
      [{ part: [1], text: "MIME" }, "Content-Type: text/plain\n\n"],
    ],
  },
  {
    file: "eight_bit_headers.eml",
    envelope: '(NIL {16}\r\nGrüße "quoted" (({6}\r\nélise NIL "elise" "example.fr")) ' +
      '(({6}\r\nélise NIL "elise" "example.fr")) (({6}\r\nélise NIL "elise" "example.fr")) ' +
      '(({7}\r\nMüller NIL "mueller" "example.de")) NIL NIL NIL NIL)',
    body: `(${TP} 7 1)`,
    bodystructure: `(${TP} 7 1 ${NIL4})`,
  },
  {
    file: "no_blank_line.eml",
    envelope: '(NIL "Header only" ((NIL NIL "a" "example.com")) ((NIL NIL "a" "example.com")) ' +
      '((NIL NIL "a" "example.com")) NIL NIL NIL NIL NIL)',
    body: `(${TP} 0 0)`,
    bodystructure: `(${TP} 0 0 ${NIL4})`,
    sections: [
      [{ part: [], text: "HEADER" }, "From: a@example.com\r\nSubject: Header only"],
      [{ part: [], text: "TEXT" }, ""],
      [{ part: [], text: "HEADER.FIELDS", fields: ["subject"] }, "Subject: Header only\r\n"],
    ],
  },
  {
    file: "rfc2231.eml",
    body:
      '(("application" "octet-stream" ("name" "very long file name.txt") NIL NIL "7bit" 4) "mixed")',
    bodystructure:
      '(("application" "octet-stream" ("name" "very long file name.txt") NIL NIL "7bit" 4 NIL ' +
      `("attachment" ("filename*" "UTF-8''%E2%82%AC%20rates.txt")) NIL NIL) "mixed" ("boundary" "p") NIL NIL NIL)`,
  },
  {
    file: "boundary_whitespace.eml",
    body: `((${TP} 1 0) "mixed")`,
    bodystructure: `((${TP} 1 0 ${NIL4}) "mixed" ("boundary" "ws") NIL NIL NIL)`,
    sections: [[{ part: [1] }, "x"]],
  },
  {
    file: "digest.eml",
    body: '(("message" "rfc822" NIL NIL NIL "7bit" 44 (NIL "One" ((NIL NIL "one" "example.org")) ' +
      '((NIL NIL "one" "example.org")) ((NIL NIL "one" "example.org")) NIL NIL NIL NIL NIL) ' +
      `(${TP} 5 0) 3)(${TP} 13 0) "digest")`,
    bodystructure:
      '(("message" "rfc822" NIL NIL NIL "7bit" 44 (NIL "One" ((NIL NIL "one" "example.org")) ' +
      '((NIL NIL "one" "example.org")) ((NIL NIL "one" "example.org")) NIL NIL NIL NIL NIL) ' +
      `(${TP} 5 0 ${NIL4}) 3 ${NIL4})(${TP} 13 0 ${NIL4}) "digest" ("boundary" "d") NIL NIL NIL)`,
    sections: [
      [{ part: [1], text: "HEADER" }, "From: one@example.org\r\nSubject: One\r\n\r\n"],
      [{ part: [1, 1] }, "first"],
      [{ part: [1], text: "MIME" }, "\r\n"],
    ],
  },
  {
    file: "part_without_headers.eml",
    body: `((${TP} 15 0)(${TP} 34 0)(${TP} 0 0) "mixed")`,
    bodystructure:
      `((${TP} 15 0 ${NIL4})(${TP} 34 0 ${NIL4})(${TP} 0 0 ${NIL4}) "mixed" ("boundary" "bp") NIL NIL NIL)`,
    sections: [
      [{ part: [1] }, "no headers here"],
      [{ part: [2] }, "body text right after the boundary"],
      [{ part: [2], text: "MIME" }, ""],
      [{ part: [3], text: "MIME" }, "Content-Type: text/plain\r\n"],
      [{ part: [3] }, ""],
    ],
  },
  {
    file: "no_boundary_param.eml",
    body: `((${TP} 0 0) "mixed")`,
    bodystructure: `((${TP} 0 0 ${NIL4}) "mixed" NIL NIL NIL NIL)`,
    sections: [[{ part: [1] }, null], [{ part: [], text: "TEXT" }, "just text\r\n"]],
  },
];

Deno.test("mime fixtures: ENVELOPE, BODY, BODYSTRUCTURE, sections", async (t) => {
  for (const c of cases) {
    await t.step(c.file, () => {
      const bytes = load(c.file);
      const root = parseMime(bytes);
      if (c.envelope !== undefined) assert.equal(envelope(root), c.envelope);
      assert.equal(bodyStructure(root, false), c.body);
      assert.equal(bodyStructure(root, true), c.bodystructure);
      for (const [spec, want] of c.sections ?? []) {
        const got = sectionBytes(bytes, root, spec);
        assert.equal(got === null ? null : dec.decode(got), want, JSON.stringify(spec));
      }
    });
  }
});

Deno.test("mime fixtures: decoded content", async (t) => {
  await t.step("encoded words in subject and addresses", () => {
    const root = parseMime(load("encoded_words.eml"));
    const h = (n: string) => root.headers.find((f) => f.lname === n)!.value;
    assert.equal(decodeEncodedWords(h("subject")), "Grüße aus Köln");
    assert.equal(decodeEncodedWords(h("from")), "Jörg Müller <joerg@example.de>");
    assert.equal(decodeEncodedWords(h("to")), "André <andre@example.fr>");
  });
  await t.step("quoted-printable and base64 bodies", () => {
    const alt = load("alternative.eml");
    const a = parseMime(alt);
    assert.equal(dec.decode(decodeBody(alt, a.children[0])!), "Café au lait please");
    assert.equal(dec.decode(decodeBody(alt, a.children[1])!), "<p>Café</p>");
    const nested = load("nested.eml");
    const n = parseMime(nested);
    assert.equal(dec.decode(decodeBody(nested, n.children[1])!), "%PDF-1.4\n");
  });
  await t.step("RFC 2231 parameters", () => {
    const root = parseMime(load("rfc2231.eml"));
    const p = root.children[0];
    assert.deepEqual(p.params, [{ name: "name", value: "very long file name.txt" }]);
    assert.equal(p.disposition, "attachment");
    assert.equal(p.dispositionParams[0].value, "€ rates.txt");
  });
  await t.step("UTF8=ACCEPT sends 8-bit text quoted", () => {
    const root = parseMime(load("eight_bit_headers.eml"));
    assert.equal(
      envelope(root, { utf8: true }),
      '(NIL "Grüße \\"quoted\\"" (("élise" NIL "elise" "example.fr")) (("élise" NIL "elise" "example.fr")) ' +
        '(("élise" NIL "elise" "example.fr")) (("Müller" NIL "mueller" "example.de")) NIL NIL NIL NIL)',
    );
  });
});
