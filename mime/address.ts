/**
 * Addresses, the one module for them: splitting a mailbox into local part and domain, the
 * domain-name rule every layer checks with, and RFC 5322 §3.4 address lists.
 *
 * Splitting is at the LAST "@" (RFC 5321 §4.1.2: a quoted local part may hold "@", a domain
 * never does). It checks nothing and folds no case: callers that validate do so after.
 *
 * Address lists are parsed leniently for the IMAP ENVELOPE (RFC 9051 §7.5.2).
 *
 * Group syntax becomes a start marker (host null, mailbox = group name) and an end
 * marker (all null), exactly as the ENVELOPE wants it. Like Dovecot (compared on the
 * SpamAssassin corpus and hand-made broken headers, issue 13 item 18):
 * - a comment stands in for a missing display name (after an addr-spec: the last comment);
 *   an empty display name (`"" <a@b>`) is no name (NIL);
 * - a missing local part or domain is filled with `MISSING_MAILBOX` / `MISSING_DOMAIN`
 *   (a null host would read as group syntax), also for `<>`;
 * - a broken `<...>` (white space inside the local part or domain, a missing domain after
 *   "@", no closing ">") keeps the local part read so far and reports the host as
 *   `SYNTAX_ERROR`; a "<@x>" route without ":" is `INVALID_ROUTE`.
 * Unlike Dovecot, which stops at the first syntax error and drops the rest of the field,
 * we skip the junk and go on to the next "," (so a recipient cannot hide behind junk),
 * accept ";" between addresses (an Outlook habit), and ignore empty list members
 * (RFC 5322 §4.4 obs-addr-list; Dovecot lists each as MISSING_MAILBOX).
 * Several fields of one kind are merged as if comma-separated.
 *
 * @module
 */

import { domainToASCII, domainToUnicode } from "node:url";
import { isAscii } from "./text.ts";

/** "local@domain" split at its last "@"; null when there is no "@". */
export function splitMailbox(address: string): { local: string; domain: string } | null {
  const at = address.lastIndexOf("@");
  return at < 0 ? null : { local: address.slice(0, at), domain: address.slice(at + 1) };
}

/** The domain of an address (after its last "@"), or "" when there is none. */
export function domainPart(address: string): string {
  return splitMailbox(address)?.domain ?? "";
}

/**
 * Does `address` match an allow/block list entry: the whole address, or a domain ("@d" or
 * "d") and its subdomains? Entries are expected lower case; an empty address matches none.
 */
export function addressListed(address: string, entries: readonly string[]): boolean {
  if (!address || entries.length === 0) return false;
  const a = address.toLowerCase();
  const domain = splitMailbox(a)?.domain ?? a;
  return entries.some((e) => {
    if (e.includes("@") && !e.startsWith("@")) return e === a;
    const d = e.replace(/^@/, "");
    return domain === d || domain.endsWith(`.${d}`);
  });
}

/** RFC 5321 §4.1.2 sub-domain: letters, digits, hyphens, no hyphen first or last. */
const LDH_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

/**
 * Is `d` a domain name a mail server may serve? Each label is an RFC 5321 §4.1.2 LDH
 * sub-domain (A-labels "xn--..." included) or an IDNA U-label (RFC 6531 §3.3 allows those
 * with SMTPUTF8) written in its canonical form (RFC 5891 §5: it converts to an A-label and
 * back unchanged); labels at most 63 octets and the name at most 253 in A-label form
 * (RFC 1035 §2.3.4). Expects no trailing dot; case is not folded here.
 */
export function isDomainName(d: string): boolean {
  if (d.length === 0) return false;
  let asciiLength = -1;
  for (const label of d.split(".")) {
    let ascii = label;
    if (!isAscii(label)) {
      ascii = domainToASCII(label);
      if (!ascii || domainToUnicode(ascii) !== label.toLowerCase()) return false;
    }
    if (!LDH_LABEL.test(ascii)) return false;
    asciiLength += ascii.length + 1;
  }
  return asciiLength <= 253;
}

/** One ENVELOPE address entry: `(name adl mailbox host)`. */
export interface EnvelopeAddress {
  /** Display name (not RFC 2047-decoded), or null. */
  name: string | null;
  /** Obsolete source route (`@a,@b`), or null. */
  route: string | null;
  /** Local part, group name for a group start, null for a group end. */
  mailbox: string | null;
  /** Domain; null only for group start / end markers. */
  host: string | null;
}

