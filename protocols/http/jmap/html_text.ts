/**
 * The text of an HTML body for the preview (RFC 8621 §4.1.4): `<style>`/`<script>` elements
 * dropped, then every tag, each replaced by a space. Plain forward scans, linear in the
 * text: the patterns used before, /<(style|script)[^>]*>[^]*?<\/\1>/gi and /<[^>]*>/g,
 * rescanned the rest of the text from every "<" that did not close (90 ms for 16 KB of
 * "<" per message, so an Email/get of many such mails held the server for seconds).
 *
 * @module
 */

/**
 * `from` -> hay.indexOf(needle, from), for `from`s that mostly grow: a search is reused
 * while its answer still lies ahead, so the regions scanned never overlap.
 */
function finder(hay: string, needle: string): (from: number) => number {
  let searchedFrom = Infinity;
  let found = -1;
  return (from) => {
    if (from < searchedFrom || (found >= 0 && found < from)) {
      searchedFrom = from;
      found = hay.indexOf(needle, from);
    }
    return found;
  };
}

/** ASCII letters lower-cased (length kept, so offsets stay valid). */
const asciiLower = (s: string) => s.replace(/[A-Z]+/g, (x) => x.toLowerCase());

/** Drops `<style>`/`<script>` elements (with their content), then tags; each becomes " ". */
export function htmlToText(html: string): string {
  return dropTags(dropElements(html));
}

function dropElements(html: string): string {
  const lower = asciiLower(html);
  const gt = finder(lower, ">");
  const close = { style: finder(lower, "</style>"), script: finder(lower, "</script>") };
  let out = "";
  let last = 0;
  for (let lt = lower.indexOf("<"); lt >= 0; lt = lower.indexOf("<", lt + 1)) {
    const name = lower.startsWith("<style", lt)
      ? "style"
      : lower.startsWith("<script", lt)
      ? "script"
      : null;
    if (!name) continue;
    const open = gt(lt + 1 + name.length);
    if (open < 0) break; // no ">" left: no element can start here or later
    const end = close[name](open + 1);
    if (end < 0) continue;
    out += html.slice(last, lt) + " ";
    last = end + name.length + 3;
    lt = last - 1;
  }
  return out + html.slice(last);
}

function dropTags(html: string): string {
  let out = "";
  let last = 0;
  for (let lt = html.indexOf("<"); lt >= 0; lt = html.indexOf("<", last)) {
    const end = html.indexOf(">", lt + 1);
    if (end < 0) break; // no ">" left: no tag can start here or later
    out += html.slice(last, lt) + " ";
    last = end + 1;
  }
  return out + html.slice(last);
}
