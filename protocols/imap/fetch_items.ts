/**
 * FETCH attributes (RFC 9051 §6.4.5, BINARY RFC 3516): parsing into a list of items, and
 * the name each item carries in the response. No I/O.
 *
 * @module
 */
import type { SectionSpec } from "../../mime/mod.ts";
import { ParseError } from "./errors.ts";
import type { ArgReader } from "./parser.ts";
import { astr } from "./response.ts";

/** `<offset.length>` of a partial fetch. */
export interface Partial {
  offset: number;
  length: number;
}

/** One requested FETCH attribute. */
export type FetchItem =
  | { kind: "FLAGS" }
  | { kind: "UID" }
  | { kind: "INTERNALDATE" }
  | { kind: "RFC822.SIZE" }
  | { kind: "ENVELOPE" }
  /** BODY without a section: the non-extensible body structure. */
  | { kind: "BODY" }
  | { kind: "BODYSTRUCTURE" }
  | { kind: "RFC822" }
  | { kind: "RFC822.HEADER" }
  | { kind: "RFC822.TEXT" }
  /** RFC 7162 §3.1.4.1: the message's mod-sequence. */
  | { kind: "MODSEQ" }
  /** BODY[...] / BODY.PEEK[...]; `label` is the section as echoed ("HEADER.FIELDS (To)"). */
  | { kind: "SECTION"; peek: boolean; spec: SectionSpec; label: string; partial: Partial | null }
  /** BINARY[...] / BINARY.PEEK[...] (RFC 3516 §4.2). */
  | { kind: "BINARY"; peek: boolean; part: number[]; partial: Partial | null }
  | { kind: "BINARY.SIZE"; part: number[] };

/** RFC 9051 §6.4.5 macros. */
const MACROS: Record<string, FetchItem["kind"][]> = {
  ALL: ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"],
  FAST: ["FLAGS", "INTERNALDATE", "RFC822.SIZE"],
  FULL: ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"],
};

const SIMPLE = new Set([
  "FLAGS",
  "UID",
  "INTERNALDATE",
  "RFC822.SIZE",
  "ENVELOPE",
  "BODY",
  "BODYSTRUCTURE",
  "RFC822",
  "RFC822.HEADER",
  "RFC822.TEXT",
  "MODSEQ", // RFC 7162 §3.1.4.1
]);

const isNameChar = (c: number) =>
  (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) ||
  c === 0x2e;

/** Parses the fetch attributes after "FETCH seq-set SP". */
export function parseFetchItems(r: ArgReader): FetchItem[] {
  if (r.peek() === "(") return r.list(() => parseItem(r, r.takeWhile(isNameChar)), false);
  // Macros stand alone: "ALL", "FAST", "FULL" (never inside a list).
  const name = r.takeWhile(isNameChar);
  const macro = MACROS[name.toUpperCase()];
  if (macro) return macro.map((kind) => ({ kind }) as FetchItem);
  return [parseItem(r, name)];
}

/** One fetch-att whose name has been read already. */
function parseItem(r: ArgReader, rawName: string): FetchItem {
  const name = rawName.toUpperCase();
  if (name === "") throw new ParseError("Expected a fetch attribute");
  if (name === "BODY" || name === "BODY.PEEK") {
    if (r.peek() !== "[") {
      if (name === "BODY.PEEK") throw new ParseError("BODY.PEEK needs a section");
      return { kind: "BODY" };
    }
    const { spec, label } = parseSection(r);
    return { kind: "SECTION", peek: name === "BODY.PEEK", spec, label, partial: parsePartial(r) };
  }
  if (name === "BINARY" || name === "BINARY.PEEK" || name === "BINARY.SIZE") {
    r.expectChar("[");
    const text = r.takeWhile(isNameChar);
    r.expectChar("]");
    const part = text === "" ? [] : parsePartNumbers(text.split("."));
    if (name === "BINARY.SIZE") return { kind: "BINARY.SIZE", part };
    return { kind: "BINARY", peek: name === "BINARY.PEEK", part, partial: parsePartial(r) };
  }
  if (SIMPLE.has(name)) return { kind: name } as FetchItem;
  throw new ParseError(`Unknown fetch attribute ${name}`);
}

function parsePartNumbers(parts: string[]): number[] {
  return parts.map((p) => {
    if (!/^[1-9]\d{0,8}$/.test(p)) throw new ParseError(`Invalid section part "${p}"`);
    return Number(p);
  });
}

/** section = "[" [section-spec] "]" (RFC 9051 §9). */
function parseSection(r: ArgReader): { spec: SectionSpec; label: string } {
  r.expectChar("[");
  const text = r.takeWhile(isNameChar).toUpperCase();
  const pieces = text === "" ? [] : text.split(".");
  let i = 0;
  while (i < pieces.length && /^\d+$/.test(pieces[i])) i++;
  const part = parsePartNumbers(pieces.slice(0, i));
  const rest = pieces.slice(i).join(".");
  const spec: SectionSpec = { part };
  let label = text;
  switch (rest) {
    case "":
      if (text.endsWith(".")) throw new ParseError("Invalid section");
      break;
    case "HEADER":
    case "TEXT":
      spec.text = rest;
      break;
    case "MIME":
      // RFC 9051 §6.4.5: MIME only after a part number.
      if (part.length === 0) throw new ParseError("MIME needs a part number");
      spec.text = rest;
      break;
    case "HEADER.FIELDS":
    case "HEADER.FIELDS.NOT": {
      spec.text = rest;
      r.space();
      const fields = r.list(() => r.astring("a header field name"), false);
      for (const f of fields) {
        // RFC 5322 §3.6.8 field-name: printable ASCII except ":".
        if (!/^[\x21-\x39\x3b-\x7e]+$/.test(f)) throw new ParseError(`Invalid field name "${f}"`);
      }
      spec.fields = fields;
      label = `${text} (${fields.map((f) => astr(f)).join(" ")})`;
      break;
    }
    default:
      throw new ParseError(`Invalid section "${text}"`);
  }
  r.expectChar("]");
  return { spec, label };
}

/** partial = "<" number "." nz-number ">". */
function parsePartial(r: ArgReader): Partial | null {
  if (!r.tryChar("<")) return null;
  const offset = r.number("a partial offset");
  r.expectChar(".");
  const length = r.nzNumber("a partial length");
  r.expectChar(">");
  return { offset, length };
}

/** Whether fetching this item sets \Seen (RFC 9051 §6.4.5: BODY[...] and RFC822[.TEXT]). */
export function setsSeen(item: FetchItem): boolean {
  switch (item.kind) {
    case "SECTION":
    case "BINARY":
      return !item.peek;
    case "RFC822":
    case "RFC822.TEXT":
      return true;
    default:
      return false;
  }
}

/** Whether the item needs the message's bytes. */
export function needsContent(item: FetchItem): boolean {
  switch (item.kind) {
    case "FLAGS":
    case "UID":
    case "INTERNALDATE":
    case "RFC822.SIZE":
    case "MODSEQ":
      return false;
    default:
      return true;
  }
}
