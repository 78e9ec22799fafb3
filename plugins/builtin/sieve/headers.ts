/**
 * The header as a script sees it, with editheader's changes (RFC 5293): addheader puts a
 * field first (or last with :last), deleteheader removes fields; later tests see the
 * edited header, and the host stores the edited message (the plugin rebuilds it from
 * {@link HeaderView.fields}: untouched fields keep their original bytes).
 *
 * Invariants: at most {@link MAX_EDITS} edits per run; Received and Auto-Submitted are
 * never deleted (PROTECTED_FIELDS, as Pigeonhole); an added value is one line of at most
 * {@link MAX_VALUE} characters, RFC 2047-encoded when not ASCII.
 *
 * @module
 */
import type { SieveInput } from "./message.ts";

export const MAX_EDITS = 64;
export const MAX_VALUE = 2000;

/** One field: original ones keep their bytes (`line`), added ones have none. */
export interface Field {
  name: string;
  lname: string;
  value: string;
  line: Uint8Array | null;
}

export class HeaderView {
  #fields: Field[] | null = null;
  edits = 0;

  constructor(readonly input: SieveInput) {}

  /** True once a script changed the header. */
  get edited(): boolean {
    return this.#fields !== null;
  }

  /** Every value of a field, unfolded, in order. */
  headerAll(name: string): string[] {
    if (this.#fields === null) return this.input.headerAll(name);
    const n = name.toLowerCase();
    return this.#fields.filter((f) => f.lname === n).map((f) => f.value);
  }

  /** The edited field list (the original one until an edit). */
  fields(): Field[] {
    return this.#fields ??= this.input.fields().map((f) => ({
      name: f.name,
      lname: f.name.toLowerCase(),
      value: f.value,
      line: f.line,
    }));
  }

  add(name: string, value: string, last: boolean): void {
    const f: Field = {
      name,
      lname: name.toLowerCase(),
      value: value.replace(/\r?\n[ \t]*/g, " ").slice(0, MAX_VALUE),
      line: null,
    };
    const list = this.fields();
    if (last) list.push(f);
    else list.unshift(f);
  }

  /**
   * Deletes the fields named `name` for which `pick(value, occurrence, count)` holds
   * (occurrence 1-based among the fields of that name). Returns how many went.
   */
  delete(
    name: string,
    pick: (value: string, occurrence: number, count: number) => boolean,
  ): number {
    const n = name.toLowerCase();
    const list = this.fields();
    const count = list.filter((f) => f.lname === n).length;
    let seen = 0, gone = 0;
    this.#fields = list.filter((f) => {
      if (f.lname !== n) return true;
      const drop = pick(f.value, ++seen, count);
      if (drop) gone++;
      return !drop;
    });
    return gone;
  }
}

/** RFC 2047 B-encoding for a header value that is not ASCII. */
export function encodeWord(s: string): string {
  if (/^[\x20-\x7e\t]*$/.test(s)) return s;
  const bytes = new TextEncoder().encode(s);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return `=?UTF-8?B?${btoa(bin)}?=`;
}

/** The message with an edited header: `fields` then the original body. */
export function rebuildMessage(fields: readonly Field[], body: Uint8Array): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = fields.map((f) =>
    f.line ?? enc.encode(`${f.name}: ${encodeWord(f.value)}\r\n`)
  );
  parts.push(enc.encode("\r\n"), body);
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
