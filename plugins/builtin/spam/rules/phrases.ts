/**
 * Sales-pressure phrasing, in SpamAssassin's spirit: kinds of phrases that bulk senders of
 * every campaign use whatever they sell — a call to act now, a deadline, "you are receiving
 * this because", easy money, a guarantee, "!!!", and the bulk-mail law disclaimer — written
 * from general knowledge of spam, not from the words of any one campaign. One kind alone is
 * common in honest commercial mail (12 % of hard ham has one); two or more kinds in one
 * message are not (0 % of hard ham, 0.2 % of easy ham, 19 % of spam in the development
 * split; PLUGINS.md). Pure.
 *
 * @module
 */
import type { ParsedMail } from "../parse.ts";
import { hit, type RuleHit } from "./table.ts";

/** Each kind of phrase, by name (for reading and tests). */
export const PHRASE_KINDS: Record<string, RegExp> = {
  act_now: /\b(order|buy|call|act|apply|sign\s+up|respond)\s+(now|today)\b/i,
  deadline:
    /\blimited[- ]time\b|\bfor\s+a\s+limited\b|\bexpires?\s+(soon|today)\b|\bdon'?t\s+(miss|delay|wait)\b/i,
  receiving_this:
    /\byou\s+(are\s+)?receiv(e|ed|ing)\s+this\b|\bthis\s+(e-?mail|message)\s+(is\s+)?(sent|was\s+sent)\s+(to\s+you\s+)?(in\s+compliance|because|to\s+you\s+because)\b|\bone[- ]time\s+(e-?)?mail/i,
  easy_money:
    /\b(earn|make|making)\s+(\$|money|cash|extra|up\s+to)\b|\bwork\s+(from|at)\s+home\b|\bfinancial\s+freedom\b/i,
  guarantee: /\b(guaranteed?|money[- ]back|no\s+risk)\b/i,
  shouting: /!{3,}/,
  // The US bill of 1998 on unsolicited mail that bulk mailers cite as if it allowed them.
  bulk_law: /\b(s\.?\s*1618|section\s+301|bill\s+s\.?\s*1618)\b/i,
};

/** Characters of each text (and of the subject) looked at. */
const SCAN = 32768;

/** The kinds of phrase a message has. */
export function phraseKinds(m: ParsedMail): string[] {
  const text = [m.subject, ...m.texts.map((t) => t.text.slice(0, SCAN))].join("\n");
  return Object.keys(PHRASE_KINDS).filter((k) => PHRASE_KINDS[k].test(text));
}

/** SALES_PRESSURE: two or more kinds of sales-pressure phrase. */
export function phraseRules(m: ParsedMail, scores: Record<string, number>): RuleHit[] {
  return phraseKinds(m).length >= 2 ? [hit("SALES_PRESSURE", scores)] : [];
}
