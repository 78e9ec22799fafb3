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

export type ComposeKind = "new" | "reply" | "replyAll" | "forward";

export interface Draft {
  to: string;
  cc: string;
  subject: string;
  body: string;
  inReplyTo: string[] | null;
  references: string[] | null;
}

export const EMPTY_DRAFT: Draft = {
  to: "",
  cc: "",
  subject: "",
  body: "",
  inReplyTo: null,
  references: null,
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
