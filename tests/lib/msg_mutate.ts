/**
 * Mutations of real messages for the message-path fuzzer (`deno task bench msgfuzz`): each
 * breaks a message the way broken or hostile mail does (MIME boundaries, transfer
 * encodings, charsets, encoded words, line endings, header floods, nesting). Deterministic:
 * the same PRNG seed and seed message give the same mutant, so a finding replays.
 *
 * Messages are handled as "binary strings" (one char per byte, latin1) so 8-bit bytes and
 * NULs survive every edit.
 *
 * @module
 */

/** mulberry32: small, fast, deterministic. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rand = () => number;
const int = (r: Rand, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)];

export const toBin = (b: Uint8Array): string => {
  let s = "";
  for (let i = 0; i < b.length; i += 0x8000) {
    s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  }
  return s;
};
export const fromBin = (s: string): Uint8Array => {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
};

/** Start offsets of every line (after LF). */
function lineStarts(s: string): number[] {
  const out = [0];
  for (let i = s.indexOf("\n"); i >= 0 && i + 1 < s.length; i = s.indexOf("\n", i + 1)) {
    out.push(i + 1);
  }
  return out;
}
function lineAt(s: string, start: number): string {
  const e = s.indexOf("\n", start);
  return s.slice(start, e < 0 ? s.length : e + 1);
}
function headerEnd(s: string): number {
  const a = s.indexOf("\r\n\r\n"), b = s.indexOf("\n\n");
  if (a < 0 && b < 0) return s.length;
  if (a < 0) return b + 1;
  if (b < 0) return a + 2;
  return Math.min(a + 2, b + 1);
}
function boundaries(s: string): string[] {
  const out: string[] = [];
  const re = /boundary\s*=\s*"?([^"\r\n;]+)"?/gi;
  for (const m of s.matchAll(re)) out.push(m[1]);
  return out;
}
/** Offsets of lines starting with `--b`. */
function boundaryLines(s: string, b: string): number[] {
  return lineStarts(s).filter((o) => s.startsWith("--" + b, o));
}
function replaceAt(s: string, start: number, end: number, w: string): string {
  return s.slice(0, start) + w + s.slice(end);
}
/** Positions of `needle` (case-insensitive) in s. */
function findAll(s: string, needle: RegExp): Array<[number, number]> {
  return [...s.matchAll(needle)].map((m) => [m.index!, m.index! + m[0].length]);
}

const GARBAGE_CHARSETS = [
  "",
  "utf-7",
  "utf-16",
  "utf-32le",
  "iso-2022-jp",
  "x-\xff\xfe",
  "../../etc/passwd",
  "unicode-1-1-utf-7",
  "replacement",
  "x".repeat(5000),
  '"',
  "utf-8\x00",
  "gb18030",
  "hz-gb-2312",
  "windows-1252'en'",
];
const SWAP_TYPES = [
  "multipart/mixed",
  'multipart/alternative; boundary=""',
  "multipart/related; boundary=",
  "message/rfc822",
  "message/global",
  "message/partial; id=x; number=1; total=2",
  "text/html",
  "text/plain; charset=utf-16",
  "application/octet-stream",
  'multipart/digest; boundary="zz"',
  "text/enriched",
  "message/delivery-status",
  "text/rfc822-headers",
];
const EIGHT_BIT = ["\xe9", "\xff\xfe", "\xc3", "\x80\x81", "\xe2\x82", "\xf0\x9f\x98"];

type Mutation = (s: string, r: Rand) => string;

