/**
 * What the compose form starts with: empty for Compose; for Reply, Reply all and Forward the
 * addresses, "Re:"/"Fwd:" subject, quoted text and threading headers (RFC 5322 §3.6.4:
 * In-Reply-To is the parent's Message-ID, References the parent's References plus it).
 * Also turns the form's address fields into EmailAddress lists.
 *
 * @module
 */
import type { EmailAddress, EmailFull } from "./jmap.ts";
import { fullAddresses } from "./format.ts";
import type { Attachment } from "./attach_picker.tsx";

export type ComposeKind = "new" | "reply" | "replyAll" | "forward" | "forwardAttached";

export interface Draft {
  to: string;
  cc: string;
  subject: string;
  body: string;
  /** The HTML editor's content, or null for plain text. */
  html: string | null;
  inReplyTo: string[] | null;
  references: string[] | null;
  attachments: Attachment[];
  /** The saved draft this one continues (an Email in Drafts), replaced on each save. */
  savedId: string | null;
}

export const EMPTY_DRAFT: Draft = {
  to: "",
  cc: "",
  subject: "",
  body: "",
  html: null,
  inReplyTo: null,
  references: null,
  attachments: [],
  savedId: null,
};

function plainText(email: EmailFull): string {
  return (email.textBody ?? []).map((p) => email.bodyValues[p.partId]?.value ?? "").join("\n");
}

function prefixed(prefix: string, subject: string | null): string {
  const s = subject ?? "";
  return s.toLowerCase().startsWith(prefix.toLowerCase()) ? s : `${prefix} ${s}`;
}

function without(list: EmailAddress[] | null, self: string): EmailAddress[] {
  return (list ?? []).filter((a) => a.email.toLowerCase() !== self.toLowerCase());
}

/** The starting draft for answering or forwarding `email` as user `self`. */
export function draftFrom(kind: ComposeKind, email: EmailFull, self: string): Draft {
  const text = plainText(email);
  const date = new Date(email.receivedAt).toLocaleString();
  if (kind === "forwardAttached") {
    // RFC 2046 §5.2.1: the whole message as a message/rfc822 part, its blob unchanged.
    const name = `${(email.subject ?? "message").replace(/[\\/:*?"<>|]/g, "_").slice(0, 60)}.eml`;
    return {
      ...EMPTY_DRAFT,
      subject: prefixed("Fwd:", email.subject),
      attachments: [{
        key: `fwd-${email.id}`,
        name,
        type: "message/rfc822",
        size: 0,
        blobId: email.blobId,
        error: null,
        disposition: "attachment",
      }],
    };
  }
  if (kind === "forward") {
    return {
      ...EMPTY_DRAFT,
      subject: prefixed("Fwd:", email.subject),
      body: `\n\n---------- Forwarded message ----------\nFrom: ${fullAddresses(email.from)}\n` +
        `Date: ${date}\nSubject: ${email.subject ?? ""}\nTo: ${fullAddresses(email.to)}\n\n` +
        text,
    };
  }
  const author = email.replyTo?.length ? email.replyTo : email.from;
  const to = kind === "replyAll" ? [...(author ?? []), ...without(email.to, self)] : author;
  const cc = kind === "replyAll" ? without(email.cc, self) : [];
  const quoted = text.split("\n").map((l) => `> ${l}`).join("\n");
  return {
    ...EMPTY_DRAFT,
    to: fullAddresses(without(to, self).length ? without(to, self) : to),
    cc: fullAddresses(cc),
    subject: prefixed("Re:", email.subject),
    body: `\n\nOn ${date}, ${fullAddresses(email.from)} wrote:\n${quoted}\n`,
    inReplyTo: email.messageId,
    references: email.messageId
      ? [...(email.references ?? []), ...email.messageId]
      : email.references,
  };
}

/** "Name <a@b>, c@d" as EmailAddress objects; throws on an entry without an address. */
export function parseAddresses(field: string): EmailAddress[] {
  return field.split(/[,;]/).map((p) => p.trim()).filter((p) => p).map((p) => {
    const lt = p.lastIndexOf("<");
    const gt = p.lastIndexOf(">");
    const email = (lt >= 0 && gt > lt ? p.slice(lt + 1, gt) : p).trim();
    if (!/^[^\s@]+@[^\s@]+$/.test(email)) throw new Error(`not an address: ${p}`);
    const name = lt > 0 ? p.slice(0, lt).trim().replace(/^"|"$/g, "") : "";
    return { name: name || null, email };
  });
}

/** A saved draft (an Email in Drafts) back as the form's content, to continue writing. */
export function draftFromSaved(email: EmailFull): Draft {
  const html = email.htmlBody?.find((p) => p.type === "text/html");
  return {
    ...EMPTY_DRAFT,
    to: fullAddresses(email.to),
    cc: fullAddresses(email.cc),
    subject: email.subject ?? "",
    body: plainText(email),
    html: html ? email.bodyValues[html.partId]?.value ?? null : null,
    inReplyTo: null,
    references: email.references,
    attachments: (email.attachments ?? []).map((a) => ({
      key: `saved-${a.partId}`,
      name: a.name ?? "attachment",
      type: a.type,
      size: a.size ?? 0,
      blobId: a.blobId ?? null,
      error: null,
    })),
    savedId: email.id,
  };
}
