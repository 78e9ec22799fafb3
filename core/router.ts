/**
 * Decides, per recipient, where mail goes: local mailboxes (after alias, catch-all and
 * subaddress resolution), the outbound queue, or a rejection.
 *
 * Lookup order for a local domain (first hit wins):
 *   alias "user+tag@d" -> account "user+tag@d" -> account "user@d" -> alias "user@d"
 *   -> catch-all alias "@d" -> 550 5.1.1.
 * Alias targets are resolved again (depth <= 10), so an alias may point at other aliases,
 * accounts, or remote addresses. A loop delivers to whatever else the expansion reaches;
 * when it reaches nothing the recipient is refused with 550 5.4.6 — never accepted for no one.
 *
 * Never an open relay: a recipient outside the local domains is accepted only for
 * authenticated senders (RFC 5321 §3.6.2 relaying is a policy decision). The one exception
 * is an SRS0 address of a local domain that we made (core/srs.ts: a bounce of mail we
 * forwarded): it routes to the original sender; any other SRS local part is refused.
 *
 * @module
 */
import type { Store } from "../storage/mod.ts";
import { splitMailbox } from "../mime/address.ts";
import { isSrs, type Srs } from "./srs.ts";

export interface LocalRecipient {
  accountId: number;
  /** The account's address (lower-case). */
  email: string;
}

export type RouteResult =
  | { kind: "deliver"; local: LocalRecipient[]; remote: string[] }
  | { kind: "reject"; code: number; enhanced: string; text: string };

const MAX_ALIAS_DEPTH = 10;

/**
 * Splits an address at its last "@" (mime/address.ts); null without a local part or a
 * domain. The domain is lower-cased.
 */
export function splitAddress(address: string): { local: string; domain: string } | null {
  const parts = splitMailbox(address);
  if (!parts || !parts.local || !parts.domain) return null;
  return { local: parts.local, domain: parts.domain.toLowerCase() };
}

export class Router {
  #store: Store;
  /** Sender rewriting for forwarded mail (Sieve redirect); null: none. */
  readonly srs: Srs | null;

  constructor(store: Store, srs: Srs | null = null) {
    this.#store = store;
    this.srs = srs;
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
    if (this.srs && isSrs(parts.local)) {
      // A bounce of mail we forwarded: on to the original sender, local or not (once: an
      // original that is SRS of ours again is refused, not followed).
      const original = this.srs.reverse(parts.local);
      const back = original ? splitAddress(original) : null;
      if (back && !isSrs(back.local)) return await this.resolve(original!, { mayRelay: true });
      return {
        kind: "reject",
        code: 550,
        enhanced: "5.1.1",
        text: "Invalid or expired SRS address",
      };
    }
    const walk: Expansion = {
      local: [],
      remote: [],
      path: new Set(),
      done: new Map(),
      loop: false,
    };
    await this.#expand(`${parts.local.toLowerCase()}@${parts.domain}`, walk, 0);
    const found = dedupe(walk);
    // Only destinations count: an expansion that reaches none (every branch ran into a loop
    // or a dead end) is refused here, so no transaction is ever accepted for nobody.
    if (found.local.length === 0 && found.remote.length === 0) {
      // RFC 3463 §3.5: X.4.6 "Routing loop detected".
      return walk.loop
        ? { kind: "reject", code: 550, enhanced: "5.4.6", text: "Alias loop detected" }
        : { kind: "reject", code: 550, enhanced: "5.1.1", text: "No such user here" };
    }
    return { kind: "deliver", ...found };
  }

  async #postmaster(): Promise<RouteResult> {
    for (const d of await this.#store.listDomains()) {
      const r = await this.resolve(`postmaster@${d.name}`, { mayRelay: false });
      if (r.kind === "deliver") return r;
    }
    return { kind: "reject", code: 550, enhanced: "5.1.1", text: "No postmaster here" };
  }

  /**
   * Adds the destinations of a local address to `w`; true when it reached at least one.
   * An address on the current path is a loop (it reaches nothing by itself, and marks the
   * walk); one already expanded on another branch (a diamond) reports what it reached then.
   */
  async #expand(address: string, w: Expansion, depth: number): Promise<boolean> {
    const known = w.done.get(address);
    if (known !== undefined) return known;
    if (w.path.has(address) || depth > MAX_ALIAS_DEPTH) {
      w.loop = true;
      return false;
    }
    w.path.add(address);
    const reached = await this.#expandOnce(address, w, depth);
    w.path.delete(address);
    w.done.set(address, reached);
    return reached;
  }

  async #expandOnce(address: string, w: Expansion, depth: number): Promise<boolean> {
    const parts = splitAddress(address);
    if (!parts) return false;
    if (!(await this.#store.hasDomain(parts.domain))) {
      w.remote.push(address);
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
          w.local.push({ accountId: acc.id, email: acc.email });
          return true;
        }
      } else {
        const targets = await this.#store.getAlias(addr);
        if (targets && targets.length > 0) {
          let any = false;
          for (const t of targets) {
            if (await this.#expand(t.toLowerCase(), w, depth + 1)) any = true;
          }
          // An alias whose targets all loop falls through to the next candidate (an
          // account or catch-all may still take the mail).
          if (any) return true;
        }
      }
    }
    return false;
  }
}

/** The state of one recipient's expansion. */
interface Expansion {
  local: LocalRecipient[];
  remote: string[];
  /** Addresses being expanded right now (the path from the recipient): a revisit is a loop. */
  path: Set<string>;
  /** Addresses already expanded, and whether they reached a destination. */
  done: Map<string, boolean>;
  /** Some branch ran into a loop (or past MAX_ALIAS_DEPTH). */
  loop: boolean;
}

function dedupe(r: { local: LocalRecipient[]; remote: string[] }): {
  local: LocalRecipient[];
  remote: string[];
} {
  const ids = new Set<number>();
  const local = r.local.filter((l) => !ids.has(l.accountId) && ids.add(l.accountId));
  return { local, remote: [...new Set(r.remote)] };
}
