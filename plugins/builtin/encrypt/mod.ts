/**
 * builtin:encrypt — encryption at rest with OpenPGP (RFC 3156 PGP/MIME).
 *
 * ```toml
 * [[plugins]]
 * name = "encrypt"
 * module = "builtin:encrypt"
 * options = { keep_subject = false, encrypt_sent = true }
 * ```
 *
 * On the `deliver` hook (one call per local recipient, before the copy is stored): when the
 * recipient has a public key (`denomail user key set EMAIL FILE.asc`), a message that is
 * not already encrypted (PGP/MIME, S/MIME, inline PGP) is replaced by a PGP/MIME message
 * encrypted to that key. Decrypting it gives back the original message byte for byte.
 * From, To, Cc, Date, Message-ID, In-Reply-To and References stay in clear; Subject becomes
 * "..." unless `keep_subject = true`. Copies a user saves in Sent over IMAP APPEND are
 * encrypted the same way when `encrypt_sent = true`; other APPENDs are left alone.
 *
 * Keys live in this plugin's kv area, so the plugin needs no permissions. It fails closed:
 * a key that can no longer encrypt (expired, revoked) gives a temporary failure rather
 * than storing the message in clear.
 *
 * @module
 */
import { definePlugin, type DeliverContext, type HookResult, tempfail } from "../../sdk.ts";
import { parseOptions } from "./options.ts";
import { kvKeyFor, lookupAddresses } from "./keys.ts";
import { encryptMessage } from "./encrypt.ts";

/**
 * The deliver context; `source`, `account` and `specialUse` are optional here so the
 * plugin also runs on hosts that do not send them yet.
 */
type Ctx = DeliverContext & { source?: string; account?: string; specialUse?: string | null };

/** True when this delivery is an IMAP APPEND rather than mail arriving for the user. */
export function isAppend(ctx: Ctx): boolean {
  return ctx.source === "append";
}

/** True for the Sent mailbox: RFC 6154 \Sent, or by its default name when not told. */
export function isSentMailbox(ctx: Ctx): boolean {
  if (ctx.specialUse !== undefined) return ctx.specialUse === "\\Sent";
  return ctx.mailbox.toLowerCase() === "sent";
}

/** The stored key of the account this copy is for (else of the recipient address). */
async function findKey(ctx: Ctx): Promise<string | null> {
  const who = ctx.account ? [ctx.account.toLowerCase()] : lookupAddresses(ctx.recipient.address);
  for (const a of who) {
    const k = await ctx.kv.get(kvKeyFor(a));
    if (k) return k;
  }
  return null;
}

async function deliver(ctx: Ctx): Promise<HookResult | undefined> {
  const opts = parseOptions(ctx.options);
  if (isAppend(ctx) && !(opts.encryptSent && isSentMailbox(ctx))) return;
  const key = await findKey(ctx);
  if (!key) return;
  let out;
  try {
    out = await encryptMessage(ctx.message.raw, key, opts);
  } catch (e) {
    // Fail closed: never store in clear for a user who asked for encryption.
    return {
      ...tempfail(451, "4.7.1", "The recipient's encryption key cannot be used; try later"),
      note: `key unusable: ${(e as Error).message}`,
    };
  }
  if (out.kind === "skipped") return { note: `already encrypted (${out.reason})` };
  return { message: out.message, note: "encrypted" };
}

// Encrypts the whole message.
export default definePlugin({ reads: "message", hooks: { deliver } });
