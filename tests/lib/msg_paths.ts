/**
 * Every in-process code path that reads a stored or arriving message, as named drivers for
 * the message-path fuzzer: MIME views (IMAP ENVELOPE, BODYSTRUCTURE, sections, BINARY),
 * the search texts (IMAP SEARCH, JMAP filters), JMAP Email/get views, Sieve tests, the
 * spam plugin's parse, tokenizer and rules, and the auth plugin's reading of headers.
 *
 * @module
 */
import {
  bodyStructure,
  decodeBody,
  decodeEncodedWords,
  envelope,
  type MimePart,
  parseMime,
  sectionBytes,
} from "../../mime/mod.ts";
import { bodyText, fieldTexts, headerText, indexedHeaderText } from "../../mime/search_text.ts";
import { encodeBinaryParts } from "../../protocols/imap/binary.ts";
import { sortItem } from "../../protocols/imap/sort.ts";
import { threadOrderedSubject, threadReferences } from "../../protocols/imap/thread.ts";
import * as jbody from "../../protocols/http/jmap/email_body.ts";
import { hasAttachment, headerAs, preview } from "../../protocols/http/jmap/email_parse.ts";
import { FORMS } from "../../protocols/http/jmap/email_headers.ts";
import { matchesAll } from "../../protocols/http/jmap/email_text.ts";
import { htmlToText } from "../../protocols/http/jmap/html_text.ts";
import { compile } from "../../plugins/builtin/sieve/compile.ts";
import { evaluate } from "../../plugins/builtin/sieve/eval.ts";
import { inputFromBytes } from "../../plugins/builtin/sieve/message.ts";
import { parseMail } from "../../plugins/builtin/spam/parse.ts";
import { tokenize } from "../../plugins/builtin/spam/tokenize.ts";
import { contentRules } from "../../plugins/builtin/spam/rules/content.ts";
import { phraseRules } from "../../plugins/builtin/spam/rules/phrases.ts";
import { forgedRules } from "../../plugins/builtin/spam/rules/forged.ts";
import { envelopeRules, headerRules } from "../../plugins/builtin/spam/rules/headers.ts";
import { fromAddresses, verifyMessage } from "../../plugins/builtin/auth/verify.ts";
import { stripForgedAuthResults } from "../../plugins/builtin/auth/forged.ts";

/** A Sieve script that uses every test on the message. */
export const SIEVE_ALL = `
require ["fileinto", "envelope", "body", "variables", "relational", "regex", "date", "index",
  "subaddress", "imap4flags", "comparator-i;ascii-numeric"];
if header :contains ["subject", "from", "x-mailer"] ["viagra", "money", "=?"] { addflag "a"; }
if header :matches "subject" "*[a]*b*c*?*" { set "s" "\${1}"; }
if header :regex "subject" "^(re|fwd):.*[0-9]+$" { addflag "r"; }
if address :all :contains ["from", "to", "cc", "reply-to", "sender"] "example" { addflag "b"; }
if address :domain :is "from" "example.com" { addflag "c"; }
if address :localpart :matches "to" "*+*" { addflag "d"; }
if address :detail "to" "x" { addflag "e"; }
if envelope :all :is "from" "a@b" { addflag "f"; }
if envelope :domain :contains "to" "test" { addflag "g"; }
if exists ["date", "message-id", "received"] { addflag "h"; }
if size :over 10K { addflag "i"; }
if header :count "gt" :comparator "i;ascii-numeric" "received" "3" { addflag "j"; }
if body :raw :contains "unsubscribe" { addflag "k"; }
if body :text :matches "*click*here*" { addflag "l"; }
if body :content "text" :contains "free" { addflag "m"; }
if body :content "image" :contains "x" { addflag "m2"; }
if date :value "ge" :originalzone "date" "year" "2000" { addflag "n"; }
if header :index 2 :contains "received" "from" { addflag "o"; }
if body :regex "(a|b)+c" { addflag "p"; }
keep;
`;
const SCRIPT = compile(SIEVE_ALL);

const FIELDS = ["from", "to", "cc", "subject", "message-id", "references", "date", "list-post"];

/** Every section of every part (bounded), as an IMAP FETCH of BODY[n], [n.MIME]... would. */
function sections(bytes: Uint8Array, root: MimePart): number {
  let n = 0, budget = 300;
  const walk = (p: MimePart, path: number[]) => {
    if (budget-- <= 0) return;
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
      if (text === "MIME" && path.length === 0) continue;
      const got = sectionBytes(bytes, root, { part: path, text, fields: ["subject", "from"] });
      n += got?.length ?? 0;
    }
    n += decodeBody(bytes, p)?.length ?? 0; // BINARY[n]
    p.children.forEach((c, i) => walk(c, [...path, i + 1]));
    if (p.embedded) {
      const inner = p.embedded;
      if (inner.kind === "multipart") inner.children.forEach((c, i) => walk(c, [...path, i + 1]));
      else walk(inner, [...path, 1]);
    }
  };
  walk(root, []);
  return n;
}