type TokKind = "word" | "quoted" | "comment" | "literal" | "special";
interface Tok {
  k: TokKind;
  v: string;
}

const SPECIALS = "<>@,;:";
const MAX_TOKENS = 100_000;

/** Splits an unfolded header value into address tokens. */
function lex(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const n = s.length;
  while (i < n && out.length < MAX_TOKENS) {
    const c = s[i];
    if (c === " " || c === "\t" || c === "\r" || c === "\n") {
      i++;
    } else if (c === "(") {
      // RFC 5322 §3.2.2 comment: nested, with quoted-pairs; unterminated runs to the end.
      let depth = 0;
      let text = "";
      while (i < n) {
        const d = s[i++];
        if (d === "\\" && i < n) {
          text += s[i++];
        } else if (d === "(") {
          if (depth++ > 0) text += d;
        } else if (d === ")") {
          if (--depth === 0) break;
          text += d;
        } else {
          text += d;
        }
      }
      out.push({ k: "comment", v: text });
    } else if (c === '"') {
      let text = "";
      i++;
      while (i < n && s[i] !== '"') {
        if (s[i] === "\\" && i + 1 < n) i++;
        text += s[i++];
      }
      i++;
      out.push({ k: "quoted", v: text });
    } else if (c === "[") {
      const close = s.indexOf("]", i);
      const end = close < 0 ? n : close + 1;
      out.push({ k: "literal", v: s.slice(i, end) });
      i = end;
    } else if (SPECIALS.includes(c)) {
      out.push({ k: "special", v: c });
      i++;
    } else {
      // A run of atext and dots: dot-atoms and obs-phrase words ("John Q. Public").
      const start = i;
      while (i < n && !' \t\r\n()"[<>@,;:'.includes(s[i])) i++;
      out.push({ k: "word", v: s.slice(start, i) });
    }
  }
  return out;
}

function isSpecial(t: Tok | undefined, chars: string): boolean {
  return t !== undefined && t.k === "special" && chars.includes(t.v);
}

/** Display-name words joined by single spaces (quoted strings unquoted). */
function phrase(words: Tok[]): string {
  return words.map((w) => w.v).join(" ");
}

/** Local part / domain text: words, quoted strings and literals joined as written. */
function joined(toks: Tok[]): string {
  return toks.map((t) => t.v).join("");
}

/**
 * Reads a dot-atom-like run from `toks[at]`: tokens of the given kinds, each boundary
 * between two of them marked by a "." (obs-local-part / obs-domain allow white space
 * around the dots). Returns the tokens and where the run ends.
 */
function dotted(toks: Tok[], at: number, kinds: TokKind[]): { run: Tok[]; end: number } {
  const run: Tok[] = [];
  let i = at;
  while (i < toks.length && kinds.includes(toks[i].k)) {
    const prev = run[run.length - 1];
    if (prev && !prev.v.endsWith(".") && !toks[i].v.startsWith(".")) break;
    run.push(toks[i++]);
  }
  return { run, end: i };
}

/**
 * The addr-spec inside "<...>" (RFC 5322 §3.4.1): local, host (empty when missing) and
 * whether it was well-formed (every token used, a domain after any "@").
 */
function angleAddrSpec(toks: Tok[]): { local: Tok[]; host: Tok[]; ok: boolean } {
  const l = dotted(toks, 0, ["word", "quoted"]);
  let i = l.end;
  let host: Tok[] = [];
  let ok = true;
  if (i < toks.length && isSpecial(toks[i], "@")) {
    const d = dotted(toks, i + 1, ["word", "literal"]);
    host = d.run;
    i = d.end;
    ok = host.length > 0;
  }
  return { local: l.run, host, ok: ok && i === toks.length };
}

