/**
 * The author identities a submitted message claims: the addresses in its From: and
 * Sender: header fields (RFC 5322 §3.6.2), for the submission check that a user sends
 * only as an address they own (core/identity.ts). No I/O.
 *
 * Read strictly for this purpose: every field named From or Sender counts (a message with
 * two From: fields is checked on both), a field whose value yields no usable address is
 * reported with `unusable` so the caller refuses it rather than letting a mail program
 * show a name we never checked.
 *
 * @module
 */
import { parseAddressList } from "../mime/address.ts";

/** The header section is looked at up to this many bytes (as trace.ts headerSection). */
const MAX_HEADER_BYTES = 256 * 1024;
const AUTHOR_FIELDS: ReadonlySet<string> = new Set(["from", "sender"]);

/** One From:/Sender: field: its name as written and the addresses it names. */
export interface AuthorField {
  field: string;
  addresses: string[];
  /** The value names no complete address (empty, a group, garbage). */
  unusable: boolean;
}

const utf8 = new TextDecoder("utf-8", { fatal: false });

/** The From: and Sender: fields of `message`, in order. */
export function authorFields(message: Uint8Array): AuthorField[] {
  const head = utf8.decode(message.subarray(0, headerEnd(message)));
  const out: AuthorField[] = [];
  // RFC 5322 §2.2.3: a line starting with SP/HT continues the field before it (unfolding).
  const fields: string[] = [];
  for (const line of head.split(/\r?\n/)) {
    if ((line.startsWith(" ") || line.startsWith("\t")) && fields.length > 0) {
      fields[fields.length - 1] += " " + line.trim();
    } else if (line !== "") {
      fields.push(line);
    }
  }
  for (const f of fields) {
    const colon = f.indexOf(":");
    if (colon <= 0) continue;
    const name = f.slice(0, colon).trimEnd();
    if (!AUTHOR_FIELDS.has(name.toLowerCase())) continue;
    const addresses: string[] = [];
    let unusable = false;
    for (const a of parseAddressList(f.slice(colon + 1))) {
      if (a.host === null) continue; // group start/end markers (RFC 5322 §3.4)
      if (a.mailbox === "MISSING_MAILBOX" || a.host === "MISSING_DOMAIN") unusable = true;
      else addresses.push(`${a.mailbox}@${a.host}`);
    }
    out.push({ field: name, addresses, unusable: unusable || addresses.length === 0 });
  }
  return out;
}

/** Offset of the end of the header section (the empty line), bounded. */
function headerEnd(b: Uint8Array): number {
  const limit = Math.min(b.length, MAX_HEADER_BYTES);
  if (b[0] === 0x0a || (b[0] === 0x0d && b[1] === 0x0a)) return 0;
  for (let i = 0; i + 1 < limit; i++) {
    if (b[i] !== 0x0a) continue;
    if (b[i + 1] === 0x0a) return i + 1;
    if (b[i + 1] === 0x0d && b[i + 2] === 0x0a) return i + 1;
  }
  return limit;
}
