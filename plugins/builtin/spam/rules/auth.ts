/**
 * Rules from the auth plugin's results (SPF, DKIM, DMARC), read from its result note in
 * `ctx.results` (see plugins/builtin/auth/results.ts). Pure.
 *
 * @module
 */
import type { AuthSummary } from "../../auth/results.ts";
import { hit, type RuleHit } from "./table.ts";

/** The authentication rules for a summary (none when the auth plugin did not run). */
export function authRules(s: AuthSummary | null, scores: Record<string, number>): RuleHit[] {
  if (!s) return [];
  const hits: RuleHit[] = [];
  // RFC 7208 §8: fail and softfail are the sender domain's own statements about the host.
  if (s.spf === "pass") hits.push(hit("SPF_PASS", scores));
  else if (s.spf === "fail") hits.push(hit("SPF_FAIL", scores));
  else if (s.spf === "softfail") hits.push(hit("SPF_SOFTFAIL", scores));
  else if (s.spf === "permerror") hits.push(hit("SPF_PERMERROR", scores));
  if (s.dkim === "pass") {
    hits.push(hit("DKIM_VALID", scores));
    if (s.dkimAligned) hits.push(hit("DKIM_VALID_AU", scores));
  } else if (s.dkim === "fail" || s.dkim === "neutral" || s.dkim === "policy") {
    hits.push(hit("DKIM_INVALID", scores));
  }
  if (s.dmarc === "fail") {
    if (s.policy === "reject") hits.push(hit("DMARC_REJECT", scores));
    else if (s.policy === "quarantine") hits.push(hit("DMARC_QUAR", scores));
    else hits.push(hit("DMARC_FAIL", scores));
  }
  return hits;
}

/** True when the From address is authenticated: DMARC pass, or aligned DKIM. */
export function fromAuthenticated(s: AuthSummary | null): boolean {
  return !!s && (s.dmarc === "pass" || (s.dkim === "pass" && s.dkimAligned));
}
