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

/**
 * The advance-fee fraud ("419") letter, in any of its stories: a large sum in dollars, a
 * story of a dead relative, a bank transfer and secrecy, a greeting of a stranger (as
 * SpamAssassin's ADVANCE_FEE rules). Two of the three kinds: 7.2 % of development spam,
 * 1 of 2,500 easy ham, no hard ham.
 */
export const FEE_KINDS: Record<string, RegExp> = {
  fee_money:
    /\b(us\s?\$|usd|u\.s\.\s?dollars?)\s?\d|\b\d+(\.\d+)?\s?(million|m)\s+(united\s+states\s+)?(us\s+)?dollars\b|\(\s?us\$/i,
  fee_story:
    /\b(next\s+of\s+kin|beneficiary|foreign\s+partner|late\s+(husband|father|client)|deceased|bank\s+account|transfer\s+(of\s+)?(the\s+)?(sum|fund|money)|strictest\s+confidence|absolute\s+confidentiality|trustworth|god\s+bless)\b/i,
  fee_greeting:
    /\b(dear\s+(sir|friend|beloved)|compliments\s+of\s+the\s+season|i\s+am\s+(mr|mrs|dr|barrister|prince)\b|(my|our)\s+(late\s+)?(father|husband))/i,
};

/** Characters of each text (and of the subject) looked at. */
const SCAN = 32768;

/**
 * The label some laws ask of unsolicited advertising in the subject: "ADV:" (several US
 * states, 2002) and 未承諾広告 ("unsolicited advertisement", Japan). Only bulk advertisers
 * write it: 4.4 % of development spam, no ham.
 */
const ADV_LABEL = /^\s*(\[[^\]]*\]\s*)?adv?\s*[:\-]|\badv\s*:|\(\s*adv?\s*\)|未承諾広告/i;

/** The kinds of phrase a message has: sales pressure, then advance fee. */
export function phraseKinds(m: ParsedMail): string[] {
  const text = [m.subject, ...m.texts.map((t) => t.text.slice(0, SCAN))].join("\n");
  return [...Object.entries(PHRASE_KINDS), ...Object.entries(FEE_KINDS)]
    .filter(([, re]) => re.test(text)).map(([k]) => k);
}

/**
 * SALES_PRESSURE: two or more kinds of sales-pressure phrase; ADVANCE_FEE: two or more
 * kinds of the advance-fee letter; SUBJ_ADV_LABEL: the subject labelled an advertisement.
 */
export function phraseRules(m: ParsedMail, scores: Record<string, number>): RuleHit[] {
  const hits = rulesOf(phraseKinds(m), scores);
  if (ADV_LABEL.test(m.subject)) hits.push(hit("SUBJ_ADV_LABEL", scores));
  return hits;
}

/** The rules of the kinds {@link phraseKinds} found. */
export function rulesOf(kinds: string[], scores: Record<string, number>): RuleHit[] {
  const hits: RuleHit[] = [];
  if (kinds.filter((k) => k in PHRASE_KINDS).length >= 2) hits.push(hit("SALES_PRESSURE", scores));
  if (kinds.filter((k) => k in FEE_KINDS).length >= 2) hits.push(hit("ADVANCE_FEE", scores));
  return hits;
}
