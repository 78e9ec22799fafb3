/**
 * Content rules: HTML-only mail, image-only mail, links whose text shows another host,
 * hidden text, numeric-IP links, needlessly base64-encoded text, executable attachments.
 * Pure.
 *
 * @module
 */
import { type ParsedMail, urlHost } from "../parse.ts";
import { orgDomain } from "./headers.ts";
import { hit, type RuleHit } from "./table.ts";

/** Extensions of files that run when opened (Windows and scripting hosts). */
const EXECUTABLE = new Set([
  "exe",
  "scr",
  "pif",
  "com",
  "bat",
  "cmd",
  "js",
  "jse",
  "vbs",
  "vbe",
  "wsf",
  "wsh",
  "hta",
  "jar",
  "msi",
  "msp",
  "cpl",
  "lnk",
  "reg",
  "ps1",
  "iso",
  "img",
  "vhd",
  "chm",
  "scf",
  "appx",
]); // deno-fmt-ignore

/** Extensions a disguised executable pretends to have ("invoice.pdf.exe"). */
const DOCUMENT = /\.(pdf|docx?|xlsx?|pptx?|txt|jpe?g|png|gif|zip|rtf|html?)\s*\.[a-z0-9]{2,4}$/i;

/** A host name shown in link text, if the text looks like a URL or host name. */
function shownHost(text: string): string | null {
  const t = text.trim();
  if (t.length > 200 || /\s/.test(t)) return null;
  if (!/^(https?:\/\/|www\.)/i.test(t) && !/^[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}(\/|$)/i.test(t)) {
    return null;
  }
  return urlHost(t);
}

/** Capitals among the (ASCII) letters of the first few KB of each text. */
function capitals(m: ParsedMail): { upper: number; letters: number } {
  let upper = 0;
  let lower = 0;
  for (const t of m.texts) {
    const s = t.text;
    const n = Math.min(s.length, 8192);
    for (let i = 0; i < n; i++) {
      // ASCII letters: set bit 0x20 and the range is a-z for both cases.
      const c = s.charCodeAt(i);
      if (((c | 0x20) - 97) >>> 0 < 26) {
        if (c < 97) upper++;
        else lower++;
      }
    }
  }
  return { upper, letters: upper + lower };
}

/** The content rules of a parsed message. */
export function contentRules(m: ParsedMail, scores: Record<string, number>): RuleHit[] {
  const hits: RuleHit[] = [];
  if (m.hasHtml && !m.hasPlain) hits.push(hit("HTML_ONLY", scores));
  if (m.hasHtml && m.images > 0) {
    const visible = m.texts.reduce((n, t) => n + t.text.replace(/\s+/g, "").length, 0);
    if (visible < 200) hits.push(hit("HTML_IMAGE_ONLY", scores));
  }
  for (const l of m.links) {
    const shown = shownHost(l.text);
    const real = urlHost(l.href);
    if (shown && real && /^https?:|^www\./i.test(l.href) && orgDomain(shown) !== orgDomain(real)) {
      hits.push(hit("HTML_LINK_MISMATCH", scores));
      break;
    }
  }
  if (m.hiddenText) hits.push(hit("HTML_HIDDEN_TEXT", scores));
  const { upper, letters } = capitals(m);
  if (letters >= 200 && upper / letters > 0.5) hits.push(hit("BODY_MOSTLY_CAPS", scores));
  if (m.urls.some((u) => /^(https?:\/\/)?(\d{1,3}\.){3}\d{1,3}([:\/]|$)/i.test(u))) {
    hits.push(hit("URI_NUMERIC_IP", scores));
  }
  if (
    m.texts.some((t) =>
      t.encoding === "base64" && t.subtype === "plain" && /^(us-ascii|ascii)$/.test(t.charset)
    )
  ) hits.push(hit("MIME_BASE64_TEXT", scores));
  let exe = false, disguised = false;
  for (const a of m.attachments) {
    const ext = /\.([a-z0-9]{1,5})\s*$/i.exec(a.filename)?.[1]?.toLowerCase();
    if (ext && EXECUTABLE.has(ext)) {
      exe = true;
      if (DOCUMENT.test(a.filename)) disguised = true;
    }
    if (/^application\/(x-msdownload|x-msdos-program|x-dosexec|hta)$/.test(a.contentType)) {
      exe = true;
    }
  }
  if (exe) hits.push(hit("SUSPICIOUS_ATTACHMENT", scores));
  if (disguised) hits.push(hit("DOUBLE_EXTENSION", scores));
  return hits;
}
