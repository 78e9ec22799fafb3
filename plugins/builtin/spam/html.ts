/**
 * Just enough HTML for spam checks: visible text, links with their anchor text, images,
 * and a few tell-tale tags. A linear scan with bounded work, never throws; not a DOM.
 *
 * @module
 */

/** A link as the reader sees it: where it goes and what it says. */
export interface HtmlLink {
  href: string;
  text: string;
}

/** What {@link scanHtml} found. */
export interface HtmlScan {
  /** The visible text, tags removed, entities decoded, white space collapsed. */
  text: string;
  links: HtmlLink[];
  /** Number of <img> tags. */
  images: number;
  /** Lower-case tag names seen (each once), for the tokenizer. */
  tags: Set<string>;
  /** Text that a reader does not see (font size 0/1, color equal to white, display:none). */
  hiddenText: boolean;
}

const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
  copy: "©",
  reg: "®",
  euro: "€",
  pound: "£",
};

/** Decodes character references (named ones we know, decimal and hex). */
export function decodeEntities(s: string): string {
  if (s.indexOf("&") < 0) return s;
  return s.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,8});?/gi, (m, e: string) => {
    if (e[0] === "#") {
      const n = e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return n > 0 && n < 0x110000 ? String.fromCodePoint(n) : " ";
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

function attr(tag: string, name: string): string | null {
  const re = new RegExp(`\\b${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, "i");
  const m = re.exec(tag);
  return m ? decodeEntities(m[1] ?? m[2] ?? m[3] ?? "").trim() : null;
}

const BLOCK = new Set(["br", "p", "div", "tr", "td", "li", "table", "h1", "h2", "h3", "hr"]);
const MAX_LINKS = 200;

/** Scans an HTML document or fragment. */
export function scanHtml(html: string): HtmlScan {
  const out: HtmlScan = { text: "", links: [], images: 0, tags: new Set(), hiddenText: false };
  const text: string[] = [];
  let link: { href: string; start: number } | null = null;
  let skip: string | null = null; // inside <style> or <script>
  let i = 0;
  const n = html.length;
  while (i < n) {
    const lt = html.indexOf("<", i);
    const chunkEnd = lt < 0 ? n : lt;
    if (skip === null && chunkEnd > i) text.push(decodeEntities(html.slice(i, chunkEnd)));
    if (lt < 0) break;
    if (html.startsWith("<!--", lt)) {
      const end = html.indexOf("-->", lt + 4);
      i = end < 0 ? n : end + 3;
      continue;
    }
    const gt = html.indexOf(">", lt + 1);
    if (gt < 0) break;
    const tag = html.slice(lt + 1, gt);
    i = gt + 1;
    const m = /^\s*(\/?)([a-zA-Z][a-zA-Z0-9]*)/.exec(tag);
    if (!m) continue;
    const closing = m[1] === "/";
    const name = m[2].toLowerCase();
    if (out.tags.size < 100) out.tags.add(name);
    if (skip !== null) {
      if (closing && name === skip) skip = null;
      continue;
    }
    if (!closing && (name === "style" || name === "script")) {
      skip = name;
      continue;
    }
    if (BLOCK.has(name)) text.push("\n");
    else text.push(" ");
    if (name === "img" && !closing) out.images++;
    if (!closing && /(?:font-size\s*:\s*[01](?:px|pt)?\b|display\s*:\s*none)/i.test(tag)) {
      out.hiddenText = true;
    }
    if (name === "font" && !closing && /\bsize\s*=\s*["']?[01]\b/i.test(tag)) out.hiddenText = true;
    if (name === "a") {
      if (link && out.links.length < MAX_LINKS) {
        out.links.push({ href: link.href, text: text.slice(link.start).join("").trim() });
      }
      link = null;
      if (!closing) {
        const href = attr(tag, "href");
        if (href !== null) link = { href, start: text.length };
      }
    }
  }
  if (link && out.links.length < MAX_LINKS) {
    out.links.push({ href: link.href, text: text.slice(link.start).join("").trim() });
  }
  out.text = text.join("").replace(/[ \t\u00a0]+/g, " ").replace(/\s*\n\s*/g, "\n").trim();
  return out;
}
