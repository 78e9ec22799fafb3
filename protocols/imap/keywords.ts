/**
 * Keywords a mailbox has had, per store, for the FLAGS response (RFC 9051 §7.3.5).
 *
 * A keyword stays in the mailbox's FLAGS once it was in use, even after the last message
 * carrying it is expunged or loses it (Dovecot keeps keywords the same way): another session
 * may still show a message with it, and a client must never see a keyword vanish from FLAGS
 * while a message it knows still carries it. The record lives in this process; a mailbox id
 * reused after a DELETE starts over (checked by UIDVALIDITY).
 *
 * @module
 */
import type { Mailbox, Store } from "../../storage/mod.ts";

interface Entry {
  validity: number;
  /** Lower case -> as first spelled. */
  keywords: Map<string, string>;
}

const registries = new WeakMap<Store, Map<number, Entry>>();

/** The keyword record of one mailbox (created empty on first use). */
export function mailboxKeywords(store: Store, mb: Mailbox): Map<string, string> {
  let reg = registries.get(store);
  if (!reg) registries.set(store, reg = new Map());
  let e = reg.get(mb.id);
  if (!e || e.validity !== mb.uidValidity) {
    e = { validity: mb.uidValidity, keywords: new Map() };
    reg.set(mb.id, e);
  }
  return e.keywords;
}
