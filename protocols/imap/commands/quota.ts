/**
 * QUOTA (RFC 9208) on the per-account storage limit: one quota root per account, the
 * STORAGE resource in units of 1024 octets. The store enforces the limit on APPEND, COPY
 * and MOVE (StoreError "quota" -> NO [OVERQUOTA], in session.ts). SETQUOTA is refused: the
 * administrator sets quotas (`denomail user quota EMAIL SIZE`), so QUOTASET is not
 * advertised.
 *
 * @module
 */
import { Code } from "../codes.ts";
import { command, type SessionContext } from "../context.ts";
import { no, ParseError } from "../errors.ts";
import { accountOf, existingMailbox } from "../mailbox_args.ts";
import { toWire } from "../mailbox_name.ts";
import { astr, str, untagged } from "../response.ts";

/** The one quota root every account has (named as Dovecot names its own). */
export const QUOTA_ROOT = "User quota";

/** Octets -> RFC 9208 §5.1 STORAGE units (1024 octets), rounded up. */
export function storageUnits(octets: number): number {
  return Math.ceil(octets / 1024);
}

/** `* QUOTA root (STORAGE usage limit)`, or null when the account has no limit. */
async function quotaLine(ctx: SessionContext): Promise<string | null> {
  const account = await ctx.deps.store.getAccountById(accountOf(ctx).id);
  const limit = account?.quotaBytes ?? null;
  if (limit === null) return null;
  const used = await ctx.deps.store.accountUsage(accountOf(ctx).id);
  // RFC 9208 §4.1.1: quota_resource = resource-name SP resource-usage SP resource-limit.
  return untagged(
    `QUOTA ${str(QUOTA_ROOT)} (STORAGE ${storageUnits(used)} ${Math.floor(limit / 1024)})`,
  );
}

/** RFC 9208 §4.1.1: GETQUOTA quota-root. */
export const GETQUOTA = command({
  parse(r) {
    r.space();
    return r.astring("a quota root");
  },
  async run(ctx, root) {
    const line = root === QUOTA_ROOT ? await quotaLine(ctx) : null;
    if (!line) throw no("No such quota root", Code.NONEXISTENT);
    ctx.send(line);
  },
});

/** RFC 9208 §4.1.2: GETQUOTAROOT mailbox -> QUOTAROOT, then QUOTA for each root. */
export const GETQUOTAROOT = command({
  parse(r) {
    r.space();
    return r.astring("a mailbox name");
  },
  async run(ctx, wire) {
    const mb = await existingMailbox(ctx, wire);
    const line = await quotaLine(ctx);
    const name = astr(toWire(mb.name, ctx.utf8), ctx.utf8);
    // RFC 9208 §4.1.2: a mailbox without a quota root gets a QUOTAROOT with no roots.
    ctx.send(untagged(`QUOTAROOT ${name}${line ? " " + str(QUOTA_ROOT) : ""}`));
    if (line) ctx.send(line);
  },
});

/** RFC 9208 §4.1.3: SETQUOTA quota-root (setquota-list) — refused, quotas are set by the admin. */
export const SETQUOTA = command({
  parse(r) {
    r.space();
    const root = r.astring("a quota root");
    r.space();
    const items = r.list(() => {
      const name = r.atom("a resource name").toUpperCase();
      r.space();
      return [name, r.number64("a resource limit")] as const;
    });
    if (items.length > 20) throw new ParseError("Too many resources");
    return { root, items };
  },
  run() {
    return Promise.reject(no("Quotas are set by the administrator", Code.NOPERM));
  },
});
