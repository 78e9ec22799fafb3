/**
 * What every admin operation gets: the store, the server's name and data dir, and who acts
 * (for the audit log). The CLI builds one per command, the admin API one per request.
 *
 * @module
 */
import type { Store } from "../../storage/mod.ts";
import type { HostPort } from "../config.ts";

/** Who makes a change: an admin's address and client address, or the CLI ("cli", ""). */
export interface AdminActor {
  who: string;
  ip: string;
}

export interface AdminContext {
  store: Store;
  /** The server's host name (MX target in the DNS records). */
  hostname: string;
  /** Where DKIM keys live. */
  dataDir: string;
  actor: AdminActor;
  /** The certificate in use (PEM), for the TLSA record; null when there is none yet. */
  certPem?: () => Promise<string | null>;
  /** The MTA-STS policy served (`[mta_sts]`): its id in the DNS records follows it. */
  mtaSts?: { mode: string; maxAgeS: number };
  /** The configured resolver (`[dns]`), for `dns check`. */
  dns?: { nameserver: HostPort | null; timeoutMs: number };
  /** The kv namespace of the encrypt plugin's keys (keys.ts); absent: `plugin:encrypt`. */
  keyNamespace?: string;
}

/** Writes one audit entry for a change that succeeded. `detail` never holds a secret. */
export async function audit(
  ctx: AdminContext,
  action: string,
  target: string,
  detail: Record<string, unknown> = {},
): Promise<void> {
  await ctx.store.addAuditEntry({
    actor: ctx.actor.who,
    ip: ctx.actor.ip,
    action,
    target,
    detail: JSON.stringify(detail),
  });
}
