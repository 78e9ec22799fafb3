/**
 * SearchSnippet/get (RFC 8621 §5): the subject and a piece of the body of each Email with
 * what the filter's text conditions (text, subject, body) found marked as `<mark>…</mark>`.
 *
 * Invariants: every character from the message is HTML-escaped before marks are added, so
 * a snippet is safe HTML; terms are matched as plain case-insensitive substrings (no
 * RegExp from the client); a field without a match is null (§5.1); a preview is at most
 * `PREVIEW_CHARS` characters of text around the first match.
 *
 * @module
 */
import { headerAs } from "./email_parse.ts";
import { findText } from "../../../lib/find_text.ts";
import { bodyLists, bodyValue } from "./email_body.ts";
import { loadEmailsByBlob, readListedEmail } from "./account_view.ts";
import { checkArgs, idList, type JmapMethod, objectArg, requireAccount } from "./context.ts";
import { compileFilter, newNeeds } from "./email_filter.ts";
import { MessageInfo } from "./email_info.ts";
import { invalidArguments } from "./errors.ts";
import { parseEmailId } from "./ids.ts";
import { MAIL } from "./session.ts";

const PREVIEW_CHARS = 255;
const MAX_TERMS = 32;

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]);

/** `text` with every occurrence of a term marked, escaped; null when no term occurs. */
export function highlight(text: string, terms: readonly string[]): string | null {
  const lower = text.toLowerCase();
  // Case folding that changes lengths would misplace the marks: match such text as is.
  const hay = lower.length === text.length ? lower : text;
  const marks: Array<[number, number]> = [];
  for (const t of terms) {
    if (t === "") continue;
    for (let at = findText(hay, t); at >= 0; at = findText(hay, t, at + t.length)) {
      marks.push([at, at + t.length]);
    }
  }
  if (marks.length === 0) return null;
  marks.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  let out = "";
  let pos = 0;
  for (const [s, e] of marks) {
    if (e <= pos) continue;
    const start = Math.max(s, pos);
    out += escape(text.slice(pos, start)) + "<mark>" + escape(text.slice(start, e)) + "</mark>";
    pos = e;
  }
  return out + escape(text.slice(pos));
}

/** Up to PREVIEW_CHARS of `body` around its first match, marked; null without a match. */
export function previewSnippet(body: string, terms: readonly string[]): string | null {
  const lower = body.toLowerCase();
  let first = -1;
  for (const t of terms) {
    const at = t === "" ? -1 : findText(lower, t);
    if (at >= 0 && (first < 0 || at < first)) first = at;
  }
  if (first < 0) return null;
  const start = Math.max(0, first - 60);
  return highlight(body.slice(start, start + PREVIEW_CHARS), terms);
}

/** The terms of a filter's text conditions: [subject terms, body terms]. */
function termsOf(filter: unknown): { subject: string[]; body: string[] } {
  const needs = newNeeds();
  compileFilter(filter, needs); // also validates the filter like Email/query does
  const subject: string[] = [];
  const body: string[] = [];
  for (const c of needs.texts.slice(0, MAX_TERMS)) {
    if (c.kind === "text" || c.kind === "subject") subject.push(c.needle);
    if (c.kind === "text" || c.kind === "body") body.push(c.needle);
  }
  return { subject, body };
}

/** RFC 8621 §5.1 SearchSnippet/get. */
const get: JmapMethod = {
  capability: MAIL,
  async run(ctx, args) {
    checkArgs(args, ["accountId", "filter", "emailIds"]);
    const accountId = requireAccount(ctx, args);
    const filter = objectArg(args, "filter");
    const emailIds = idList(args, "emailIds", ctx.limits.maxObjectsInGet);
    if (emailIds === null) throw invalidArguments("emailIds is required");
    const terms = filter ? termsOf(filter) : { subject: [], body: [] };
    const store = ctx.deps.store;
    const emails = await loadEmailsByBlob(
      store,
      ctx.account.id,
      emailIds.map(parseEmailId).filter((b) => b !== null),
    );
    const list: unknown[] = [];
    const notFound: string[] = [];
    for (const id of emailIds) {
      const blob = parseEmailId(id);
      if (blob === null || !emails.has(blob)) {
        notFound.push(id);
        continue;
      }
      let subject: string | null = null;
      let preview: string | null = null;
      if (terms.subject.length > 0 || terms.body.length > 0) {
        const bytes = await readListedEmail(store, ctx.account.id, blob);
        if (bytes === null) { // destroyed since it was listed
          notFound.push(id);
          continue;
        }
        const info = new MessageInfo(bytes);
        const rawSubject = String(headerAs(info.root, "subject", "Text") ?? "");
        subject = highlight(rawSubject, terms.subject);
        const texts = bodyLists(info.root).text.filter((l) => l.part.type === "text")
          .map((l) => String(bodyValue(info.bytes, l.part, 0).value));
        preview = previewSnippet(texts.join(" ").replace(/\s+/g, " ").trim(), terms.body);
      }
      list.push({ emailId: id, subject, preview });
    }
    // RFC 8621 §5.1: notFound is null when every id was found.
    return { accountId, list, notFound: notFound.length > 0 ? notFound : null };
  },
};

export const SNIPPET_METHODS: Record<string, JmapMethod> = { "SearchSnippet/get": get };
