/**
 * The auth plugin's verdicts in a compact form other plugins can read: the result `note`
 * ("spf=pass dkim=pass dmarc=fail policy=reject arc=none") that later plugins see in
 * `ctx.results`. The spam plugin turns it into rules (SPF_FAIL, DMARC_FAIL, ...).
 *
 * Pure: no I/O.
 *
 * @module
 */

/** One check's result keyword (RFC 8601 §2.7: pass, fail, softfail, none, ...). */
export type AuthResultWord = string;

/** What the auth plugin found for one message. */
export interface AuthSummary {
  /** RFC 7208 result for MAIL FROM (or HELO for the null sender). */
  spf: AuthResultWord;
  /** Best DKIM result over all signatures: pass > fail/neutral/policy > temperror > none. */
  dkim: AuthResultWord;
  /** True when a passing DKIM signature is aligned with the From domain. */
  dkimAligned: boolean;
  /** RFC 7489 / RFC 9989 result for the From domain. */
  dmarc: AuthResultWord;
  /** The policy to apply when DMARC fails: "none", "quarantine", "reject" (or "" if unknown). */
  policy: string;
  /** RFC 8617 chain validation result. */
  arc: AuthResultWord;
  /**
   * For DMARC aggregate reports (RFC 7489 §7.2, read by the host: core/reports/): SPF
   * aligned with the From domain, the DKIM d= reported (the aligned one, else the first
   * signature's), the DMARC policy domain.
   */
  spfAligned?: boolean;
  dkimDomain?: string;
  policyDomain?: string;
}

/** The note is cut at this length by the plugin engine (verdict.ts): extras must fit. */
const NOTE_LIMIT = 200;

const KEYS = ["spf", "dkim", "dmarc", "policy", "arc"] as const;

/** The note the auth plugin publishes: "spf=pass dkim=pass dkim_aligned=1 dmarc=pass ...". */
export function formatAuthNote(s: AuthSummary): string {
  const parts = KEYS.map((k) => `${k}=${s[k] || "none"}`);
  parts.splice(2, 0, `aligned=${s.dkimAligned ? 1 : 0}`);
  let note = parts.join(" ");
  // Extras for the DMARC report, each whole or not at all (domains may be long).
  const extras = [
    s.spfAligned !== undefined ? `spfal=${s.spfAligned ? 1 : 0}` : "",
    s.policyDomain ? `pdom=${s.policyDomain}` : "",
    s.dkimDomain ? `dkimd=${s.dkimDomain}` : "",
  ];
  for (const x of extras) if (x && note.length + 1 + x.length <= NOTE_LIMIT) note += ` ${x}`;
  return note;
}

/** Reads a note made by {@link formatAuthNote}; null when it is not one. */
export function parseAuthNote(note: string | undefined): AuthSummary | null {
  if (!note || !/(^| )spf=/.test(note)) return null;
  const map = new Map<string, string>();
  for (const part of note.split(" ")) {
    const eq = part.indexOf("=");
    if (eq > 0) map.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return {
    spf: map.get("spf") ?? "none",
    dkim: map.get("dkim") ?? "none",
    dkimAligned: map.get("aligned") === "1",
    dmarc: map.get("dmarc") ?? "none",
    policy: map.get("policy") ?? "",
    arc: map.get("arc") ?? "none",
    ...(map.has("spfal") ? { spfAligned: map.get("spfal") === "1" } : {}),
    ...(map.get("dkimd") ? { dkimDomain: map.get("dkimd") } : {}),
    ...(map.get("pdom") ? { policyDomain: map.get("pdom") } : {}),
  };
}

const DKIM_RANK: Record<string, number> = {
  pass: 5,
  fail: 4,
  policy: 3,
  neutral: 3,
  permerror: 2,
  temperror: 1,
};

/** The most telling DKIM result of several signatures (pass wins, then fail ...). */
export function bestDkim(results: string[]): string {
  let best = "none";
  for (const r of results) if ((DKIM_RANK[r] ?? 0) > (DKIM_RANK[best] ?? 0)) best = r;
  return best;
}
