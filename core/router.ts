/**
 * Decides, per recipient, where mail goes: local mailboxes (after alias, catch-all and
 * subaddress resolution), the outbound queue, or a rejection.
 *
 * Lookup order for a local domain (first hit wins):
 *   alias "user+tag@d" -> account "user+tag@d" -> account "user@d" -> alias "user@d"
 *   -> catch-all alias "@d" -> 550 5.1.1.
 * Alias targets are resolved again (depth <= 10, loops cut), so an alias may point at
 * other aliases, accounts, or remote addresses.
 *
 * Never an open relay: a recipient outside the local domains is accepted only for
 * authenticated senders (RFC 5321 §3.6.2 relaying is a policy decision).
 *
 * @module
 */
import type { Store } from "../storage/mod.ts";

export interface LocalRecipient {
  accountId: number;
  /** The account's address (lower-case). */
  email: string;
}

export type RouteResult =
  | { kind: "deliver"; local: LocalRecipient[]; remote: string[] }
  | { kind: "reject"; code: number; enhanced: string; text: string };

const MAX_ALIAS_DEPTH = 10;

/** Splits an address at its last "@"; the domain is lower-cased, a trailing dot dropped. */
export function splitAddress(address: string): { local: string; domain: string } | null {
  const at = address.lastIndexOf("@");
  if (at <= 0 || at === address.length - 1) return null;
  return { local: address.slice(0, at), domain: address.slice(at + 1).toLowerCase() };
}

export class Router {
  #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /** Is this one of our domains? */
  isLocalDomain(domain: string): Promise<boolean> {
    return this.#store.hasDomain(domain.toLowerCase());
  }

  /**
   * Resolves one envelope recipient.
   * @param address "local@domain" as given in RCPT TO (no angle brackets)
   * @param opts.mayRelay the sender authenticated, so non-local recipients may be queued
   */
  async resolve(address: string, opts: { mayRelay: boolean }): Promise<RouteResult> {
    // RFC 5321 §4.5.1: "postmaster" without a domain must be accepted.
    if (address.toLowerCase() === "postmaster") return await this.#postmaster();
    const parts = splitAddress(address);
    if (!parts) {
      return { kind: "reject", code: 501, enhanced: "5.1.3", text: "Bad recipient address syntax" };
    }
    if (!(await this.#store.hasDomain(parts.domain))) {
      if (opts.mayRelay) return { kind: "deliver", local: [], remote: [address] };
      return { kind: "reject", code: 550, enhanced: "5.7.1", text: "Relaying denied" };
    }
    const out: { local: LocalRecipient[]; remote: string[] } = { local: [], remote: [] };
    const found = await this.#expand(
      `${parts.local.toLowerCase()}@${parts.domain}`,
      out,
      0,
      new Set(),
    );
    if (!found) {
      return { kind: "reject", code: 550, enhanced: "5.1.1", text: "No such user here" };
    }
    return { kind: "deliver", ...dedupe(out) };
  }

  async #postmaster(): Promise<RouteResult> {
    for (const d of await this.#store.listDomains()) {
      const r = await this.resolve(`postmaster@${d.name}`, { mayRelay: false });
      if (r.kind === "deliver") return r;
    }
    return { kind: "reject", code: 550, enhanced: "5.1.1", text: "No postmaster here" };
  }

  /** Adds the destinations of a local address to `out`; false when it names nobody. */
  async #expand(
    address: string,
    out: { local: LocalRecipient[]; remote: string[] },
    depth: number,
    seen: Set<string>,
  ): Promise<boolean> {
    if (seen.has(address) || depth > MAX_ALIAS_DEPTH) return true; // loop: already counted
    seen.add(address);
    const parts = splitAddress(address)!;
    if (!(await this.#store.hasDomain(parts.domain))) {
      out.remote.push(address);
      return true;
    }
    const plus = parts.local.indexOf("+");
    const base = plus > 0 ? `${parts.local.slice(0, plus)}@${parts.domain}` : null;
    const candidates: Array<[kind: "alias" | "account", addr: string]> = [
      ["alias", address],
      ["account", address],
    ];
    if (base) candidates.push(["account", base], ["alias", base]);
    candidates.push(["alias", `@${parts.domain}`]);
    for (const [kind, addr] of candidates) {
      if (kind === "account") {
        const acc = await this.#store.getAccount(addr);
        if (acc) {
          out.local.push({ accountId: acc.id, email: acc.email });
          return true;
        }
      } else {
        const targets = await this.#store.getAlias(addr);
        if (targets && targets.length > 0) {
          let any = false;
          for (const t of targets) {
            if (await this.#expand(t.toLowerCase(), out, depth + 1, seen)) any = true;
          }
          if (any) return true;
        }
      }
    }
    return false;
  }
}

function dedupe(r: { local: LocalRecipient[]; remote: string[] }) {
  const ids = new Set<number>();
  const local = r.local.filter((l) => !ids.has(l.accountId) && ids.add(l.accountId));
  return { local, remote: [...new Set(r.remote)] };
}
