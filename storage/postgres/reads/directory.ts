/**
 * Directory reads of the PostgreSQL store: domains, accounts and aliases. The lookups every
 * SMTP recipient makes (a domain, an account, an alias) go through the node's directory
 * cache (../directory_cache.ts), which every change on any node empties; listings do not.
 *
 * @module
 */
import type { Account, Alias, Domain } from "../../mod.ts";
import { normalizeAliasSource, normalizeDomain, normalizeEmail } from "../../names.ts";
import { ACCOUNT_COLUMNS, type Read, toAccount } from "../rows.ts";
import type { DirectoryCache } from "../directory_cache.ts";

/** The value of `normalize(input)`, or null when the input is not such a name. */
function normalized(normalize: (s: string) => string, input: string): string | null {
  try {
    return normalize(input);
  } catch {
    return null;
  }
}

export async function listDomains(read: Read): Promise<Domain[]> {
  return (await read("SELECT name, created_at FROM domains ORDER BY name", [])).map((r) => ({
    name: r.name as string,
    createdAt: r.created_at as number,
  }));
}

export async function hasDomain(read: Read, cache: DirectoryCache, name: string) {
  const domain = normalized(normalizeDomain, name);
  if (domain === null) return false; // not a domain name, so not one of ours
  return await cache.get(
    `d:${domain}`,
    async () => (await read("SELECT 1 AS x FROM domains WHERE name = $1", [domain])).length > 0,
  );
}

export async function getAccount(
  read: Read,
  cache: DirectoryCache,
  email: string,
): Promise<Account | null> {
  const address = normalized((s) => normalizeEmail(s).email, email);
  if (address === null) return null; // not an address, so no such account
  const [r] = await cache.get(
    `a:${address}`,
    () => read(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE email = $1`, [address]),
  );
  return r ? toAccount(r) : null;
}

export async function getAccountById(read: Read, id: number): Promise<Account | null> {
  const [r] = await read(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = $1`, [id]);
  return r ? toAccount(r) : null;
}

export async function listAccounts(read: Read): Promise<Account[]> {
  return (await read(`SELECT ${ACCOUNT_COLUMNS} FROM accounts ORDER BY email`, [])).map(toAccount);
}

export async function getAlias(
  read: Read,
  cache: DirectoryCache,
  source: string,
): Promise<string[] | null> {
  const from = normalized(normalizeAliasSource, source);
  if (from === null) return null;
  const [r] = await cache.get(
    `l:${from}`,
    () => read("SELECT targets FROM aliases WHERE source = $1", [from]),
  );
  return r ? JSON.parse(r.targets as string) : null;
}

export async function listAliases(read: Read): Promise<Alias[]> {
  return (await read("SELECT source, targets FROM aliases ORDER BY source", [])).map((r) => ({
    source: r.source as string,
    targets: JSON.parse(r.targets as string),
  }));
}
