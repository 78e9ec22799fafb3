/**
 * Whether a vacation reply may go, by RFC 5230 §4.5 and the RFC 3834 rules (no reply to
 * the null sender, list or system addresses, auto-submitted, bulk or list mail, nor when
 * the user is not a visible recipient), and the reply action when it may. Used by a
 * script's `vacation` and by the JMAP VacationResponse rule (jmap_vacation.ts) alike.
 *
 * @module
 */
import { asciiLower } from "./match.ts";
import { addressesOf, decodedHeader } from "./message.ts";
import type { Action, Command } from "./tree.ts";

type Vacation = Extract<Action, { type: "vacation" }>;

/** The action, or why no reply goes. `expand` expands variables in the script's strings. */
export function vacationAction(
  c: Extract<Command, { c: "vacation" }>,
  headers: { headerAll(name: string): string[] },
  envelope: { from: string; to: string },
  expand: (s: string) => string = (s) => s,
): Vacation | string {
  const sender = envelope.from;
  if (sender === "") return "null sender";
  const at = sender.lastIndexOf("@");
  const local = asciiLower(at > 0 ? sender.slice(0, at) : sender);
  if (
    ["mailer-daemon", "listserv", "majordomo", "postmaster"].includes(local) ||
    local.startsWith("owner-") || local.endsWith("-request")
  ) return `sender ${sender} is a list or system address`;
  const auto = headers.headerAll("auto-submitted")[0];
  if (auto !== undefined && asciiLower(auto.split(";")[0].trim()) !== "no") {
    return "Auto-Submitted message";
  }
  const prec = asciiLower((headers.headerAll("precedence")[0] ?? "").trim());
  if (prec === "bulk" || prec === "list" || prec === "junk") return `Precedence: ${prec}`;
  const list = ["list-id", "list-unsubscribe", "list-post", "list-help", "list-subscribe"];
  if (list.some((h) => headers.headerAll(h).length > 0)) return "mailing list message";
  // RFC 5230 §4.5: reply only when one of the user's addresses is a visible recipient.
  const mine = new Set(
    [envelope.to, ...c.addresses.map(expand)].flatMap((a) => {
      const l = asciiLower(a.trim());
      const at = l.lastIndexOf("@"), plus = l.indexOf("+");
      return plus > 0 && plus < at ? [l, l.slice(0, plus) + l.slice(at)] : [l];
    }),
  );
  if (mine.has(asciiLower(sender))) return "the sender is the user";
  const visible = ["to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc"].some((h) =>
    headers.headerAll(h).some((v) =>
      addressesOf(v).some((a) => mine.has(asciiLower(`${a.local}@${a.domain}`)))
    )
  );
  if (!visible) return "the user is not in To, Cc or Bcc";
  const reason = expand(c.reason);
  const original = decodedHeader(headers, "subject")[0] ?? "";
  const subject = c.subject !== null ? expand(c.subject) : `Auto: ${original}`;
  const from = c.from !== null ? expand(c.from) : null;
  const handle = c.handle !== null
    ? expand(c.handle)
    : JSON.stringify([reason, c.subject, c.from, c.mime]);
  const inReplyTo = headers.headerAll("message-id")[0]?.trim() || null;
  return {
    type: "vacation",
    to: sender,
    from,
    subject: subject.replace(/[\r\n]+/g, " ").slice(0, 400),
    reason,
    mime: c.mime,
    period: c.period,
    handle,
    inReplyTo,
  };
}
