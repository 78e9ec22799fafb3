/**
 * The headers a message is threaded by (RFC 8621 §3), read the same way by both backends:
 * its Message-ID, In-Reply-To and References ids and its base subject (Re:/Fwd: and list
 * tags removed). Only the header block is parsed (at most `MAX_HEADER_BYTES`) and at most
 * `MAX_REFERENCES` ids are kept: bounded work on the delivery path.
 *
 * @module
 */
import { decodeEncodedWords, headerValue, parseMime } from "../mime/mod.ts";
import { baseSubject } from "../mime/subject.ts";

/** Header bytes parsed for threading (a header block is rarely beyond a few KB). */
const MAX_HEADER_BYTES = 64 * 1024;
/** Referenced ids looked up per message (the last ones: the nearest ancestors). */
const MAX_REFERENCES = 50;
const MAX_ID_CHARS = 500;

/** The `<...>` ids of a header value, without the brackets, lower-cased. */
function messageIds(value: string | null): string[] {
  if (!value) return [];
  const out: string[] = [];
  let at = 0;
  for (;;) {
    const open = value.indexOf("<", at);
    if (open < 0) break;
    const close = value.indexOf(">", open + 1);
    if (close < 0) break;
    const id = value.slice(open + 1, close).trim().toLowerCase();
    if (id !== "" && id.length <= MAX_ID_CHARS) out.push(id);
    at = close + 1;
  }
  return out;
}

/** The threading headers of a message (its header block only). */
export function threadHeaders(
  message: Uint8Array,
): { ids: string[]; refs: string[]; subject: string } {
  let end = message.length;
  for (let i = 0; i + 1 < message.length && i < MAX_HEADER_BYTES; i++) {
    if (message[i] !== 10) continue;
    if (message[i + 1] === 10 || (message[i + 1] === 13 && message[i + 2] === 10)) {
      end = i + 1;
      break;
    }
  }
  const root = parseMime(message.subarray(0, Math.min(end, MAX_HEADER_BYTES)));
  const refs = [
    ...messageIds(headerValue(root, "references")),
    ...messageIds(headerValue(root, "in-reply-to")),
  ];
  return {
    // RFC 5322 §3.6.4: a Message-ID field holds one msg-id. Every id of it was indexed
    // before: one 64 KiB header of "<a><b>..." added ~7,400 thread rows (msgfuzz).
    ids: messageIds(headerValue(root, "message-id")).slice(0, 1),
    refs: [...new Set(refs)].slice(-MAX_REFERENCES),
    subject: baseSubject(decodeEncodedWords(headerValue(root, "subject") ?? "")),
  };
}
