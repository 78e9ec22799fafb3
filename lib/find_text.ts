/**
 * Substring search in linear time, for needles a client chooses (IMAP SEARCH, JMAP
 * filters and snippets, Sieve :contains / :matches) run over text an attacker may have
 * mailed. V8's `indexOf`/`includes` is O(text × needle) on some inputs: a needle
 * "a…ab a…a" of 60,000 characters took 35 s over a 4 MB body of "a"s, holding the
 * whole server. Here a needle longer than {@link NATIVE_MAX} is found by Knuth-Morris-Pratt
 * (O(text + needle)), after a native search for its first NATIVE_MAX characters rules out
 * most texts at native speed (that search costs at most NATIVE_MAX × text).
 *
 * @module
 */

/** Needles up to this length go to the native search (bounded: at most this × text). */
const NATIVE_MAX = 32;

/** KMP failure tables of the last needles (SEARCH runs one needle over many messages). */
const tables = new Map<string, Int32Array>();
const TABLES_KEPT = 8;

/** The KMP failure function of `needle`: fail[i] = longest proper border of needle[0..i]. */
function failureTable(needle: string): Int32Array {
  let fail = tables.get(needle);
  if (fail) return fail;
  const m = needle.length;
  fail = new Int32Array(m);
  for (let i = 1, k = 0; i < m; i++) {
    const c = needle.charCodeAt(i);
    while (k > 0 && needle.charCodeAt(k) !== c) k = fail[k - 1];
    if (needle.charCodeAt(k) === c) k++;
    fail[i] = k;
  }
  if (tables.size >= TABLES_KEPT) tables.delete(tables.keys().next().value!);
  tables.set(needle, fail);
  return fail;
}

/** Like `text.indexOf(needle, from)` (UTF-16 code units), in O(text + needle) time. */
export function findText(text: string, needle: string, from = 0): number {
  const m = needle.length;
  if (m <= NATIVE_MAX) return text.indexOf(needle, from);
  const n = text.length;
  if (from < 0) from = 0;
  if (n - from < m) return -1;
  // Where the needle can start at all: its first characters, found natively.
  const start = text.indexOf(needle.slice(0, NATIVE_MAX), from);
  if (start < 0 || n - start < m) return -1;
  const fail = failureTable(needle);
  for (let i = start, k = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    while (k > 0 && needle.charCodeAt(k) !== c) k = fail[k - 1];
    if (needle.charCodeAt(k) === c && ++k === m) return i - m + 1;
  }
  return -1;
}

/** Like `text.includes(needle)`, in O(text + needle) time. */
export function containsText(text: string, needle: string): boolean {
  return findText(text, needle) >= 0;
}
