/**
 * JMAP bearer tokens (`Authorization: Bearer …`): how they look and how they are stored.
 *
 * A token is "dmt_" + 43 base64url characters (32 random bytes), so it carries 256 bits of
 * entropy: a plain SHA-256 of it is what storage keeps (no salt or slow hash is needed for a
 * secret nobody chose), and a lookup by that hash is the whole check.
 *
 * @module
 */
import { createHash, randomBytes } from "node:crypto";

const PREFIX = "dmt_";
/** Longest string looked at as a token; anything longer cannot be one. */
export const MAX_TOKEN_LENGTH = 128;

/** A fresh token (shown once, never stored). */
export function newApiToken(): string {
  return PREFIX + randomBytes(32).toString("base64url");
}

/** What storage keeps of a token: its SHA-256, 64 lower-case hex digits. */
export function hashApiToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** True when `token` has the shape of one of ours (checked before any lookup). */
export function looksLikeApiToken(token: string): boolean {
  return token.length <= MAX_TOKEN_LENGTH && token.startsWith(PREFIX) &&
    /^[A-Za-z0-9_-]+$/.test(token.slice(PREFIX.length));
}
