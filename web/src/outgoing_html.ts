/**
 * What the HTML editor may send: a short allow-list of formatting tags and, on links, only
 * http(s) and mailto hrefs (DOMPurify with ALLOWED_TAGS/ALLOWED_ATTR, so anything a paste
 * brought into the editor — styles, images, scripts, handlers — is dropped). And the plain
 * text alternative of that HTML (RFC 2046 §5.1.4: the simplest form first).
 *
 * @module
 */
/// <reference lib="dom" />
import DOMPurify from "dompurify";

const TAGS = ["b", "strong", "i", "em", "u", "a", "ul", "ol", "li", "p", "br", "div", "blockquote"];

export function cleanOutgoing(html: string): string {
  const purify = DOMPurify(window);
  purify.addHook("afterSanitizeAttributes", (node) => {
    const el = node as Element;
    const href = el.getAttribute?.("href");
    if (href !== null && href !== undefined && !/^(https?:|mailto:)/i.test(href.trim())) {
      el.removeAttribute("href");
    }
  });
  return purify.sanitize(html, { ALLOWED_TAGS: TAGS, ALLOWED_ATTR: ["href"] }) as string;
}

/** The text of sanitised HTML: paragraphs and line breaks kept, list items bulleted. */
export function htmlToText(html: string): string {
  const doc = new DOMParser().parseFromString(`<body>${html}</body>`, "text/html");
  const out: string[] = [];
  const walk = (n: Node) => {
    if (n.nodeType === Node.TEXT_NODE) return void out.push(n.textContent ?? "");
    const tag = (n as Element).tagName?.toLowerCase();
    if (tag === "br") return void out.push("\n");
    if (tag === "li") out.push("\n- ");
    else if (["p", "div", "ul", "ol", "blockquote"].includes(tag)) out.push("\n");
    n.childNodes.forEach(walk);
    if (tag === "a") {
      const href = (n as Element).getAttribute("href");
      if (href && href !== n.textContent) out.push(` <${href}>`);
    }
    if (["p", "div", "blockquote"].includes(tag)) out.push("\n");
  };
  doc.body.childNodes.forEach(walk);
  return out.join("").replace(/\n{3,}/g, "\n\n").trim() + "\n";
}
