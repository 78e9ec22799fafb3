/**
 * Words of a language the site's learned ham was never written in (issue 21 round 6). When
 * most of a message's words were never in a learned ham message, the models have only
 * spam to compare it with: German or Japanese spam taught "und", "haben", `script:han` as
 * spam, and a German newsletter or a Japanese letter between colleagues then scores as
 * spam for being German or Japanese. In such a message the words that no learned ham had,
 * and the `script:`/`charset:` tokens no learned ham had, are left out of Bayes and of the
 * linear model (as a token never seen is): they say which language, not whether it is spam.
 * What still votes is what ham has shown (its words, the mail's structure, links, header
 * fields). A site that does get ham in that language learns it, and its words count again.
 *
 * @module
 */
import type { ClassCounts } from "./model.ts";

/**
 * Below this share of words that learned ham had, a message is taken as written in a
 * language the site's ham is not. On the development split, words known to ham are 0.14-0.17
 * of the German and Japanese hard ham, at least 0.49 of 95 % of the spam and of 0.62 of all
 * easy ham: the language is known or it is not, and 0.3 is in the gap.
 */
export const FOREIGN_SHARE = 0.3;

/** Fewer words than this say too little to judge the language. */
export const FOREIGN_MIN_WORDS = 10;

/** A word token (body text): the tokenizer gives every other class a `prefix:`. */
function isWord(token: string): boolean {
  return !token.includes(":");
}

/** Tokens that name the script or the charset a message is written in (tokenize.ts). */
function isLanguageMark(token: string): boolean {
  return token.startsWith("script:") || token.startsWith("charset:");
}

/**
 * The tokens to leave out of both models for `tokens` (counts in the same order, summed
 * over the scopes that score the message): empty unless the message is in a language its
 * learned ham never had (see the module note).
 */
export function foreignTokens(tokens: string[], counts: ClassCounts[]): Set<string> {
  let words = 0, known = 0;
  tokens.forEach((t, i) => {
    if (!isWord(t)) return;
    words++;
    if (counts[i].ham > 0) known++;
  });
  const out = new Set<string>();
  if (words < FOREIGN_MIN_WORDS || known / words >= FOREIGN_SHARE) return out;
  tokens.forEach((t, i) => {
    if (counts[i].ham === 0 && (isWord(t) || isLanguageMark(t))) out.add(t);
  });
  return out;
}
