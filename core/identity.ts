/**
 * Which addresses an authenticated user may send as: the one rule behind MAIL FROM and the
 * From: / Sender: header fields on the submission listeners (RFC 6409 §6.1 lets the MSA
 * check them).
 *
 * A user owns:
 * - their own address, and its +tag forms;
 * - every address the router resolves to them (an alias whose targets include them; a
 *   catch-all they receive);
 * - the identities `[submission] allowed_identities` grants them ("team@d", or "@d" for a
 *   whole domain);
 * - every address, when they are listed in `[submission] admins`.
 *
 * @module
 */
import type { SubmissionConfig } from "./config.ts";
import type { Router } from "./router.ts";
import { splitAddress } from "./router.ts";
import type { Account } from "../storage/mod.ts";

/** May `account` use `address` as a sender identity? */
export async function ownsAddress(
  deps: { router: Router; config: { submission: SubmissionConfig } },
  account: Account,
  address: string,
): Promise<boolean> {
  const lower = address.toLowerCase();
  if (lower === account.email) return true;
  const policy = deps.config.submission;
  if (policy.admins.includes(account.email)) return true;
  const granted = policy.allowedIdentities.get(account.email);
  if (granted) {
    const domain = splitAddress(lower)?.domain;
    if (granted.some((g) => g === lower || (domain !== undefined && g === `@${domain}`))) {
      return true;
    }
  }
  const r = await deps.router.resolve(lower, { mayRelay: false });
  return r.kind === "deliver" && r.local.some((l) => l.accountId === account.id);
}
