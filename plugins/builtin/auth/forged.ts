/**
 * RFC 8601 §5: before adding its own, a receiving MTA SHOULD remove every
 * Authentication-Results field that bears its own authserv-id, so that a sender cannot
 * forge results in our name. Pure, byte-preserving for everything it keeps.
 *
 * @module
 */

const CR = 13;
const LF = 10;
const NAME = "authentication-results";
const latin1 = new TextDecoder("latin1");

/** The authserv-id of an Authentication-Results value: its first token before ";". */
function authservId(value: string): string {
  const noComments = value.replace(/\([^()]*\)/g, " ");
  return noComments.split(";")[0].trim().split(/\s+/)[0].toLowerCase();
}

/**
 * The message without Authentication-Results fields claiming `ourId` (case-insensitive);
 * the same array when there are none.
 */
export function stripForgedAuthResults(raw: Uint8Array, ourId: string): Uint8Array {
  const id = ourId.toLowerCase();
  const keep: Array<[number, number]> = [];
  let removed = false;
  let pos = 0;
  let fieldStart = 0;
  let headerEnd = raw.length;
  // Walk the header block field by field (a field is a line plus its continuation lines).
  for (;;) {
    const lf = raw.indexOf(LF, pos);
    const lineEnd = lf < 0 ? raw.length : lf + 1;
    const next = raw[lineEnd];
    const blank = lineEnd - pos <= 2 && (raw[pos] === CR || raw[pos] === LF);
    if (blank) {
      headerEnd = pos;
      break;
    }
    if (lf < 0 || (next !== 0x20 && next !== 0x09)) {
      const field = latin1.decode(raw.subarray(fieldStart, lineEnd));
      const colon = field.indexOf(":");
      const name = colon > 0 ? field.slice(0, colon).trim().toLowerCase() : "";
      if (name === NAME && authservId(field.slice(colon + 1)) === id) removed = true;
      else keep.push([fieldStart, lineEnd]);
      fieldStart = lineEnd;
    }
    if (lf < 0) {
      headerEnd = raw.length;
      break;
    }
    pos = lineEnd;
  }
  if (!removed) return raw;
  let size = raw.length - headerEnd;
  for (const [a, b] of keep) size += b - a;
  const out = new Uint8Array(size);
  let o = 0;
  for (const [a, b] of keep) {
    out.set(raw.subarray(a, b), o);
    o += b - a;
  }
  out.set(raw.subarray(headerEnd), o);
  return out;
}
