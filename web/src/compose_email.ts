/**
 * The compose form's content as an Email/set create object (RFC 8621 §4.6): addresses,
 * subject, threading headers, the body as text/plain — or, from the HTML editor, text/html
 * with a text/plain alternative (the editor's text) — and the uploaded attachments by blobId.
 * The HTML is sanitised once more (cleanOutgoing) so that what the editor's document may
 * have picked up from a paste never leaves.
 *
 * @module
 */
import type { Identity } from "./jmap.ts";
import { type Draft, parseAddresses } from "./draft.ts";
import { cleanOutgoing, htmlToText } from "./outgoing_html.ts";

/** The create object; `strict` (for Send) requires a recipient and finished uploads. */
export function emailObject(
  d: Draft,
  from: Identity,
  strict: boolean,
): Record<string, unknown> {
  const to = parseAddresses(d.to);
  const cc = parseAddresses(d.cc);
  if (strict && to.length + cc.length === 0) throw new Error("add at least one recipient");
  const pending = d.attachments.filter((a) => !a.error && !a.blobId);
  if (strict && pending.length) throw new Error("wait until the attachments are uploaded");
  const html = d.html === null ? null : cleanOutgoing(d.html);
  const body: Record<string, unknown> = html === null
    ? {
      textBody: [{ partId: "1", type: "text/plain" }],
      bodyValues: { "1": { value: d.body } },
    }
    : {
      textBody: [{ partId: "1", type: "text/plain" }],
      htmlBody: [{ partId: "2", type: "text/html" }],
      bodyValues: { "1": { value: htmlToText(html) }, "2": { value: html } },
    };
  const attachments = d.attachments.filter((a) => a.blobId && !a.error).map((a) => ({
    blobId: a.blobId,
    type: a.type,
    name: a.name,
    disposition: a.disposition ?? "attachment",
  }));
  return {
    from: [{ name: from.name || null, email: from.email }],
    ...(to.length ? { to } : {}),
    ...(cc.length ? { cc } : {}),
    subject: d.subject,
    ...(d.inReplyTo ? { inReplyTo: d.inReplyTo } : {}),
    ...(d.references ? { references: d.references } : {}),
    ...body,
    ...(attachments.length ? { attachments } : {}),
  };
}
