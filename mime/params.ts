/**
 * MIME structured header values: Content-Type (RFC 2045 §5.1), Content-Disposition
 * (RFC 2183), Content-Transfer-Encoding (RFC 2045 §6.1), Content-Language (RFC 3282),
 * with RFC 2231 parameter continuations and charsets. Lenient, never throws.
 *
 * @module
 */
import type { MimeParam } from "./types.ts";
import { decodeCharset, isAscii, textToBytes } from "./text.ts";

/** RFC 2045 §5.1 tspecials, plus white space and controls: what ends a token. */
function isTokenChar(c: number): boolean {
  if (c <= 32 || c === 127) return false;
  // ()<>@,;:\"/[]?=
  return !(c === 40 || c === 41 || c === 60 || c === 62 || c === 64 || c === 44 || c === 59 ||
    c === 58 || c === 92 || c === 34 || c === 47 || c === 91 || c === 93 || c === 63 || c === 61);
}

/** A cursor over a header value string. */
class Lexer {
  pos = 0;
  constructor(readonly s: string) {}

  /** Skips white space and RFC 5322 comments (nested, with quoted-pairs). */
  skipCfws(): void {
    const s = this.s;
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos);
      if (c === 32 || c === 9 || c === 13 || c === 10) {
        this.pos++;
      } else if (c === 40) {
        let depth = 0;
        while (this.pos < s.length) {
          const d = s.charCodeAt(this.pos++);
          if (d === 92) this.pos++;
          else if (d === 40) depth++;
          else if (d === 41 && --depth === 0) break;
        }
      } else {
        return;
      }
    }
  }

  /** Reads a token (possibly empty). */
  token(): string {
    const start = this.pos;
    while (this.pos < this.s.length && isTokenChar(this.s.charCodeAt(this.pos))) this.pos++;
    return this.s.slice(start, this.pos);
  }

  /** Reads a quoted-string at `pos` (which holds the DQUOTE); unterminated runs to the end. */
  quoted(): string {
    const s = this.s;
    let out = "";
    let i = this.pos + 1;
    let run = i;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === 34) break;
      if (c === 92 && i + 1 < s.length) {
        out += s.slice(run, i);
        run = i + 1;
        i += 2;
        continue;
      }
      i++;
    }
    out += s.slice(run, i);
    this.pos = i < s.length ? i + 1 : i;
    return out;
  }

  peek(): number {
    return this.pos < this.s.length ? this.s.charCodeAt(this.pos) : -1;
  }
}

/** Content-Type split into its parts; null when syntactically invalid. */
export interface ContentType {
  type: string;
  subtype: string;
  params: MimeParam[];
}

/**
 * Parses a Content-Type value. RFC 2045 §5.2: an invalid value is treated as absent
 * (the caller then applies the text/plain default), so this returns null for it.
 */
export function parseContentType(value: string): ContentType | null {
  const lx = new Lexer(value);
  lx.skipCfws();
  const type = lx.token();
  lx.skipCfws();
  if (type === "" || lx.peek() !== 47 /* / */) return null;
  lx.pos++;
  lx.skipCfws();
  const subtype = lx.token();
  if (subtype === "") return null;
  return { type: type.toLowerCase(), subtype: subtype.toLowerCase(), params: parseParams(lx) };
}

/** Parses a Content-Disposition value (RFC 2183 §2); null when it has no type token. */
export function parseDisposition(value: string): { type: string; params: MimeParam[] } | null {
  const lx = new Lexer(value);
  lx.skipCfws();
  const type = lx.token();
  if (type === "") return null;
  return { type: type.toLowerCase(), params: parseParams(lx) };
}

/** Parses Content-Transfer-Encoding: one token, lower-cased; null when invalid. */
export function parseEncoding(value: string): string | null {
  const lx = new Lexer(value);
  lx.skipCfws();
  const t = lx.token();
  lx.skipCfws();
  return t !== "" && lx.pos >= value.length ? t.toLowerCase() : null;
}

/** Parses Content-Language (RFC 3282): comma-separated tags; null when none. */
export function parseLanguage(value: string): string[] | null {
  const out: string[] = [];
  const lx = new Lexer(value);
  while (lx.pos < value.length && out.length < 100) {
    lx.skipCfws();
    const start = lx.pos;
    while (lx.pos < value.length) {
      const c = value.charCodeAt(lx.pos);
      if (c === 44 || c === 32 || c === 9 || c === 40) break;
      lx.pos++;
    }
    if (lx.pos > start) out.push(value.slice(start, lx.pos));
    lx.skipCfws();
    if (lx.peek() === 44) lx.pos++;
    else if (lx.pos < value.length && lx.pos === start) lx.pos++; // junk: skip one char
  }
  return out.length > 0 ? out : null;
}

interface RawParam {
  name: string;
  value: string;
}

/**
 * Reads `; attr=value` pairs until the end; lenient about missing `;` and bad values. A
 * broken parameter is skipped and reading goes on; Dovecot stops there and loses the rest
 * (`text/plain;; charset=utf-8` has no charset for it, `charset; name="q"` no name).
 */
