/**
 * Is a message already encrypted end to end? Then the plugin leaves it as it is.
 * Pure: no I/O.
 *
 * @module
 */
import { decodeBody, paramValue } from "../../../mime/mod.ts";
import type { MimePart } from "../../../mime/mod.ts";

/** Why a message counts as already encrypted, or null when it does not. */
export type EncryptedKind = "pgp-mime" | "smime" | "inline-pgp";

const BEGIN = "-----BEGIN PGP MESSAGE-----";
const END = "-----END PGP MESSAGE-----";
/** Inline PGP is recognised in bodies up to this size (larger ones are encrypted again). */
const MAX_INLINE_SCAN = 16 * 1024 * 1024;

/**
 * Classifies the top level of a parsed message:
 * - RFC 1847 §2.2 / RFC 3156 §4: `multipart/encrypted` (PGP/MIME, or any other protocol);
 * - RFC 8551 §3.3: `application/pkcs7-mime` (or the old `x-pkcs7-mime`) unless its
 *   `smime-type` says it only carries a signature or certificates;
 * - inline PGP: a text body that is one ASCII-armored OpenPGP message and nothing else
 *   (a body with clear text around the armor still has clear text, so it is encrypted).
 */
export function encryptedKind(raw: Uint8Array, root: MimePart): EncryptedKind | null {
  if (root.type === "multipart" && root.subtype === "encrypted") return "pgp-mime";
  if (
    root.type === "application" &&
    (root.subtype === "pkcs7-mime" || root.subtype === "x-pkcs7-mime")
  ) {
    const smimeType = paramValue(root.params, "smime-type")?.toLowerCase();
    // RFC 8551 §3.2.2: signed-data and certs-only are not encrypted.
    if (smimeType !== "signed-data" && smimeType !== "certs-only") return "smime";
    return null;
  }
  if (
    root.type === "text" && root.kind === "leaf" && root.bodyEnd - root.bodyStart <= MAX_INLINE_SCAN
  ) {
    const body = decodeBody(raw, root);
    if (body && isArmoredMessage(body)) return "inline-pgp";
  }
  return null;
}

/** True when `body`, white space aside, is exactly one armored PGP MESSAGE block. */
export function isArmoredMessage(body: Uint8Array): boolean {
  // Armor is ASCII; latin1 keeps one char per byte so offsets stay honest.
  const text = new TextDecoder("latin1").decode(body).trim();
  return text.startsWith(BEGIN) && text.endsWith(END) &&
    text.indexOf(BEGIN, 1) < 0 && text.indexOf(END) === text.length - END.length;
}
