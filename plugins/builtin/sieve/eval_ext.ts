/**
 * Evaluating the date tests (RFC 5260 §4, §5) and deleteheader (RFC 5293 §5): the parts
 * of eval.ts's Run that need more than a line.
 *
 * @module
 */
import { decodeEncodedWords } from "../../../mime/encoded_words.ts";
import { datePart, localZone, parseHeaderDate } from "./dates.ts";
import type { HeaderView } from "./headers.ts";
import type { SieveInput } from "./message.ts";
import type { Command, Index, Matching, Test, Zone } from "./tree.ts";

function zoneAt(zone: Zone, own: number, input: SieveInput, ms: number): number {
  if (zone.kind === "fixed") return zone.minutes;
  if (zone.kind === "original") return own;
  return input.zone ?? localZone(ms);
}

/** The values a date / currentdate test compares: one date-part per usable date. */
export function dateValues(
  t: Extract<Test, { t: "date" | "currentdate" }>,
  headers: HeaderView,
  input: SieveInput,
  expand: (s: string) => string,
): string[] {
  const part = expand(t.part);
  if (t.t === "currentdate") {
    const now = input.now ?? Date.now();
    const v = datePart(now, zoneAt(t.zone, localZone(now), input, now), part);
    return v === null ? [] : [v];
  }
  const name = expand(t.header);
  const out: string[] = [];
  const all = headers.headerAll(name);
  // Without :index only the first occurrence counts (as Pigeonhole; RFC 5260 §4 speaks of
  // "the" header field). With :index, the chosen one (RFC 5260 §6).
  for (const raw of t.index ? pickIndex(all, t) : all.slice(0, 1)) {
    const d = parseHeaderDate(name, raw);
    if (d === null) continue; // RFC 5260 §4: an unparsable date does not match
    const v = datePart(d.ms, zoneAt(t.zone, d.zone, input, d.ms), part);
    if (v !== null) out.push(v);
  }
  return out;
}

/** RFC 5260 §6: the :index'th value (from the end with :last), or all without :index. */
export function pickIndex<T>(values: T[], t: Index): T[] {
  if (!t.index) return values;
  const i = t.index.last ? values.length - t.index.n : t.index.n - 1;
  return i >= 0 && i < values.length ? [values[i]] : [];
}

/**
 * RFC 5293 §5: deletes the fields named `name` — only the :index'th (from the end with
 * :last) when given, only those whose decoded value matches a pattern when given.
 */
export function deleteHeader(
  headers: HeaderView,
  name: string,
  c: Extract<Command, { c: "deleteheader" }>,
  match: (values: string[], m: Matching) => boolean,
): number {
  return headers.delete(name, (value, occurrence, count) => {
    if (c.index) {
      const want = c.index.last ? count - c.index.n + 1 : c.index.n;
      if (occurrence !== want) return false;
    }
    return c.values === null || match([decodeEncodedWords(value.trim())], c.values);
  });
}
