/**
 * Allow and block lists, global and per user. Entries are a full address or a domain
 * ("@d" or "d", subdomains included). Pure.
 *
 * An allow entry matches the From address only when it is authenticated (DMARC pass or
 * aligned DKIM) or the auth plugin is not configured; otherwise anyone could put an
 * allow-listed address in From. Block entries match the From or the envelope sender.
 *
 * @module
 */
import type { Lists } from "../options.ts";
import { hit, type RuleHit } from "./table.ts";
import { addressListed } from "../../../../mime/address.ts";

/** Does `address` match an entry: the address, "@domain" / "domain" and its subdomains. */
export const listed = addressListed;

/** Who sent it, for the lists. */
export interface ListInput {
  from: string;
  sender?: string;
  /** The From address is authenticated (or nothing could tell). */
  fromTrusted: boolean;
  /** Each recipient's lists (recipients without lists are left out). */
  userLists: Lists[];
  /** Number of recipients (user lists apply only when every recipient agrees). */
  recipients: number;
}

/** The list rules. */
export function listRules(
  global: Lists,
  input: ListInput,
  scores: Record<string, number>,
): RuleHit[] {
  const hits: RuleHit[] = [];
  const blocked = (l: Lists) => listed(input.from, l.block) || listed(input.sender ?? "", l.block);
  const allowed = (l: Lists) => input.fromTrusted && listed(input.from, l.allow);
  if (blocked(global)) hits.push(hit("BLOCKLIST_FROM", scores));
  else if (allowed(global)) hits.push(hit("ALLOWLIST_FROM", scores));
  // One verdict per message: a user's list decides only if every recipient's list agrees.
  const all = input.userLists.length > 0 && input.userLists.length === input.recipients;
  if (all && input.userLists.every(blocked)) hits.push(hit("USER_BLOCKLIST", scores));
  else if (all && input.userLists.every(allowed)) hits.push(hit("USER_ALLOWLIST", scores));
  return hits;
}
