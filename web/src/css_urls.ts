/**
 * CSS `url(...)` references in hostile mail, found by a plain left-to-right scan. The
 * pattern used before, /url\s*\(\s*(['"]?)([^'")]*)\1\s*\)/gi, backtracked cubically on
 * white space after "url(" (16 KB of it froze the message view for ten minutes).
 *
 * @module
 */

const isSpace = (c: string | undefined) => c !== undefined && /\s/.test(c);
const isStop = (c: string) => c === "'" || c === '"' || c === ")";

/**
 * `css` with every `url( ["|'] url ["|'] )` (CSS white space allowed around the parts,
 * quotes paired) replaced by `replace(whole, url)` — what
 * `css.replace(/url\s*\(\s*(['"]?)([^'")]*)\1\s*\)/gi, (m, _q, url) => ...)` did.
 */
export function replaceCssUrls(css: string, replace: (whole: string, url: string) => string) {
  const n = css.length;
  const word = /url/gi;
  let out = "";
  let last = 0;
  // The first quote or ")" at or after `stopFrom` is at `stop`: starts only grow, so one
  // forward scan serves every attempt (rescanning from each "url(" was quadratic too).
  let stopFrom = 0;
  let stop = -1;
  const stopAfter = (from: number) => {
    if (from < stopFrom || from > stop) {
      stop = from;
      while (stop < n && !isStop(css[stop])) stop++;
    }
    stopFrom = from;
    return stop;
  };
  for (let m = word.exec(css); m; m = word.exec(css)) {
    const at = m.index;
    word.lastIndex = at + 1;
    let j = at + 3;
    while (isSpace(css[j])) j++;
    if (css[j] !== "(") continue;
    j++;
    while (isSpace(css[j])) j++;
    const quote = css[j] === "'" || css[j] === '"' ? css[j++] : "";
    const end = stopAfter(j);
    const url = css.slice(j, end);
    j = end;
    if (quote && css[j++] !== quote) continue;
    while (isSpace(css[j])) j++;
    if (css[j] !== ")") continue;
    j++;
    out += css.slice(last, at) + replace(css.slice(at, j), url);
    last = j;
    word.lastIndex = j;
  }
  return out + css.slice(last);
}
