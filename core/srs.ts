/**
 * The Sender Rewriting Scheme (SRS0, as libsrs2 and Postfix's postsrsd write it) for mail
 * we forward (a Sieve redirect): the envelope sender `alice@example.org` becomes
 * `SRS0=HHHH=TT=example.org=alice@our.domain`, so SPF at the next hop checks our domain,
 * and a bounce to that address comes back to us, where the router turns it into the
 * original sender again — only when the hash (HMAC-SHA1 with our secret, first 4 base64
 * characters) matches and the timestamp (days, base32, mod 1024) is at most
 * {@link MAX_AGE_DAYS} old, so nobody can use us as a relay through forged SRS addresses.
 *
 * The secret is 32 random bytes in `data_dir/srs.key` (mode 0600), made on first start.
 *
 * @module
 */
import { createHmac } from "node:crypto";
import { join } from "node:path";

export const MAX_AGE_DAYS = 21;
const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const DAY = 86_400_000;

export class Srs {
  readonly #secret: Uint8Array;

  constructor(secret: Uint8Array) {
    this.#secret = secret;
  }

  #hash(tt: string, domain: string, local: string): string {
    return createHmac("sha1", this.#secret)
      .update((tt + domain + local).toLowerCase())
      .digest("base64")
      .slice(0, 4);
  }

  /**
   * The SRS0 address of `sender` at `ourDomain`, or null when it cannot be made (no "@",
   * or a local part over 64 octets, RFC 5321 §4.5.3.1.1).
   */
  forward(sender: string, ourDomain: string, now = Date.now()): string | null {
    const at = sender.lastIndexOf("@");
    if (at <= 0 || at === sender.length - 1) return null;
    const local = sender.slice(0, at), domain = sender.slice(at + 1);
    const days = Math.floor(now / DAY) % 1024;
    const tt = B32[days >> 5] + B32[days & 31];
    const out = `SRS0=${this.#hash(tt, domain, local)}=${tt}=${domain}=${local}`;
    return new TextEncoder().encode(out).length <= 64 ? `${out}@${ourDomain}` : null;
  }

  /** The original sender of an SRS0 local part we made, or null (not ours, forged, old). */
  reverse(localPart: string, now = Date.now()): string | null {
    const m = /^SRS0[=+-]([^=]{4})=([A-Z2-7]{2})=([^=]+)=(.+)$/i.exec(localPart);
    if (!m) return null;
    const [, hash, tt, domain, local] = m;
    if (hash.toLowerCase() !== this.#hash(tt, domain, local).toLowerCase()) return null;
    const stamp = B32.indexOf(tt[0].toUpperCase()) * 32 + B32.indexOf(tt[1].toUpperCase());
    const today = Math.floor(now / DAY) % 1024;
    if ((today - stamp + 1024) % 1024 > MAX_AGE_DAYS) return null;
    return `${local}@${domain}`;
  }
}

/** True when a local part looks like SRS (then only `reverse` may route it). */
export function isSrs(localPart: string): boolean {
  return /^SRS[01][=+-]/i.test(localPart);
}

/** Reads `data_dir/srs.key`, creating it (32 random bytes, mode 0600) when missing. */
export async function loadSrsSecret(dataDir: string): Promise<Uint8Array> {
  const path = join(dataDir, "srs.key");
  try {
    const key = await Deno.readFile(path);
    if (key.length >= 16) return key;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const key = crypto.getRandomValues(new Uint8Array(32));
  await Deno.mkdir(dataDir, { recursive: true });
  await Deno.writeFile(path, key, { mode: 0o600 });
  return key;
}
