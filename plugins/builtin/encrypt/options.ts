/**
 * The `options` table of builtin:encrypt, checked. Pure: no I/O.
 *
 * @module
 */

/** What the plugin reads from its `options`. */
export interface EncryptOptions {
  /** Leave the Subject in clear instead of replacing it with "...". */
  keepSubject: boolean;
  /** Encrypt copies a user saves in Sent over IMAP APPEND. */
  encryptSent: boolean;
}

const KNOWN = new Set(["keep_subject", "encrypt_sent"]);

function bool(o: Record<string, unknown>, key: string): boolean {
  const v = o[key];
  if (v === undefined) return false;
  if (typeof v !== "boolean") throw new Error(`encrypt: option ${key} must be true or false`);
  return v;
}

/** Checks the options; throws naming the bad key (the hook then fails: on_error applies). */
export function parseOptions(o: Record<string, unknown>): EncryptOptions {
  for (const k of Object.keys(o)) {
    if (!KNOWN.has(k)) throw new Error(`encrypt: unknown option ${k}`);
  }
  return { keepSubject: bool(o, "keep_subject"), encryptSent: bool(o, "encrypt_sent") };
}
