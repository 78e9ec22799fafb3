/**
 * Encrypts one message to one public key and wraps it as PGP/MIME. CPU only: no I/O.
 *
 * @module
 */
import * as openpgp from "openpgp";
import { parseMime } from "../../../mime/mod.ts";
import { composePgpMime, newBoundary } from "./pgp_mime.ts";
import { readStoredKey } from "./keys.ts";
import { type EncryptedKind, encryptedKind } from "./detect.ts";

/** Parsed keys by their armored text: parsing costs more than a small message's encryption. */
const cache = new Map<string, openpgp.PublicKey>();
const CACHE_MAX = 256;

async function keyFor(armored: string): Promise<openpgp.PublicKey> {
  let key = cache.get(armored);
  if (key) {
    // Refresh its place: the map's order is least recently used first.
    cache.delete(armored);
  } else {
    key = await readStoredKey(armored);
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
  }
  cache.set(armored, key);
  return key;
}

/** What {@link encryptMessage} did. */
export type EncryptOutcome =
  | { kind: "encrypted"; message: Uint8Array }
  | { kind: "skipped"; reason: EncryptedKind };

/**
 * The PGP/MIME form of `raw` encrypted to `armoredKey`, or "skipped" when `raw` is already
 * encrypted. The OpenPGP literal data is `raw` in binary form, so decrypting gives back
 * exactly `raw`. Throws when the key cannot encrypt at this moment (expired, revoked).
 */
export async function encryptMessage(
  raw: Uint8Array,
  armoredKey: string,
  opts: { keepSubject: boolean },
): Promise<EncryptOutcome> {
  // Content-* fields count even without MIME-Version: armor inside base64 is still found.
  const root = parseMime(raw, { nonMimeFields: true });
  const already = encryptedKind(raw, root);
  if (already) return { kind: "skipped", reason: already };
  const armored = await openpgp.encrypt({
    message: await openpgp.createMessage({ binary: raw, format: "binary" }),
    encryptionKeys: await keyFor(armoredKey),
    format: "armored",
  });
  return {
    kind: "encrypted",
    message: composePgpMime(root, armored, {
      keepSubject: opts.keepSubject,
      boundary: newBoundary(),
    }),
  };
}