const NO_DNS = () => Promise.reject(Object.assign(new Error("ENOTFOUND"), { code: "ENOTFOUND" }));

/** Named drivers; each returns something derived from its work so nothing is optimised away. */
export const PATHS: Record<string, (bytes: Uint8Array) => unknown | Promise<unknown>> = {
  "mime.parse": (b) => parseMime(b),
  "imap.envelope+bodystructure": (b) => {
    const root = parseMime(b);
    return envelope(root).length + bodyStructure(root, true).length +
      bodyStructure(root, false).length;
  },
  "imap.sections+binary": (b) => sections(b, parseMime(b)),
  "imap.append-binary": (b) => encodeBinaryParts(b).length,
  "imap.sort+thread": (b) => {
    const item = sortItem(parseMime(b), { seq: 1, uid: 1, size: b.length, internalDate: 0 });
    const other = { ...item, seq: 2, uid: 2, messageId: item.references[0] ?? null };
    return threadReferences([item, other]).length + threadOrderedSubject([item, other]).length;
  },
  "search.texts": (b) => {
    const root = parseMime(b);
    return headerText(root).length + bodyText(b, root).length + indexedHeaderText(root).length +
      ["subject", "from", "to"].map((f) => fieldTexts(root, f).length).join();
  },
  "jmap.email-get": (b) => {
    const root = parseMime(b);
    const s = JSON.stringify(jbody.bodyStructure(b, () => "p1", root, jbody.BODY_PROPERTIES));
    const lists = jbody.bodyLists(root);
    const all = [...lists.text, ...lists.html, ...lists.attachments];
    const parts = jbody.partList(b, () => "p1", all, jbody.DEFAULT_BODY_PROPERTIES);
    const values = [...lists.text, ...lists.html].slice(0, 50).map((l) =>
      jbody.bodyValue(b, l.part, 0)
    );
    const headers = FIELDS.flatMap((f) => FORMS.map((form) => headerAs(root, f, form)));
    return s.length + JSON.stringify([parts, values, headers]).length + preview(b, root).length +
      Number(hasAttachment(root));
  },
  "jmap.html-text": (b) => {
    const root = parseMime(b);
    const lists = jbody.bodyLists(root);
    let n = 0;
    for (const l of lists.html.slice(0, 20)) {
      n += htmlToText(String(jbody.bodyValue(b, l.part, 0).value)).length;
    }
    return n;
  },
  "jmap.query-text": (b) =>
    matchesAll(b, [
      { kind: "text", needle: "zzqq", matches: new Set() },
      { kind: "body", needle: "the", matches: new Set() },
      { kind: "subject", needle: "re", matches: new Set() },
      { kind: "from", needle: "example", matches: new Set() },
    ]),
  "sieve.all-tests": (b) =>
    evaluate(SCRIPT, inputFromBytes(b, { from: "a@b.example", to: "x+y@test.example" })).actions
      .length,
  "spam.parse+tokenize+rules": (b) => {
    const m = parseMail(b);
    const t = tokenize(m);
    const s = {};
    return t.size + contentRules(m, s).length + phraseRules(m, s).length +
      forgedRules(m, s).length + headerRules(m, s, Date.now()).length +
      envelopeRules(m, { sender: "a@b.example", ip: "192.0.2.1", helo: "x.example" }, s).length;
  },
  "auth.headers": async (b) => {
    const root = parseMime(b);
    const headers = root.headers.map((f) => [f.name, f.value]) as unknown as Parameters<
      typeof fromAddresses
    >[0];
    const stripped = stripForgedAuthResults(b, "mx.test.example");
    const from = fromAddresses(headers);
    const out = await verifyMessage(
      {
        raw: b,
        ip: "192.0.2.1",
        helo: "x.example",
        sender: "a@b.example",
        authservId: "mx.test.example",
        headers,
      },
      NO_DNS,
      { timeoutMs: 5000 },
    );
    return stripped.length + from.fields + out.header.length;
  },
  "encoded-words": (b) => {
    const root = parseMime(b);
    return root.headers.slice(0, 200).reduce((n, f) => n + decodeEncodedWords(f.value).length, 0);
  },
};
