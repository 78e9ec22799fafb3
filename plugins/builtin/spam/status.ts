/**
 * The header fields that carry the verdict, in SpamAssassin's well-known form so mail
 * clients' filters and tools that know it read ours too:
 *
 * ```
 * X-Spam-Score: 7.3
 * X-Spam-Status: Yes, score=7.3 required=5.0 tests=BAYES_99,HTML_ONLY
 * X-Spam-Report: score=7.3 required=5.0 bayes=0.9931 linear=0.8012 | 5.5 BAYES_99 Bayes spam
 *   probability 99 to 99.9% | 1.5 LINEAR linear model ... | 0.7 HTML_ONLY HTML without ...
 * ```
 *
 * The report explains the decision to whoever reads the message's source: every rule with
 * its score and meaning, the Bayes and linear-model probabilities (one line: plugins cannot
 * fold fields).
 *
 * Pure.
 *
 * @module
 */
import { type RuleHit, RULES } from "./rules/table.ts";

/** "7.3", "-0.2", "12.0". */
export function formatScore(n: number): string {
  return (Math.round(n * 10) / 10).toFixed(1);
}

/** The rule names that fired, sorted, comma-separated ("none" when none). */
export function ruleList(hits: RuleHit[]): string {
  const names = [...new Set(hits.map((h) => h.name))].sort();
  return names.length ? names.join(",") : "none";
}

/** Longest X-Spam-Report value (RFC 5322 §2.1.1: lines of at most 998 octets). */
const MAX_REPORT = 900;

/** One entry per rule that fired: score, name and what it means, highest score first. */
export function explain(hits: RuleHit[]): Array<{ rule: string; score: number; about: string }> {
  return [...hits]
    .sort((a, b) => Math.abs(b.score) - Math.abs(a.score) || (a.name < b.name ? -1 : 1))
    .map((h) => ({ rule: h.name, score: h.score, about: RULES[h.name]?.about ?? "" }));
}

/** The X-Spam-Report value: totals, the Bayes probability, then each rule. */
export function spamReport(
  score: number,
  required: number,
  hits: RuleHit[],
  bayes: number | null,
  linear: number | null = null,
): string {
  const p = (x: number | null) => x === null ? "none" : x.toFixed(4);
  let out = `score=${formatScore(score)} required=${formatScore(required)} bayes=${p(bayes)}` +
    ` linear=${p(linear)}`;
  for (const e of explain(hits)) {
    const part = ` | ${formatScore(e.score)} ${e.rule} ${e.about}`.replace(/[\r\n]+/g, " ");
    if (out.length + part.length > MAX_REPORT) return out + " | ...";
    out += part;
  }
  return out;
}

/**
 * X-Spam-Score, X-Spam-Status and X-Spam-Report for a score against the junk threshold.
 * `autolearn` (true spam, false ham) adds SpamAssassin's `autolearn=spam|ham` to the status:
 * the message was learned into the global counts (autolearn.ts).
 */
export function spamHeaders(
  score: number,
  required: number,
  hits: RuleHit[],
  bayes: number | null = null,
  linear: number | null = null,
  autolearn: boolean | null = null,
): [string, string][] {
  const yes = score >= required ? "Yes" : "No";
  const learned = autolearn === null ? "" : ` autolearn=${autolearn ? "spam" : "ham"}`;
  return [
    ["X-Spam-Score", formatScore(score)],
    [
      "X-Spam-Status",
      `${yes}, score=${formatScore(score)} required=${formatScore(required)} tests=${
        ruleList(hits)
      }${learned}`,
    ],
    ["X-Spam-Report", spamReport(score, required, hits, bayes, linear)],
  ];
}
