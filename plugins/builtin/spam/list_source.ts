/**
 * Mail of a mailing list the learned ham never had (issue 21 round 7, "sources held out").
 * A list relays whatever is sent to it, spam too; a site that learned the spam a list
 * relayed but none of its ham has learned the list's identity — its List-Id, the hosts it
 * relays through, its bounce domain — as spam, and the first ham of that list then scores
 * as spam for coming through it (the Irish Linux list: 5 of its messages lost when its ham
 * was held out, BAYES_95 and more). Those tokens say which path the message took, not
 * whether it is spam, so in a message whose list no learned ham came through they are left
 * out of Bayes and the linear model (as foreign.ts leaves out a language no ham had). A list
 * whose ham was learned keeps them: there they are evidence the site has seen.
 *
 * @module
 */
import type { ClassCounts } from "./model.ts";

/** The list identity token (tokenize.ts): `listid:<id>`. */
export const LIST_ID_PREFIX = "listid:";

/**
 * The list a message came through, "" when none: the List-Id identifier (RFC 2919 §3, in
 * angle brackets; a broken field keeps its text), else the list address of an ezmlm or
 * Yahoo Groups `Mailing-List` field. (Not List-Post alone: a field any message can carry,
 * which spam relayed by a list had without the List-Id the list's own mail has.)
 */
export function listIdOf(header: (name: string) => string | undefined): string {
  const id = header("list-id");
  if (id !== undefined) {
    const inside = /<([^<>]{1,200})>/.exec(id)?.[1] ?? id.slice(0, 200);
    const key = inside.trim().toLowerCase().replace(/\s+/g, " ");
    if (key) return key;
  }
  const ml = /\blist\s+([^\s;,<>]{1,100}@[^\s;,<>]{1,100})/i
    .exec((header("mailing-list") ?? "").slice(0, 500))?.[1];
  return ml ? ml.toLowerCase() : "";
}

/** Tokens that name the list and the path through it (tokenize.ts prefixes). */
function isPathToken(token: string): boolean {
  return token.startsWith(LIST_ID_PREFIX) || token.startsWith("list:") ||
    token.startsWith("rcvd:") || token.startsWith("rp:dom:");
}

/** What {@link listTokensLeftOut} found. */
export interface ListLeftOut {
  /** Tokens to leave out of both models. */
  out: Set<string>;
  /** The message came through a list no learned ham came through. */
  unlearned: boolean;
}

/**
 * The tokens to leave out of both models (`counts` in the order of `tokens`, summed over
 * the scopes). The `listid:` token is only read for its counts, never votes: the List-Id's
 * words vote already (`list:`), and a second token of the same would count the list twice.
 * When the message came through a list that relayed learned spam but no learned ham, its
 * identity and path (`list:`, `rcvd:`, `rp:dom:`) are left out too.
 */
export function listTokensLeftOut(tokens: string[], counts: ClassCounts[]): ListLeftOut {
  const out = new Set<string>();
  const i = tokens.findIndex((t) => t.startsWith(LIST_ID_PREFIX));
  if (i < 0) return { out, unlearned: false };
  out.add(tokens[i]);
  // Only a list the site has seen relay spam: a List-Id never seen at all (any spam run can
  // add one) must not switch off the spam evidence of its relays and bounce domain.
  if (counts[i].ham > 0 || counts[i].spam === 0) return { out, unlearned: false };
  for (const t of tokens) if (isPathToken(t)) out.add(t);
  return { out, unlearned: true };
}
