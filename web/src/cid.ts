/**
 * Inline images (RFC 2392 cid: URLs): the image parts of a message that carry a Content-ID
 * are fetched with the bearer token and turned into data: URLs, the one kind of image the
 * message frame's CSP allows without "Show remote images". Capped, so that a message with
 * huge inline parts cannot fill the page's memory.
 *
 * @module
 */
/// <reference lib="dom" />
import type { BodyPart, EmailFull, Jmap } from "./jmap.ts";

/** The most inline image bytes one message may pull into the page. */
const MAX_INLINE_BYTES = 10 * 1024 * 1024;
const SAFE_IMAGE = /^image\/(png|gif|jpeg|webp|bmp)$/;

/** Image parts with a Content-ID, from htmlBody and attachments (each once). */
export function inlineParts(email: EmailFull): BodyPart[] {
  const seen = new Set<string>();
  return [...(email.htmlBody ?? []), ...(email.attachments ?? [])].filter((p) => {
    if (!p.cid || !p.blobId || !SAFE_IMAGE.test(p.type) || seen.has(p.partId)) return false;
    seen.add(p.partId);
    return true;
  });
}

function dataUrl(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result as string);
    r.onerror = () => reject(r.error);
    r.readAsDataURL(blob);
  });
}

/** cid -> data: URL for the message's inline images (none when the HTML names no cid:). */
export async function loadInline(jmap: Jmap, email: EmailFull): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const html = email.htmlBody?.find((p) => p.type === "text/html");
  if (!html || !/cid:/i.test(email.bodyValues[html.partId]?.value ?? "")) return out;
  let budget = MAX_INLINE_BYTES;
  for (const p of inlineParts(email)) {
    if ((p.size ?? 0) > budget) continue;
    budget -= p.size ?? 0;
    const blob = await jmap.download(p.blobId!, p.name ?? "image", p.type);
    // The type is ours (from the allow-list), never the server's guess or the sender's.
    out.set(p.cid!, await dataUrl(new Blob([blob], { type: p.type })));
  }
  return out;
}
