/**
 * Turns a message body into the `srcdoc` of its iframe. Hostile mail is the normal case, so
 * there are three walls, each enough on its own for scripts:
 *
 * 1. DOMPurify removes scripts, event handlers, javascript: URLs, forms, frames, SVG,
 *    <meta>, <base>, <link>; our hooks drop every remote reference (src, srcset, background,
 *    CSS url() and @import) unless the user asked for remote images, and count them.
 * 2. The document carries a CSP meta: no script, no form target, no fonts or styles from
 *    anywhere, images only as data: (plus http/https once allowed).
 * 3. The iframe is sandboxed without allow-scripts and without allow-same-origin
 *    (message_view.tsx): even a script that got through could not run or reach the page.
 *
 * Plain-text bodies are escaped, never parsed as HTML.
 *
 * @module
 */
/// <reference lib="dom" />
import DOMPurify from "dompurify";
import { replaceCssUrls } from "./css_urls.ts";

export interface RenderedBody {
  /** The whole document for the iframe's srcdoc. */
  doc: string;
  /** How many remote references were found (and removed unless allowed). */
  remote: number;
}

/** A URL that is neither inline data nor nothing: it would make a request. */
function isRemote(url: string): boolean {
  const u = url.trim();
  return u !== "" && !/^data:/i.test(u);
}

/** Replaces remote url(...) in CSS with none, drops @import; counts what it removed. */
function cleanCss(css: string, allowRemote: boolean, found: { n: number }): string {
  const out = css.replace(/@import[^;]*;?/gi, () => {
    found.n++;
    return "";
  });
  return replaceCssUrls(out, (m, url) => {
    if (!isRemote(url)) return m;
    found.n++;
    return allowRemote && /^\s*https?:/i.test(url) ? m : "none";
  });
}

const FORBID_TAGS = [
  "script",
  "form",
  "input",
  "button",
  "textarea",
  "select",
  "option",
  "iframe",
  "frame",
  "frameset",
  "object",
  "embed",
  "applet",
  "base",
  "meta",
  "link",
  "svg",
  "math",
  "audio",
  "video",
  "source",
  "track",
  "portal",
];

const URL_ATTRS = ["src", "srcset", "background", "poster", "lowsrc", "dynsrc"];

/**
 * Sanitises an HTML body; remote references are kept only with `allowRemote`. `cid:`
 * references (RFC 2392) become the data: URLs of the message's own parts in `inline`
 * (fetched by cid.ts), so inline images show without any request.
 */
export function sanitizeHtml(
  html: string,
  allowRemote: boolean,
  inline: ReadonlyMap<string, string> = new Map(),
): { html: string; remote: number } {
  const purify = DOMPurify(window);
  const found = { n: 0 };
  purify.addHook("uponSanitizeElement", (node, data) => {
    if (data.tagName === "style" && node.textContent) {
      node.textContent = cleanCss(node.textContent, allowRemote, found);
    }
  });
  purify.addHook("afterSanitizeAttributes", (node) => {
    const el = node as Element;
    for (const attr of URL_ATTRS) {
      const v = el.getAttribute?.(attr);
      if (v === null || v === undefined) continue;
      if (/^\s*cid:/i.test(v)) {
        const data = inline.get(cidOf(v));
        if (data && attr === "src") el.setAttribute(attr, data);
        else el.removeAttribute(attr);
        continue;
      }
      if (isRemote(v)) {
        found.n++;
        // Only http(s) images ever load.
        if (!allowRemote || !/^\s*https?:/i.test(v)) el.removeAttribute(attr);
      }
    }
    const style = el.getAttribute?.("style");
    if (style) el.setAttribute("style", cleanCss(style, allowRemote, found));
    if (el.tagName === "A") {
      el.setAttribute("target", "_blank");
      el.setAttribute("rel", "noopener noreferrer");
    }
  });
  const clean = purify.sanitize(html, {
    FORBID_TAGS,
    FORBID_ATTR: ["action", "formaction", "ping", "http-equiv"],
    ALLOW_DATA_ATTR: false,
    FORCE_BODY: true,
  }) as string;
  return { html: clean, remote: found.n };
}

/** "cid:abc%40x" -> "abc@x" (RFC 2392 §2: the URL is the %-encoded Content-ID). */
export function cidOf(url: string): string {
  const raw = url.trim().slice(4);
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

function escapeText(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** The iframe document around `body` (already sanitised or escaped). */
function frameDocument(body: string, allowRemote: boolean): string {
  const img = allowRemote ? "img-src data: https: http:" : "img-src data:";
  const csp = `default-src 'none'; ${img}; style-src 'unsafe-inline'; ` +
    "form-action 'none'; base-uri 'none'";
  return `<!doctype html><html><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="${csp}">` +
    `<style>body{font:15px/1.5 system-ui,sans-serif;margin:12px;overflow-wrap:anywhere}` +
    `pre{white-space:pre-wrap;font:14px/1.45 ui-monospace,monospace}img{max-width:100%;height:auto}</style>` +
    `</head><body>${body}</body></html>`;
}

/** The iframe document for an HTML body. */
export function renderHtml(
  html: string,
  allowRemote: boolean,
  inline?: ReadonlyMap<string, string>,
): RenderedBody {
  const clean = sanitizeHtml(html, allowRemote, inline);
  return { doc: frameDocument(clean.html, allowRemote), remote: clean.remote };
}

/** The iframe document for a plain-text body (escaped, wrapped as written). */
export function renderText(text: string): RenderedBody {
  return { doc: frameDocument(`<pre>${escapeText(text)}</pre>`, false), remote: 0 };
}
