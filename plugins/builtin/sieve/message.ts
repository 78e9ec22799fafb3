/**
 * What a script sees of a message and its delivery: header fields, size, body, envelope,
 * the spam score. Built from the SDK's MessageView, or from bytes (CLI, tests).
 *
 * @module
 */
import { parseAddressList } from "../../../mime/address.ts";
import { decodeEncodedWords } from "../../../mime/encoded_words.ts";
import { decodeBody } from "../../../mime/decode.ts";
import { charsetOf } from "../../../mime/mod.ts";
import { parseMime } from "../../../mime/parser.ts";
import { decodeCharset } from "../../../mime/text.ts";
import type { MimePart } from "../../../mime/types.ts";

/** A body part as the body test sees it. */
export interface BodyPart {
  /** "type/subtype", lower case. */
  type: string;
  text: string;
}

/** The message and envelope a script runs on. */
export interface SieveInput {
  /** Every value of a header field (case-insensitive), unfolded, not decoded. */
  headerAll(name: string): string[];
  /** Every header field in order, with its original bytes (for editheader). */
  fields(): Array<{ name: string; value: string; line: Uint8Array }>;
  /** The body bytes after the header block. */
  bodyBytes(): Uint8Array;
  size: number;
  /** The body after the header block, as text (body :raw). */
  rawBody(): string;
  /** The leaf parts, transfer- and charset-decoded (body :text, :content). */
  parts(): BodyPart[];
  /** The envelope sender ("" for <>) and the recipient. */
  envelope: { from: string; to: string };
  /** The spam plugin's score, when it ran; and the score that counts as certain spam. */
  spam?: { score: number; max: number };
  /** RFC 3685 §3 virustest value 1-5 from an antivirus plugin's verdict; absent: 0. */
  virus?: number;
  /** currentdate's "now" (ms); the clock when absent. */
  now?: number;
  /** The local time zone (minutes east of UTC) for date tests; this machine's when absent. */
  zone?: number;
}

/** Header values as the header test compares them: RFC 2047 words decoded (§2.7.2). */
export function decodedHeader(
  input: Pick<SieveInput, "headerAll">,
  name: string,
): string[] {
  return input.headerAll(name).map((v) => decodeEncodedWords(v.trim()));
}

/** The addresses of a header field: local part and domain of each mailbox. */
export function addressesOf(value: string): Array<{ local: string; domain: string }> {
  return parseAddressList(value)
    .filter((a) => a.mailbox !== null && a.host !== null)
    .map((a) => ({ local: a.mailbox!, domain: a.host! }));
}

const MAX_PARTS = 100;

/** A SieveInput over raw message bytes. */
export function inputFromBytes(
  raw: Uint8Array,
  envelope: { from: string; to: string },
  spam?: { score: number; max: number },
  extra: Pick<SieveInput, "virus" | "now" | "zone"> = {},
): SieveInput {
  let root: MimePart | null = null;
  const tree = () => root ??= parseMime(raw, { nonMimeFields: true });
  // Decoded once per message: every body test of a script reads the same text (decoding
  // was ~100 ms per MB and test, so a script of several body tests took seconds).
  let rawText: string | null = null;
  let decoded: BodyPart[] | null = null;
  return {
    headerAll: (name) => {
      const n = name.toLowerCase();
      return tree().headers.filter((f) => f.name.toLowerCase() === n).map((f) => f.value);
    },
    fields: () => tree().headers.map((f) => ({ name: f.name, value: f.value, line: f.line })),
    bodyBytes: () => raw.subarray(tree().bodyStart),
    size: raw.length,
    rawBody: () => rawText ??= new TextDecoder().decode(raw.subarray(tree().bodyStart)),
    parts: () => {
      if (decoded) return decoded;
      const out: BodyPart[] = [];
      const walk = (p: MimePart, depth: number) => {
        if (depth > 20 || out.length >= MAX_PARTS) return;
        if (p.kind === "multipart") { for (const c of p.children) walk(c, depth + 1); }
        else if (p.kind === "message" && p.embedded) walk(p.embedded, depth + 1);
        else {
          const data = decodeBody(raw, p) ?? raw.subarray(p.bodyStart, p.bodyEnd);
          const type = `${p.type}/${p.subtype}`;
          out.push({ type, text: p.type === "text" ? decodeCharset(data, charsetOf(p)) : "" });
        }
      };
      walk(tree(), 0);
      return decoded = out;
    },
    envelope,
    ...(spam ? { spam } : {}),
    ...extra,
  };
}
