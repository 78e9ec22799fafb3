/**
 * RFC 5322 §3.4 address lists, parsed leniently for the IMAP ENVELOPE (RFC 9051 §7.5.2).
 *
 * Group syntax becomes a start marker (host null, mailbox = group name) and an end
 * marker (all null), exactly as the ENVELOPE wants it. Like Dovecot: a comment stands in
 * for a missing display name, a missing local part or domain is filled with
 * `MISSING_MAILBOX` / `MISSING_DOMAIN` (a null host would read as group syntax), and
 * several fields of one kind are merged as if comma-separated.
 *
 * @module
 */

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
      while (i < n && !isSpecial(toks[i], ">")) {
        if (toks[i].k !== "comment") inner.push(toks[i]);
        i++;
      }
      i++;
      let route: string | null = null;
      let start = 0;
      const colon = inner.findIndex((x) => isSpecial(x, ":"));
      if (inner.length > 0 && isSpecial(inner[0], "@") && colon > 0) {
        route = joined(inner.slice(0, colon));
        start = colon + 1;
      }
      const rest = inner.slice(start).filter((x) => !isSpecial(x, ":,;<"));
      const at = rest.findIndex((x) => isSpecial(x, "@"));
      const local = at < 0 ? rest : rest.slice(0, at);
      const host = at < 0 ? [] : rest.slice(at + 1).filter((x) => !isSpecial(x, "@"));
      const name = words.length > 0 ? phrase(words) : commentName;
      if (inner.length === 0 && words.length === 0 && !commentName) {
        // "<>": the null address; nothing to list.
      } else {
        mailbox(name, route, local, host);
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
      if (host.length > 1) {
        host = host.filter((x, k) => k === 0 || x.k === "literal" || x.v.startsWith("."));
      }
    } else if (words.length === 0) {
      continue; // only comments: nothing to list (the separator is handled above)
    }
    const allComments = [...comments, ...trailing];
    const name = allComments.length > 0 ? allComments.join(" ").trim() || null : null;
    if (
      host.length === 0 && !isSpecial(next, "@") &&
      (words.length > 1 || (words.length === 1 && words[0].k === "quoted"))
    ) {
      // "Display Name" alone: a name without an address (Dovecot's reading).
      mailbox(phrase(words), null, [], []);
      continue;
    }
    mailbox(name, null, words, host);
  }
  if (inGroup) out.push({ name: null, route: null, mailbox: null, host: null });
  return out;
}
