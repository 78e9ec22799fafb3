/**
 * Composes the RFC 3156 PGP/MIME message stored in place of the original. Pure: no I/O.
 *
 * Shape (RFC 3156 §4):
 *
 * ```
 * From: ...                    <- the routing fields, copied byte for byte, in their order
 * To: ... / Cc / Date / Message-ID / In-Reply-To / References
 * Subject: ...                 <- "..." (the real one is inside), unless keep_subject
 * MIME-Version: 1.0
 * Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary=B
 *
 * --B
 * Content-Type: application/pgp-encrypted
 *
 * Version: 1
 *
 * --B
 * Content-Type: application/octet-stream; name="encrypted.asc"
 *
 * -----BEGIN PGP MESSAGE----- ... the whole original message, encrypted ...
 * --B--
 * ```
 *
 * Invariant: the encrypted payload is the original message itself, so decrypting gives it
 * back byte for byte (its own header block, Subject included, is the "protected header").
 *
 * @module
 */
import type { MimePart } from "../../../mime/mod.ts";
import { concatBytes } from "../../../mime/text.ts";

/** Header fields left in clear (RFC 5322 §3.6 origination, destination and identification). */
export const CLEAR_FIELDS: ReadonlySet<string> = new Set([
  "from",
  "to",
  "cc",
  "date",
  "message-id",
  "in-reply-to",
  "references",
]);

/** The Subject the stored message shows when the real one is hidden. */
export const HIDDEN_SUBJECT = "...";

/** Options for {@link composePgpMime}. */
export interface ComposeOptions {
  /** Copy the Subject field(s) in clear too. */
  keepSubject: boolean;
  /** The multipart boundary; must not occur in the armored text (use {@link newBoundary}). */
  boundary: string;
}

const enc = new TextEncoder();

/** A fresh boundary: 120 random bits, characters that armor never produces at a line start. */
export function newBoundary(): string {
  const r = crypto.getRandomValues(new Uint8Array(15));
  return "denomail-pgp-" + Array.from(r, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A header field's bytes with every line ending made CRLF (RFC 5322 §2.1). */
function crlfLine(line: Uint8Array): Uint8Array {
  if (line.indexOf(10) < 0) return concatBytes([line, enc.encode("\r\n")]);
  const parts: number[] = [];
  for (let i = 0; i < line.length; i++) {
    if (line[i] === 10 && (i === 0 || line[i - 1] !== 13)) parts.push(13);
    parts.push(line[i]);
  }
  if (parts[parts.length - 1] !== 10) parts.push(13, 10);
  return Uint8Array.from(parts);
}

/**
 * The stored message: the clear header fields of `root` (parsed from the original), a
 * hidden Subject, and the two RFC 3156 parts around `armored` (the ASCII-armored OpenPGP
 * message; LF or CRLF line ends).
 */
export function composePgpMime(
  root: MimePart,
  armored: string,
  opts: ComposeOptions,
): Uint8Array {
  const head: Uint8Array[] = [];
  let hadSubject = false;
  for (const f of root.headers) {
    if (f.lname === "subject") {
      hadSubject = true;
      if (!opts.keepSubject) continue;
    } else if (!CLEAR_FIELDS.has(f.lname)) continue;
    head.push(crlfLine(f.line));
  }
  const b = opts.boundary;
  const tail = [
    ...(hadSubject && !opts.keepSubject ? [`Subject: ${HIDDEN_SUBJECT}`] : []),
    "MIME-Version: 1.0",
    `Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";`,
    ` boundary="${b}"`,
    "",
    "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)",
    `--${b}`,
    // RFC 3156 §4: the first part is application/pgp-encrypted with "Version: 1".
    "Content-Type: application/pgp-encrypted",
    "Content-Description: PGP/MIME version identification",
    "",
    "Version: 1",
    "",
    `--${b}`,
    // RFC 3156 §4: the second part is application/octet-stream with the OpenPGP message.
    'Content-Type: application/octet-stream; name="encrypted.asc"',
    "Content-Description: OpenPGP encrypted message",
    'Content-Disposition: inline; filename="encrypted.asc"',
    "",
    armored.replace(/\r?\n/g, "\r\n").replace(/(\r\n)+$/, ""),
    `--${b}--`,
    "",
  ].join("\r\n");
  return concatBytes([...head, enc.encode(tail)]);
}
