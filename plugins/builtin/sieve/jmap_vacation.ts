/**
 * JMAP VacationResponse (RFC 8621 §8) and Sieve vacation as one state: VacationResponse/set
 * also writes the object into this plugin's kv (`jmapvacation:<account>`), and at delivery
 * builtin:sieve acts as if a generated `vacation` rule ran before the user's active script
 * (RFC 8621 §8: replies only between fromDate and toDate), through the same RFC 3834 rules
 * and the same once-per-sender-per-period count (vacation_rules.ts, vacation.ts). While it
 * is on, a `vacation` in the user's script is not sent as well (one reply per message).
 *
 * @module
 */
import type { Command } from "./tree.ts";

/** The VacationResponse properties the rule uses. */
export interface JmapVacation {
  isEnabled: boolean;
  fromDate: string | null;
  toDate: string | null;
  subject: string | null;
  textBody: string | null;
  htmlBody: string | null;
}

/** The period of the generated rule: RFC 5230 §4.1's default of 7 days. */
export const JMAP_VACATION_PERIOD = 7 * 86_400;

export const jmapVacationKey = (account: string) => `jmapvacation:${account.toLowerCase()}`;

/** Stores the JMAP object where the plugin reads it (the JMAP side calls this). */
export async function saveJmapVacation(
  kv: { set(key: string, value: string): Promise<void> },
  account: string,
  v: JmapVacation,
): Promise<void> {
  await kv.set(jmapVacationKey(account), JSON.stringify(v));
}

/** The stored object, or null (none, or not JSON). */
export function parseJmapVacation(raw: string | null): JmapVacation | null {
  if (raw === null) return null;
  try {
    const v = JSON.parse(raw);
    return v && typeof v === "object" ? v as JmapVacation : null;
  } catch {
    return null;
  }
}

/** The generated vacation command when the response is on at `now`, else null. */
export function vacationRule(
  v: JmapVacation | null,
  now: number,
): Extract<Command, { c: "vacation" }> | null {
  if (!v?.isEnabled) return null;
  if (v.fromDate && now < Date.parse(v.fromDate)) return null;
  if (v.toDate && now >= Date.parse(v.toDate)) return null;
  // RFC 8621 §8.1: textBody, or a plain text form of htmlBody when only that is set.
  const html = v.textBody === null && v.htmlBody !== null;
  const reason = html
    ? "Content-Type: text/html; charset=utf-8\r\n\r\n" + v.htmlBody
    : v.textBody ?? "";
  return {
    c: "vacation",
    reason,
    period: JMAP_VACATION_PERIOD,
    subject: v.subject,
    from: null,
    addresses: [],
    mime: html,
    handle: `jmap:${JSON.stringify([v.subject, v.textBody, v.htmlBody])}`,
  };
}
