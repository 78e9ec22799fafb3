/**
 * Per-user allow and block lists kept in the spam plugin's kv area, editable while the
 * server runs (the webmail's Settings, protocols/http/web/account_settings.ts): key
 * `lists:<lower-case address>` holds JSON `{"allow": [...], "block": [...]}`. Entries take
 * the forms of the config's `user_lists` (a full address, or a domain as "@d" or "d",
 * subdomains included; rules/lists.ts matches both alike). The one place that checks them,
 * for the route that writes and the plugin that reads.
 *
 * @module
 */
import type { Lists } from "./options.ts";
import { isDomainName, splitMailbox } from "../../../mime/address.ts";

/** At most this many entries in each list. */
export const MAX_ENTRIES = 500;
/** At most this many characters in an entry (an address's length, RFC 5321 §4.5.3.1.3). */
export const MAX_ENTRY = 254;

/** A list the user sent that cannot be stored; the message says which entry and why. */
export class ListError extends Error {}

/** The kv key of a user's lists. */
export function listsKey(address: string): string {
  return `lists:${address.toLowerCase()}`;
}

// Letters, digits and the RFC 5322 §3.2.3 atext specials, dots between: no white space,
// quotes or controls (a quoted local part is not worth a list entry).
const LOCAL = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

/** One entry, lower-cased and checked; throws ListError naming it. */
export function checkEntry(raw: string): string {
  const e = raw.trim().toLowerCase();
  const shown = JSON.stringify(e.slice(0, 80));
  if (e.length > MAX_ENTRY) throw new ListError(`${shown}… is longer than ${MAX_ENTRY} characters`);
  const parts = e.startsWith("@") ? null : splitMailbox(e);
  const domain = parts ? parts.domain : e.replace(/^@/, "");
  const ok = isDomainName(domain) && domain.includes(".") &&
    (!parts || (parts.local.length <= 64 && LOCAL.test(parts.local)));
  if (!ok) throw new ListError(`${shown} is not an address or a domain`);
  return e;
}

function checkList(v: unknown, name: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
    throw new ListError(`${name} must be a list of addresses or domains`);
  }
  const out = new Set<string>();
  for (const x of v as string[]) {
    if (x.trim() === "") continue;
    try {
      out.add(checkEntry(x));
    } catch (e) {
      throw new ListError(`${name}: ${(e as Error).message}`);
    }
    if (out.size > MAX_ENTRIES) throw new ListError(`${name}: more than ${MAX_ENTRIES} entries`);
  }
  return [...out];
}

/** `{allow, block}` from a client, checked: lower case, blanks and repeats dropped. */
export function parseUserLists(v: unknown): Lists {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new ListError("expected an object { allow: [...], block: [...] }");
  }
  const o = v as Record<string, unknown>;
  const extra = Object.keys(o).find((k) => k !== "allow" && k !== "block");
  if (extra !== undefined) {
    throw new ListError(`unknown field ${JSON.stringify(extra.slice(0, 40))}`);
  }
  return { allow: checkList(o.allow, "allow"), block: checkList(o.block, "block") };
}

/**
 * A stored value as lists. Stored values were checked when written; one that does not
 * parse anyway (edited by hand) counts as no lists rather than failing the message.
 */
export function decodeStoredLists(json: string | null): Lists | null {
  if (json === null) return null;
  try {
    return parseUserLists(JSON.parse(json));
  } catch {
    return null;
  }
}

/** The union of two users' lists (config and kv), or undefined when neither has any. */
export function mergeLists(a: Lists | undefined, b: Lists | undefined): Lists | undefined {
  if (!a || !b) return a ?? b;
  return {
    allow: [...new Set([...a.allow, ...b.allow])],
    block: [...new Set([...a.block, ...b.block])],
  };
}

/** What reading the lists needs of a kv. */
export interface ListsKv {
  get(key: string): Promise<string | null>;
  getMany?(keys: string[]): Promise<(string | null)[]>;
}

/** The stored lists of the recipients (lower-case address -> lists), in one round trip. */
export async function loadUserLists(
  kv: ListsKv,
  recipients: readonly string[],
): Promise<Map<string, Lists>> {
  const users = [...new Set(recipients.map((r) => r.toLowerCase()))].slice(0, 1000);
  const out = new Map<string, Lists>();
  if (users.length === 0) return out;
  const keys = users.map(listsKey);
  const values = kv.getMany
    ? await kv.getMany(keys)
    : await Promise.all(keys.map((k) => kv.get(k)));
  users.forEach((u, i) => {
    const l = decodeStoredLists(values[i]);
    if (l && (l.allow.length > 0 || l.block.length > 0)) out.set(u, l);
  });
  return out;
}