/** Parses an address-list header value into ENVELOPE entries. */
export function parseAddressList(value: string): EnvelopeAddress[] {
  const toks = lex(value);
  const out: EnvelopeAddress[] = [];
  let inGroup = false;
  let i = 0;
  const n = toks.length;
  const mailbox = (name: string | null, route: string | null, local: Tok[], host: Tok[]) => {
    out.push({
      name,
      route,
      mailbox: local.length > 0 ? joined(local) : "MISSING_MAILBOX",
      host: host.length > 0 ? joined(host) : "MISSING_DOMAIN",
    });
  };
  while (i < n) {
    const t = toks[i];
    if (isSpecial(t, ",>")) {
      i++;
      continue;
    }
    if (isSpecial(t, ";")) {
      // RFC 5322 §3.4: ";" ends a group.
      if (inGroup) out.push({ name: null, route: null, mailbox: null, host: null });
      inGroup = false;
      i++;
      continue;
    }
    const words: Tok[] = [];
    const comments: string[] = [];
    while (i < n && !isSpecial(toks[i], "<>@,;:")) {
      if (toks[i].k === "comment") comments.push(toks[i].v);
      else words.push(toks[i]);
      i++;
    }
    const next = toks[i];
    const commentName = comments.length > 0 ? comments.join(" ").trim() || null : null;
    if (isSpecial(next, ":")) {
      i++;
      if (inGroup) continue; // nested group syntax is invalid: ignore the marker
      // RFC 5322 §3.4 group: display-name ":" [group-list] ";"
      out.push({ name: null, route: null, mailbox: phrase(words), host: null });
      inGroup = true;
      continue;
    }
    if (isSpecial(next, "<")) {
      // name-addr: [display-name] angle-addr; obs-route "@a,@b:" may precede the addr-spec.
      i++;
      const inner: Tok[] = [];
      let closed = false;
      const routed = i < n && isSpecial(toks[i], "@");
      let routeDone = !routed;
      while (i < n) {
        const t = toks[i];
        if (isSpecial(t, ">")) {
          closed = true;
          i++;
          break;
        }
        // No "," belongs in an addr-spec: without a ">" first, the address ends there
        // (only the obs-route before its ":" holds commas); in a group, ";" ends it too.
        if ((isSpecial(t, ";") && inGroup) || (isSpecial(t, ",") && routeDone)) break;
        if (isSpecial(t, ":")) routeDone = true;
        if (t.k !== "comment") inner.push(t);
        i++;
      }
      let route: string | null = null;
      let start = 0;
      if (routed) {
        const colon = inner.findIndex((x) => isSpecial(x, ":"));
        route = colon > 0 ? joined(inner.slice(0, colon)) : "INVALID_ROUTE";
        start = colon > 0 ? colon + 1 : inner.length;
      }
      const spec = angleAddrSpec(inner.slice(start));
      const name = words.length > 0 ? phrase(words) : commentName;
      if (closed && spec.ok) {
        mailbox(name || null, route, spec.local, spec.host);
      } else {
        out.push({
          name: name || null,
          route,
          mailbox: spec.local.length > 0 ? joined(spec.local) : "MISSING_MAILBOX",
          host: "SYNTAX_ERROR",
        });
      }
      // Skip junk up to the next separator.
      while (i < n && !isSpecial(toks[i], ",;")) i++;
      continue;
    }
    // addr-spec without angle brackets, or a bare display name.
    let host: Tok[] = [];
    const trailing: string[] = [];
    if (isSpecial(next, "@")) {
      i++;
      while (i < n && !isSpecial(toks[i], ",;<")) {
        if (toks[i].k === "comment") trailing.push(toks[i].v);
        else if (!isSpecial(toks[i], "@>:")) host.push(toks[i]);
        i++;
      }
      // Stray words after the domain (missing comma) are not part of it.
      if (host.length > 1) host = dotted(host, 0, ["word", "literal"]).run;
    } else if (words.length === 0) {
      continue; // only comments: nothing to list (the separator is handled above)
    }
    // The comment after an addr-spec names it (the last one, as Dovecot reads it).
    const name = trailing.length > 0 ? trailing[trailing.length - 1].trim() || null : null;
    if (
      host.length === 0 && !isSpecial(next, "@") &&
      (words.length > 1 || (words.length === 1 && words[0].k === "quoted"))
    ) {
      // "Display Name" alone: a name without an address (Dovecot's reading).
      mailbox(phrase(words) || null, null, [], []);
      continue;
    }
    mailbox(name, null, words, host);
  }
  if (inGroup) out.push({ name: null, route: null, mailbox: null, host: null });
  return out;
}
