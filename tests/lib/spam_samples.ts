/** Corpus samples for the spam bench's split tests: a made-up path in the corpus's layout. */
import type { Sample } from "../../bench/spam_splits.ts";

/** Message `n` of folder `source`, dated `date`. */
export const sample = (source: string, n: number, date: number, spam = false): Sample => ({
  path: `/c/${source}/${String(n).padStart(5, "0")}.x.txt`,
  spam,
  source,
  date,
});