function readRawParams(lx: Lexer): RawParam[] {
  const out: RawParam[] = [];
  const s = lx.s;
  while (lx.pos < s.length && out.length < 1000) {
    lx.skipCfws();
    if (lx.peek() === 59 /* ; */) {
      lx.pos++;
      continue;
    }
    const before = lx.pos;
    const name = lx.token();
    lx.skipCfws();
    if (name === "" || lx.peek() !== 61 /* = */) {
      // Not a parameter: skip to the next ';'.
      const semi = s.indexOf(";", Math.max(lx.pos, before + 1));
      lx.pos = semi < 0 ? s.length : semi;
      continue;
    }
    lx.pos++;
    lx.skipCfws();
    let value: string;
    if (lx.peek() === 34 /* " */) {
      value = lx.quoted();
    } else {
      // Lenient: an unquoted value runs to ';', where RFC 2045 §5.1 says it is one token.
      // Real mail has unquoted file names with spaces (`name=my file.pdf`) and boundaries
      // with "=" (`boundary=----=_NextPart_000`): Dovecot cuts both at the first space or
      // tspecial ("my", "----": a wrong name, a bogus extra part); we keep the whole value.
      // A trailing comment "(…)" after white space is dropped.
      const semi = s.indexOf(";", lx.pos);
      const end = semi < 0 ? s.length : semi;
      value = s.slice(lx.pos, end).trim();
      const m = /^(\S+)\s+\(.*\)$/.exec(value);
      if (m) value = m[1];
      lx.pos = end;
      // A charset name never holds white space (RFC 2978 §2.3): `charset=utf-8 junk` is
      // utf-8, as Dovecot reads it, so the text still decodes.
      if (name.toLowerCase() === "charset") value = value.split(/\s/, 1)[0];
    }
    out.push({ name: name.toLowerCase(), value });
  }
  return out;
}

interface Pending {
  name: string;
  plain?: string;
  segments: Map<number, { value: string; encoded: boolean }>;
}

/** Percent-decodes an RFC 2231 extended value into bytes (invalid escapes kept literally). */
function percentDecode(s: string, out: number[]): void {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 && i + 2 < s.length && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) {
      out.push(c);
    } else {
      for (const b of textToBytes(s[i])) out.push(b);
    }
  }
}

/** Percent-encodes bytes for an RFC 2231 extended value (attribute-char kept). */
function percentEncode(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) {
    const ch = String.fromCharCode(b);
    s += b > 32 && b < 127 && isTokenChar(b) && b !== 42 && b !== 39 && b !== 37
      ? ch
      : "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return s;
}

/**
 * Parses parameters and merges RFC 2231 §3 continuations (`name*0`, `name*1*`) and
 * §4 charsets (`name*=utf-8'en'%E2%82%AC`). First occurrence of a name wins; an
 * extended value wins over a plain one of the same name (RFC 2231 §4.1 intent).
 */
function parseParams(lx: Lexer): MimeParam[] {
  const raws = readRawParams(lx);
  const order: Pending[] = [];
  const byName = new Map<string, Pending>();
  for (const r of raws) {
    const m = /^([^*]+)\*(?:(\d{1,4})(\*)?|)$/.exec(r.name);
    const base = m ? m[1] : r.name;
    let p = byName.get(base);
    if (!p) {
      p = { name: base, segments: new Map() };
      byName.set(base, p);
      order.push(p);
    }
    if (!m) {
      if (p.plain === undefined) p.plain = r.value;
    } else {
      // `name*` alone is segment 0, encoded; `name*N` plain; `name*N*` encoded.
      const index = m[2] === undefined ? 0 : Number(m[2]);
      const encoded = m[2] === undefined || m[3] === "*";
      if (!p.segments.has(index)) p.segments.set(index, { value: r.value, encoded });
    }
  }
  const out: MimeParam[] = [];
  for (const p of order) {
    if (p.segments.size === 0) {
      out.push({ name: p.name, value: p.plain ?? "" });
      continue;
    }
    const first = p.segments.get(0);
    if (!first) {
      out.push({ name: p.name, value: p.plain ?? "" });
      continue;
    }
    let charset = "";
    let language = "";
    const bytes: number[] = [];
    let anyEncoded = false;
    for (let i = 0; p.segments.has(i); i++) {
      const seg = p.segments.get(i)!;
      let v = seg.value;
      if (seg.encoded) {
        anyEncoded = true;
        if (i === 0) {
          // RFC 2231 §4: charset'language'value
          const q1 = v.indexOf("'");
          const q2 = q1 < 0 ? -1 : v.indexOf("'", q1 + 1);
          if (q2 >= 0) {
            charset = v.slice(0, q1);
            language = v.slice(q1 + 1, q2);
            v = v.slice(q2 + 1);
          }
        }
        percentDecode(v, bytes);
      } else {
        for (const b of textToBytes(v)) bytes.push(b);
      }
    }
    const raw = new Uint8Array(bytes);
    const value = anyEncoded ? decodeCharset(raw, charset || "us-ascii") : bytesAsText(raw);
    const param: MimeParam = { name: p.name, value };
    if (anyEncoded && !isAscii(value)) {
      param.extended = `${charset || "us-ascii"}'${language}'${percentEncode(raw)}`;
    }
    out.push(param);
  }
  return out;
}

function bytesAsText(raw: Uint8Array): string {
  return decodeCharset(raw, "utf-8");
}

/** The value of the first parameter named `name` (lower-case), or undefined. */
export function paramValue(params: readonly MimeParam[], name: string): string | undefined {
  for (const p of params) if (p.name === name) return p.value;
  return undefined;
}