export const MUTATIONS: Record<string, Mutation> = {
  byteFlip(s, r) {
    const b = s.split("");
    for (let k = 1 + int(r, 8); k > 0 && b.length; k--) {
      const i = int(r, b.length);
      b[i] = String.fromCharCode(b[i].charCodeAt(0) ^ (1 << int(r, 8)));
    }
    return b.join("");
  },
  cut(s, r) {
    return s.slice(0, int(r, s.length + 1));
  },
  boundaryRemove(s, r) {
    const b = boundaries(s);
    if (!b.length) return s;
    const ls = boundaryLines(s, pick(r, b));
    if (!ls.length) return s;
    const o = pick(r, ls);
    return replaceAt(s, o, o + lineAt(s, o).length, "");
  },
  boundaryDuplicate(s, r) {
    const b = boundaries(s);
    if (!b.length) return s;
    const ls = boundaryLines(s, pick(r, b));
    if (!ls.length) return s;
    const o = pick(r, ls);
    const line = lineAt(s, o);
    return replaceAt(s, o, o, line.repeat(1 + int(r, 50)));
  },
  boundaryPrefix(s, r) {
    // The declared boundary becomes a prefix of another, or a boundary line a prefix of it.
    const b = boundaries(s);
    if (!b.length) return s;
    const x = pick(r, b);
    if (r() < 0.5) return s.replace('boundary="' + x, 'boundary="' + x.slice(0, -1));
    const ls = boundaryLines(s, x);
    if (!ls.length) return s;
    const o = pick(r, ls);
    return replaceAt(s, o, o + 2 + x.length, "--" + x.slice(0, int(r, x.length)));
  },
  boundaryNest(s, r) {
    // Opens a new multipart with the SAME boundary inside a part.
    const b = boundaries(s);
    if (!b.length) return s;
    const x = pick(r, b);
    const ls = boundaryLines(s, x);
    if (!ls.length) return s;
    const o = pick(r, ls);
    const line = lineAt(s, o);
    const nest = `--${x}\r\nContent-Type: multipart/mixed; boundary="${x}"\r\n\r\n`;
    return replaceAt(s, o, o + line.length, nest.repeat(1 + int(r, 100)) + line);
  },
  headerRepeat(s, r) {
    const he = headerEnd(s);
    const ls = lineStarts(s.slice(0, he));
    const o = pick(r, ls);
    const line = lineAt(s, o);
    if (!line.trim()) return s;
    return replaceAt(s, o, o, line.repeat(10_000));
  },
  headerFold(s, r) {
    const he = headerEnd(s);
    const ls = lineStarts(s.slice(0, he)).filter((o) => /^[!-9;-~]+:/.test(lineAt(s, o)));
    if (!ls.length) return s;
    const o = pick(r, ls);
    const line = lineAt(s, o);
    const eol = line.endsWith("\r\n") ? "\r\n" : "\n";
    const body = line.slice(0, line.length - eol.length);
    const fold = pick(r, [" x", " =?utf-8?q?a?=", "\t", " ", ' "', " (", " <a@b>,"]);
    return replaceAt(s, o, o + line.length, body + (eol + fold).repeat(10_000) + eol);
  },
  typeSwap(s, r) {
    const hits = findAll(s, /content-type:[^\r\n]*(\r?\n[ \t][^\r\n]*)*/gi);
    if (!hits.length) return s;
    const [a, e] = pick(r, hits);
    return replaceAt(s, a, e, "Content-Type: " + pick(r, SWAP_TYPES));
  },
  rfc822AroundGarbage(s, r) {
    const hits = findAll(s, /content-type:[^\r\n]*(\r?\n[ \t][^\r\n]*)*/gi);
    if (!hits.length) return s;
    const [a, e] = pick(r, hits);
    const out = replaceAt(s, a, e, "Content-Type: message/rfc822");
    // And garbage right after the part header.
    const he = out.indexOf("\n\n", a) >= 0 ? out.indexOf("\n\n", a) + 2 : out.length;
    return replaceAt(out, he, he, pick(r, ["\x00\x01\x02", ":::\r\n", "--\r\n", "\r\n\r\n"]));
  },
  charsetGarbage(s, r) {
    const hits = findAll(s, /charset\s*=\s*"?[^"\s;]*"?/gi);
    if (!hits.length) {
      return s.replace(/(content-type:[^\r\n]*)/i, `$1; charset="${pick(r, GARBAGE_CHARSETS)}"`);
    }
    const [a, e] = pick(r, hits);
    return replaceAt(s, a, e, `charset="${pick(r, GARBAGE_CHARSETS)}"`);
  },
  base64Break(s, r) {
    // Lines that look like base64 body lines.
    const ls = lineStarts(s).filter((o) =>
      /^[A-Za-z0-9+/]{40,}={0,2}\r?$/.test(lineAt(s, o).replace(/\n$/, ""))
    );
    if (!ls.length) return s;
    let out = s;
    for (let k = 1 + int(r, 5); k > 0; k--) {
      const o = pick(r, ls);
      const i = o + int(r, 40);
      out = replaceAt(
        out,
        i,
        i + (r() < 0.3 ? 1 : 0),
        pick(r, ["=", "==", "", "!", "\xff", "\x00", "-_", "=A"]),
      );
    }
    return out;
  },
  qpBreak(s, r) {
    const ls = lineStarts(s).filter((o) => /=[0-9A-F]{2}|=\r?\n/.test(lineAt(s, o)));
    if (!ls.length) return s;
    let out = s;
    for (let k = 1 + int(r, 5); k > 0; k--) {
      const o = pick(r, ls);
      const line = lineAt(out, o);
      const i = o + line.replace(/\r?\n$/, "").length;
      out = replaceAt(out, i, i, pick(r, ["=", "=ZZ", "=\r", "= ", "=0", "=\xff", "==", "=\x00"]));
    }
    return out;
  },
  encodedWordCut(s, r) {
    const hits = findAll(s, /=\?[^?\s]+\?[bqBQ]\?[^?\s]*\?=/g);
    if (!hits.length) {
      return s.replace(/^subject:/im, "Subject: =?utf-8?b?w6" + " =?x?q?=ZZ?= =?utf-8?q?" + " ");
    }
    const [a, e] = pick(r, hits);
    const cut = a + 1 + int(r, e - a - 1);
    return replaceAt(s, cut, e, pick(r, ["", "?=", "=?", "\r\n =?", " "]));
  },
  eightBitHeader(s, r) {
    const he = headerEnd(s);
    let out = s;
    for (let k = 1 + int(r, 10); k > 0; k--) {
      const i = int(r, he);
      out = replaceAt(out, i, i, pick(r, EIGHT_BIT));
    }
    return out;
  },
  controlBytes(s, r) {
    let out = s;
    for (let k = 1 + int(r, 20); k > 0; k--) {
      const i = int(r, out.length);
      out = replaceAt(out, i, i, pick(r, ["\r", "\n", "\x00", "\r\r\n", "\n\r"]));
    }
    return out;
  },
  lineEndings(s, r) {
    const f = int(r, 3);
    if (f === 0) return s.replace(/\r\n/g, "\n");
    if (f === 1) return s.replace(/\r?\n/g, "\r");
    return s.replace(/\r?\n/g, () => (r() < 0.5 ? "\n" : "\r\n"));
  },
  longLine(s, r) {
    const i = r() < 0.5 ? int(r, headerEnd(s)) : int(r, s.length);
    return replaceAt(
      s,
      i,
      i,
      pick(r, ["a", " ", "=", "<", "=?", ",", '"']).repeat(200_000 + int(r, 800_000)),
    );
  },
  nestMultiply(s, r) {
    // The message pasted into itself N times as message/rfc822 or as a multipart part.
    const n = 2 + int(r, 200);
    let out = s;
    const asMessage = r() < 0.5;
    for (let k = 0; k < n && out.length < 4_000_000; k++) {
      out = asMessage
        ? `Content-Type: message/rfc822\r\n\r\n${out}`
        : `Content-Type: multipart/mixed; boundary="n${k % 3}"\r\n\r\n--n${k % 3}\r\n${out}\r\n--n${
          k % 3
        }--\r\n`;
    }
    return out;
  },
  paramContinuations(s, r) {
    // RFC 2231 §3 continuations out of order, huge indexes, broken %-escapes.
    const n = 100 + int(r, 20_000);
    const conts = Array.from({ length: n }, (_, i) => {
      const k = pick(r, [i, n - i, int(r, 1 << 30), 4294967295]);
      return `name*${k}*=${pick(r, ["%41", "%", "%ZZ", "utf-8''%C3", "a"])}`;
    });
    return s.replace(/^(content-(?:type|disposition):[^\r\n]*)/im, `$1; ${conts.join("; ")}`);
  },
  encodedWordCharsets(s, r) {
    const n = 100 + int(r, 20_000);
    const words = Array.from({ length: n }, (_, i) => `=?x-${i}?${pick(r, ["q", "b"])}?YQ==?=`);
    return s.replace(/^subject:[^\r\n]*/im, `Subject: ${words.join(" ")}`);
  },
  manyParts(s, r) {
    const n = 1000 + int(r, 20_000);
    return `Content-Type: multipart/mixed; boundary="p"\r\n\r\n` +
      "--p\r\nContent-Type: text/plain\r\n\r\nx\r\n".repeat(n) + "--p--\r\n" + s;
  },
};

export const MUTATION_NAMES = Object.keys(MUTATIONS);

/** Applies 1..3 random mutations; returns the names applied and the mutant. */
export function mutate(seed: Uint8Array, r: Rand): { names: string[]; bytes: Uint8Array } {
  let s = toBin(seed);
  const names: string[] = [];
  for (let k = 1 + (r() < 0.3 ? int(r, 3) : 0); k > 0; k--) {
    const name = pick(r, MUTATION_NAMES);
    s = MUTATIONS[name](s, r);
    names.push(name);
  }
  return { names, bytes: fromBin(s) };
}
