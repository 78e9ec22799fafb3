/**
 * What filters, sorts and snippets read from a message itself: its MIME tree and the sort
 * keys of RFC 8621 §4.4.2 (from, to, subject, sentAt), each computed when first asked for.
 *
 * @module
 */
import { type MimePart, parseMime } from "../../../mime/mod.ts";
import { baseSubject } from "../../../mime/subject.ts";
import { headerAs } from "./email_parse.ts";

interface Address {
  name: string | null;
  email: string | null;
}

/** The sort text of an address list: the first address's name, else its email. */
function firstAddress(v: unknown): string {
  const list = Array.isArray(v) ? (v as Address[]) : [];
  const a = list[0];
  return (a?.name || a?.email || "").toLowerCase();
}

export class MessageInfo {
  readonly root: MimePart;
  #from?: string;
  #to?: string;
  #subject?: string;
  #sentAt?: number | null;
  constructor(readonly bytes: Uint8Array) {
    this.root = parseMime(bytes);
  }
  get from(): string {
    return this.#from ??= firstAddress(headerAs(this.root, "from", "Addresses"));
  }
  get to(): string {
    return this.#to ??= firstAddress(headerAs(this.root, "to", "Addresses"));
  }
  /** The base subject (RFC 5256 §2.1), case folded. */
  get subject(): string {
    return this.#subject ??= baseSubject(String(headerAs(this.root, "subject", "Text") ?? ""));
  }
  /** The Date header in ms, or null. */
  get sentAt(): number | null {
    if (this.#sentAt === undefined) {
      const d = headerAs(this.root, "date", "Date");
      const t = typeof d === "string" ? Date.parse(d) : NaN;
      this.#sentAt = Number.isFinite(t) ? t : null;
    }
    return this.#sentAt;
  }
}
