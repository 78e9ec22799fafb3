/**
 * The header fields that carry the verdict, in SpamAssassin's well-known form so mail
 * clients' filters and tools that know it read ours too:
 *
 * ```
 * X-Spam-Score: 7.3
 * X-Spam-Status: Yes, score=7.3 required=5.0 tests=BAYES_99,HTML_ONLY
 * ```
 *
 * Pure.
 *
 * @module
 */
import type { RuleHit } from "./rules/table.ts";

/** "7.3", "-0.2", "12.0". */
export function formatScore(n: number): string {
  return (Math.round(n * 10) / 10).toFixed(1);
}

/** The rule names that fired, sorted, comma-separated ("none" when none). */
export function ruleList(hits: RuleHit[]): string {
  const names = [...new Set(hits.map((h) => h.name))].sort();
  return names.length ? names.join(",") : "none";
}

/** X-Spam-Score and X-Spam-Status for a score against the junk threshold. */
export function spamHeaders(
  score: number,
  required: number,
  hits: RuleHit[],
): [string, string][] {
  const yes = score >= required ? "Yes" : "No";
  return [
    ["X-Spam-Score", formatScore(score)],
    [
      "X-Spam-Status",
      `${yes}, score=${formatScore(score)} required=${formatScore(required)} tests=${
        ruleList(hits)
      }`,
    ],
  ];
}
